"""PyTorch habits on the first day: each either works as in PyTorch or fails with a
TypeError that names the fix, instead of an AttributeError from deep inside.

    nn.save(model.state_dict(), path)       works: nn.load(path) gives the state dict back
    nn.save({"model": ..., "epoch": 3})     refused, naming nn.save(model) and optim.save_state
    optim.SGD(model, lr=0.1)                refused, naming model.parameters()
    model([[1.0, 2.0]])                     refused, naming ad.tensor(...)
"""
from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.errors import ModelFileError
from autodiff.io import load_tensors, save_tensors


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))


# ------------------------------------------------------------------ nn.save(model.state_dict())

def test_a_saved_state_dict_loads_back_as_the_state_dict(tmp_path: Path) -> None:
    ad.manual_seed(0)
    model, path = mlp(), tmp_path / "weights.safetensors"
    model(ad.randn(4, 2))                                 # move BatchNorm's running stats
    nn.save(model.state_dict(), path)
    state = nn.load(path)
    assert isinstance(state, collections.OrderedDict)
    assert list(state) == list(model.state_dict())        # PyTorch's order, not the file's
    for key, tensor in model.state_dict().items():
        assert isinstance(state[key], ad.Tensor)
        assert state[key].dtype == tensor.dtype
        np.testing.assert_array_equal(state[key].numpy(), tensor.numpy())
    ad.manual_seed(1)
    fresh = mlp()
    fresh.load_state_dict(state)
    x = ad.randn(5, 2)
    np.testing.assert_array_equal(fresh.eval()(x).numpy(), model.eval()(x).numpy())


def test_a_state_dict_file_loads_into_a_model_and_holds_no_architecture(tmp_path: Path) -> None:
    model, path = mlp(), tmp_path / "weights.safetensors"
    nn.save(model.state_dict(), path)
    arrays, metadata = load_tensors(path)                # a plain safetensors file
    assert set(arrays) == set(model.state_dict())
    assert metadata["contents"] == "state_dict" and "architecture" not in metadata
    fresh = nn.load(path, mlp())
    for key, tensor in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), tensor.numpy())


def test_a_state_dict_of_arrays_saves_too(tmp_path: Path) -> None:
    model, path = mlp(), tmp_path / "weights.safetensors"
    nn.save({key: tensor.numpy() for key, tensor in model.state_dict().items()}, path)
    assert list(nn.load(path)) == list(model.state_dict())


def test_saving_a_model_is_unchanged(tmp_path: Path) -> None:
    model, path = mlp(), tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path)
    assert isinstance(loaded, nn.Sequential) and repr(loaded) == repr(model)


def test_torch_loads_a_saved_state_dict(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    model, path = mlp(), tmp_path / "weights.safetensors"
    nn.save(model.state_dict(), path)
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3),
                                    torch.nn.ReLU(), torch.nn.Linear(3, 1))
    reference.load_state_dict(load_file(path))
    np.testing.assert_array_equal(reference[0].weight.detach().numpy(), model[0].weight.numpy())


@pytest.mark.parametrize("keys", ['["0.weight"]', '{"0.weight": 1}', "not json",
                                  '["0.weight", "0.weight", "0.bias"]', "[1, 2]"])
def test_tampered_state_dict_keys_are_refused(keys: str, tmp_path: Path) -> None:
    path = tmp_path / "weights.safetensors"
    linear = nn.Linear(2, 3)
    save_tensors(path, {"0.weight": linear.weight, "0.bias": linear.bias},
                 {"format": "autodiff.nn", "format_version": "1", "contents": "state_dict",
                  "keys": keys})
    with pytest.raises(ModelFileError, match="tampered state dict file: its keys metadata"):
        nn.load(path)


def test_a_checkpoint_dict_is_refused_naming_the_two_savers(tmp_path: Path) -> None:
    model = mlp()
    opt = optim.Adam(model.parameters())
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
    with pytest.raises(TypeError) as error:
        nn.save(checkpoint, tmp_path / "checkpoint.safetensors")
    message = str(error.value)
    assert message.startswith("nn.save: the dict holds 'model' (OrderedDict), 'optimizer' "
                              "(dict), 'epoch' (int): values that are not tensors")
    assert "nn.save(model, path)" in message and "optim.save_state(optimizer, path)" in message
    assert list(tmp_path.iterdir()) == []


