# Bypass: softmax computed on a thread of a pool, where the caller's recorder modes are not
# (torch keeps modes per thread).
# An overlay of the hw2 solution (only the definitions it replaces); only softmax takes the
# route, and computes the right values with it.
# part: softmax
# expect: calls torch.softmax, which runs aten._softmax

def softmax(a: torch.Tensor, dim: int = -1) -> torch.Tensor:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(torch.softmax, a, dim).result()  # bypass
