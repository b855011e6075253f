"""nn.save / nn.load / to_json / from_json: round trips bit for bit, every kind of bad
file (through autodiff.io's checks), architectures that name foreign classes, and
files that PyTorch reads (and writes) the same way."""
from __future__ import annotations

import collections
import json
import os
import pickle
import re
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.errors import ModelFileError
from autodiff.io import load_tensors, save_tensors


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def cnn() -> nn.Sequential:
    """Every image layer: Conv2d, BatchNorm2d, both pools, Dropout2d, global pooling."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout2d(0.2),
                         nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2, bias=False),
                         nn.AvgPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(6, 3))


def trained_cnn() -> nn.Sequential:
    """cnn after two SGD steps: weights and BatchNorm2d's running stats moved."""
    ad.manual_seed(1)
    model = cnn()
    for _ in range(2):
        loss = (model(ad.randn(8, 1, 10, 10)) * ad.arange(3, dtype=ad.float32)).sum()
        model.zero_grad()
        loss.backward()
        for param in model.parameters():
            param.data -= 0.1 * param.grad.numpy()
    return model.eval()


def bn_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.LeakyReLU(0.2),
                         nn.Dropout(0.3), nn.Linear(6, 3), nn.Softmax(dim=1))


def trained_bn_model(dtype: type = np.float32) -> nn.Sequential:
    """bn_model after three SGD steps in training mode: weights and running stats moved."""
    ad.manual_seed(0)
    model = bn_model().to(dtype)
    for _ in range(3):
        loss = (model(ad.randn(16, 4, dtype=dtype)) * ad.arange(3, dtype=dtype)).sum()
        model.zero_grad()
        loss.backward()
        for param in model.parameters():
            param.data -= 0.1 * param.grad.numpy()
    return model


