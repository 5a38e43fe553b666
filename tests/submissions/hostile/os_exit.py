# Case: os_exit (security notes 5.7, attack A4).
# Every function calls os._exit(0) (the executor ends "successfully" with no reply).
# Must hold, at both levels: every test fails (crashed: "exited with code 0"), never "passed"
# for a missing result.
import os


def sigmoid_grad(x):
    os._exit(0)


def tanh_grad(x):
    os._exit(0)


def relu_grad(x):
    os._exit(0)


def softmax(a, dim=-1):
    os._exit(0)


def softmax_jacobian(a):
    os._exit(0)


def softmax_backward(p, grad_p):
    os._exit(0)


def linear_mse_grad(x, y, w, b):
    os._exit(0)


def cross_entropy(logits, target):
    os._exit(0)


def cross_entropy_grad(logits, target):
    os._exit(0)
