"""PyTorch's elementwise math functions (autodiff/ops/math_functions.py): every
differentiable one gradchecked to second order in float64 over Hypothesis-drawn shapes, on
a domain away from its jumps and singularities; the steps' zero gradients; the tricky
semantics as hard-coded numbers (remainder's and fmod's signs, floor division, rounding
half to even, integer division by zero, shifts); erf and erfinv against math.erf; and
values, dtypes and refusals against PyTorch for every name and operator where it is
installed."""
import math
from operator import methodcaller

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad
import autodiff.ops.math_functions as mf

EXAMPLES = settings(max_examples=10)
GAP = 1 / 100   # the offset of one side of logaddexp from the other: never a tie

# name: (low, high) of the float64 inputs the derivative is checked on
DOMAINS = {
    "sin": (-3.0, 3.0), "cos": (-3.0, 3.0), "tan": (-1.2, 1.2),
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3.0, 3.0),
    "sinh": (-2.0, 2.0), "cosh": (-2.0, 2.0), "asinh": (-3.0, 3.0),
    "acosh": (1.1, 3.0), "atanh": (-0.9, 0.9),
    "log2": (0.1, 3.0), "log10": (0.1, 3.0), "log1p": (-0.9, 3.0),
    "exp2": (-2.0, 2.0), "expm1": (-2.0, 2.0), "rsqrt": (0.2, 3.0), "square": (-2.0, 2.0),
    "erf": (-2.5, 2.5), "erfinv": (-0.9, 0.9), "nan_to_num": (-2.0, 2.0),
}

# numpy references for the values (erf's is math.erf, elementwise)
REFERENCES = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "exp2": np.exp2, "expm1": np.expm1, "rsqrt": lambda x: 1 / np.sqrt(x),
    "square": np.square, "erf": np.vectorize(math.erf), "nan_to_num": np.nan_to_num,
}


def erfinv_by_bisection(y):
    """The reference erfinv: 200 bisections of math.erf (to the last bit for |y| < 0.99)."""
    low, high = np.full_like(y, -6.0), np.full_like(y, 6.0)
    erf = np.vectorize(math.erf)
    for _ in range(200):
        middle = (low + high) / 2
        below = erf(middle) < y
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return (low + high) / 2