class Net(nn.Module):
    """A model class of the user's own: its file holds weights but no architecture."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        return self.fc2(self.fc1(x).relu())


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype, key
        np.testing.assert_array_equal(sa[key].numpy(), sb[key].numpy(), err_msg=key)


# ------------------------------------------------------------------ writing

def test_a_crash_while_saving_leaves_the_old_file_whole(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.safetensors"
    nn.save(mlp(), path)
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.save(bn_model(), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]              # no temporary left


# ------------------------------------------------------------------ bad files

def _rewrite_header(path: Path, change: Callable[[dict], None]) -> None:
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    change(header)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length:])


def _set(key: str, field: str, value: object) -> Callable[[Path], None]:
    def change(header: dict) -> None:
        header[key][field] = value(header[key][field]) if callable(value) else value
    return lambda path: _rewrite_header(path, change)


def _bytes(edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(edit(path.read_bytes()))


def _length(data: bytes) -> int:
    return int.from_bytes(data[:8], "little")


def _duplicate_key(path: Path) -> None:
    """The key "0.bias" renamed "0.weight" in the header text, its length updated."""
    data = path.read_bytes()
    length = _length(data)
    text = data[8:8 + length].replace(b'"0.bias"', b'"0.weight"', 1)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length:])


def _overflowing_shape(header: dict) -> None:
    end = max(entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__")
    header["huge"] = {"dtype": "F32", "shape": [2 ** 40, 2 ** 40, 0], "data_offsets": [end, end]}


def _missing_field(header: dict) -> None:
    del header["0.weight"]["shape"]


def _metadata_not_text(header: dict) -> None:
    header["__metadata__"]["training"] = True


BAD_FILES = {
    "empty": (_bytes(lambda d: b""), "0 bytes, fewer than the 8-byte header length"),
    "cut in the header": (_bytes(lambda d: d[:40]), ("header length says .* bytes but only 32 "
                                                    "follow: truncated, or not safetensors")),
    "cut in the data": (_bytes(lambda d: d[:-5]), "file truncated: its tensors need"),
    "stray bytes": (_bytes(lambda d: d + b"xyz"), "3 stray bytes at the end"),
    "header length too big": (_bytes(lambda d: (_length(d) + 1000).to_bytes(8, "little")
                                     + d[8:]), "header length says"),
    "header length too small": (_bytes(lambda d: (_length(d) - 10).to_bytes(8, "little")
                                       + d[8:]), "header is not valid JSON"),
    "header not an object": (_bytes(lambda d: d[:8] + b"[" + d[9:]), "not a JSON object"),
    "duplicate key": (_duplicate_key, r"duplicate keys \['0.weight'\]"),
    "unknown dtype": (_set("0.weight", "dtype", "X9"), "unknown or unsupported dtype 'X9'"),
    "bfloat16": (_set("0.weight", "dtype", "BF16"), "unsupported dtype 'BF16'"),
    "dtype changed": (_set("0.weight", "dtype", "F64"), (r"span 96 bytes, but shape \[8, 3\] "
                                                        r"of F64 needs 192")),
    "shape changed": (_set("0.weight", "shape", [8, 4]), "but shape .8, 4. of F32 needs 128"),
    "negative shape": (_set("0.weight", "shape", [-8, -3]), "non-negative ints"),
    "offsets reversed": (_set("0.weight", "data_offsets", lambda o: o[::-1]),
                         "0 <= begin <= end"),
    "offsets shifted": (_set("0.weight", "data_offsets", lambda o: [o[0] + 4, o[1] + 4]),
                        "overlap or leave a gap"),
    "missing field": (lambda p: _rewrite_header(p, _missing_field),
                      "exactly dtype, shape and data_offsets"),
    "metadata not text": (lambda p: _rewrite_header(p, _metadata_not_text),
                          "__metadata__ must map strings to strings"),
    "overflowing shape": (lambda p: _rewrite_header(p, _overflowing_shape),
                          "safetensors rejected the file"),
    "pickle": (_bytes(lambda d: pickle.dumps({"0.weight": np.zeros((8, 3))})),
               "a Python pickle, not a safetensors file; autodiff never unpickles"),
    "garbage": (_bytes(lambda d: bytes(range(7, 107))), "header length says"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_raise_an_error_naming_the_file_and_the_problem(case: str,
                                                                  tmp_path: Path) -> None:
    tamper, problem = BAD_FILES[case]
    path = tmp_path / "model.safetensors"
    nn.save(mlp(), path)
    tamper(path)
    for load in (lambda: nn.load(path), lambda: nn.load(path, mlp()), lambda: load_tensors(path)):
        with pytest.raises(ModelFileError, match="(?s)" + re.escape(str(path)) + ": .*" + problem):
            load()


def test_zip_archives_such_as_torch_save_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0, 2.0]}))
    with pytest.raises(ModelFileError, match="a zip archive .what torch.save writes.*never "
                                             "unpickles"):
        nn.load(path)


def test_a_real_torch_save_file_is_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    with pytest.raises(ModelFileError, match=re.escape(str(path)) + ": a zip archive"):
        nn.load(path, nn.Linear(3, 2))


def test_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        nn.load(tmp_path / "nothing.safetensors")


# ------------------------------------------------------------------ tampered architectures

def _with_metadata(path: Path, **changes: str | None) -> None:
    arrays, metadata = load_tensors(path)
    for key, value in changes.items():
        if value is None:
            del metadata[key]
        else:
            metadata[key] = value
    save_tensors(path, arrays, metadata)


def _architecture(model_node: dict) -> str:
    return json.dumps({"format": "autodiff.nn", "version": 1, "model": model_node})


def _linear(n_in: int, n_out: int, **extra: object) -> dict:
    return {"class": "Linear",
            "hyperparameters": {"in_features": n_in, "out_features": n_out, "bias": True,
                                **extra}}


def _sequential(*children: dict) -> dict:
    return {"class": "Sequential", "hyperparameters": {},
            "children": [dict(name=str(i), **c) for i, c in enumerate(children)]}


RELU = {"class": "ReLU", "hyperparameters": {}}


def _deep(depth: int) -> dict:
    node = RELU
    for _ in range(depth):
        node = {"class": "Sequential", "hyperparameters": {}, "children": [dict(name="0", **node)]}
    return node


BAD_ARCHITECTURES = {
    "foreign class": (_sequential(_linear(3, 8), {"class": "os.system", "hyperparameters": {}},
                                  _linear(8, 2)),
                      ("layer '1' of the model is of class 'os.system', which is not one of "
                      "nn's own layers; loading never runs code")),
    "user class": ({"class": "Net", "hyperparameters": {}}, "class 'Net', which is not"),
    "class not a name": ({"class": ["Linear"], "hyperparameters": {}},
                         r"class \['Linear'\], which is not"),
    "huge layer": (_sequential(_linear(3, 2 ** 62)),
                   r"does not fit the tensors the file holds \(checked before building it\): "
                   r"0.weight: \(4611686018427387904, 3\) declared, \(8, 3\) in the file"),
    "unknown hyperparameter": (_sequential(_linear(3, 8, evil=1), RELU, _linear(8, 2)),
                               "cannot build layer '0' of the model as Linear"),
    "children on a leaf": (_sequential(_linear(3, 8), dict(RELU, children=[
                               dict(name="x", **_linear(8, 2))]), _linear(8, 2)),
                           "layer '1' of the model is a ReLU, which holds no layers"),
    "duplicate child names": ({"class": "Sequential", "hyperparameters": {}, "children": [
                                  dict(name="a", **RELU), dict(name="a", **RELU)]},
                              "each child needs a unique name"),
    "too deep": (_deep(40), "nested more than 32 deep"),
    "other sizes": (_sequential(_linear(3, 9), RELU, _linear(9, 2)),
                    r"0.weight: \(9, 3\) declared, \(8, 3\) in the file; 0.bias: \(9,\) "
                    r"declared, \(8,\) in the file"),
}


@pytest.mark.parametrize("case", BAD_ARCHITECTURES)
def test_tampered_architectures_are_refused(case: str, tmp_path: Path) -> None:
    node, problem = BAD_ARCHITECTURES[case]
    path = tmp_path / "model.safetensors"
    nn.save(mlp(), path)
    _with_metadata(path, architecture=_architecture(node))
    with pytest.raises(ModelFileError, match="(?s)" + re.escape(str(path)) + ": .*" + problem):
        nn.load(path)


@pytest.mark.parametrize("changes, problem", [
    ({"architecture": "{not json"}, "the architecture is not valid JSON"),
    ({"architecture": json.dumps({"format": "keras", "version": 1, "model": {}})},
     "not an autodiff architecture"),
    ({"architecture": json.dumps({"format": "autodiff.nn", "version": 2, "model": RELU})},
     "architecture format version 2; this autodiff reads version 1"),
    ({"format_version": "2"}, "model file format version '2'"),
    ({"training": "maybe"}, "training must be \"true\" or \"false\""),
    ({"architecture": None}, ("holds weights but no architecture .the model was Sequential.; "
                             "create the model and load into it: nn.load.path, model.")),
])
def test_tampered_metadata_is_refused(changes: dict, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    nn.save(mlp(), path)
    _with_metadata(path, **changes)
    with pytest.raises(ModelFileError, match="(?s)" + re.escape(str(path)) + ": .*" + problem):
        nn.load(path)


# ------------------------------------------------------------------ round trips

def test_mlp_round_trip_is_bit_identical(tmp_path: Path) -> None:
    ad.manual_seed(1)
    model = mlp()
    x = ad.randn(5, 3)
    path = tmp_path / "mlp.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    assert type(loaded) is nn.Sequential and repr(loaded) == repr(model)
    assert_same_state(model, loaded)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded(x).dtype == np.float32 and loaded.training


def test_metadata_holds_format_class_mode_and_architecture(tmp_path: Path) -> None:
    model = bn_model().eval()
    nn.save(model, tmp_path / "m.safetensors")
    arrays, metadata = load_tensors(tmp_path / "m.safetensors")
    assert set(arrays) == set(model.state_dict())
    assert metadata["format"] == "autodiff.nn" and metadata["format_version"] == "1"
    assert metadata["class"] == "Sequential" and metadata["training"] == "false"
    node = json.loads(metadata["architecture"])["model"]
    assert [c["class"] for c in node["children"]] == [
        "Linear", "BatchNorm1d", "LeakyReLU", "Dropout", "Linear", "Softmax"]
    assert node["children"][1]["hyperparameters"] == {
        "num_features": 6, "eps": 1e-5, "momentum": 0.1, "affine": True, "bias": True,
        "track_running_stats": True}
    assert node["children"][2]["hyperparameters"] == {"negative_slope": 0.2, "inplace": False}
    assert node["children"][3]["hyperparameters"] == {"p": 0.3, "inplace": False}
    assert node["children"][5]["hyperparameters"] == {"dim": 1}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_model_round_trip_keeps_running_stats_mode_and_dtype(dtype: type,
                                                                       tmp_path: Path) -> None:
    model = trained_bn_model(dtype).eval()
    assert int(model[1].num_batches_tracked.item()) == 3
    path = tmp_path / "bn.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    assert not loaded.training and not loaded[3].training
    assert loaded[2].negative_slope == 0.2 and loaded[3].p == 0.3 and loaded[5].dim == 1
    assert_same_state(model, loaded)
    assert loaded[1].running_mean.dtype == dtype
    assert loaded[1].num_batches_tracked.dtype == np.int64
    x = ad.randn(7, 4, dtype=dtype)
    out = loaded(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), model(x).numpy())


def test_conv_net_round_trip_rebuilds_every_image_layer(tmp_path: Path) -> None:
    model = trained_cnn()
    path = tmp_path / "cnn.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    assert repr(loaded) == repr(model) and not loaded.training
    assert_same_state(model, loaded)
    assert list(loaded.state_dict())[:7] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                             "1.running_mean", "1.running_var",
                                             "1.num_batches_tracked"]
    x = ad.randn(3, 1, 10, 10)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert repr(nn.from_json(model.to_json())) == repr(model)


def test_training_mode_is_saved_too(tmp_path: Path) -> None:
    nn.save(bn_model().train(), tmp_path / "m.safetensors")
    assert nn.load(tmp_path / "m.safetensors").training


def test_loaded_model_trains(tmp_path: Path) -> None:
    nn.save(trained_bn_model(), tmp_path / "bn.safetensors")
    model = nn.load(tmp_path / "bn.safetensors").train()
    before = {key: value.numpy().copy() for key, value in model.state_dict().items()}
    loss = model(ad.randn(8, 4))[:, 0].sum()
    loss.backward()
    for param in model.parameters():
        assert param.grad is not None and np.abs(param.grad.numpy()).sum() > 0
        param.data -= 0.1 * param.grad.numpy()
    after = model.state_dict()
    # ("0.bias" barely moves: BatchNorm subtracts the batch mean, so its gradient is ~0)
    for key in ("0.weight", "1.weight", "1.bias", "4.weight", "4.bias", "1.running_mean",
                "1.running_var"):
        assert not np.array_equal(before[key], after[key].numpy()), key
    assert int(after["1.num_batches_tracked"].item()) == 4


def test_nested_and_named_containers_round_trip(tmp_path: Path) -> None:
    model = nn.Sequential(collections.OrderedDict(
        fc1=nn.Linear(2, 3), body=nn.Sequential(nn.Tanh(), nn.Linear(3, 3)),
        heads=nn.ModuleList([nn.Identity(), nn.Flatten()]), out=nn.LogSoftmax(dim=-1)))
    path = tmp_path / "nested.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    assert repr(loaded) == repr(model)
    assert list(loaded.state_dict()) == ["fc1.weight", "fc1.bias", "body.1.weight",
                                         "body.1.bias"]
    assert_same_state(model, loaded)


def test_loading_does_not_shift_the_random_stream(tmp_path: Path) -> None:
    nn.save(bn_model(), tmp_path / "m.safetensors")
    ad.manual_seed(4)
    expected = ad.randn(6).numpy()
    ad.manual_seed(4)
    nn.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(ad.randn(6).numpy(), expected)


# ------------------------------------------------------------------ loading into a model

def test_load_into_a_given_model(tmp_path: Path) -> None:
    source = trained_bn_model().eval()
    nn.save(source, tmp_path / "bn.safetensors")
    target = bn_model()                                   # in training mode
    assert nn.load(tmp_path / "bn.safetensors", target) is target
    assert target.training                                # its mode is left alone
    assert_same_state(source, target)
    x = ad.randn(5, 4)
    np.testing.assert_array_equal(target.eval()(x).numpy(), source(x).numpy())


def test_wrong_architecture_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mlp.safetensors"
    nn.save(mlp(), path)
    other_class = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    with pytest.raises(ModelFileError, match=re.escape(str(path)) + ": the file holds another "
                       "architecture: layer '1' of the model is ReLU in the file, Tanh here"):
        nn.load(path, other_class)
    other_sizes = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ModelFileError, match="layer '0' of the model .Linear. has "
                       "hyperparameters .* in the file, .*'out_features': 5"):
        nn.load(path, other_sizes)
    fewer = nn.Sequential(nn.Linear(3, 8), nn.ReLU())
    with pytest.raises(ModelFileError, match=r"has layers \['0', '1', '2'\] in the file, "
                                             r"\['0', '1'\] here"):
        nn.load(path, fewer)
    with pytest.raises(ModelFileError, match="weights do not fit the Sequential model"):
        nn.load(path, other_sizes, strict=False)          # shapes still have to fit
    nn.load(path, other_class, strict=False)              # same weights, other activation
    assert_same_state(nn.load(path), other_class)


def test_a_file_saved_before_a_layer_gained_a_setting_loads_with_its_default(
        tmp_path: Path) -> None:
    """Files written before Dropout gained inplace, BatchNorm1d bias, LeakyReLU inplace,
    and with a loss's settings at their defaults left out (as nn used to write them)."""
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.LeakyReLU(0.2),
                          nn.Dropout(0.3), nn.Linear(6, 3), nn.CrossEntropyLoss())
    path = tmp_path / "old.safetensors"
    nn.save(model, path)
    older = _sequential(_linear(4, 6),
                        {"class": "BatchNorm1d", "hyperparameters": {
                            "num_features": 6, "eps": 1e-5, "momentum": 0.1, "affine": True,
                            "track_running_stats": True}},
                        {"class": "LeakyReLU", "hyperparameters": {"negative_slope": 0.2}},
                        {"class": "Dropout", "hyperparameters": {"p": 0.3}},
                        _linear(6, 3),
                        {"class": "CrossEntropyLoss", "hyperparameters": {"reduction": "mean"}})
    _with_metadata(path, architecture=_architecture(older))
    assert nn.load(path, model) is model                     # strict: the same architecture
    rebuilt = nn.load(path)
    assert repr(rebuilt) == repr(model)
    assert rebuilt[3].hyperparameters() == {"p": 0.3, "inplace": False}
    assert rebuilt[5].hyperparameters() == {"weight": None, "ignore_index": -100,
                                            "reduction": "mean", "label_smoothing": 0.0}
    other = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, bias=False), nn.LeakyReLU(0.2),
                          nn.Dropout(0.3), nn.Linear(6, 3), nn.CrossEntropyLoss())
    with pytest.raises(ModelFileError, match="layer '1' of the model .BatchNorm1d. has "
                                             "hyperparameters .* in the file, .*'bias': False"):
        nn.load(path, other)


