import torch

def sigmoid_grad(x):
    return x  # café in Latin-1
