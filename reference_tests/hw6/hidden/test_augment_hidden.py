import pytest
import torch

from grader.judge.checks import check_function
from grader.judge.proxy import generator
from hw6_refs import (check_raises_value_error, crop_hint, flip_hint, gaussian_noise_reference,
                      hflip, noise_hint, random_crop_reference, rot90, rot90_hint, vflip)


@pytest.mark.part("hflip")
@pytest.mark.parametrize("shape", [(1, 1, 1, 7), (2, 2, 5, 1), (3, 4, 2, 9)])
def test_hflip_shapes(student, rng, shape):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    check_function(student, "hflip", hflip, x, grad=True, hint=flip_hint(x, "hflip"))


@pytest.mark.part("hflip")
def test_hflip_large_float32(student, rng):
    x = torch.randn(64, 3, 64, 64, generator=rng)
    check_function(student, "hflip", hflip, x, grad=True, hint=flip_hint(x, "hflip"))


@pytest.mark.part("vflip")
@pytest.mark.parametrize("shape", [(1, 1, 7, 1), (2, 2, 1, 5), (3, 4, 9, 2)])
def test_vflip_shapes(student, rng, shape):
    x = torch.randn(*shape, generator=rng, dtype=torch.float64)
    check_function(student, "vflip", vflip, x, grad=True, hint=flip_hint(x, "vflip"))


@pytest.mark.part("vflip")
def test_vflip_large_float32(student, rng):
    x = torch.randn(64, 3, 64, 64, generator=rng)
    check_function(student, "vflip", vflip, x, grad=True, hint=flip_hint(x, "vflip"))


@pytest.mark.part("rot90")
@pytest.mark.parametrize("k", [0, 4, -2, -3, 5, 7, -6])
def test_rot90_any_k(student, rng, k):
    x = torch.randn(2, 2, 3, 5, generator=rng, dtype=torch.float64)
    check_function(student, "rot90", rot90, x, k, grad=True, hint=rot90_hint(x, k))


@pytest.mark.part("rot90")
@pytest.mark.parametrize("k", [1, 3])
def test_rot90_large_float32(student, rng, k):
    x = torch.randn(32, 3, 48, 40, generator=rng)
    check_function(student, "rot90", rot90, x, k, grad=True, hint=rot90_hint(x, k))


@pytest.mark.part("random_crop")
@pytest.mark.parametrize("size, padding", [(5, 0), (12, 2), (1, 3), (7, 4)])
def test_random_crop_sizes(student, rng, size, padding):
    x = torch.randn(5, 3, 8, 8, generator=rng, dtype=torch.float64)
    seed = student.seed
    check_function(student, "random_crop", random_crop_reference(seed, student.device), x,
                   size, padding, generator(seed), grad=True, profile="exact",
                   hint=crop_hint(x, size, padding, seed, student.device))


@pytest.mark.part("random_crop")
def test_random_crop_many_images_float32(student, rng):
    x = torch.randn(256, 3, 32, 32, generator=rng)
    seed = student.seed
    check_function(student, "random_crop", random_crop_reference(seed, student.device), x, 28,
                   4, generator(seed), grad=True, profile="exact",
                   hint=crop_hint(x, 28, 4, seed, student.device))


@pytest.mark.part("random_crop")
def test_random_crop_larger_than_padded_raises(student, rng):
    x = torch.randn(3, 2, 6, 6, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "random_crop", x, 9, 1, generator(1),
                             why="a 9x9 crop does not fit a 6x6 image padded by 1")


@pytest.mark.part("gaussian_noise")
@pytest.mark.parametrize("std", [0.0, 2.5])
def test_gaussian_noise_std(student, rng, std):
    x = torch.randn(4, 2, 3, 3, generator=rng, dtype=torch.float64)
    seed = student.seed
    check_function(student, "gaussian_noise",
                   gaussian_noise_reference(seed, torch.float64, student.device), x, std,
                   generator(seed), grad=True,
                   hint=noise_hint(x, std, seed, torch.float64, student.device))


@pytest.mark.part("gaussian_noise")
def test_gaussian_noise_large_float32(student, rng):
    x = torch.rand(64, 3, 32, 32, generator=rng)
    seed = student.seed
    check_function(student, "gaussian_noise",
                   gaussian_noise_reference(seed, torch.float32, student.device), x, 0.05,
                   generator(seed), grad=True,
                   hint=noise_hint(x, 0.05, seed, torch.float32, student.device))
