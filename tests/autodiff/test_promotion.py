"""Type promotion as torch's: the result dtype (and values) of every binary arithmetic op
and comparison for every dtype pair, with operands of each rank (tensors with dims, 0-d
tensors, Python numbers, numpy scalars), checked against torch; gradients keep each
input's dtype; same-dtype operands are passed through untouched."""
import operator

import numpy as np
import pytest

import autodiff as ad

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NUMBERS = [True, 2, 1.5, np.int32(2), np.int64(2), np.float16(1.5), np.float32(1.5),
           np.float64(1.5)]


def array(dtype, zero_dim):
    """Small positive values (so ** and / are defined for every dtype)."""
    values = ([True, True, False] if dtype == "bool" else [1, 2, 3])
    return np.array(values[1] if zero_dim else values, dtype=dtype)


# every operand: (label, value); arrays stand for tensors of that dtype and rank
OPERANDS = [(f"{'0-d' if zero_dim else 'dims'} {dtype}", array(dtype, zero_dim))
            for dtype in DTYPES for zero_dim in (False, True)] + \
           [(f"{type(n).__name__} {n!r}", n) for n in NUMBERS]

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
       "**": operator.pow, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
       "<=": operator.le, ">": operator.gt, ">=": operator.ge}

# Where autodiff differs from torch 2.13, on purpose:
# - subtraction with a bool operand: torch refuses ("use ~ to invert a mask"); we compute
#   in the promoted dtype, as numpy does (1 - mask gives int64 ones and zeros). Two bool
#   tensors: both refuse.
# - bool ** bool: numpy's power gives int8; torch gives bool (a tensor ** a Python bool)
#   or refuses (two bool tensors).
# - np.bool_: torch reads a numpy bool as a float (int32 tensor * np.bool_(True) is
#   float32); we read it as the Python bool it holds, as numpy does (int32).


def is_bool(x):
    return np.asarray(x).dtype == np.bool_


def outcome(lib, op, a, b):
    """The result of `a op b` as (dtype name, values as float64), or None if it raises."""
    def wrap(x):
        if not isinstance(x, np.ndarray):
            return x
        return ad.tensor(x) if lib is ad else lib.from_numpy(x.copy())
    try:
        with np.errstate(all="ignore"):                  # x / False
            result = OPS[op](wrap(a), wrap(b))
    except (TypeError, ValueError, RuntimeError, ad.AutodiffError):
        return None
    return str(result.dtype).replace("torch.", ""), result.numpy().astype(np.float64)


def expected(torch, op, a, b):
    """What autodiff should give: torch's answer, except for the differences above."""
    if isinstance(a, np.bool_) or isinstance(b, np.bool_):       # as the Python bool
        return outcome(torch, op, a.item() if isinstance(a, np.bool_) else a,
                       b.item() if isinstance(b, np.bool_) else b)
    if op == "**" and is_bool(a) and is_bool(b):
        return "int8", outcome(ad, op, a, b)[1]
    if op == "-" and (is_bool(a) or is_bool(b)) and not (is_bool(a) and is_bool(b)):
        dtype = ad.result_type(a, b)
        return str(dtype), (np.asarray(a, dtype) - np.asarray(b, dtype)).astype(float)
    return outcome(torch, op, a, b)


@pytest.mark.parametrize("op", OPS)
def test_every_dtype_pair_promotes_as_torch(op):
    torch = pytest.importorskip("torch")
    differences = []
    for label_a, a in OPERANDS:
        for label_b, b in OPERANDS:
            if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
                continue                                 # two numbers: no tensor op
            ours, theirs = outcome(ad, op, a, b), expected(torch, op, a, b)
            if ours is None or theirs is None:
                if ours is not theirs:
                    differences.append(f"{label_a} {op} {label_b}: autodiff {ours and ours[0]}"
                                       f", torch {theirs and theirs[0]}")
                continue
            tolerance = 1e-3 if ours[0] == "float16" else 1e-6
            if ours[0] != theirs[0] or not np.allclose(ours[1], theirs[1], rtol=tolerance,
                                                       equal_nan=True):
                differences.append(f"{label_a} {op} {label_b}: autodiff {ours}, torch {theirs}")
    assert differences == []


