# sigmoid_grad raises an exception whose message holds the submission's own path: the student
# must read it relative to the submission, not as the executor's temporary folder.
def sigmoid_grad(x):
    raise ValueError(f"cannot open {__file__}")