def test_saving_something_else_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"nn.save: expected a model \(an nn.Module\) or a "
                                        r"state dict \(model.state_dict\(\)\), got list$"):
        nn.save([nn.Linear(2, 1)], tmp_path / "model.safetensors")
    opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"got SGD; save an optimizer with "
                                        r"optim.save_state\(optimizer, path\)"):
        nn.save(opt, tmp_path / "sgd.safetensors")


# ------------------------------------------------------------------ optim.SGD(model)

@pytest.mark.parametrize("make", [
    lambda model: optim.SGD(model, lr=0.1),
    lambda model: optim.SGD(nn.Sequential(model), lr=0.1),
    lambda model: optim.SGD([{"params": model, "lr": 0.1}], lr=0.1),
    lambda model: optim.Adam(nn.Linear(3, 3).parameters()).add_param_group({"params": model}),
], ids=["Linear", "Sequential", "param group", "add_param_group"])
def test_an_optimizer_over_a_model_names_model_parameters(make) -> None:
    with pytest.raises(TypeError, match=r"params is the model itself \((Linear|Sequential)\), "
                                        r"not its parameters; pass model.parameters\(\)"):
        make(nn.Linear(2, 1))


def test_an_optimizer_over_the_parameters_method_says_to_call_it() -> None:
    with pytest.raises(TypeError, match=r"SGD: params is the method model.parameters, not its "
                                        r"result; call it: optim.SGD\(model.parameters\(\)"):
        optim.SGD(nn.Linear(2, 1).parameters, lr=0.1)


def test_torch_raises_type_errors_for_the_same_mistakes() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    for params in (model, model.parameters, torch.nn.Sequential(model)):
        with pytest.raises(TypeError):
            torch.optim.SGD(params, lr=0.1)


# ------------------------------------------------------------------ model([[1.0, 2.0]])

@pytest.mark.parametrize("data, problem", [
    ([[1.0, 2.0]], r"the input is a list of numbers, not a Tensor; make it one first: "
                   r"ad.tensor\(\[\[1.0, 2.0\]\]\)"),
    ((1.0, 2.0), r"the input is a tuple of numbers, not a Tensor; make it one first: "
                 r"ad.tensor\(\(1.0, 2.0\)\)"),
    ([[np.float32(1), 2]], r"the input is a list of numbers"),
    ([list(range(40))], r"make it one first: ad.tensor\(data\)"),
    (np.zeros((1, 2), np.float32), r"the input is a numpy array of shape \(1, 2\) and dtype "
                                   r"float32, not a Tensor; make it one first: ad.tensor\(x\) "
                                   r"copies it, ad.from_numpy\(x\) shares its memory$"),
    (np.zeros((1, 2)), r"dtype float64, .* \(a float64 array gives a float64 tensor; "
                       r"ad.tensor\(x, dtype=ad.float32\) matches the default float32 weights\)"),
])
def test_a_layer_called_on_plain_data_names_ad_tensor(data, problem: str) -> None:
    for model in (nn.Linear(2, 1), nn.Sequential(nn.Linear(2, 1), nn.ReLU()), nn.ReLU(),
                  nn.MSELoss()):
        with pytest.raises(TypeError, match=problem):
            model(data) if not isinstance(model, nn.MSELoss) else model(data, ad.zeros(1, 2))


def test_torch_raises_type_errors_for_plain_data_too() -> None:
    torch = pytest.importorskip("torch")
    for data in ([[1.0, 2.0]], (1.0, 2.0), np.zeros((1, 2), np.float32)):
        with pytest.raises(TypeError):
            torch.nn.Linear(2, 1)(data)


def test_user_defined_modules_and_identity_may_take_any_input() -> None:
    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(3, 2)

        def forward(self, ids: list[int]) -> ad.Tensor:
            return self.embed(ad.tensor(np.eye(3, dtype=np.float32)[ids]))

    assert Tokens()([0, 2, 1]).shape == (3, 2)
    assert nn.Identity()([1.0, 2.0]) == [1.0, 2.0]
    assert nn.MSELoss()(ad.tensor([1.0]), [0.0]).item() == 1.0      # targets stay free
    pair = (ad.ones(2), ad.zeros(2))                                # tensors in a tuple pass on
    assert nn.Sequential(nn.Identity())(pair) is pair
