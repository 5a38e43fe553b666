# part: kfold_indices
# bug: makes the last n % k blocks one longer instead of the first


def kfold_indices(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    index = torch.arange(n)
    base, extra = divmod(n, k)
    folds = []
    start = 0
    for i in range(k):
        stop = start + base + (1 if i >= k - extra else 0)
        folds.append((torch.cat([index[:start], index[stop:]]), index[start:stop]))
        start = stop
    return folds
