# hostile: five functions forge a malformed reply frame on the executor's socket before
# answering; the other four are correct
"""Each forged frame reaches the judge before the real reply: a header nested 100,000 deep, an
8 MiB header, an error record that is a string, tensor facts that are a list, and a greeting
where a reply belongs. Each must fail its own tests (a malformed reply, stage protocol), never
stop the test with an internal error, and the functions after it must be graded normally."""

import gc
import json
import os
import socket
import stat
import struct

import torch
import torch.nn.functional as F


def _forge(header):
    head = header.encode()
    frame = struct.pack(">QI", 4 + len(head), len(head)) + head
    for obj in gc.get_objects():  # the socket of an executor forked from the template
        if isinstance(obj, socket.socket) and obj.fileno() >= 0:
            try:
                obj.sendall(frame)
            except OSError:
                pass
    for fd in range(3, 64):  # the pipe of a portable executor
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, frame)
        except OSError:
            pass


def sigmoid_grad(x):
    _forge('{"ok": true, "value": ' + "[" * 100_000 + "]" * 100_000 + "}")
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_grad(x):
    _forge(json.dumps({"ok": True, "value": [0.5] * (2 << 20)}))
    return 1 - torch.tanh(x) ** 2


def relu_grad(x):
    _forge(json.dumps({"ok": False, "error": "you cannot catch me"}))
    return (x > 0).to(x.dtype)


def softmax(a, dim=-1):
    _forge(json.dumps({"ok": True, "value": None, "meta": [1, 2, 3]}))
    return torch.exp(a - torch.logsumexp(a, dim=dim, keepdim=True))


def softmax_jacobian(a):
    _forge(json.dumps({"hello": True, "load": {"errors": [], "names": {}}}))
    p = torch.softmax(a, dim=-1)
    return torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)


def softmax_backward(p, grad_p):
    return p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))


def linear_mse_grad(x, y, w, b):
    r = x @ w + b - y
    return 2 * x.T @ r / len(x), 2 * r.mean()


def cross_entropy(logits, target):
    picked = logits.gather(1, target[:, None])[:, 0]
    return (torch.logsumexp(logits, dim=1) - picked).mean()


def cross_entropy_grad(logits, target):
    p = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    return (p - F.one_hot(target, logits.shape[1]).to(logits.dtype)) / len(logits)
