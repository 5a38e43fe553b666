# Case: disk_fill (security notes 5.13, attack A13). Needs the namespace level.
# Each function writes until it fails: one big file and then thousands of small files into
# /tmp, /dev/shm, /var/tmp, the working directory, /, and the folder of the submission; it
# raises with what happened in each place.
# Must hold (namespace): each place stops it (EFBIG, ENOSPC or EROFS) after at most the size of
# the private tmpfs; nothing lands on the host (no file with the case's token in the host's
# /tmp, /var/tmp, /dev/shm); the next submission is graded normally.
import os

import torch


def sigmoid_grad(x):
    return torch.zeros_like(x)


def tanh_grad(x):
    return torch.zeros_like(x)


def relu_grad(x):
    return torch.zeros_like(x)


def softmax(a, dim=-1):
    return torch.zeros_like(a)


def softmax_jacobian(a):
    return torch.zeros(*a.shape, a.shape[-1], dtype=a.dtype)


def softmax_backward(p, grad_p):
    return torch.zeros_like(p)


def linear_mse_grad(x, y, w, b):
    return torch.zeros_like(w), torch.zeros_like(b)


def cross_entropy(logits, target):
    return logits.sum() * 0


def cross_entropy_grad(logits, target):
    return torch.zeros_like(logits)

TOKEN = "@@TOKEN@@"


def _fill(folder):
    written = 0
    chunk = b"x" * (1 << 20)
    try:
        with open(os.path.join(folder, f"pwned_{TOKEN}.bin"), "wb") as f:
            for _ in range(256):
                f.write(chunk)
                written += len(chunk)
    except OSError as err:
        first = f"{type(err).__name__} errno {err.errno} after {written >> 20} MiB"
    else:
        first = f"wrote {written >> 20} MiB"
    files = 0
    try:
        for i in range(3000):
            with open(os.path.join(folder, f"pwned_{TOKEN}_{i}"), "wb") as f:
                f.write(chunk[:32768])
            files += 1
    except OSError as err:
        return f"{folder}: {first}; small files: errno {err.errno} after {files}"
    return f"{folder}: {first}; small files: {files}"


def sigmoid_grad(x):  # noqa: F811
    places = ["/tmp", "/dev/shm", "/var/tmp", os.getcwd(), "/",
              os.path.dirname(os.path.abspath(__file__))]
    raise RuntimeError(" | ".join(_fill(p) for p in places))
