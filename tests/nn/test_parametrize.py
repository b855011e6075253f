"""nn.utils.parametrize: register_parametrization, chains, tuple originals, assignment
through right_inverse, cached(), removal, the class swap, and the module's state dict,
repr, JSON and model file, against PyTorch where it is installed."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.utils import parametrize

from .conftest import assert_close

# ---------------------------------------------------------------- parametrizations (ours, torch's)

class Symmetric(nn.Module):
    """X ↦ triu(X) + triu(X, 1)ᵀ; right_inverse keeps the upper triangle."""

    def forward(self, X):
        return X.triu() + X.triu(1).T

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    """X ↦ 3X, with right_inverse Y ↦ Y / 3."""

    def forward(self, X):
        return 3 * X

    def right_inverse(self, Y):
        return Y / 3


class Halves(nn.Module):
    """(a, b) ↦ a + b, with right_inverse X ↦ (0.25 X, 0.75 X): two originals."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, X):
        return 0.25 * X, 0.75 * X


class Transposed(nn.Module):
    """X ↦ Xᵀ: changes the shape (needs unsafe=True)."""

    def forward(self, X):
        return X.T

    def right_inverse(self, Y):
        return Y.T


class NoInverse(nn.Module):
    def forward(self, X):
        return X.tanh()


def torch_parametrizations(torch):
    """The same four parametrizations written for torch."""

    class TSymmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    class TScale(torch.nn.Module):
        def forward(self, X):
            return 3 * X

        def right_inverse(self, Y):
            return Y / 3

    class THalves(torch.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, X):
            return 0.25 * X, 0.75 * X

    class TTransposed(torch.nn.Module):
        def forward(self, X):
            return X.T

        def right_inverse(self, Y):
            return Y.T

    return {"Symmetric": TSymmetric, "Scale": TScale, "Halves": THalves,
            "Transposed": TTransposed}


OURS = {"Symmetric": Symmetric, "Scale": Scale, "Halves": Halves, "Transposed": Transposed}


def to_torch(torch, state):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in state.items()}


def to_ours(state):
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def build_pair(torch, chain, size=(3, 3), unsafe=False, seed=0):
    """nn.Linear and torch.nn.Linear with the same weights and the same chain of
    parametrizations on `weight`, the originals copied from ours into torch."""
    ad.manual_seed(seed)
    ours = nn.Linear(size[1], size[0])
    theirs = torch.nn.Linear(size[1], size[0])
    theirs.load_state_dict(to_torch(torch, ours.state_dict()))
    torch_classes = torch_parametrizations(torch)
    for name in chain:
        parametrize.register_parametrization(ours, "weight", OURS[name](), unsafe=unsafe)
        torch.nn.utils.parametrize.register_parametrization(
            theirs, "weight", torch_classes[name](), unsafe=unsafe)
    return ours, theirs