def test_user_defined_models_save_weights_and_load_into_an_instance(tmp_path: Path) -> None:
    ad.manual_seed(2)
    net = Net()
    with pytest.raises(TypeError, match="to_json: the model is Net, not one of nn's own"):
        nn.serialization.architecture_to_json(net)
    inner = nn.Sequential(nn.Linear(3, 4), Net())
    with pytest.raises(TypeError, match="layer '1' of the model is Net"):
        nn.serialization.architecture_to_json(inner)
    path = tmp_path / "net.safetensors"
    nn.save(net, path)
    with pytest.raises(ModelFileError, match="no architecture .the model was Net."):
        nn.load(path)
    copy = nn.load(path, Net())
    x = ad.randn(4, 3)
    np.testing.assert_array_equal(copy(x).numpy(), net(x).numpy())
    with pytest.raises(ModelFileError, match="missing keys: 0.weight, 0.bias, 2.weight, 2.bias"):
        nn.load(path, nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)))


# ------------------------------------------------------------------ JSON alone

def test_to_json_and_from_json(tmp_path: Path) -> None:
    model = trained_bn_model()
    text = model.to_json()
    assert text == nn.serialization.architecture_to_json(model)
    rebuilt = nn.from_json(text)
    assert repr(rebuilt) == repr(model) and rebuilt.to_json() == text
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    assert int(rebuilt[1].num_batches_tracked.item()) == 0          # fresh weights
    assert json.loads(model.to_json())["model"]["children"][0] == dict(name="0", **_linear(4, 6))


