# Case: forge_output (security notes 5.8, attack A5/A12) and forged results on every file
# descriptor. Each function writes, to every descriptor 0..255: a pickle whose __reduce__
# would create a canary file (@@CANARY@@) if anyone unpickled it, a frame header claiming an
# enormous reply, a forged JSON reply {"ok": true, ...}, and garbage; then returns zeros.
# Must hold, at both levels: every test fails; the canary file never appears; the judge stays
# bounded (no multi-GiB read).
import json
import os
import pickle
import struct

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

CANARY = "@@CANARY@@"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {CANARY}",))


def _forge():
    blobs = [pickle.dumps(Payload()), struct.pack(">QI", 1 << 40, 10) + b"x" * 64]
    head = json.dumps({"ok": True, "value": {"$t": "t0"}, "meta": {}}).encode()
    blobs.append(struct.pack(">QI", 4 + len(head), len(head)) + head)
    blobs.append(os.urandom(4096))
    for fd in range(256):
        for blob in blobs:
            try:
                os.write(fd, blob)
            except OSError:
                pass


for _name in ("sigmoid_grad", "tanh_grad", "relu_grad", "softmax", "softmax_jacobian",
              "softmax_backward", "linear_mse_grad", "cross_entropy", "cross_entropy_grad"):
    _real = globals()[_name]

    def _make(real):
        def fn(*args, **kwargs):
            _forge()
            return real(*args, **kwargs)
        return fn

    globals()[_name] = _make(_real)