@pytest.mark.parametrize("name", DOMAINS)
@EXAMPLES
@given(data=st.data())
def test_unary_function_values_and_gradients(name, data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    x = data.draw(strategies.floats(shape, *DOMAINS[name]))
    y = getattr(ad.tensor(x), name)()
    assert y.shape == x.shape and y.dtype == np.float64
    reference = erfinv_by_bisection(x) if name == "erfinv" else REFERENCES[name](x)
    np.testing.assert_allclose(y.numpy(), reference, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(getattr(mf, name)(ad.tensor(x)).numpy(), y.numpy())
    check_grads(lambda t: getattr(t, name)(), x)


@EXAMPLES
@given(data=st.data())
def test_frac_values_and_gradient_between_the_jumps(data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(), offset=0.01))   # never whole
    np.testing.assert_allclose(ad.tensor(x).frac().numpy(), x - np.trunc(x), atol=1e-15)
    check_grads(mf.frac, x)


# ---------------------------------------------------------------- binary functions

@EXAMPLES
@given(data=st.data())
def test_atan2_with_broadcasting_away_from_the_origin(data, strategies, check_grads):
    (shape_a, shape_b), result_shape = data.draw(strategies.broadcastable())
    a = data.draw(strategies.away_from_zero(shape_a, gap=0.1))   # off the cut at a = 0, b < 0
    b = data.draw(strategies.away_from_zero(shape_b, gap=0.1))
    y = ad.tensor(a).atan2(ad.tensor(b))
    assert y.shape == result_shape
    np.testing.assert_allclose(y.numpy(), np.arctan2(a, b), rtol=1e-13)
    check_grads(mf.atan2, a, b)


@EXAMPLES
@given(data=st.data())
def test_logaddexp_with_broadcasting(data, strategies, check_grads):
    (shape_a, shape_b), result_shape = data.draw(strategies.broadcastable())
    a = data.draw(strategies.distinct(shape_a))
    b = data.draw(strategies.distinct(shape_b, offset=GAP))      # no ties: |a - b| >= 0.01
    y = ad.tensor(a).logaddexp(ad.tensor(b))
    assert y.shape == result_shape
    np.testing.assert_allclose(y.numpy(), np.logaddexp(a, b), rtol=1e-13)
    check_grads(mf.logaddexp, a, b)


@pytest.mark.parametrize("name", ["remainder", "fmod"])
@EXAMPLES
@given(data=st.data())
def test_remainder_and_fmod_gradients_between_the_jumps(name, data, strategies, check_grads):
    """a = (k + f)·b with 0.05 <= f <= 0.95: a / b is never near a whole number."""
    (shape_b,), result_shape = data.draw(strategies.broadcastable(1))
    b = data.draw(strategies.away_from_zero(shape_b, gap=0.5))
    whole = data.draw(strategies.distinct(result_shape).map(np.round))
    fraction = data.draw(strategies.floats(result_shape, 0.05, 0.95))
    a = (whole + fraction) * b
    reference = np.remainder if name == "remainder" else np.fmod
    np.testing.assert_allclose(getattr(ad.tensor(a), name)(ad.tensor(b)).numpy(),
                               reference(a, b), rtol=1e-12, atol=1e-12)
    check_grads(getattr(mf, name), a, b)


@EXAMPLES
@given(data=st.data())
def test_copysign_with_broadcasting(data, strategies, check_grads):
    (shape_a, shape_b), result_shape = data.draw(strategies.broadcastable())
    a = data.draw(strategies.away_from_zero(shape_a))
    b = data.draw(strategies.away_from_zero(shape_b))
    y = ad.tensor(a).copysign(ad.tensor(b))
    assert y.shape == result_shape
    np.testing.assert_array_equal(y.numpy(), np.copysign(a, b))
    check_grads(mf.copysign, a, b)


@EXAMPLES
@given(data=st.data())
def test_lerp_with_a_tensor_weight_and_broadcasting(data, strategies, check_grads):
    (shape_s, shape_e, shape_w), result_shape = data.draw(strategies.broadcastable(3))
    start, end = data.draw(strategies.floats(shape_s)), data.draw(strategies.floats(shape_e))
    weight = data.draw(strategies.floats(shape_w, -0.5, 1.5))    # both of torch's branches
    y = ad.tensor(start).lerp(ad.tensor(end), ad.tensor(weight))
    assert y.shape == result_shape
    np.testing.assert_allclose(y.numpy(), start + weight * (end - start), rtol=1e-12,
                               atol=1e-14)
    check_grads(mf.lerp, start, end, weight)


@pytest.mark.parametrize("weight", [0.25, 0.75, -1.0])
@EXAMPLES
@given(data=st.data())
def test_lerp_with_a_number_weight(weight, data, strategies, check_grads):
    shape = data.draw(strategies.shapes())
    start, end = data.draw(strategies.floats(shape)), data.draw(strategies.floats(shape))
    np.testing.assert_allclose(mf.lerp(ad.tensor(start), ad.tensor(end), weight).numpy(),
                               start + weight * (end - start), rtol=1e-12, atol=1e-14)
    check_grads(lambda s, e: s.lerp(e, weight), start, end)


# ---------------------------------------------------------------- steps: gradient 0

STEPS = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc,
         "sign": np.sign}


@pytest.mark.parametrize("name", STEPS)
@EXAMPLES
@given(data=st.data())
def test_steps_have_values_and_zero_gradient(name, data, strategies, check_grads):
    x = data.draw(strategies.distinct(strategies.shapes(), offset=0.013))    # off the jumps
    y = getattr(ad.tensor(x), name)()
    np.testing.assert_array_equal(y.numpy(), STEPS[name](x))
    np.testing.assert_array_equal(getattr(mf, name)(ad.tensor(x)).numpy(), y.numpy())
    check_grads(lambda t: getattr(t, name)() * t, x)     # d(f(x)·x)/dx = f(x)
    leaf = ad.tensor(x, requires_grad=True)
    getattr(leaf, name)().sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.zeros_like(x))


