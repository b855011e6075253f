"""inplace=True, as torch's layers take it: the activations that have the switch, Dropout and
Dropout2d write their result into the input tensor and return it; autograd sees an in-place
change, so the gradients are those of the same layer without the switch (and torch's), and
a leaf that requires grad is refused."""
import numpy as np
import pytest

import autodiff as ad
import nn

IN_PLACE_ACTIVATIONS = [("ReLU", ()), ("LeakyReLU", (0.1,)), ("ELU", (0.5,)), ("CELU", (2.0,)),
                        ("SELU", ()), ("Hardtanh", (-0.5, 0.8)), ("ReLU6", ()), ("SiLU", ()),
                        ("Mish", ()), ("Hardsigmoid", ()), ("Hardswish", ())]

X = np.array([[-3.5, -1.0, -0.25, 0.3], [0.75, 2.0, 4.0, 7.0]])
W = np.array([1.5, -2.0, 0.5, 1.0])
UPSTREAM = np.array([[0.5, -1.0, 2.0, 1.5], [-0.25, 3.0, 1.0, -2.0]])


def run(lib, layer):
    """layer(h) for h = X · W, a tensor inside the graph: whether the output is h itself,
    and the output with the gradients of Σ UPSTREAM · output with respect to X and W."""
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    h = x * w
    out = layer(h)
    (out * lib.tensor(UPSTREAM)).sum().backward()
    return out is h, (out.detach().numpy(), x.grad.numpy(), w.grad.numpy())


@pytest.mark.parametrize(("name", "args"), IN_PLACE_ACTIVATIONS)
def test_an_in_place_activation_writes_into_its_input_and_keeps_torchs_gradients(
        name, args, torch_oracle):
    torch = torch_oracle.torch
    wrote, ours = run(ad, getattr(nn, name)(*args, inplace=True))
    torch_wrote, theirs = run(torch, getattr(torch.nn, name)(*args, inplace=True))
    wrote_apart, apart = run(ad, getattr(nn, name)(*args))
    assert wrote and torch_wrote and not wrote_apart
    for mine, other, separate in zip(ours, theirs, apart):
        # 1e-7: torch's float64 hardsigmoid backward uses 1/6 rounded to float32
        np.testing.assert_allclose(mine, other, rtol=1e-7, atol=1e-12)
        np.testing.assert_array_equal(mine, separate)


@pytest.mark.parametrize(("name", "args"), IN_PLACE_ACTIVATIONS)
def test_an_in_place_layer_refuses_a_leaf_that_requires_grad_as_torch_does(
        name, args, torch_oracle):
    torch = torch_oracle.torch
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(torch.nn, name)(*args, inplace=True)(torch.ones(2, requires_grad=True))
    with pytest.raises(ad.InPlaceError, match="a leaf tensor that requires grad"):
        getattr(nn, name)(*args, inplace=True)(ad.ones(2, requires_grad=True))


def test_under_no_grad_a_leaf_is_changed_in_place():
    x = ad.tensor([-1.0, 2.0], requires_grad=True)
    with ad.no_grad():
        assert nn.ReLU(inplace=True)(x) is x
    assert x.tolist() == [0.0, 2.0]


@pytest.mark.parametrize(("name", "shape"), [("Dropout", (4, 6)), ("Dropout2d", (3, 4, 2, 2))])
def test_in_place_dropout_drops_what_the_plain_one_drops_and_writes_it_into_the_input(
        name, shape):
    values = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    upstream = np.linspace(-1.0, 2.0, values.size).reshape(shape)
    results = []
    for inplace in (False, True):
        ad.manual_seed(3)
        x = ad.tensor(values, requires_grad=True)
        h = x * 2
        out = getattr(nn, name)(0.5, inplace=inplace)(h)
        (out * ad.tensor(upstream)).sum().backward()
        results.append((out is h, out.detach().numpy(), x.grad.numpy()))
    (apart, plain, plain_grad), (together, written, written_grad) = results
    assert together and not apart
    np.testing.assert_array_equal(written, plain)
    np.testing.assert_array_equal(written_grad, plain_grad)
    kept = plain != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_array_equal(plain[kept], 4 * values[kept])       # ×2, then ×1/(1 - ½)
    np.testing.assert_array_equal(plain_grad, np.where(kept, 4 * upstream, 0.0))


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d"])
def test_in_place_dropout_with_nothing_to_drop_leaves_the_input_untouched(name):
    leaf = ad.ones(2, 3, 2, 2, requires_grad=True)      # no in-place change: a leaf is fine
    assert getattr(nn, name)(0.5, inplace=True).eval()(leaf) is leaf
    assert getattr(nn, name)(0.0, inplace=True)(leaf) is leaf
    assert leaf.grad_fn is None and np.all(leaf.numpy() == 1)
