"""Regenerate hw6's digits files from scikit-learn; run once by whoever maintains the course.

    pip install scikit-learn numpy safetensors     # not a dependency of the grader
    python reference_tests/hw6/hidden/data/make_digits.py

The data are the 8x8 handwritten digits that scikit-learn ships (``load_digits``: 1,797
images in 10 classes, pixel values 0..16), a copy of the test part of the UCI "Optical
Recognition of Handwritten Digits" data set by E. Alpaydin and C. Kaynak (1998),
https://doi.org/10.24432/C50P49, licensed CC BY 4.0. Nothing is downloaded.

A fixed permutation (``numpy.random.default_rng(SEED).permutation``) puts TEST_SIZE images in
the test split and the rest in the training split. Each file holds ``images`` (uint8 0..16,
``[N, 1, 8, 8]``) and ``labels`` (uint8, ``[N]``), and records in its metadata the split, the
seed and the row of each image in scikit-learn's order (``indices``), so the split can be
checked without scikit-learn. Readers divide the pixels by 16 to get values in [0, 1].

The training split goes to ``assignments/hw6/data/`` (shipped to students), the test split
next to this script (with the hidden tests, never shipped).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import sklearn
from safetensors.numpy import load_file
from sklearn.datasets import load_digits

SEED = 20260
TEST_SIZE = 360
HERE = Path(__file__).resolve().parent
COURSE = HERE.parents[3]
TRAIN_FILE = COURSE / "assignments" / "hw6" / "data" / "digits_train.safetensors"
TEST_FILE = HERE / "digits_test.safetensors"


def _write(path: Path, split: str, rows: np.ndarray, images: np.ndarray,
           labels: np.ndarray) -> None:
    metadata = {
        "dataset": "8x8 handwritten digits (UCI optical recognition of handwritten digits, "
                   "as shipped by scikit-learn's load_digits)",
        "license": "CC BY 4.0",
        "source": "https://doi.org/10.24432/C50P49",
        "pixels": "uint8 0..16; divide by 16 for values in [0, 1]",
        "split": split,
        "seed": str(SEED),
        "permutation": "numpy.random.default_rng(seed).permutation(1797): the first "
                       f"{TEST_SIZE} rows are the test split",
        "indices": json.dumps([int(i) for i in rows]),
        "scikit_learn": sklearn.__version__,
    }
    arrays = {"images": np.ascontiguousarray(images[rows]),
              "labels": np.ascontiguousarray(labels[rows])}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_safetensors(arrays, metadata))
    back = load_file(str(path))
    assert all(np.array_equal(back[k], v) for k, v in arrays.items())
    print(f"{path}: {len(rows)} images")


def _safetensors(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The safetensors bytes of uint8 ``arrays``, with the header's keys sorted: the same
    input gives the same file (safetensors' own writer orders the metadata at random)."""
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for key, array in arrays.items():
        assert array.dtype == np.uint8
        header[key] = {"dtype": "U8", "shape": list(array.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(a.tobytes() for a in arrays.values())


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8).reshape(-1, 1, 8, 8)
    labels = digits.target.astype(np.uint8)
    assert images.shape == (1797, 1, 8, 8) and int(images.max()) == 16
    order = np.random.default_rng(SEED).permutation(len(labels))
    test_rows, train_rows = np.sort(order[:TEST_SIZE]), np.sort(order[TEST_SIZE:])
    _write(TRAIN_FILE, "train", train_rows, images, labels)
    _write(TEST_FILE, "test", test_rows, images, labels)


if __name__ == "__main__":
    main()