def test_steps_give_zero_gradients_at_the_jumps_too_and_to_infinite_grads():
    x = ad.tensor([-1.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    for fn in (mf.floor, mf.ceil, mf.round, mf.trunc, mf.sign):
        x.grad = None
        fn(x).backward(ad.tensor([np.inf] * 5, dtype=ad.float64))
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))


def test_floor_divide_has_zero_gradients():
    a = ad.tensor([7.5, -7.5, 3.0], requires_grad=True)
    b = ad.tensor([2.0], requires_grad=True)
    y = a // b
    np.testing.assert_array_equal(y.numpy(), [3.0, -4.0, 1.0])
    (y * a).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), y.numpy())     # y·1 + a·0
    np.testing.assert_array_equal(b.grad.numpy(), [0.0])


# ---------------------------------------------------------------- semantics, hard-coded

def test_remainder_takes_the_sign_of_the_divisor_and_fmod_that_of_the_dividend():
    a = ad.tensor([-7, 7, -7, 7, 0, -8])
    b = ad.tensor([3, 3, -3, -3, 3, 4])
    np.testing.assert_array_equal((a % b).numpy(), [2, 1, -1, -2, 0, 0])
    np.testing.assert_array_equal(mf.remainder(a, b).numpy(), [2, 1, -1, -2, 0, 0])
    np.testing.assert_array_equal(mf.fmod(a, b).numpy(), [-1, 1, -1, 1, 0, 0])
    assert (a % b).dtype == mf.fmod(a, b).dtype == np.int64
    assert (ad.tensor([-7]) % 3).item() == 2 and mf.fmod(ad.tensor([-7]), 3).item() == -1
    assert (-7 % ad.tensor([3])).item() == 2 and (7 % ad.tensor([-3])).item() == -2
    floats = ad.tensor([-7.5, 7.5]) % 2
    np.testing.assert_array_equal(floats.numpy(), [0.5, 1.5])
    np.testing.assert_array_equal(mf.fmod(ad.tensor([-7.5, 7.5]), 2).numpy(), [-1.5, 1.5])


def test_a_zero_remainder_keeps_the_sign_of_the_dividend_as_torch():
    # torch computes fmod, then adds the divisor where the signs differ: -0.0 % 3 is -0.0
    # and 6.0 % -3 is 0.0 (numpy's remainder gives 0.0 and -0.0)
    zeros = ad.tensor([-0.0, 6.0, -6.0]) % ad.tensor([3.0, -3.0, -3.0])
    np.testing.assert_array_equal(np.signbit(zeros.numpy()), [True, False, True])


