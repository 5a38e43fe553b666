# part: conv2d_output_size
# bug: conv2d_output_size uses true division, so it returns floats and no floor.


def conv2d_output_size(h: int, w: int, kernel_size: int, stride: int = 1,
                       padding: int = 0) -> tuple[int, int]:
    return ((h + 2 * padding - kernel_size) / stride + 1,
            (w + 2 * padding - kernel_size) / stride + 1)
