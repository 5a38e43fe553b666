# An overlay of the hw6 solution: correct but for train_classifier, which returns its
# model untrained.
# part: train_classifier
# bug: returns its model untrained

def train_classifier(x_train: torch.Tensor, y_train: torch.Tensor,
                     generator: torch.Generator) -> nn.Module:
    """A small CNN trained with SGD and momentum on the 8x8 digits; returns it in eval mode."""
    device = x_train.device
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator,
                                        device=generator.device)))
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    ).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    model.train()
    for _ in range(0):  # forgot to train
        order = torch.randperm(y_train.shape[0], generator=generator,
                               device=generator.device).to(device)
        for start in range(0, order.shape[0], 32):
            batch = order[start:start + 32]
            optimizer.zero_grad()
            F.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
    return model.eval()