@pytest.mark.parametrize("fn", [ad.maximum, ad.minimum,
                                lambda a, b: ad.where(ad.tensor([True, False, True]), a, b)])
def test_maximum_minimum_and_where_promote_as_torch(fn):
    torch = pytest.importorskip("torch")
    torch_fn = {ad.maximum: torch.maximum, ad.minimum: torch.minimum}.get(
        fn, lambda a, b: torch.where(torch.tensor([True, False, True]), a, b))
    differences = []
    for label_a, a in OPERANDS[:2 * len(DTYPES)]:          # torch takes tensors only
        for label_b, b in OPERANDS[:2 * len(DTYPES)]:
            ours = fn(ad.tensor(a), ad.tensor(b))
            theirs = torch_fn(torch.from_numpy(a.copy()), torch.from_numpy(b.copy()))
            if str(ours.dtype) != str(theirs.dtype).replace("torch.", ""):
                differences.append(f"{label_a}, {label_b}: {ours.dtype} vs {theirs.dtype}")
    assert differences == []


@pytest.mark.parametrize("a, b, expected", [
    (ad.ones(3), ad.tensor(2.0, dtype=ad.float64), np.float32),
    (ad.ones(3, dtype=ad.float16), ad.tensor(2.0), np.float16),
    (ad.ones(3, dtype=ad.int64), ad.tensor(2.0, dtype=ad.float64), np.float64),
    (ad.ones(3, dtype=ad.int32), ad.tensor(2, dtype=ad.int64), np.int32),
    (ad.ones(3, dtype=ad.int32), 2.5, np.float32),
    (ad.ones(3, dtype=ad.int32), 2, np.int32),
    (ad.tensor([True]), 1, np.int64),
    (ad.tensor(1.0), ad.tensor(2.0, dtype=ad.float64), np.float64),   # 0-d with 0-d
    (ad.ones(3, dtype=ad.int64), ad.ones(3, dtype=ad.float16), np.float16),
    (ad.ones(3), np.float64(2.0), np.float32),
])
def test_result_type_examples(a, b, expected):
    assert ad.result_type(a, b) == expected == (a * b).dtype == (b * a).dtype


def test_promote_types_puts_a_float_above_any_integer():
    assert ad.promote_types(ad.int64, ad.float16) == np.float16     # numpy: float64
    assert ad.promote_types(ad.int32, ad.float32) == np.float32     # numpy: float64
    assert ad.promote_types(np.uint8, np.int8) == np.int16
    with pytest.raises(TypeError, match="result_type"):
        ad.result_type(ad.ones(2), "two")


def test_true_division_of_integers_gives_float32():
    i = ad.tensor([1, 2, 3])
    assert (i / 2).dtype == (i / i).dtype == (2 / i).dtype == ad.div(i, i).dtype == np.float32
    assert (ad.tensor([True]) / ad.tensor([True])).dtype == np.float32
    assert (i / ad.tensor(2.0, dtype=ad.float64)).dtype == np.float64


def test_comparisons_are_made_in_the_promoted_dtype():
    # torch rounds the 0-d float64 to float32 before comparing, and the int64 to float32
    assert (ad.tensor([0.1]) == ad.tensor(0.1, dtype=ad.float64)).tolist() == [True]
    assert (ad.tensor([16777217]) == 16777216.0).tolist() == [True]
    assert ad.eq(ad.tensor([0.1]), ad.tensor(0.1, dtype=ad.float64)).tolist() == [True]


def test_a_0d_float64_parameter_scales_a_float32_graph_and_keeps_its_grad_float64():
    torch = pytest.importorskip("torch")
    x_values = np.array([0.25, 1.5, 2.0], np.float32)
    results = []
    for lib in (ad, torch):
        x = (ad.tensor if lib is ad else torch.tensor)(x_values, requires_grad=True)
        w = (ad.tensor if lib is ad else torch.tensor)(np.float64(0.7), requires_grad=True)
        y = (x * w + w / x - x ** w).tanh()
        assert str(y.dtype).endswith("float32")
        y.sum().backward(retain_graph=True)
        dw, = (ad.grad if lib is ad else torch.autograd.grad)(y.sum(), [w], create_graph=True)
        dw.backward()                       # adds d²y/dw² to w.grad, d²y/dwdx to x.grad
        results.append((y, w.grad, x.grad))
    (y, w_grad, x_grad), (y_t, w_grad_t, x_grad_t) = results
    assert w_grad.dtype == np.float64 and x_grad.dtype == np.float32
    # float32, and x·w + w/x - x^w cancels (at x = 1.5: 1.05 + 0.47 - 1.33 = 0.19, terms
    # 15 times the result), so a last-bit difference of powf or tanhf between two libraries
    # or CPUs is 1e-6 of y; second derivatives through it, a few 1e-6
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(w_grad.numpy(), w_grad_t.numpy(), rtol=1e-4)
    np.testing.assert_allclose(x_grad.numpy(), x_grad_t.numpy(), rtol=1e-4)