def test_floor_division_floors_floats_and_integers():
    assert (ad.tensor([7.5]) // -2).item() == -4.0
    assert (ad.tensor([7.5]) // -2).dtype == np.float32
    integers = ad.tensor([-7, 7, -7, 7]) // ad.tensor([2, 2, -2, -2])
    np.testing.assert_array_equal(integers.numpy(), [-4, 3, 3, -4])
    assert integers.dtype == np.int64
    np.testing.assert_array_equal((7 // ad.tensor([2, -2])).numpy(), [3, -4])
    np.testing.assert_array_equal((7.0 // ad.tensor([2, -2])).numpy(), [3.0, -4.0])
    np.testing.assert_array_equal(mf.floor_divide(ad.tensor([1.0]), 0.1).numpy(), [9.0])


def test_integer_division_by_zero_is_refused_as_torch():
    a, zero = ad.tensor([7, -7]), ad.tensor([0, 1])
    for divide in (lambda: a % zero, lambda: a // zero, lambda: mf.fmod(a, zero),
                   lambda: mf.remainder(a, 0), lambda: 7 // zero, lambda: 7 % zero):
        with pytest.raises(ad.DomainError, match="ZeroDivisionError"):
            divide()
        with pytest.raises(RuntimeError):          # the class torch code catches
            divide()


def test_float_division_by_zero_gives_inf_and_nan():
    a = ad.tensor([7.0, -7.0, 0.0])
    np.testing.assert_array_equal((a // 0).numpy(), [np.inf, -np.inf, np.nan])
    assert np.isnan((a % 0.0).numpy()).all() and np.isnan(mf.fmod(a, 0.0).numpy()).all()


def test_round_halves_to_even_and_to_decimals():
    np.testing.assert_array_equal(
        ad.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 2.4]).round().numpy(), [0, 2, 2, -0, -2, 2])
    assert mf.round(ad.tensor(2.5)).item() == 2.0
    np.testing.assert_array_equal(ad.tensor([1.25, 0.125, 1.35]).round(decimals=1).numpy(),
                                  np.array([1.2, 0.1, 1.4], dtype=np.float32))
    np.testing.assert_array_equal(
        ad.tensor([1234.5, 1250.0, 1350.0]).round(decimals=-2).numpy(), [1200, 1200, 1400])
    np.testing.assert_array_equal(ad.tensor([7, -25]).round().numpy(), [7, -25])
    with pytest.raises(ad.DtypeError, match="round"):
        ad.tensor([7, -25]).round(decimals=-1)


def test_sign_of_nan_is_zero_and_rounding_keeps_integers():
    np.testing.assert_array_equal(ad.tensor([np.nan, -2.0, 0.0, 3.0]).sign().numpy(),
                                  [0, -1, 0, 1])
    assert ad.tensor([True, False]).sign().dtype == np.bool_
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        y = getattr(ad.tensor([-3, 4], dtype=ad.int32), name)()
        assert y.dtype == np.int32
        np.testing.assert_array_equal(y.numpy(), [-3 if name != "sign" else -1,
                                                  4 if name != "sign" else 1])


def test_bools_and_integers_refused_where_torch_refuses_them():
    for call in (lambda: ad.tensor([True]).floor(), lambda: ad.tensor([1]).frac(),
                 lambda: ad.tensor([True]) % ad.tensor([True]),
                 lambda: ad.tensor([1]).logaddexp(ad.tensor([2])),
                 lambda: ad.tensor([1]).lerp(ad.tensor([2]), 0.5),
                 lambda: ad.tensor([1.0]).lerp(ad.tensor([2.0], dtype=ad.float64), 0.5),
                 lambda: ad.tensor([1.0]).lerp(ad.tensor([2.0]),
                                               ad.tensor([0.5], dtype=ad.float64))):
        with pytest.raises(ad.DtypeError):
            call()


def test_shifts_on_integers_as_torch():
    x = ad.tensor([-7, 7, 1])
    np.testing.assert_array_equal((x << 2).numpy(), [-28, 28, 4])
    np.testing.assert_array_equal((x >> 1).numpy(), [-4, 3, 0])
    np.testing.assert_array_equal((1 << ad.tensor([0, 3])).numpy(), [1, 8])
    np.testing.assert_array_equal((64 >> ad.tensor([1, 2])).numpy(), [32, 16])
    np.testing.assert_array_equal((x << 70).numpy(), [0, 0, 0])       # past the bits: 0
    np.testing.assert_array_equal((x >> 70).numpy(), [-1, 0, 0])      # or the sign
    np.testing.assert_array_equal((x << ad.tensor([-1, 1, 2])).numpy(), [0, 14, 4])
    assert (ad.tensor([1], dtype=ad.int32) << 2).dtype == np.int32
    np.testing.assert_array_equal(mf.bitwise_left_shift(x, 1).numpy(), [-14, 14, 2])
    np.testing.assert_array_equal(x.bitwise_right_shift(1).numpy(), [-4, 3, 0])


@pytest.mark.parametrize("shift", [lambda x: x << 2, lambda x: x >> 2, lambda x: 2 << x,
                                   lambda x: 2 >> x, lambda x: ad.tensor([1]) << x])
def test_shifts_refuse_floats_naming_the_operator(shift):
    with pytest.raises(ad.DtypeError, match="<<|>>"):
        shift(ad.tensor([1.0]))


FLOAT_FUNCTIONS = ("sin", "atan", "log2", "exp2", "rsqrt", "erf", "erfinv", "expm1",
                   "reciprocal", "exp", "log", "sqrt", "tanh", "sigmoid")


def test_unary_float_functions_give_float32_for_integers_and_bools():
    for name in FLOAT_FUNCTIONS:
        assert getattr(ad.tensor([1, 2]), name)().dtype == np.float32, name
        assert getattr(ad.tensor([True]), name)().dtype == np.float32, name
    assert ad.tensor([3, -2]).square().dtype == np.int64
    assert ad.tensor([True]).square().dtype == np.int64
    np.testing.assert_array_equal(ad.tensor([True, False]).square().numpy(), [1, 0])
    assert mf.atan2(ad.tensor([1]), ad.tensor([2])).dtype == np.float32
    assert mf.copysign(ad.tensor([1]), -1).dtype == np.float32
    assert mf.sin(ad.tensor([1.0], dtype=ad.float16)).dtype == np.float16


def test_exact_values_at_powers_of_the_base():
    np.testing.assert_array_equal(mf.log10(ad.tensor([1000.0, 1e-3], dtype=ad.float64))
                                  .numpy(), [3.0, -3.0])
    np.testing.assert_array_equal(ad.tensor([8.0, 0.25]).log2().numpy(), [3.0, -2.0])
    np.testing.assert_array_equal(ad.tensor([3.0, -2.0]).exp2().numpy(), [8.0, 0.25])
    np.testing.assert_array_equal(ad.tensor([4.0, 0.0]).rsqrt().numpy(), [0.5, np.inf])


def test_log1p_and_expm1_keep_precision_near_zero():
    x = ad.tensor([1e-20, -1e-18], dtype=ad.float64)
    np.testing.assert_array_equal(x.log1p().numpy(), [1e-20, -1e-18])
    np.testing.assert_array_equal(x.expm1().numpy(), [1e-20, -1e-18])


def test_copysign_gradient_is_zero_at_zero_and_none_flows_to_the_sign():
    a = ad.tensor([-2.0, 0.0, 3.0, 4.0], requires_grad=True)
    b = ad.tensor([1.0, -1.0, -0.0, 2.0], requires_grad=True)
    y = a.copysign(b)
    np.testing.assert_array_equal(y.numpy(), [2.0, -0.0, -3.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [-1.0, 0.0, -1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0, 0.0, 0.0])


def test_lerp_reaches_end_exactly_at_weight_one():
    start = ad.tensor([0.1, -3.7, 1e8])
    end = ad.tensor([0.3, 2.9, -1e-8])
    np.testing.assert_array_equal(start.lerp(end, 1.0).numpy(), end.numpy())
    np.testing.assert_array_equal(start.lerp(end, ad.tensor([1.0, 0.0, 1.0])).numpy(),
                                  np.where([True, False, True], end.numpy(), start.numpy()))
    assert start.lerp(end, ad.tensor(0.5, dtype=ad.float64)).dtype == np.float32


def test_logaddexp_never_overflows_and_handles_infinities():
    a = ad.tensor([1000.0, -1000.0, np.inf, -np.inf, np.inf, 0.0], dtype=ad.float64)
    b = ad.tensor([1000.0, -1000.0, np.inf, -np.inf, -np.inf, -np.inf], dtype=ad.float64)
    np.testing.assert_allclose(a.logaddexp(b).numpy(),
                               [1000 + math.log(2), -1000 + math.log(2), np.inf, -np.inf,
                                np.inf, 0.0], rtol=1e-15)
    x = ad.tensor([0.5], requires_grad=True)
    x.logaddexp(ad.tensor([0.5])).backward(ad.tensor([1.0]))
    assert x.grad.item() == 0.5                     # a tie: d/da = 1/2 exactly


def test_nan_to_num_values_and_gradient():
    big = np.finfo(np.float32).max
    x = ad.tensor([np.nan, np.inf, -np.inf, 1.5], requires_grad=True)
    np.testing.assert_array_equal(x.nan_to_num().numpy(), [0.0, big, -big, 1.5])
    y = mf.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0)
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0, -3.0, 1.5])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0])
    assert ad.tensor([3, 4]).nan_to_num().dtype == np.int64


def test_isnan_isinf_isfinite_give_bools_outside_the_graph():
    x = ad.tensor([np.nan, np.inf, -np.inf, 1.0], requires_grad=True)
    for name, expected in (("isnan", [1, 0, 0, 0]), ("isinf", [0, 1, 1, 0]),
                           ("isfinite", [0, 0, 0, 1])):
        for y in (getattr(x, name)(), getattr(mf, name)(x)):
            assert y.dtype == np.bool_ and not y.requires_grad
            np.testing.assert_array_equal(y.numpy(), np.array(expected, dtype=bool))
    assert not ad.tensor([1, 2]).isnan().numpy().any()


# ---------------------------------------------------------------- erf and erfinv

def test_erf_matches_math_erf_on_a_dense_grid():
    x = np.concatenate([np.linspace(-6, 6, 120001), [-40.0, -6.5, 6.5, 27.0, 1e-300]])
    exact = np.array([math.erf(v) for v in x])
    nonzero = exact != 0
    error = np.abs(mf.erf_array(x)[nonzero] - exact[nonzero]) / np.abs(exact[nonzero])
    assert error.max() < 1e-15
    assert mf.erf_array(np.array([0.0]))[0] == 0.0
    np.testing.assert_array_equal(mf.erf_array(np.array([np.inf, -np.inf, np.nan, -0.0])),
                                  [1.0, -1.0, np.nan, -0.0])
    assert np.signbit(mf.erf_array(np.array([-0.0]))[0])


def test_erfinv_inverts_erf_to_the_last_bits():
    y = np.concatenate([np.linspace(-1, 1, 20001)[1:-1], 1 - np.logspace(-16, -1, 40),
                        -np.logspace(-300, -1, 40)])
    x = mf.erfinv_array(y)
    assert (np.abs(mf.erf_array(x) - y) / np.abs(np.where(y == 0, 1, y))).max() < 1e-15
    sample = y[np.abs(y) < 0.99][::40]       # where bisecting math.erf finds every bit
    exact = erfinv_by_bisection(sample)
    scale = np.where(exact == 0, 1, np.abs(exact))
    assert (np.abs(mf.erfinv_array(sample) - exact) / scale).max() < 1e-14
    np.testing.assert_array_equal(mf.erfinv_array(np.array([1.0, -1.0, 1.5, np.nan, -0.0])),
                                  [np.inf, -np.inf, np.nan, np.nan, -0.0])


def test_erf_and_erfinv_of_float32_are_float64_results_rounded():
    x = np.linspace(-3, 3, 1001, dtype=np.float32)
    np.testing.assert_array_equal(mf.erf(ad.tensor(x)).numpy(),
                                  mf.erf_array(x.astype(np.float64)).astype(np.float32))
    y = np.linspace(-0.999, 0.999, 1001, dtype=np.float32)
    np.testing.assert_array_equal(ad.tensor(y).erfinv().numpy(),
                                  mf.erfinv_array(y.astype(np.float64)).astype(np.float32))


def test_erf_and_erfinv_against_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-6, 6, 24001)
    exact = torch.erf(torch.tensor(x)).numpy()
    nonzero = exact != 0
    assert (np.abs(mf.erf_array(x) - exact)[nonzero] / np.abs(exact[nonzero])).max() < 1e-15
    y = np.concatenate([np.linspace(-1, 1, 20001)[1:-1], 1 - np.logspace(-16, -1, 40)])
    theirs = torch.erfinv(torch.tensor(y)).numpy()
    scale = np.where(theirs == 0, 1, np.abs(theirs))
    assert (np.abs(mf.erfinv_array(y) - theirs) / scale).max() < 1e-12


# ---------------------------------------------------------------- against PyTorch

UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
         "atanh", "log2", "log10", "log1p", "exp2", "expm1", "rsqrt", "reciprocal", "square",
         "sign",
         "floor", "ceil", "round", "trunc", "frac", "erf", "erfinv", "isnan", "isinf",
         "isfinite", "nan_to_num"]
DTYPES = ["float32", "float64", "int64", "int32", "bool"]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.7, 1e-30, 1e30]