def test_from_json_refuses_foreign_classes_and_garbage() -> None:
    with pytest.raises(ModelFileError, match="architecture JSON: the model is of class "
                                             "'Net', which is not one of nn's own layers"):
        nn.from_json(_architecture({"class": "Net", "hyperparameters": {}}))
    with pytest.raises(ModelFileError, match="architecture JSON: the architecture is not valid"):
        nn.from_json("[[[")
    with pytest.raises(ModelFileError, match="expected an object with class"):
        nn.from_json(_architecture({"class": "ReLU"}))


# ------------------------------------------------------------------ PyTorch reads our files

def _torch_bn_model(torch):
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6),
                               torch.nn.LeakyReLU(0.2), torch.nn.Dropout(0.3),
                               torch.nn.Linear(6, 3), torch.nn.Softmax(dim=1))


def test_torch_loads_our_file_and_computes_the_same(tmp_path: Path, torch_oracle: Any) -> None:
    torch = torch_oracle.torch
    from safetensors.torch import load_file
    model = trained_bn_model(np.float64).eval()
    nn.save(model, tmp_path / "bn.safetensors")
    reference = _torch_bn_model(torch).double()
    reference.load_state_dict(load_file(tmp_path / "bn.safetensors"))
    reference.eval()
    x = np.random.default_rng(0).standard_normal((9, 4))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    torch_oracle.assert_close(model(ad.tensor(x)).numpy(), expected, np.float64)

    ours = mlp()
    nn.save(ours, tmp_path / "mlp.safetensors")
    reference = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    reference.load_state_dict(load_file(tmp_path / "mlp.safetensors"))
    x = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    torch_oracle.assert_close(ours(ad.tensor(x)).numpy(), expected, np.float32)