def test_integer_and_0d_operands_gradcheck_to_second_order(check_grads):
    k = ad.tensor([1, 2])                       # int64: promoted to float64 where it meets x
    check_grads(lambda x, w: (x * k + k / w) ** w - (x > w) * 3, np.array([0.5, 1.5]),
                np.array(0.7))


def test_operands_of_one_dtype_reach_the_op_as_they_are():
    x, w = ad.ones(3, requires_grad=True), ad.ones(3, requires_grad=True)
    for y in (x * w, x + 2, 2.5 * x, x / 3, x ** 2, w - x, ad.maximum(x, w)):
        assert all(i is x or i is w or not isinstance(i, ad.Tensor) for i in y.grad_fn.inputs)
    s = ad.tensor(2.0, dtype=ad.float64, requires_grad=True)
    assert (x * s).grad_fn.inputs[1].grad_fn.op_name() == "cast"        # s, as float32


def test_a_compiled_step_with_a_float64_scalar_replays_as_eager():
    w = ad.tensor(0.5, dtype=ad.float64, requires_grad=True)

    def step(x):
        w.grad = None
        loss = (x * w).sum()
        loss.backward()
        return loss.detach(), w.grad

    compiled = ad.compile(step, fullgraph=True)
    for values in ([1.0, 2.0], [3.0, -1.0], [0.5, 0.25]):
        loss, grad = compiled(ad.tensor(values))
        assert loss.dtype == np.float32 and grad.dtype == np.float64
        assert loss.item() == (ad.tensor(values) * w).sum().item()
        assert grad.item() == sum(values)
    assert compiled.cache_info().replays == 2


# ---------------------------------------------------------------- joins and clamp follow torch

def joined_and_clamped_dtypes(lib):
    return [str(t.dtype).replace("torch.", "") for t in (
        lib.cat([lib.tensor([1, 2], dtype=lib.int32), lib.tensor([0.5], dtype=lib.float32)]),
        lib.stack([lib.tensor([True]), lib.tensor([3])]),
        lib.cat([lib.tensor([1.0], dtype=lib.float64), lib.tensor([2.0], dtype=lib.float32)]),
        lib.tensor([0, 2]).clamp(min=0.5),
        lib.tensor([0, 2], dtype=lib.int32).clamp(0, 1),
        lib.tensor([1, 2]).clamp(min=lib.tensor(1.5)),
        lib.tensor([1, 2]).clamp(max=lib.tensor(1)))]


JOINED_AND_CLAMPED = ["float32", "int64", "float64", "float32", "int32", "float32", "int64"]


def test_cat_stack_and_clamp_promote_as_torch():
    assert joined_and_clamped_dtypes(ad) == JOINED_AND_CLAMPED
    assert ad.cat([ad.tensor([1, 2], dtype=ad.int32),
                   ad.tensor([0.5], dtype=ad.float32)]).tolist() == [1.0, 2.0, 0.5]
    assert ad.tensor([0, 2]).clamp(min=0.5).tolist() == [0.5, 2.0]


def test_torch_promotes_them_the_same():
    torch = pytest.importorskip("torch")
    assert joined_and_clamped_dtypes(torch) == JOINED_AND_CLAMPED


def test_a_float32_and_a_float64_tensor_joined_send_each_its_own_gradient_dtype():
    x = ad.ones(2, dtype=ad.float32, requires_grad=True)
    y = ad.ones(1, dtype=ad.float64, requires_grad=True)
    ad.cat([x, y]).sum().backward()
    assert x.grad.dtype == ad.float32 and y.grad.dtype == ad.float64
