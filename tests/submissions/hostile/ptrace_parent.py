# Case: ptrace_parent (security notes 5.17).
# Tries ptrace(PTRACE_ATTACH) and process_vm_readv against its parent, the template and pid 1,
# at import (inside the executor's sandbox, outside any call: ctypes inside a call is a
# forbidden use, whose message would hide the errnos), and raises with the errno of each
# attempt from sigmoid_grad.
# Must hold, at both levels: every attempt fails with EPERM (the syscall filter; the uid
# drop too); at the namespace level the parent pid is not visible (getppid() is 0).
import ctypes
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

_libc = ctypes.CDLL(None, use_errno=True)


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _attack():
    out = [f"ppid={os.getppid()}"]
    for pid in {os.getppid(), 1, os.getpgrp()}:
        if pid <= 0:
            continue
        rc = _libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
        out.append(f"ptrace({pid})={rc} errno={ctypes.get_errno()}")
        buf = ctypes.create_string_buffer(64)
        local = _IoVec(ctypes.cast(buf, ctypes.c_void_p), 64)
        remote = _IoVec(0x400000, 64)
        rc = _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        out.append(f"process_vm_readv({pid})={rc} errno={ctypes.get_errno()}")
    return " ".join(out)


_REPORT = _attack()


def sigmoid_grad(x):  # noqa: F811
    raise RuntimeError(_REPORT)
