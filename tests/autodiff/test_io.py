"""autodiff.io: named arrays and metadata in a safetensors file, bit for bit, and what a
file cannot hold. (Bad and tampered files are tested through nn.load in
tests/nn/test_serialization.py, and optimizer state files in tests/optim.)"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.io import load_tensors, save_tensors


def test_tensors_round_trip_every_dtype_bit_for_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensors = {str(dtype): (np.abs(rng.standard_normal((2, 3))) * 100).astype(dtype)
               for dtype in (np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16,
                             np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.bool_)}
    tensors["scalar"] = np.array(7, dtype=np.int64)
    tensors["empty"] = np.zeros((0, 4), dtype=np.float32)
    tensors["strided"] = np.arange(12.0).reshape(3, 4).T            # not contiguous
    tensors["tensor"] = ad.tensor([1.5, 2.5])
    save_tensors(tmp_path / "t.safetensors", tensors, {"step": "3", "note": "é"})
    loaded, metadata = load_tensors(tmp_path / "t.safetensors")
    assert metadata == {"step": "3", "note": "é"}
    assert sorted(loaded) == sorted(tensors)
    for name, expected in tensors.items():
        expected = np.asarray(expected.numpy() if isinstance(expected, ad.Tensor) else expected)
        assert loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape
        assert loaded[name].tobytes() == expected.tobytes(), name
        assert loaded[name].flags.writeable
    assert os.listdir(tmp_path) == ["t.safetensors"]


def test_save_tensors_rejects_what_it_cannot_store(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    with pytest.raises(ad.DtypeError, match="'z' has dtype complex128"):
        save_tensors(path, {"z": np.zeros(2, dtype=np.complex128)})
    with pytest.raises(ValueError, match="'__metadata__'"):
        save_tensors(path, {"__metadata__": np.zeros(2)})
    with pytest.raises(ValueError, match="non-empty strings"):
        save_tensors(path, {"": np.zeros(2)})
    with pytest.raises(TypeError, match="strings to strings"):
        save_tensors(path, {"x": np.zeros(2)}, {"step": 3})
    assert not path.exists()