def forward_backward(torch, ours, theirs, seed=1):
    """Same input and upstream gradient through both; the outputs must agree."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, ours.in_features)).astype(np.float32)
    ya, yt = ours(ad.tensor(x)), theirs(torch.from_numpy(x))
    assert_close(ya.numpy(), yt.detach().numpy(), np.float32)
    upstream = rng.standard_normal(ya.shape).astype(np.float32)
    ya.backward(ad.tensor(upstream))
    yt.backward(torch.from_numpy(upstream))


def assert_same_parameters_and_grads(ours, theirs):
    theirs_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.numpy(), theirs_params[name].detach().numpy(), np.float32, name)
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), np.float32, name)


# ---------------------------------------------------------------- against torch

@pytest.mark.parametrize("chain", [["Symmetric"], ["Symmetric", "Scale"], ["Halves"],
                                   ["Halves", "Scale", "Symmetric"]])
def test_values_gradients_and_state_dict_match_torch(torch_oracle, chain):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, chain)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key].numpy(), value.numpy(), np.float32, key)
    assert_close(ours.weight.numpy(), theirs.weight.detach().numpy(), np.float32)
    forward_backward(torch, ours, theirs)
    assert_same_parameters_and_grads(ours, theirs)


def test_assignment_goes_through_right_inverse_as_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, ["Halves", "Scale"])
    value = np.arange(9, dtype=np.float32).reshape(3, 3)
    ours.weight = ad.tensor(value)
    theirs.weight = torch.from_numpy(value)
    for key, tensor in theirs.state_dict().items():
        assert_close(ours.state_dict()[key].numpy(), tensor.numpy(), np.float32, key)
    assert_close(ours.weight.numpy(), value, np.float32)


def test_unsafe_shape_change_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, ["Transposed"], size=(2, 3), unsafe=True)
    original = ours.parametrizations.weight.original
    assert original.shape == (3, 2) and ours.weight.shape == (2, 3)
    assert_close(original.numpy(), theirs.parametrizations.weight.original.detach().numpy(),
                 np.float32)
    forward_backward(torch, ours, theirs)
    assert_same_parameters_and_grads(ours, theirs)


def test_parametrized_buffer_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    parametrize.register_parametrization(ours, "running_var", Scale())
    torch.nn.utils.parametrize.register_parametrization(
        theirs, "running_var", torch_parametrizations(torch)["Scale"]())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [name for name, _ in ours.named_buffers()] == \
        [name for name, _ in theirs.named_buffers()]
    assert_close(ours.running_var.numpy(), theirs.running_var.numpy(), np.float32)
    assert not ours.parametrizations.running_var.original.requires_grad


def test_buffer_with_two_originals_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    parametrize.register_parametrization(ours, "running_mean", Halves())
    torch.nn.utils.parametrize.register_parametrization(
        theirs, "running_mean", torch_parametrizations(torch)["Halves"]())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    halves = ours.parametrizations.running_mean
    assert not halves.original0.requires_grad and not isinstance(halves.original0, nn.Parameter)
    with ad.no_grad():
        halves.original1.fill_(2.0)
    parametrize.remove_parametrizations(ours, "running_mean")
    assert "running_mean" in ours._buffers and not ours.running_mean.requires_grad
    np.testing.assert_array_equal(ours.running_mean.numpy(), np.full(3, 2.0, np.float32))
    assert type(ours) is nn.BatchNorm1d


def test_a_right_inverse_that_raises_not_implemented_counts_as_the_identity():
    class Unsure(nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, X):
            raise NotImplementedError

    layer = nn.Linear(2, 2)
    weight = layer.weight.numpy().copy()
    parametrize.register_parametrization(layer, "weight", Unsure())
    np.testing.assert_array_equal(layer.parametrizations.weight.original.numpy(), weight)
    with pytest.raises(NotImplementedError):
        layer.weight = ad.zeros(2, 2)


@pytest.mark.parametrize("chain", [["Symmetric"], ["Halves", "Scale"]])
def test_state_dicts_load_both_ways(torch_oracle, chain):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, chain, seed=1)
    other, _ = build_pair(torch, chain, seed=2)
    other.load_state_dict(to_ours(theirs.state_dict()))
    assert_close(other.weight.numpy(), theirs.weight.detach().numpy(), np.float32)
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(2)
    ours.load_state_dict(to_ours(theirs.state_dict()))
    theirs.load_state_dict(to_torch(torch, other.state_dict()))
    assert_close(ours.weight.numpy(), 2 * other.weight.numpy(), np.float32)
    assert_close(theirs.weight.detach().numpy(), other.weight.numpy(), np.float32)


def test_repr_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, ["Symmetric", "Scale", "Scale"])
    expected = repr(theirs).replace("TSymmetric", "Symmetric").replace("TScale", "Scale")
    assert repr(ours) == expected
    assert "(1-2): 2 x Scale()" in repr(ours)


def test_a_parametrized_bias_still_reads_bias_true_in_the_repr(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    parametrize.register_parametrization(ours, "bias", Scale())
    torch.nn.utils.parametrize.register_parametrization(
        theirs, "bias", torch_parametrizations(torch)["Scale"]())
    assert repr(ours) == repr(theirs).replace("TScale", "Scale")


# ---------------------------------------------------------------- the mechanism

def test_reading_computes_and_records_the_parametrization():
    layer = parametrize.register_parametrization(nn.Linear(2, 2, bias=False), "weight",
                                                 Scale())
    original = layer.parametrizations.weight.original
    np.testing.assert_allclose(layer.weight.numpy(), 3 * original.numpy(), rtol=1e-6)
    layer(ad.ones(1, 2)).sum().backward()
    np.testing.assert_array_equal(original.grad.numpy(), np.full((2, 2), 3.0, np.float32))
    assert layer.weight is not layer.weight        # recomputed on each read


def test_the_original_parameter_object_is_kept_for_optimizers():
    layer = nn.Linear(2, 2)
    weight = layer.weight
    parametrize.register_parametrization(layer, "weight", Scale())
    assert layer.parametrizations.weight.original is weight
    parametrize.remove_parametrizations(layer, "weight")
    assert layer.weight is weight


def test_class_swap_and_its_undoing():
    layer = nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", Scale())
    parametrize.register_parametrization(layer, "bias", Scale())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert isinstance(layer, nn.Linear)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.is_parametrized(layer)
    assert parametrize.is_parametrized(layer, "bias")
    assert not parametrize.is_parametrized(layer, "other")
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer).__name__ == "ParametrizedLinear"
    assert type(layer._parameters) is parametrize.ComputedParameters
    parametrize.remove_parametrizations(layer, "bias")
    assert type(layer) is nn.Linear
    assert type(layer._parameters) is dict
    assert not parametrize.is_parametrized(layer)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert "parametrizations" not in layer._modules


def test_each_module_gets_its_own_class():
    a = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    b = nn.Linear(2, 2)
    c = parametrize.register_parametrization(nn.Linear(2, 2), "bias", Scale())
    assert type(a) is not type(c)
    assert isinstance(type(a).__dict__["weight"], property)
    assert "weight" not in type(c).__dict__
    assert type(b) is nn.Linear


def test_remove_leave_parametrized_keeps_the_value():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    value = layer.weight.numpy().copy()
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    np.testing.assert_array_equal(layer.weight.numpy(), value)
    assert isinstance(layer.weight, nn.Parameter)


def test_remove_unparametrized_restores_the_original():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    original = layer.parametrizations.weight.original.numpy().copy()
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(layer.weight.numpy(), original)


def test_remove_a_tuple_parametrization(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = build_pair(torch, ["Halves"])
    with pytest.raises(ValueError, match="leave_parametrized=True"):
        parametrize.remove_parametrizations(ours, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert_close(ours.weight.numpy(), theirs.weight.detach().numpy(), np.float32)
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.is_leaf


def test_remove_an_unsafe_shape_change_restores_the_shape():
    layer = parametrize.register_parametrization(nn.Linear(3, 2), "weight", Transposed(),
                                                 unsafe=True)
    value = layer.weight.numpy().copy()
    parametrize.remove_parametrizations(layer, "weight")
    np.testing.assert_array_equal(layer.weight.numpy(), value)
    assert layer(ad.ones(1, 3)).shape == (1, 2)


def test_cached_computes_once_per_block():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    calls = []
    layer.parametrizations.weight.register_forward_hook(lambda *args: calls.append(1))
    with parametrize.cached():
        first = layer.weight
        with parametrize.cached():
            assert layer.weight is first
        assert layer.weight is first
        layer(ad.ones(1, 2))
    assert len(calls) == 1
    assert layer.weight is not first
    assert len(calls) == 2


def test_linear_and_conv_read_the_computed_weight(torch_oracle):
    """nn's Linear and Conv read self._parameters['weight'] directly."""
    torch = torch_oracle.torch
    ours, theirs = nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
    theirs.load_state_dict(to_torch(torch, ours.state_dict()))
    parametrize.register_parametrization(ours, "weight", Scale())
    torch.nn.utils.parametrize.register_parametrization(
        theirs, "weight", torch_parametrizations(torch)["Scale"]())
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    assert_close(ours(ad.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                 np.float32)
    assert "weight" not in ours._parameters
    with pytest.raises(KeyError):
        ours._parameters["other"]


def test_deepcopy_gives_an_independent_module():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    twin = copy.deepcopy(layer)
    with ad.no_grad():
        twin.parametrizations.weight.original.fill_(1.0)
    np.testing.assert_array_equal(twin.weight.numpy(), np.full((2, 2), 3.0, np.float32))
    np.testing.assert_array_equal(twin._parameters["weight"].numpy(), twin.weight.numpy())
    assert not np.array_equal(layer.weight.numpy(), twin.weight.numpy())
    assert type(twin) is not type(layer) and type(twin).__name__ == "ParametrizedLinear"
    parametrize.remove_parametrizations(twin, "weight")
    assert type(twin) is nn.Linear
    assert layer.weight.shape == (2, 2) and parametrize.is_parametrized(layer, "weight")


# ---------------------------------------------------------------- refusals

def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match=r"register_parametrization: Linear has no .*'wieght'"):
        parametrize.register_parametrization(nn.Linear(2, 2), "wieght", Scale())


