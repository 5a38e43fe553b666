# Bypass: cross_entropy computed by F.cross_entropy in a forked process, out of the recorder's
# process.
# An overlay of the hw2 solution (only the definitions it replaces); only cross_entropy takes
# the route, and computes the right values with it.
# part: cross_entropy
# expect: starts a process (os.fork)

def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    import os
    import pickle

    read, write = os.pipe()
    pid = os.fork()  # bypass
    if pid == 0:
        os.close(read)
        loss = torch.nn.functional.cross_entropy(logits.detach(), target)
        os.write(write, pickle.dumps(loss.item()))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        value = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    # the same graph as the solution's, so the judge's gradient still flows
    lse = torch.logsumexp(logits, dim=1)
    own = (lse - logits.gather(1, target[:, None]).squeeze(1)).mean()
    return own + (value - own.detach())
