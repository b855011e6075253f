"""Elementwise ops (autodiff/ops/elementwise.py): forward values against numpy, gradients
against central finite differences to second order, over Hypothesis-drawn shapes (0-d
included), broadcasting pairs and values kept inside each op's domain and away from its
kinks."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad

GAP = 1 / 100   # distance between the two sides of maximum/minimum: never a tie


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name: (autodiff function, numpy reference, strategy for the inputs given their shapes)
BINARY = {
    "add": (lambda a, b: a + b, np.add, "floats"),
    "sub": (lambda a, b: a - b, np.subtract, "floats"),
    "mul": (lambda a, b: a * b, np.multiply, "floats"),
    "div": (lambda a, b: a / b, np.divide, "nonzero_divisor"),
    "pow": (lambda a, b: a ** b, np.power, "positive_base"),
    "ad.add": (ad.add, np.add, "floats"),
    "ad.sub": (ad.sub, np.subtract, "floats"),
    "ad.mul": (ad.mul, np.multiply, "floats"),
    "ad.div": (ad.div, np.divide, "nonzero_divisor"),
    "ad.pow": (ad.pow, np.power, "positive_base"),
    "maximum": (ad.maximum, np.maximum, "never_equal"),
    "minimum": (ad.minimum, np.minimum, "never_equal"),
    "method maximum": (lambda a, b: a.maximum(b), np.maximum, "never_equal"),
    "method minimum": (lambda a, b: a.minimum(b), np.minimum, "never_equal"),
    "max with a tensor": (lambda a, b: a.max(b), np.maximum, "never_equal"),
    "min with a tensor": (lambda a, b: a.min(b), np.minimum, "never_equal"),
}


def draw_pair(data, strategies, kind, shape_a, shape_b):
    if kind == "floats":
        return data.draw(strategies.floats(shape_a)), data.draw(strategies.floats(shape_b))
    if kind == "nonzero_divisor":
        return (data.draw(strategies.floats(shape_a)),
                data.draw(strategies.away_from_zero(shape_b, gap=0.5)))
    if kind == "positive_base":
        return (data.draw(strategies.floats(shape_a, 0.3, 2.0)),
                data.draw(strategies.floats(shape_b, -2.0, 2.0)))
    return (data.draw(strategies.distinct(shape_a)),
            data.draw(strategies.distinct(shape_b, offset=GAP)))


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_op_with_broadcasting(name, data, strategies, check_grads):
    fn, reference, kind = BINARY[name]
    (shape_a, shape_b), result_shape = data.draw(strategies.broadcastable())
    a, b = draw_pair(data, strategies, kind, shape_a, shape_b)
    y = fn(ad.tensor(a), ad.tensor(b))
    assert y.shape == result_shape
    np.testing.assert_allclose(y.numpy(), reference(a, b), rtol=1e-12)
    check_grads(fn, a, b)


# Python numbers and ndarrays on either side of an operator (reflected forms included).
WITH_CONSTANT = {
    "x + 2.5": (lambda x, c: x + 2.5, lambda x, c: x + 2.5),
    "2.5 + x": (lambda x, c: 2.5 + x, lambda x, c: 2.5 + x),
    "x - 2.5": (lambda x, c: x - 2.5, lambda x, c: x - 2.5),
    "2.5 - x": (lambda x, c: 2.5 - x, lambda x, c: 2.5 - x),
    "x * 2.5": (lambda x, c: x * 2.5, lambda x, c: x * 2.5),
    "2.5 * x": (lambda x, c: 2.5 * x, lambda x, c: 2.5 * x),
    "x / 2.5": (lambda x, c: x / 2.5, lambda x, c: x / 2.5),
    "2.5 / x": (lambda x, c: 2.5 / x, lambda x, c: 2.5 / x),
    "x ** 2": (lambda x, c: x ** 2, lambda x, c: x ** 2),
    "x ** 3": (lambda x, c: x ** 3, lambda x, c: x ** 3),
    "x ** 0.5": (lambda x, c: x ** 0.5, lambda x, c: x ** 0.5),
    "x ** -1.5": (lambda x, c: x ** -1.5, lambda x, c: x ** -1.5),
    "2.5 ** x": (lambda x, c: 2.5 ** x, lambda x, c: 2.5 ** x),
    "x + array": (lambda x, c: x + c, lambda x, c: x + c),
    "array + x": (lambda x, c: c + x, lambda x, c: c + x),
    "array - x": (lambda x, c: c - x, lambda x, c: c - x),
    "array * x": (lambda x, c: c * x, lambda x, c: c * x),
    "array / x": (lambda x, c: c / x, lambda x, c: c / x),
    "x / array": (lambda x, c: x / c, lambda x, c: x / c),
    "array ** x": (lambda x, c: c ** x, lambda x, c: c ** x),
    "x ** array": (lambda x, c: x ** c, lambda x, c: x ** c),
    "-x": (lambda x, c: -x, lambda x, c: -x),
    "ad.neg": (lambda x, c: ad.neg(x), lambda x, c: -x),
}


@pytest.mark.parametrize("name", WITH_CONSTANT)
@given(data=st.data())
def test_operator_with_number_or_array(name, data, strategies, check_grads):
    fn, reference = WITH_CONSTANT[name]
    shape = data.draw(strategies.shapes())
    x = data.draw(strategies.floats(shape, 0.3, 2.0))          # positive: x ** 0.5, c / x
    constant = data.draw(strategies.floats(shape, 0.3, 2.0))   # positive: c ** x, x / c
    y = fn(ad.tensor(x), constant)
    assert isinstance(y, ad.Tensor)
    np.testing.assert_allclose(y.numpy(), reference(x, constant), rtol=1e-12)
    check_grads(lambda t: fn(t, constant), x)


def clip_both(x):
    return x.clip(-0.5, 0.7)


# name: (autodiff function, numpy reference, strategy name, strategy arguments)
UNARY = {
    "exp": (lambda x: x.exp(), np.exp, "floats", {}),
    "log": (lambda x: x.log(), np.log, "floats", {"low": 0.2, "high": 3.0}),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, "floats", {"low": 0.2, "high": 3.0}),
    "abs": (lambda x: x.abs(), np.abs, "away_from_zero", {}),
    "tanh": (lambda x: x.tanh(), np.tanh, "floats", {}),
    "sigmoid": (lambda x: x.sigmoid(), sigmoid, "floats", {"low": -5.0, "high": 5.0}),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0), "away_from_zero", {}),
    "leaky_relu": (lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x),
                   "away_from_zero", {}),
    "leaky_relu 0.2": (lambda x: x.leaky_relu(0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                       "away_from_zero", {}),
    "clip": (clip_both, lambda x: np.clip(x, -0.5, 0.7), "distinct", {"offset": GAP}),
    "clip min only": (lambda x: x.clip(min=-0.5), lambda x: np.maximum(x, -0.5),
                      "distinct", {"offset": GAP}),
    "clip max only": (lambda x: x.clip(max=0.7), lambda x: np.minimum(x, 0.7),
                      "distinct", {"offset": GAP}),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
              "distinct", {"offset": GAP}),
    "ad.exp": (ad.exp, np.exp, "floats", {}),
    "ad.log": (ad.log, np.log, "floats", {"low": 0.2, "high": 3.0}),
    "ad.sqrt": (ad.sqrt, np.sqrt, "floats", {"low": 0.2, "high": 3.0}),
    "ad.abs": (ad.abs, np.abs, "away_from_zero", {}),
    "ad.tanh": (ad.tanh, np.tanh, "floats", {}),
    "ad.sigmoid": (ad.sigmoid, sigmoid, "floats", {}),
    "ad.relu": (ad.relu, lambda x: np.maximum(x, 0), "away_from_zero", {}),
    "ad.leaky_relu": (lambda x: ad.leaky_relu(x, negative_slope=0.1),
                      lambda x: np.where(x > 0, x, 0.1 * x), "away_from_zero", {}),
    "ad.clip": (lambda x: ad.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
                "distinct", {"offset": GAP}),
    "ad.clamp": (lambda x: ad.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
                 "distinct", {"offset": GAP}),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_op(name, data, strategies, check_grads):
    fn, reference, kind, options = UNARY[name]
    shape = data.draw(strategies.shapes())
    x = data.draw(getattr(strategies, kind)(shape, **options))
    y = fn(ad.tensor(x))
    assert y.shape == x.shape
    np.testing.assert_allclose(y.numpy(), reference(x), rtol=1e-12, atol=1e-15)
    check_grads(fn, x)


@given(data=st.data())
def test_where_broadcasts_condition_and_both_sides(data, strategies, check_grads):
    (shape_c, shape_a, shape_b), result_shape = data.draw(strategies.broadcastable(3))
    condition = data.draw(strategies.floats(shape_c)) > 0
    a, b = data.draw(strategies.floats(shape_a)), data.draw(strategies.floats(shape_b))
    y = ad.where(ad.tensor(condition), ad.tensor(a), ad.tensor(b))
    assert y.shape == result_shape
    np.testing.assert_array_equal(y.numpy(), np.where(condition, a, b))
    check_grads(lambda s, t: ad.where(condition, s, t), a, b)


def test_where_gradient_goes_to_the_chosen_side():
    a = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ad.tensor([10.0, 20.0, 30.0], requires_grad=True)
    ad.where(ad.tensor([True, False, True]), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 0, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [0, 1, 0])


def test_where_with_a_number_on_one_side():
    x = ad.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    y = ad.where(x > 0, x, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0, 2, 0])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0])


@given(data=st.data())
def test_cast_between_float_dtypes_passes_the_gradient_back(data, strategies):
    x = ad.tensor(data.draw(strategies.floats(strategies.shapes())), requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x.shape, 3.0))


def test_cast_is_differentiable_twice():
    x = ad.tensor(np.array([1.5, -2.0]), requires_grad=True)
    for convert in (lambda t: t.float(), lambda t: t.to(ad.float32), lambda t: t.double()):
        dy, = ad.grad((convert(x) ** 3).sum(), [x], create_graph=True)     # 3x²
        d2y, = ad.grad(dy.sum(), [x])                                      # 6x
        np.testing.assert_allclose(dy.numpy(), [6.75, 12.0])
        np.testing.assert_allclose(d2y.numpy(), [9.0, -12.0])
        assert dy.dtype == d2y.dtype == np.float64


def test_to_same_dtype_returns_the_tensor_itself():
    x = ad.tensor(np.array([1.0]), requires_grad=True)
    assert x.to(ad.float64) is x and x.double() is x


# ---------------------------------------------------------------- semantics at edges


def test_relu_derivative_at_zero_is_zero():
    x = ad.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_leaky_relu_derivative_at_zero_is_the_slope():
    x = ad.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.leaky_relu(0.25).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.25, 0.25, 1.0])


def test_abs_derivative_at_zero_is_zero():
    x = ad.tensor([-3.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])


def test_clip_passes_the_gradient_on_its_bounds():
    x = ad.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])


@pytest.mark.parametrize("op", [ad.maximum, ad.minimum])
def test_maximum_and_minimum_share_a_tie_equally(op):
    a = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ad.tensor([1.0, 0.0, 5.0], requires_grad=True)
    op(a, b).sum().backward()
    if op is ad.maximum:
        np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
        np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])
    else:
        np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
        np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_maximum_with_a_broadcast_number_ties():
    x = ad.tensor([0.0, 1.0, -1.0], requires_grad=True)
    ad.maximum(x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1.0, 0.0])


@pytest.mark.parametrize("dtype", [ad.float32, ad.float64])
@pytest.mark.parametrize("op", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_finite_at_plus_minus_1000(op, dtype):
    x = ad.tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
    y = getattr(x, op)()
    y.sum().backward()
    expected = [0.0, 0.5, 1.0] if op == "sigmoid" else [-1.0, 0.0, 1.0]
    np.testing.assert_array_equal(y.numpy(), expected)
    expected_grad = [0.0, 0.25, 0.0] if op == "sigmoid" else [0.0, 1.0, 0.0]
    np.testing.assert_array_equal(x.grad.numpy(), expected_grad)


def test_pow_with_a_tensor_exponent_gets_y_log_a():
    a = ad.tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = ad.tensor(np.array([3.0, 2.0]), requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3 * 4.0, 2 * 3.0])              # b a^(b-1)
    np.testing.assert_allclose(b.grad.numpy(), [8 * np.log(2.0), 9 * np.log(3.0)])  # y ln a


def test_square_of_zero_and_negative_bases():
    x = ad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-4.0, 0.0, 6.0])


# ---------------------------------------------------------------- clamp with tensor bounds

def clamp_with_tensor_bounds(lib):
    """torch's rule: x keeps the gradient between the bounds, ties included; min below
    it; max above it, and wherever min > max (y = max there)."""
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
    low = lib.tensor([2.0, 2.0, 5.0, 1.0], dtype=lib.float64, requires_grad=True)
    high = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
    y = x.clamp(low, high)
    y.backward(lib.tensor([1.0, 10.0, 100.0, 1000.0], dtype=lib.float64))
    below = lib.tensor([1.0, 5.0], dtype=lib.float64).clamp(min=lib.tensor(2.0, dtype=lib.float64))
    rows = lib.tensor([1.0, 2.0], dtype=lib.float64).clamp(
        min=lib.tensor([[0.0], [3.0]], dtype=lib.float64))
    return (y.tolist(), x.grad.tolist(), low.grad.tolist(), high.grad.item(), below.tolist(),
            rows.tolist())


CLAMP_WITH_TENSOR_BOUNDS = ([2.0, 2.0, 3.0, 3.0], [0.0, 10.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                            1100.0, [2.0, 5.0], [[1.0, 2.0], [3.0, 3.0]])


def test_clamp_takes_tensor_bounds():
    assert clamp_with_tensor_bounds(ad) == CLAMP_WITH_TENSOR_BOUNDS
    x = ad.tensor([0.3, 1.7, -2.0], dtype=ad.float64, requires_grad=True)
    low = ad.tensor([0.5, 0.1, -3.0], dtype=ad.float64, requires_grad=True)
    assert ad.gradcheck(lambda a, b: a.clamp(min=b, max=ad.tensor(1.0, dtype=ad.float64)),
                        (x, low))


def test_torch_clamps_to_tensor_bounds_the_same():
    torch = pytest.importorskip("torch")
    assert clamp_with_tensor_bounds(torch) == CLAMP_WITH_TENSOR_BOUNDS


# ---------------------------------------------------------------- integers to negative powers

def integer_powers(lib):
    bases = lib.tensor([0, 1, -1, -1, 2, -3, 3])
    exponents = lib.tensor([-1, -5, -3, -2, -1, -2, 3])
    return (bases ** exponents).tolist(), (2 ** lib.tensor([-1, 2])).tolist()


def test_integers_to_negative_tensor_powers_round_toward_zero_as_torch():
    # 1/a^|b| rounded toward 0: 1 for a = 1, ±1 for a = -1, else 0 (also 0 for a = 0)
    assert integer_powers(ad) == ([0, 1, -1, 1, 0, 0, 27], [0, 4])
    torch = pytest.importorskip("torch")
    assert integer_powers(torch) == integer_powers(ad)


def test_an_integer_tensor_to_a_negative_number_is_refused_as_torch():
    with pytest.raises(ad.DomainError, match=r"pow: Integers to negative integer powers.*"
                                             r"x\.float\(\) \*\* -1"):
        ad.tensor([3, -2, 5]) ** -1
    assert (ad.tensor([2.0]) ** -1).tolist() == [0.5]
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        torch.tensor([3, -2, 5]) ** -1
