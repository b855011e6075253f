"""ad.func against torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian and
vmap give the same values, shapes, dtypes and nesting, and refuse the same misuse; the
Hessian and nested grads against their formulas."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad

from .conftest import assert_same, both_raise

# torch.func imports torch.jit, which warns that torch.jit.script is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

RNG = np.random.default_rng(1)


def randn(*shape: int, dtype: Any = np.float64) -> ad.Tensor:
    return ad.tensor(RNG.standard_normal(shape).astype(dtype))


def as_torch(value: Any) -> Any:
    import torch
    if isinstance(value, (tuple, list)):
        return type(value)(as_torch(v) for v in value)
    if isinstance(value, dict):
        return {k: as_torch(v) for k, v in value.items()}
    if isinstance(value, ad.Tensor):
        return torch.tensor(value.numpy())
    return value


def scalar(lib: Any) -> Callable[..., Any]:
    return lambda x, y: (x.sin() * y).sum() + (x ** 2).sum()


def vector(lib: Any) -> Callable[..., Any]:
    return lambda x, y: (x * y.exp(), (x ** 3).sum())


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_and_grad_and_value_match_torch(argnums: Any) -> None:
    torch = pytest.importorskip("torch")
    x, y = randn(3), randn(3)
    ours, theirs = ad.func, torch.func
    assert_same(ours.grad(scalar(ad), argnums)(x, y),
                theirs.grad(scalar(torch), argnums)(*as_torch((x, y))))
    assert_same(ours.grad_and_value(scalar(ad), argnums)(x, y),
                theirs.grad_and_value(scalar(torch), argnums)(*as_torch((x, y))))


def test_has_aux_and_tree_arguments_match_torch() -> None:
    torch = pytest.importorskip("torch")

    def make(lib: Any) -> Callable[..., Any]:
        def f(params: dict[str, Any], x: Any) -> tuple[Any, Any]:
            out = (params["w"] * x).sum() + (params["b"][0] ** 2).sum()
            return out, {"out": out, "scaled": x * 2}
        return f

    params = {"w": randn(3), "b": [randn(2), randn(1)]}
    x = randn(3)
    assert_same(ad.func.grad(make(ad), has_aux=True)(params, x),
                torch.func.grad(make(torch), has_aux=True)(as_torch(params), as_torch(x)))
    assert_same(ad.func.grad_and_value(make(ad), argnums=(0, 1), has_aux=True)(params, x),
                torch.func.grad_and_value(make(torch), argnums=(0, 1), has_aux=True)(
                    as_torch(params), as_torch(x)))


def test_grad_of_an_input_that_requires_grad_stays_differentiable() -> None:
    """As in torch, grad(f)(x) for an x that requires grad is a function of x: d/dx Σ 3x² = 6x."""
    torch = pytest.importorskip("torch")
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    g = ad.func.grad(lambda t: (t ** 3).sum())(x)
    gt = torch.func.grad(lambda t: (t ** 3).sum())(xt)
    assert_same(g, gt)
    assert_same(ad.grad(g.sum(), x), torch.autograd.grad(gt.sum(), xt))


def test_nested_grads_against_the_formula() -> None:
    """d³/dx³ sin x = -cos x; d²/dxdy (x²y³) = 6xy²."""
    x = ad.tensor(0.7, dtype=ad.float64)
    third = ad.func.grad(ad.func.grad(ad.func.grad(lambda t: t.sin())))(x)
    np.testing.assert_allclose(third.item(), -np.cos(0.7))
    y = ad.tensor(-1.3, dtype=ad.float64)
    mixed = ad.func.grad(ad.func.grad(lambda a, b: a ** 2 * b ** 3), argnums=1)(x, y)
    np.testing.assert_allclose(mixed.item(), 6 * 0.7 * 1.3 ** 2)


def test_vjp_matches_torch_and_can_be_called_twice() -> None:
    torch = pytest.importorskip("torch")
    x, y = randn(2, 3), randn(3)
    out, vjp_fn = ad.func.vjp(vector(ad), x, y)
    out_t, vjp_fn_t = torch.func.vjp(vector(torch), *as_torch((x, y)))
    assert_same(out, out_t)
    for _ in range(2):
        u = (randn(2, 3), randn())
        assert_same(vjp_fn(u), vjp_fn_t(as_torch(u)))
    out, vjp_fn, aux = ad.func.vjp(lambda t: (t ** 2, t.sum()), x, has_aux=True)
    out_t, vjp_fn_t, aux_t = torch.func.vjp(lambda t: (t ** 2, t.sum()), as_torch(x),
                                            has_aux=True)
    assert_same((out, aux), (out_t, aux_t))
    u = randn(2, 3)
    assert_same(vjp_fn(u), vjp_fn_t(as_torch(u)))


def test_jvp_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x, y = randn(2, 3), randn(3)
    u = (randn(2, 3), randn(3))
    assert_same(ad.func.jvp(vector(ad), (x, y), u),
                torch.func.jvp(vector(torch), as_torch((x, y)), as_torch(u)))
    assert_same(ad.func.jvp(lambda t: (t.tanh(), {"a": t}), (x,), (u[0],), has_aux=True),
                torch.func.jvp(lambda t: (t.tanh(), {"a": t}), as_torch((x,)),
                               as_torch((u[0],)), has_aux=True))
    assert_same(ad.func.jvp(lambda a, b: a * 2, (x, x), (u[0], u[0])),
                torch.func.jvp(lambda a, b: a * 2, as_torch((x, x)), as_torch((u[0], u[0]))))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_jacobians_match_torch(name: str, argnums: Any) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(ad.func, name), getattr(torch.func, name)
    x, y = randn(2, 3), randn(3)
    assert_same(ours(vector(ad), argnums)(x, y), theirs(vector(torch), argnums)(*as_torch((x, y))))
    assert_same(ours(scalar(ad), argnums)(x[0], y), theirs(scalar(torch), argnums)(
        *as_torch((x[0], y))))
    tree = {"a": randn(2), "b": randn(3)}
    assert_same(ours(lambda d: (d["a"] * 2, d["b"].sum()))(tree),
                theirs(lambda d: (d["a"] * 2, d["b"].sum()))(as_torch(tree)))
    assert_same(ours(lambda t: (t.exp(), t[0]), has_aux=True)(y),
                theirs(lambda t: (t.exp(), t[0]), has_aux=True)(as_torch(y)))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_dtypes_follow_torch(name: str) -> None:
    """jacrev's Jacobian has the input's dtype (a vjp's), jacfwd's the output's (a jvp's)."""
    torch = pytest.importorskip("torch")
    x = randn(2, dtype=np.float32)
    assert_same(getattr(ad.func, name)(lambda t: t.double() ** 2)(x),
                getattr(torch.func, name)(lambda t: t.double() ** 2)(as_torch(x)))


def test_hessian_matches_torch_and_the_formula() -> None:
    """f(x) = xᵀAx + Σ xᵢ³ has H = A + Aᵀ + diag(6x)."""
    torch = pytest.importorskip("torch")
    a = randn(3, 3)
    x = randn(3)

    def make(lib: Any, matrix: Any) -> Callable[..., Any]:
        return lambda t: t @ matrix @ t + (t ** 3).sum()

    h = ad.func.hessian(make(ad, a))(x)
    assert_same(h, torch.func.hessian(make(torch, as_torch(a)))(as_torch(x)))
    np.testing.assert_allclose(h.numpy(), a.numpy() + a.numpy().T + np.diag(6 * x.numpy()),
                               rtol=1e-12)
    y = randn(3)
    assert_same(ad.func.hessian(scalar(ad), argnums=(0, 1))(x, y),
                torch.func.hessian(scalar(torch), argnums=(0, 1))(*as_torch((x, y))))


# ---------------------------------------------------------------- vmap

@pytest.mark.parametrize(("in_dims", "out_dims"), [(0, 0), ((1, 0), 0), ((0, None), 1),
                                                   ((1, None), -1), ((None, 0), (0, 1))])
def test_vmap_matches_torch(in_dims: Any, out_dims: Any) -> None:
    torch = pytest.importorskip("torch")
    x, w = randn(4, 4), randn(4)

    def make(lib: Any) -> Callable[..., Any]:
        if out_dims == (0, 1):
            return lambda a, b: (a * b, (a * b).sum(0))
        return lambda a, b: a * b.tanh() + b.sum()

    assert_same(ad.func.vmap(make(ad), in_dims, out_dims)(x, w),
                torch.func.vmap(make(torch), in_dims, out_dims)(*as_torch((x, w))))


def test_vmap_of_a_gradient_gives_per_sample_gradients() -> None:
    """The per-sample-gradient recipe: vmap(grad(loss), in_dims=(None, 0, 0))."""
    torch = pytest.importorskip("torch")
    w, xs, ys = randn(3), randn(5, 3), randn(5)

    def loss(w: Any, x: Any, y: Any) -> Any:
        return ((w * x).sum() - y) ** 2

    ours = ad.func.vmap(ad.func.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    theirs = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(
        *as_torch((w, xs, ys)))
    assert_same(ours, theirs)
    assert_same(ad.func.jacrev(ad.func.vmap(lambda t: t.sin()))(w),
                torch.func.jacrev(torch.func.vmap(lambda t: t.sin()))(as_torch(w)))


def test_vmap_passes_keyword_arguments_whole() -> None:
    torch = pytest.importorskip("torch")
    x, w = randn(3, 2), randn(2)
    assert_same(ad.func.vmap(lambda a, *, scale: a * scale)(x, scale=w),
                torch.func.vmap(lambda a, *, scale: a * scale)(*as_torch((x,)),
                                                               scale=as_torch(w)))


def test_vmap_gradients_flow_through_the_stack() -> None:
    x = ad.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    ad.func.vmap(lambda row: (row ** 2).sum())(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_vmap_randomness() -> None:
    torch = pytest.importorskip("torch")
    for lib in (ad, torch):
        with pytest.raises(RuntimeError):
            lib.func.vmap(lambda r, lib=lib: r + lib.randn(()))(lib.zeros(3))
    same = ad.func.vmap(lambda r: r + ad.randn(()), randomness="same")(ad.zeros(3)).numpy()
    assert np.all(same == same[0])
    different = ad.func.vmap(lambda r: r + ad.randn(()),
                             randomness="different")(ad.zeros(3)).numpy()
    assert len(set(different.tolist())) == 3
    with pytest.raises(ValueError, match="randomness"):
        ad.func.vmap(lambda r: r, randomness="sometimes")


# ---------------------------------------------------------------- misuse

def test_misuse_raises_the_errors_torch_raises() -> None:
    torch = pytest.importorskip("torch")
    x, xt = ad.ones(2), torch.ones(2)
    message = both_raise(ValueError, lambda: ad.func.grad(lambda t: t.sum())(2.0),
                         lambda: torch.func.grad(lambda t: t.sum())(2.0))
    assert "float" in message and "ad.tensor" in message
    message = both_raise(RuntimeError, lambda: ad.func.grad(lambda t: t ** 2)(x),
                         lambda: torch.func.grad(lambda t: t ** 2)(xt))
    assert "(2,)" in message and "jacrev" in message
    message = both_raise(RuntimeError, lambda: ad.func.grad(lambda t: 3.0)(x),
                         lambda: torch.func.grad(lambda t: 3.0)(xt))
    assert "must return a Tensor" in message
    message = both_raise(RuntimeError, lambda: ad.func.grad(lambda t: t.sum(), argnums=1)(x),
                         lambda: torch.func.grad(lambda t: t.sum(), argnums=1)(xt))
    assert "argnums=1" in message
    both_raise(RuntimeError, lambda: ad.func.grad(lambda t: t.sum(), argnums=(0, 0))(x),
               lambda: torch.func.grad(lambda t: t.sum(), argnums=(0, 0))(xt))
    both_raise(RuntimeError, lambda: ad.func.grad(lambda t: t.sum(), has_aux=True)(x),
               lambda: torch.func.grad(lambda t: t.sum(), has_aux=True)(xt))
    message = both_raise(RuntimeError, lambda: ad.func.jvp(lambda t: t, [x], [x]),
                         lambda: torch.func.jvp(lambda t: t, [xt], [xt]))
    assert "tuple" in message
    both_raise(RuntimeError, lambda: ad.func.jvp(lambda t: t, (x,), (ad.ones(3),)),
               lambda: torch.func.jvp(lambda t: t, (xt,), (torch.ones(3),)))
    both_raise(RuntimeError,
               lambda: ad.func.jvp(lambda t: ad.ones(2), (x,), (x,), strict=True),
               lambda: torch.func.jvp(lambda t: torch.ones(2), (xt,), (xt,), strict=True))
    message = both_raise(ValueError, lambda: ad.func.vmap(lambda a, b: a + b)(x, ad.ones(3)),
                         lambda: torch.func.vmap(lambda a, b: a + b)(xt, torch.ones(3)))
    assert "[2, 3]" in message
    both_raise(ValueError, lambda: ad.func.vmap(lambda a: a, in_dims=None)(x),
               lambda: torch.func.vmap(lambda a: a, in_dims=None)(xt))


def test_functions_that_ignore_an_input_give_zeros_as_torch() -> None:
    torch = pytest.importorskip("torch")
    x = randn(2)
    assert_same(ad.func.grad(lambda a, b: (a * 0).sum() + 3, argnums=(0, 1))(x, x),
                torch.func.grad(lambda a, b: (a * 0).sum() + 3, argnums=(0, 1))(
                    *as_torch((x, x))))
    assert_same(ad.func.jacrev(lambda a, b: a.exp(), argnums=(0, 1))(x, x),
                torch.func.jacrev(lambda a, b: a.exp(), argnums=(0, 1))(*as_torch((x, x))))


def test_functional_call_lives_in_nn() -> None:
    """torch.func.functional_call swaps a module's parameters, which autodiff cannot do
    without importing nn: it is nn.utils.stateless.functional_call."""
    assert not hasattr(ad.func, "functional_call")
