import pytest
import torch

from grader.judge.checks import check_function
from grader.judge.proxy import generator
from hw6_refs import (check_raises_value_error, crop_hint, flip_hint, gaussian_noise_reference,
                      hflip, noise_hint, random_crop_reference, rot90, rot90_hint, vflip)


@pytest.mark.part("hflip")
def test_hflip(student, rng):
    x = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "hflip", hflip, x, grad=True, hint=flip_hint(x, "hflip"))


@pytest.mark.part("hflip")
def test_hflip_float32(student, rng):
    x = torch.randn(3, 1, 6, 6, generator=rng)
    check_function(student, "hflip", hflip, x, grad=True, hint=flip_hint(x, "hflip"))


@pytest.mark.part("vflip")
def test_vflip(student, rng):
    x = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "vflip", vflip, x, grad=True, hint=flip_hint(x, "vflip"))


@pytest.mark.part("vflip")
def test_vflip_float32(student, rng):
    x = torch.randn(3, 1, 6, 6, generator=rng)
    check_function(student, "vflip", vflip, x, grad=True, hint=flip_hint(x, "vflip"))


@pytest.mark.part("rot90")
@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rot90(student, rng, k):
    x = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64)
    check_function(student, "rot90", rot90, x, k, grad=True, hint=rot90_hint(x, k))


@pytest.mark.part("random_crop")
def test_random_crop(student, rng):
    x = torch.randn(4, 3, 8, 8, generator=rng, dtype=torch.float64)
    seed = student.seed
    check_function(student, "random_crop", random_crop_reference(seed, student.device), x, 8,
                   2, generator(seed), grad=True, profile="exact",
                   hint=crop_hint(x, 8, 2, seed, student.device))


@pytest.mark.part("random_crop")
def test_random_crop_float32_smaller(student, rng):
    x = torch.randn(6, 2, 10, 10, generator=rng)
    seed = student.seed
    check_function(student, "random_crop", random_crop_reference(seed, student.device), x, 6,
                   1, generator(seed), grad=True, profile="exact",
                   hint=crop_hint(x, 6, 1, seed, student.device))


@pytest.mark.part("random_crop")
def test_random_crop_too_large_raises(student, rng):
    x = torch.randn(2, 1, 4, 4, generator=rng, dtype=torch.float64)
    check_raises_value_error(student, "random_crop", x, 7, 1, generator(0),
                             why="a 7x7 crop does not fit a 4x4 image padded by 1")


@pytest.mark.part("gaussian_noise")
def test_gaussian_noise(student, rng):
    x = torch.randn(3, 4, 5, generator=rng, dtype=torch.float64)
    seed = student.seed
    check_function(student, "gaussian_noise",
                   gaussian_noise_reference(seed, torch.float64, student.device), x, 0.1,
                   generator(seed), grad=True,
                   hint=noise_hint(x, 0.1, seed, torch.float64, student.device))


@pytest.mark.part("gaussian_noise")
def test_gaussian_noise_float32(student, rng):
    x = torch.randn(2, 3, 8, 8, generator=rng)
    seed = student.seed
    check_function(student, "gaussian_noise",
                   gaussian_noise_reference(seed, torch.float32, student.device), x, 0.5,
                   generator(seed), grad=True,
                   hint=noise_hint(x, 0.5, seed, torch.float32, student.device))