def compare(ours, theirs, rtol):
    """Same dtype, and the same numbers (NaN where torch has NaN) within rtol."""
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
    expected = theirs.detach().numpy()
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=rtol * 1e-3)
    else:
        np.testing.assert_array_equal(ours.numpy(), expected)


def same_outcome(ours, our_args, theirs, their_args, rtol):
    """ours(*our_args) and theirs(*their_args) compute the same, or both refuse (torch's
    NotImplementedError and RuntimeError are RuntimeErrors, as autodiff's DtypeError and
    DomainError are)."""
    try:
        expected = theirs(*their_args)
    except (RuntimeError, TypeError):
        with pytest.raises((RuntimeError, TypeError)):
            ours(*our_args)
        return
    compare(ours(*our_args), expected, rtol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_functions_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    if dtype.startswith("float"):
        x = np.concatenate([SPECIAL, rng.uniform(-4, 4, 40), rng.uniform(-1, 1, 40)])
    else:
        x = np.array([-3, -1, 0, 1, 2, 5])
    x = x.astype(dtype)
    rtol = 1e-12 if dtype == "float64" else 2e-6
    same_outcome(getattr(mf, name), [ad.tensor(x)], getattr(torch, name), [torch.tensor(x)],
                 rtol)
    same_outcome(methodcaller(name), [ad.tensor(x)], methodcaller(name), [torch.tensor(x)],
                 rtol)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid"])
def test_elementwise_methods_on_integers_give_torchs_dtype_and_values(name, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([0, 1, 1, 0] if dtype == "bool" else [-3, -1, 0, 1, 2, 5]).astype(dtype)
    compare(getattr(ad.tensor(x), name)(), getattr(torch.tensor(x), name)(), 2e-6)


def test_integers_take_the_default_dtype_where_a_function_needs_floats():
    ad.set_default_dtype(ad.float64)
    try:
        for name in FLOAT_FUNCTIONS:
            assert getattr(ad.tensor([1, 2]), name)().dtype == np.float64, name
    finally:
        ad.set_default_dtype(ad.float32)


@pytest.mark.parametrize("decimals", [1, 2, -1, -2])
def test_round_to_decimals_matches_torch(decimals):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal(2000) * 10 ** (2 - decimals)).astype(dtype)
        x[:4] = [1.25, 0.125, 2.675, 1250.0]
        compare(ad.tensor(x).round(decimals=decimals),
                torch.tensor(x).round(decimals=decimals), 0)


def test_nan_to_num_with_replacements_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([np.nan, np.inf, -np.inf, 2.0], dtype=np.float32)
    for options in ({"nan": 1.5}, {"posinf": 7.0}, {"neginf": -7.0, "nan": -1.0}):
        compare(mf.nan_to_num(ad.tensor(x), **options),
                torch.nan_to_num(torch.tensor(x), **options), 0)


BINARY = ["atan2", "logaddexp", "remainder", "fmod", "copysign", "floor_divide"]
DTYPE_PAIRS = [("float32", "float32"), ("float64", "float64"), ("float32", "float64"),
               ("int64", "int64"), ("int32", "int32"), ("int64", "float32"),
               ("int32", "int64"), ("bool", "bool"), ("float32", "0-d float64"),
               ("int64", "0-d float64")]


def operands(dtype_a, dtype_b, rng):
    """(3, 1) and (4,) or 0-d operands with negative values, divisors never 0."""
    a = rng.integers(-9, 10, (3, 1)) + (rng.uniform(-1, 1, (3, 1)) if "float" in dtype_a
                                        else 0)
    shape_b = () if dtype_b.startswith("0-d") else (4,)
    b = rng.choice([-4, -3, -2, 2, 3, 5], shape_b) + (rng.uniform(0, 0.5, shape_b)
                                                       if "float" in dtype_b else 0)
    return np.asarray(a).astype(dtype_a), np.asarray(b).astype(dtype_b.removeprefix("0-d "))


@pytest.mark.parametrize("pair", DTYPE_PAIRS, ids="-".join)
@pytest.mark.parametrize("name", BINARY)
def test_binary_functions_match_torch_with_broadcasting(name, pair):
    torch = pytest.importorskip("torch")
    a, b = operands(*pair, np.random.default_rng(2))
    rtol = 1e-12 if "float64" in pair else 2e-6
    ours, theirs = [ad.tensor(a), ad.tensor(b)], [torch.tensor(a), torch.tensor(b)]
    same_outcome(getattr(mf, name), ours, getattr(torch, name), theirs, rtol)

    def method(x, y):
        return getattr(x, name)(y)

    same_outcome(method, ours, method, theirs, rtol)


@pytest.mark.parametrize("pair", DTYPE_PAIRS, ids="-".join)
def test_lerp_matches_torch(pair):
    torch = pytest.importorskip("torch")
    start, end = operands(*pair, np.random.default_rng(3))
    weight = np.array([-0.3, 0.2, 0.5, 0.9, 1.0, 1.7])[:, None, None]
    weight = weight.astype(start.dtype)
    for ours, theirs in ((0.3, 0.3), (0.8, 0.8), (ad.tensor(weight), torch.tensor(weight))):
        same_outcome(mf.lerp, [ad.tensor(start), ad.tensor(end), ours],
                     torch.lerp, [torch.tensor(start), torch.tensor(end), theirs], 1e-6)


OPERATORS = {
    "a % b": lambda a, b: a % b, "a // b": lambda a, b: a // b,
    "a << b": lambda a, b: a << b, "a >> b": lambda a, b: a >> b,
}
NUMBERS = [3, -3, 2.5, -2.5, True]


@pytest.mark.parametrize("pair", DTYPE_PAIRS, ids="-".join)
@pytest.mark.parametrize("operator", OPERATORS)
def test_operators_match_torch(operator, pair):
    torch = pytest.importorskip("torch")
    fn = OPERATORS[operator]
    a, b = operands(*pair, np.random.default_rng(4))
    if "<<" in operator or ">>" in operator:
        b = np.abs(b)
    rtol = 1e-12 if "float64" in pair else 2e-6
    same_outcome(fn, [ad.tensor(a), ad.tensor(b)], fn, [torch.tensor(a), torch.tensor(b)],
                 rtol)
    divisor = np.abs(b) + 1
    for number in NUMBERS:                          # a number on either side
        same_outcome(fn, [ad.tensor(a), number], fn, [torch.tensor(a), number], rtol)
        same_outcome(fn, [number, ad.tensor(divisor)], fn, [number, torch.tensor(divisor)],
                     rtol)


@pytest.mark.parametrize("name", ["remainder", "fmod", "copysign", "atan2", "logaddexp",
                                  "lerp", "floor", "frac", "nan_to_num", "erfinv", "sin"])
def test_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = np.concatenate([[0.0, -0.0, 2.0, -2.0], rng.uniform(-0.9, 0.9, 8)])
    b = np.concatenate([[1.0, -1.0, -1.0, 1.0], rng.uniform(0.3, 2, 4), -rng.uniform(0.3, 2, 4)])
    results = []
    for lib, make in ((ad, lambda v: ad.tensor(v, requires_grad=True)),
                      (torch, lambda v: torch.tensor(v, requires_grad=True))):
        x, y = make(a), make(b)
        if name == "lerp":
            out = (mf if lib is ad else torch).lerp(x, y, make(np.linspace(-0.5, 1.5, a.size)))
        elif name in ("floor", "frac", "nan_to_num", "erfinv", "sin"):
            out = getattr(x, name)() * y
        else:
            out = getattr(mf if lib is ad else torch, name)(x, y)
        out.backward(make(np.linspace(1, 2, a.size)).detach())
        results.append((x.grad, y.grad))
    (ours_x, ours_y), (theirs_x, theirs_y) = results
    np.testing.assert_allclose(ours_x.numpy(), theirs_x.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours_y.numpy(), theirs_y.numpy(), rtol=1e-12, atol=1e-15)
