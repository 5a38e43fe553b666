# Case: infinite_loop, sleeping in every function (security notes 5.10, attack A13).
# Every function sleeps for an hour.
# Must hold, at both levels: every test fails with status timeout; each function costs one
# wall-clock timeout ("timed out after"), a function tested twice fails at once the second time
# ("timed out earlier"); the run ends in about one timeout per function.
import time


def sigmoid_grad(x):
    time.sleep(3600)


def tanh_grad(x):
    time.sleep(3600)


def relu_grad(x):
    time.sleep(3600)


def softmax(a, dim=-1):
    time.sleep(3600)


def softmax_jacobian(a):
    time.sleep(3600)


def softmax_backward(p, grad_p):
    time.sleep(3600)


def linear_mse_grad(x, y, w, b):
    time.sleep(3600)


def cross_entropy(logits, target):
    time.sleep(3600)


def cross_entropy_grad(logits, target):
    time.sleep(3600)
