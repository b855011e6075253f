"""ad.autograd and ad.autograd.functional against torch.autograd: the same names, values,
shapes, dtypes, nesting and errors; the Hessian against its formula."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
from autodiff.grad_mode import state

from .conftest import assert_same, both_raise

F = ad.autograd.functional
RNG = np.random.default_rng(0)


def as_torch(value: Any) -> Any:
    import torch
    if isinstance(value, tuple):
        return tuple(as_torch(v) for v in value)
    return torch.tensor(value.numpy())


def randn(*shape: int, dtype: Any = np.float64) -> ad.Tensor:
    return ad.tensor(RNG.standard_normal(shape).astype(dtype))


# each case: a function written once for both libraries (lib is ad or torch), the inputs
CASES: dict[str, tuple[Callable[[Any], Callable[..., Any]], Any]] = {
    "vector to vector": (lambda lib: lambda x: x.sin() * x, randn(3)),
    "matrix to scalar": (lambda lib: lambda x: (x ** 2).sum() * x.sum(), randn(2, 3)),
    "tuple in": (lambda lib: lambda x, y: x * y.exp(), (randn(3), randn(3))),
    "tuple out": (lambda lib: lambda x: (x.tanh(), (x ** 3).sum()), randn(4)),
    "tuple in and out": (lambda lib: lambda x, y: (x @ y, (x * x).sum() * y.sum()),
                         (randn(2, 3), randn(3))),
    "unused input": (lambda lib: lambda x, y: (x ** 2).sum(), (randn(2), randn(2))),
    "float32": (lambda lib: lambda x: lib.tanh(x).sum() * x, randn(3, dtype=np.float32)),
    "float32 in, float64 out": (lambda lib: lambda x: x.double() ** 2,
                                randn(2, dtype=np.float32)),
}
SCALAR = ["matrix to scalar", "unused input"]


def outputs_like(fn: Callable[..., Any], inputs: Any) -> Any:
    out = fn(*inputs) if isinstance(inputs, tuple) else fn(inputs)
    if isinstance(out, tuple):
        return tuple(ad.tensor(RNG.standard_normal(o.shape).astype(o.dtype)) for o in out)
    return ad.tensor(RNG.standard_normal(out.shape).astype(out.dtype))


def inputs_like(inputs: Any) -> Any:
    if isinstance(inputs, tuple):
        return tuple(randn(*x.shape, dtype=x.dtype) for x in inputs)
    return randn(*inputs.shape, dtype=inputs.dtype)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_jacobian_vjp_jvp_match_torch(case: str, create_graph: bool) -> None:
    torch = pytest.importorskip("torch")
    make, inputs = CASES[case]
    ours, theirs = make(ad), make(torch)
    assert_same(F.jacobian(ours, inputs, create_graph=create_graph),
                torch.autograd.functional.jacobian(theirs, as_torch(inputs),
                                                   create_graph=create_graph))
    assert_same(F.jacobian(ours, inputs, vectorize=True),
                torch.autograd.functional.jacobian(theirs, as_torch(inputs), vectorize=True))
    v = outputs_like(ours, inputs)
    assert_same(F.vjp(ours, inputs, v, create_graph=create_graph),
                torch.autograd.functional.vjp(theirs, as_torch(inputs), as_torch(v),
                                              create_graph=create_graph))
    u = inputs_like(inputs)
    assert_same(F.jvp(ours, inputs, u, create_graph=create_graph),
                torch.autograd.functional.jvp(theirs, as_torch(inputs), as_torch(u),
                                              create_graph=create_graph))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", SCALAR)
def test_hessian_hvp_vhp_match_torch(case: str, create_graph: bool) -> None:
    torch = pytest.importorskip("torch")
    make, inputs = CASES[case]
    ours, theirs = make(ad), make(torch)
    tf = torch.autograd.functional
    assert_same(F.hessian(ours, inputs, create_graph=create_graph),
                tf.hessian(theirs, as_torch(inputs), create_graph=create_graph))
    assert_same(F.vjp(ours, inputs), tf.vjp(theirs, as_torch(inputs)))
    u = inputs_like(inputs)
    for ours_fn, torch_fn in ((F.hvp, tf.hvp), (F.vhp, tf.vhp)):
        assert_same(ours_fn(ours, inputs, u, create_graph=create_graph),
                    torch_fn(theirs, as_torch(inputs), as_torch(u), create_graph=create_graph))


def test_results_stay_connected_to_the_callers_graph_with_create_graph() -> None:
    """d/dx of the Jacobian of x³ (3x² on the diagonal) is 6x, as torch gives."""
    torch = pytest.importorskip("torch")
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    j = F.jacobian(lambda t: t ** 3, x, create_graph=True)
    jt = torch.autograd.functional.jacobian(lambda t: t ** 3, xt, create_graph=True)
    assert_same(ad.grad(j.sum(), x), torch.autograd.grad(jt.sum(), xt))
    assert_same(F.jacobian(lambda t: t ** 3, x),
                torch.autograd.functional.jacobian(lambda t: t ** 3, xt))


def test_hessian_of_a_quadratic_form_and_a_cubic_against_the_formula() -> None:
    """f(x) = xᵀAx + Σ xᵢ³ has H = A + Aᵀ + diag(6x); the third derivative of the
    cubic part through create_graph: d/dx Σ H = 6."""
    a = RNG.standard_normal((3, 3))
    x = randn(3)
    matrix = ad.tensor(a)

    def f(t: ad.Tensor) -> ad.Tensor:
        return t @ matrix @ t + (t ** 3).sum()

    expected = a + a.T + np.diag(6 * x.numpy())
    np.testing.assert_allclose(F.hessian(f, x).numpy(), expected, rtol=1e-12)
    v = randn(3)
    np.testing.assert_allclose(F.hvp(f, x, v)[1].numpy(), expected @ v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.vhp(f, x, v)[1].numpy(), v.numpy() @ expected, rtol=1e-12)
    leaf = x.detach().requires_grad_(True)
    third, = ad.grad(F.hessian(f, leaf, create_graph=True).sum(), leaf)
    np.testing.assert_allclose(third.numpy(), np.full(3, 6.0))
    assert ad.gradgradcheck(f, (leaf,))


def test_hessian_of_tuple_inputs_is_a_tuple_of_tuples() -> None:
    """f(x, y) = Σ x²y: ∂²f/∂x² = diag(2y), ∂²f/∂x∂y = diag(2x), ∂²f/∂y² = 0."""
    x, y = randn(2), randn(2)
    (hxx, hxy), (hyx, hyy) = F.hessian(lambda a, b: (a * a * b).sum(), (x, y))
    np.testing.assert_allclose(hxx.numpy(), np.diag(2 * y.numpy()))
    np.testing.assert_allclose(hxy.numpy(), np.diag(2 * x.numpy()))
    np.testing.assert_allclose(hyx.numpy(), np.diag(2 * x.numpy()))
    np.testing.assert_allclose(hyy.numpy(), np.zeros((2, 2)))


def test_works_under_no_grad_and_leaves_inputs_alone() -> None:
    x = ad.tensor([1.0, 2.0])
    with ad.no_grad():
        j = F.jacobian(lambda t: t ** 2, x)
    np.testing.assert_allclose(j.numpy(), np.diag([2.0, 4.0]))
    assert not x.requires_grad and x.grad is None and not j.requires_grad


def test_misuse_raises_the_errors_torch_raises() -> None:
    torch = pytest.importorskip("torch")
    tf = torch.autograd.functional
    x, xt = ad.ones(2), torch.ones(2)
    message = both_raise(TypeError, lambda: F.jacobian(lambda t: t, 3.0),
                         lambda: tf.jacobian(lambda t: t, 3.0))
    assert "float" in message and "ad.tensor" in message
    message = both_raise(TypeError, lambda: F.vjp(lambda t: 3.0, x),
                         lambda: tf.vjp(lambda t: 3.0, xt))
    assert "outputs of the function" in message
    message = both_raise(RuntimeError,
                         lambda: F.jacobian(lambda a, b: a * 2, (x, x), strict=True),
                         lambda: tf.jacobian(lambda a, b: a * 2, (xt, xt), strict=True))
    assert "does not depend on input 1" in message
    for name in ("vjp", "jvp", "hessian", "hvp", "vhp"):        # input 1 is unused
        v, vt = ((), ()) if name in ("vjp", "hessian") else (((x, x),), ((xt, xt),))
        message = both_raise(
            RuntimeError,
            functools.partial(getattr(F, name), lambda a, b: (a ** 2).sum(), (x, x), *v,
                              strict=True),
            functools.partial(getattr(tf, name), lambda a, b: (a ** 2).sum(), (xt, xt), *vt,
                              strict=True))
        assert "strict=True" in message, name
    message = both_raise(RuntimeError, lambda: F.vjp(lambda t: t * 2, x),
                         lambda: tf.vjp(lambda t: t * 2, xt))
    assert "v can be left out only" in message
    message = both_raise(RuntimeError, lambda: F.vjp(lambda t: t * 2, x, ad.ones(3)),
                         lambda: tf.vjp(lambda t: t * 2, xt, torch.ones(3)))
    assert "(3,)" in message and "(2,)" in message
    message = both_raise(RuntimeError, lambda: F.hessian(lambda t: t * 2, x),
                         lambda: tf.hessian(lambda t: t * 2, xt))
    assert "one element" in message
    message = both_raise(NotImplementedError,
                         lambda: F.jacobian(lambda t: t, x, strategy="forward-mode"),
                         lambda: tf.jacobian(lambda t: t, xt, strategy="forward-mode"))
    assert "forward-mode" in message and "reverse-mode" in message


def test_strict_false_gives_zeros_for_an_output_that_ignores_the_inputs() -> None:
    torch = pytest.importorskip("torch")
    ours = F.jacobian(lambda t: (t * 2, ad.ones(3)), ad.ones(2))
    theirs = torch.autograd.functional.jacobian(lambda t: (t * 2, torch.ones(3)), torch.ones(2))
    assert_same(ours, theirs)


# ---------------------------------------------------------------- the namespace

def test_the_namespace_maps_torch_autograd_names_onto_the_engine() -> None:
    torch = pytest.importorskip("torch")
    names = ["grad", "backward", "Function", "gradcheck", "gradgradcheck", "no_grad",
             "enable_grad", "set_grad_enabled", "inference_mode", "detect_anomaly",
             "set_detect_anomaly", "Variable", "functional"]
    for name in names:
        assert hasattr(torch.autograd, name) and hasattr(ad.autograd, name), name
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        assert hasattr(torch.autograd.functional, name) and hasattr(F, name), name
    assert ad.autograd.grad is ad.grad and ad.autograd.Function is ad.Function
    assert ad.autograd.no_grad is ad.no_grad and ad.autograd.gradcheck is ad.gradcheck


def test_grad_and_backward_through_the_namespace() -> None:
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    g, = ad.autograd.grad((x ** 2).sum(), [x], create_graph=True)
    h, = ad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [2.0, 2.0])
    ad.autograd.backward((x ** 3).sum())
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_a_custom_function_subclasses_autograd_function() -> None:
    class Cube(ad.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2          # dL/dx = dL/dy · 3x²

    x = ad.tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert ad.autograd.gradcheck(Cube.apply, (ad.tensor([0.5, -1.5], dtype=ad.float64,
                                                          requires_grad=True),))


def test_variable_behaves_as_torchs_legacy_wrapper() -> None:
    torch = pytest.importorskip("torch")
    for lib in (ad, torch):
        t = lib.ones(2)
        v = lib.autograd.Variable(t, requires_grad=True)
        assert v.requires_grad and v.is_leaf and not t.requires_grad
        assert isinstance(t, lib.autograd.Variable) and type(v) is lib.Tensor
        assert not lib.autograd.Variable(t).requires_grad
        made = lib.ones(2, requires_grad=True) * 2
        copy = lib.autograd.Variable(made)
        assert copy.is_leaf and not copy.requires_grad and copy.grad_fn is None
        with pytest.raises(TypeError):
            lib.autograd.Variable([1.0, 2.0])
    shared = ad.ones(2)
    ad.autograd.Variable(shared).numpy()[0] = 7.0       # shares the numbers, as torch's
    assert shared.numpy()[0] == 7.0


def test_set_detect_anomaly_is_a_call_and_a_context_manager() -> None:
    assert not state.detect_anomaly
    with ad.autograd.set_detect_anomaly(True):
        assert state.detect_anomaly
        with ad.autograd.set_detect_anomaly(False):
            assert not state.detect_anomaly
        assert state.detect_anomaly
    assert not state.detect_anomaly
    ad.autograd.set_detect_anomaly(True)
    try:
        assert state.detect_anomaly
        with pytest.raises(ad.AnomalyError):
            ad.tensor([0.0], requires_grad=True).log()
    finally:
        ad.autograd.set_detect_anomaly(False)
    assert not state.detect_anomaly