def test_a_missing_tensor_is_refused():
    with pytest.raises(ValueError, match=r"Linear.bias is None; there is no tensor"):
        parametrize.register_parametrization(nn.Linear(2, 2, bias=False), "bias", Scale())


def test_a_shape_or_dtype_change_needs_unsafe():
    with pytest.raises(ValueError, match=r"the parametrized tensor must keep the shape of "
                                         r"the unparametrized tensor .pass unsafe=True"):
        parametrize.register_parametrization(nn.Linear(3, 2), "weight", Transposed())
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())

    class ToDouble(nn.Module):
        def forward(self, X):
            return X.double()

    with pytest.raises(ValueError, match=r"parametrization.module.weight. must keep the "
                                         r"dtype of module.weight"):
        parametrize.register_parametrization(layer, "weight", ToDouble())
    with pytest.raises(ValueError, match=r"must keep the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Flatten(0))
    assert len(layer.parametrizations.weight) == 1


def test_a_second_parametrization_is_checked_like_the_first():
    layer = parametrize.register_parametrization(nn.Linear(2, 3), "weight", Scale())
    with pytest.raises(ValueError, match=r"must keep the shape.*\(3, 2\).*\(2, 3\)"):
        parametrize.register_parametrization(layer, "weight", Transposed())

    class BadInverse(nn.Module):
        def forward(self, X):
            return X

        def right_inverse(self, X):
            return X.T

    with pytest.raises(ValueError, match=r"right_inverse\(\.\.\.\) must keep the shape"):
        parametrize.register_parametrization(layer, "weight", BadInverse())
    with pytest.raises(ValueError, match=r"right_inverse must return a Tensor, got tuple"):
        parametrize.register_parametrization(layer, "weight", Switch(lambda X: (X, X)))
    parametrize.register_parametrization(layer, "weight", Transposed(), unsafe=True)
    assert layer.weight.shape == (2, 3) and layer.parametrizations.weight.unsafe


def test_a_parametrization_must_return_a_tensor():
    class Listed(nn.Module):
        def forward(self, X):
            return [X]

    with pytest.raises(ValueError, match="must return a Tensor, got list"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Listed())


def test_assignment_without_right_inverse_is_refused():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", NoInverse())
    with pytest.raises(RuntimeError, match="NoInverse does not implement right_inverse"):
        layer.weight = ad.zeros(2, 2)


def test_assigning_a_parameter_to_a_parametrized_name_is_refused():
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    with pytest.raises(KeyError, match="'weight' already exists"):
        layer.weight = nn.Parameter(ad.zeros(2, 2))


def test_removing_what_is_not_parametrized_is_refused():
    with pytest.raises(ValueError, match=r"Linear.weight is not parametrized"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")


def test_a_parametrization_list_needs_modules():
    with pytest.raises(ValueError, match="at least one parametrization"):
        parametrize.ParametrizationList([], ad.zeros(2))


class Switch(nn.Module):
    """(a, b) ↦ a + b, with a right_inverse that a test can swap (`inverse`)."""

    def __init__(self, inverse):
        super().__init__()
        self.inverse = inverse

    def forward(self, *originals):
        return sum(originals[1:], originals[0])

    def right_inverse(self, X):
        return self.inverse(X)


def test_right_inverse_returning_something_else_is_refused():
    with pytest.raises(ValueError, match="must return a Tensor or a sequence of Tensors"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Switch(lambda X: 3))
    with pytest.raises(ValueError, match="sequence of Tensors, element 1 is a str"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight",
                                             Switch(lambda X: (X, "no")))
    with pytest.raises(ValueError, match="may not change its dtype"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight",
                                             Switch(lambda X: X.double()))


@pytest.mark.parametrize("inverse, message", [
    (lambda X: (X,), "sequence of 2 tensors .* got 1 values"),
    (lambda X: 3, "sequence of 2 tensors .* got int"),
    (lambda X: (X.double(), X), "returned float64 for original 0, which is a float32"),
    (lambda X: (X, "no"), "returned str for original 1")])
def test_assigned_values_whose_right_inverse_does_not_fit_are_refused(inverse, message):
    layer = parametrize.register_parametrization(
        nn.Linear(2, 2), "weight", Switch(lambda X: (0.5 * X, 0.5 * X)))
    layer.parametrizations.weight[0].inverse = inverse
    with pytest.raises(ValueError, match=message):
        layer.weight = ad.zeros(2, 2)


@pytest.mark.parametrize("inverse, message", [
    (lambda X: "no", "should return a Tensor, got str"),
    (lambda X: X.double(), "returned float64 for original , which is a float32")])
def test_assigned_values_for_one_original_are_checked(inverse, message):
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight",
                                                 Switch(lambda X: X))
    layer.parametrizations.weight[0].inverse = inverse
    with pytest.raises(ValueError, match=message):
        layer.weight = ad.zeros(2, 2)


# ---------------------------------------------------------------- saving, JSON, compile

def test_to_json_refuses_and_save_keeps_the_weights(tmp_path):
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    parametrize.register_parametrization(model[0], "weight", Symmetric())
    with pytest.raises(TypeError, match=r"layer '0' of the model is ParametrizedLinear"):
        model.to_json()
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    other = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
    parametrize.register_parametrization(other[0], "weight", Symmetric())
    nn.load(path, other)
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())
    assert [n for n, _ in model.named_parameters()] == ["0.bias",
                                                        "0.parametrizations.weight.original"]


@pytest.mark.parametrize("data", [[[1.0, 2.0, 3.0]], np.ones((1, 3))], ids=["list", "array"])
def test_a_parametrized_layer_refuses_plain_data_as_its_layer_does(data):
    layer = nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))
    with pytest.raises(TypeError, match="^Linear: the input is a .*not a Tensor"):
        layer(data)