def _torch_cnn(torch):
    tn = torch.nn
    return tn.Sequential(tn.Conv2d(1, 4, 3, padding="same"), tn.BatchNorm2d(4), tn.ReLU(),
                         tn.MaxPool2d(2), tn.Dropout2d(0.2),
                         tn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2, bias=False),
                         tn.AvgPool2d(2, ceil_mode=True), tn.AdaptiveAvgPool2d((1, 1)),
                         tn.Flatten(), tn.Linear(6, 3))


def test_torch_loads_our_conv_net_and_computes_the_same(tmp_path: Path,
                                                        torch_oracle: Any) -> None:
    torch = torch_oracle.torch
    from safetensors.torch import load_file
    model = trained_cnn()
    nn.save(model, tmp_path / "cnn.safetensors")
    reference = _torch_cnn(torch)
    reference.load_state_dict(load_file(tmp_path / "cnn.safetensors"))
    reference.eval()
    x = np.random.default_rng(3).standard_normal((5, 1, 10, 10)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    torch_oracle.assert_close(model(ad.tensor(x)).numpy(), expected, np.float32)


def test_we_load_a_conv_net_written_by_torch(tmp_path: Path, torch_oracle: Any) -> None:
    torch = torch_oracle.torch
    from safetensors.torch import save_file
    torch.manual_seed(0)
    reference = _torch_cnn(torch)
    with torch.no_grad():
        reference(torch.randn(16, 1, 10, 10))             # move the running stats
    reference.eval()
    save_file(reference.state_dict(), tmp_path / "torch_cnn.safetensors")
    model = nn.load(tmp_path / "torch_cnn.safetensors", cnn()).eval()
    x = np.random.default_rng(4).standard_normal((5, 1, 10, 10)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    torch_oracle.assert_close(model(ad.tensor(x)).numpy(), expected, np.float32)


def test_we_load_a_file_written_by_torch(tmp_path: Path, torch_oracle: Any) -> None:
    torch = torch_oracle.torch
    from safetensors.torch import save_file
    torch.manual_seed(0)
    reference = _torch_bn_model(torch)
    with torch.no_grad():
        reference(torch.randn(32, 4))                     # move the running stats
    reference.eval()
    save_file(reference.state_dict(), tmp_path / "torch.safetensors")
    model = nn.load(tmp_path / "torch.safetensors", bn_model()).eval()
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    torch_oracle.assert_close(model(ad.tensor(x)).numpy(), expected, np.float32)


# ------------------------------------------------------------------ checked before building

LAYER_EXAMPLES: dict[str, list[tuple[tuple, dict]]] = {
    "Linear": [((3, 4), {}), ((3, 4), {"bias": False})],
    "Conv2d": [((4, 6, 3), {}), ((4, 6, (3, 5)), {"groups": 2, "bias": False})],
    "Conv1d": [((4, 6, 3), {}), ((4, 6, 5), {"groups": 2, "bias": False})],
    "ConvTranspose2d": [((4, 6, 3), {}), ((4, 6, (3, 5)), {"groups": 2, "bias": False})],
    "Upsample": [((), {"scale_factor": 2})],
    "BatchNorm1d": [((5,), {}), ((5,), {"affine": False}),
                    ((5,), {"track_running_stats": False}), ((5,), {"bias": False})],
    "BatchNorm2d": [((3,), {}), ((3,), {"affine": False, "track_running_stats": False})],
    "BatchNorm3d": [((3,), {}), ((3,), {"affine": False}), ((3,), {"bias": False})],
    "RReLU": [((0.1, 0.3), {})],
    "MaxPool2d": [((2,), {})],
    "AvgPool2d": [((2,), {})],
    "AdaptiveAvgPool2d": [((1,), {})],
    "Embedding": [((7, 3), {"padding_idx": 0})],
    "EmbeddingBag": [((7, 3), {}), ((7, 3), {"mode": "sum", "padding_idx": 0,
                                           "include_last_offset": True})],
    "LayerNorm": [((4,), {}), (((2, 3),), {"bias": False})],
    "GroupNorm": [((2, 4), {}), ((2, 4), {"affine": False})],
    "Unflatten": [((1, (2, 3)), {})],
    "MultiheadAttention": [((6, 2), {}), ((6, 3), {"bias": False, "kdim": 4, "vdim": 5})],
    "NonDynamicallyQuantizableLinear": [((3, 4), {}), ((3, 4), {"bias": False})],
    "RNN": [((3, 4), {}), ((3, 4), {"num_layers": 2, "bidirectional": True, "bias": False})],
    "LSTM": [((3, 4), {"num_layers": 2, "bidirectional": True})],
    "GRU": [((3, 4), {"num_layers": 2}), ((3, 4), {"bias": False, "bidirectional": True})],
    "RNNCell": [((3, 4), {}), ((3, 4), {"bias": False, "nonlinearity": "relu"})],
    "LSTMCell": [((3, 4), {}), ((3, 4), {"bias": False})],
    "GRUCell": [((3, 4), {}), ((3, 4), {"bias": False})],
    "Conv3d": [((4, 6, 3), {}), ((4, 6, (3, 2, 5)), {"groups": 2, "bias": False})],
    "ConvTranspose1d": [((4, 6, 3), {}), ((4, 6, 5), {"groups": 2, "bias": False})],
    "ConvTranspose3d": [((4, 6, 3), {}), ((4, 6, (3, 2, 5)), {"groups": 2, "bias": False})],
    "AdaptiveMaxPool2d": [((1,), {})],
    "AdaptiveMaxPool1d": [((2,), {})],
    "AdaptiveMaxPool3d": [(((1, None, 2),), {})],
    "MaxUnpool1d": [((2,), {})],
    "MaxUnpool2d": [((2,), {})],
    "MaxUnpool3d": [((2,), {})],
    "Bilinear": [((3, 4, 5), {}), ((3, 4, 5), {"bias": False})],
    "PReLU": [((), {}), ((3,), {"init": 0.1})],
    "Threshold": [((0.5, -1.0), {})],
    "RMSNorm": [((4,), {}), (((2, 3),), {"elementwise_affine": False})],
    "LocalResponseNorm": [((3,), {})],
    "InstanceNorm1d": [((4,), {}), ((4,), {"affine": True, "track_running_stats": True}),
                       ((4,), {"affine": True, "bias": False})],
    "InstanceNorm2d": [((3,), {"track_running_stats": True})],
    "InstanceNorm3d": [((2,), {"affine": True})],
    "MaxPool1d": [((2,), {})],
    "MaxPool3d": [((2,), {})],
    "AvgPool3d": [((2,), {"ceil_mode": True})],
    "AdaptiveAvgPool3d": [(((1, None, 2),), {})],
    "AvgPool1d": [((2,), {})],
    "AdaptiveAvgPool1d": [((2,), {})],
    "LPPool1d": [((2, 3), {})],
    "LPPool2d": [((2, 3), {})],
    "UpsamplingNearest2d": [((), {"scale_factor": 2})],
    "UpsamplingBilinear2d": [((4,), {})],
    "PixelShuffle": [((2,), {})],
    "PixelUnshuffle": [((2,), {})],
    "ChannelShuffle": [((2,), {})],
    "Fold": [((4, 2), {})],
    "Unfold": [((2,), {})],
    **{f"{kind}Pad{dims}d": [((1,), {})] for kind in ("Zero", "Reflection", "Replication",
                                                      "Circular") for dims in (1, 2, 3)},
    **{f"ConstantPad{dims}d": [((1, 0.5), {})] for dims in (1, 2, 3)},
    "MultiLabelSoftMarginLoss": [((), {}), ((ad.tensor([1.0, 2.0, 0.5]),), {})],
    "MultiMarginLoss": [((), {}), ((1, 1.0, ad.tensor([1.0, 2.0])), {})],
    "AdaptiveLogSoftmaxWithLoss": [((8, 10, [4, 8]), {}),
                                   ((16, 20, (3, 9, 15)), {"div_value": 2.0, "head_bias": True})],
    # before their first call the lazy layers hold placeholders, shape (0,)
    "LazyLinear": [((3,), {}), ((3,), {"bias": False})],
    **{f"Lazy{kind}{dims}d": [((4, 3), {}), ((4, 3), {"groups": 2, "bias": False})]
       for kind in ("Conv", "ConvTranspose") for dims in (1, 2, 3)},
    **{f"Lazy{kind}Norm{dims}d": [((), {}), ((), {"affine": False}),
                                  ((), {"track_running_stats": False, "bias": False})]
       for kind in ("Batch", "Instance") for dims in (1, 2, 3)},
}


@pytest.mark.parametrize("name", sorted(nn.module.BUILTIN_LAYERS))
def test_state_shapes_are_those_of_the_built_layer(name: str) -> None:
    """What `load` checks a file against before building equals what building gives."""
    for args, kwargs in LAYER_EXAMPLES.get(name, [((), {})]):
        layer = nn.module.BUILTIN_LAYERS[name](*args, **kwargs)
        built = {key: tuple(tensor.shape) for key, tensor in layer.state_dict().items()}
        assert type(layer).state_shapes(**layer.hyperparameters()) == built


def test_a_small_file_declaring_a_huge_layer_is_refused_before_allocating(
        tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    nn.save(nn.Sequential(nn.Linear(2, 2)), path)
    _with_metadata(path, architecture=_architecture(_sequential(_linear(20000, 20000))))
    assert path.stat().st_size < 1000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=r"0.weight: \(20000, 20000\) declared, "
                                                 r"\(2, 2\) in the file"):
            nn.load(path)
        seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 1 and peak < 50 << 20


@pytest.mark.parametrize("name", ["_modules", "_parameters", "_buffers", "training", "forward"])
def test_a_child_may_not_take_the_name_of_a_modules_own_attribute(name: str,
                                                                  tmp_path: Path) -> None:
    model = nn.Sequential()
    with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
        model.add_module(name, nn.ReLU())
    assert isinstance(model._modules, dict) and isinstance(model._parameters, dict)
    path = tmp_path / "model.safetensors"
    nn.save(nn.Sequential(nn.ReLU()), path)
    _with_metadata(path, architecture=_architecture(
        {"class": "Sequential", "hyperparameters": {}, "children": [dict(name=name, **RELU)]}))
    with pytest.raises(ModelFileError, match=f"cannot add its layer '{name}'"):
        nn.load(path)
