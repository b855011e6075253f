"""dtypes: a float32 graph stays float32 through every op and its gradients (Python
scalars never upcast it), ad.tensor's dtype rules, integer and bool tensors cannot
require grad, .data and .grad assignment, ndarray OP Tensor, == and hashing."""
import re

import numpy as np
import pytest

import autodiff as ad

# Every op, applied to float32 tensors x (values in (0.1, 0.9)) and w (shape (3, 3)).
OPS = {
    "x + 2.0": lambda x, w: x + 2.0, "2.0 + x": lambda x, w: 2.0 + x,
    "x - 1": lambda x, w: x - 1, "1 - x": lambda x, w: 1 - x,
    "x * 2.0": lambda x, w: x * 2.0, "2.0 * x": lambda x, w: 2.0 * x,
    "x / 3": lambda x, w: x / 3, "3 / x": lambda x, w: 3 / x,
    "x ** 2": lambda x, w: x ** 2, "x ** 0.5": lambda x, w: x ** 0.5,
    "2.0 ** x": lambda x, w: 2.0 ** x, "x ** x": lambda x, w: x ** x,
    "x * np.float64(2)": lambda x, w: x * np.float64(2.0),
    "-x": lambda x, w: -x, "x * w": lambda x, w: x * w, "x / w": lambda x, w: x / w,
    "exp": lambda x, w: x.exp(), "log": lambda x, w: x.log(), "sqrt": lambda x, w: x.sqrt(),
    "abs": lambda x, w: x.abs(), "tanh": lambda x, w: x.tanh(),
    "sigmoid": lambda x, w: x.sigmoid(), "relu": lambda x, w: (x - 0.5).relu(),
    "leaky_relu": lambda x, w: (x - 0.5).leaky_relu(0.1),
    "clip": lambda x, w: x.clip(0.2, 0.6), "maximum": lambda x, w: ad.maximum(x, w),
    "minimum": lambda x, w: ad.minimum(x, 0.5),
    "where": lambda x, w: ad.where(x > 0.5, x, 0.0),
    "sum": lambda x, w: x.sum(dim=0), "mean": lambda x, w: x.mean(),
    "var": lambda x, w: x.var(dim=1), "std": lambda x, w: x.std(),
    "max": lambda x, w: x.max(), "max dim": lambda x, w: x.max(dim=1).values,
    "min dim": lambda x, w: x.min(dim=0, keepdim=True).values,
    "logsumexp": lambda x, w: x.logsumexp(dim=1), "softmax": lambda x, w: x.softmax(dim=1),
    "log_softmax": lambda x, w: x.log_softmax(dim=0),
    "reshape": lambda x, w: x.reshape(9), "flatten": lambda x, w: x.flatten(),
    "transpose": lambda x, w: x.transpose(0, 1), "permute": lambda x, w: x.permute(1, 0),
    "T": lambda x, w: x.T, "mT": lambda x, w: x.mT, "squeeze": lambda x, w: x[None].squeeze(),
    "unsqueeze": lambda x, w: x.unsqueeze(1), "expand": lambda x, w: x[:1].expand(3, 3),
    "index": lambda x, w: x[[0, 0], 1:], "mask": lambda x, w: x[x > 0.5],
    "cat": lambda x, w: ad.cat([x, w], dim=1), "stack": lambda x, w: ad.stack([x, w]),
    "matmul": lambda x, w: x @ w, "matvec": lambda x, w: x @ w[0],
    "float": lambda x, w: x.float(),
}


@pytest.mark.parametrize("name", OPS)
def test_float32_stays_float32_through_op_and_gradients(name):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.uniform(0.1, 0.9, (3, 3)).astype(np.float32), requires_grad=True)
    w = ad.tensor(rng.uniform(0.1, 0.9, (3, 3)).astype(np.float32), requires_grad=True)
    y = OPS[name](x, w)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert w.grad is None or w.grad.dtype == np.float32
    g, = ad.grad(OPS[name](x, w).sum(), [x], create_graph=True)
    assert g.dtype == np.float32
    if g.requires_grad:                                     # not for piecewise-linear ops
        g2, = ad.grad((g * g).sum(), [x], allow_unused=True)
        assert g2 is None or g2.dtype == np.float32


def test_float64_and_float32_together_give_float64_and_each_grad_keeps_its_dtype():
    x32 = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    x64 = ad.tensor(np.ones(2, np.float64), requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


# ---------------------------------------------------------------- ad.tensor's rules


@pytest.mark.parametrize("data, dtype", [
    (np.array([1.0, 2.0]), np.float64),
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1, 2], dtype=np.int32), np.int32),
    (np.array([True]), np.bool_),
    (np.float64(2.0), np.float64),
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    ([[1, 2.5]], np.float32),
    (3, np.int64),
    ([1, 2], np.int64),
    (True, np.bool_),
    ([True, False], np.bool_),
])
def test_tensor_dtype_rules(data, dtype):
    t = ad.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_copies_its_data_and_accepts_a_dtype():
    a = np.array([1.0, 2.0])
    t = ad.tensor(a, dtype=ad.float32)
    a[0] = 9.0
    assert t.dtype == np.float32 and t.numpy()[0] == 1.0
    assert ad.tensor([1, 2], dtype=ad.float64).dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda: ad.tensor([1, 2], requires_grad=True),
    lambda: ad.tensor([True], requires_grad=True),
    lambda: ad.tensor(np.array([1], dtype=np.int32), requires_grad=True),
    lambda: ad.tensor([1, 2]).requires_grad_(),
    lambda: setattr(ad.tensor([1, 2]), "requires_grad", True),
    lambda: ad.zeros(2, dtype=ad.int64, requires_grad=True),
    lambda: ad.arange(3, requires_grad=True),
])
def test_integer_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(ad.DtypeError, match="only floating-point tensors can require grad"):
        make()


def test_converting_to_an_integer_dtype_ends_the_graph():
    x = ad.tensor([1.5, 2.5], requires_grad=True)
    i = x.long()
    assert i.dtype == np.int64
    assert not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), [1, 2])


def test_comparisons_and_argmax_are_bool_and_int_without_grad():
    x = ad.tensor([1.0, 3.0, 2.0], requires_grad=True)
    for result in (x > 1.5, x < 2.0, x == 3.0, x != 3.0, x >= 2.0, x <= 2.0, ad.eq(x, 3.0),
                   ad.lt(x, 2.0), ad.gt(x, 2.0)):
        assert result.dtype == np.bool_ and not result.requires_grad
    assert x.argmax().dtype == np.int64 and ad.argmin(x).dtype == np.int64
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


# ---------------------------------------------------------------- .data and .grad


def test_data_assignment_adopts_the_new_dtype():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    t.data = np.array([3.0, 4.0, 5.0])
    assert t.dtype == np.float64 and t.shape == (3,)
    t.data = ad.tensor(np.array([1.0], dtype=np.float32))
    assert t.dtype == np.float32 and t.requires_grad
    with pytest.raises(ad.DtypeError):
        t.data = np.array([1, 2])                    # it requires grad: must stay float


def test_grad_is_assignable():
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    (t * 3).sum().backward()
    assert t.grad.dtype == np.float32 and t.grad.shape == (2,)
    t.grad = None
    assert t.grad is None
    t.grad = np.array([5.0, 6.0])
    assert isinstance(t.grad, ad.Tensor) and t.grad.dtype == np.float32
    with pytest.raises(ad.ShapeError, match=r"\(3,\).*\(2,\)"):
        t.grad = ad.tensor([1.0, 2.0, 3.0])


# ---------------------------------------------------------------- ndarray OP Tensor, ==, hash


@pytest.mark.parametrize("op", [
    lambda a, t: a + t, lambda a, t: a - t, lambda a, t: a * t, lambda a, t: a / t,
    lambda a, t: a ** t, lambda a, t: a @ t, lambda a, t: a == t, lambda a, t: a < t,
    lambda a, t: a > t,
])
def test_ndarray_op_tensor_returns_a_tensor(op):
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = ad.tensor([2.0, 2.0], requires_grad=True)
    result = op(a, t)
    assert isinstance(result, ad.Tensor)
    np.testing.assert_array_equal(result.numpy(), op(a, t.numpy()))


def test_equality_is_elementwise_and_tensors_stay_hashable():
    a, b = ad.tensor([1.0, 2.0]), ad.tensor([1.0, 5.0])
    np.testing.assert_array_equal((a == b).numpy(), [True, False])
    assert len({a, b, a}) == 2
    assert {a: "a", b: "b"}[b] == "b"
    assert a in {a} and b not in {a}


# ---------------------------------------------------------------- creation helpers


@pytest.mark.parametrize("make, dtype", [
    (lambda: ad.zeros(2, 3), np.float32), (lambda: ad.ones((2,)), np.float32),
    (lambda: ad.randn(2), np.float32), (lambda: ad.rand(2), np.float32),
    (lambda: ad.eye(2), np.float32), (lambda: ad.linspace(0, 1, 5), np.float32),
    (lambda: ad.arange(3), np.int64), (lambda: ad.arange(0, 1, 0.25), np.float32),
    (lambda: ad.full((2,), 7), np.int64), (lambda: ad.full((2,), 7.0), np.float32),
    (lambda: ad.zeros(2, dtype=ad.float64), np.float64),
    (lambda: ad.ones_like(ad.tensor(np.zeros(2))), np.float64),
    (lambda: ad.zeros_like(ad.tensor([1, 2])), np.int64),
    (lambda: ad.randn_like(ad.tensor(np.zeros(2))), np.float64),
    (lambda: ad.full_like(ad.tensor([1.0]), 3), np.float32),
    (lambda: ad.randint(0, 5, (3,)), np.int64),
])
def test_creation_helpers_follow_torch_dtypes(make, dtype):
    assert make().dtype == dtype


# ---------------------------------------------------------------- numbers that do not fit

@pytest.mark.parametrize("write, op", [
    (lambda t: t + 300, "add"), (lambda t: t.__setitem__(0, -1), "setitem"),
    (lambda t: t.add_(300), "add"), (lambda t: t.__iadd__(300), "+="),
    (lambda t: t.fill_(300), "fill_")])
def test_a_number_out_of_an_integer_dtype_is_refused_by_name(write, op):
    # torch wraps it around (uint8 + 300 = + 44); numpy refuses: we refuse clearly
    t = ad.tensor([1, 2], dtype=ad.uint8)
    with pytest.raises(ad.DtypeError, match=rf"^{re.escape(op)}: .*(300|-1) out of bounds"):
        write(t)
    with pytest.raises(ad.DtypeError, match=r"uint8.*t\.long\(\)"):
        write(t)
    assert t.tolist() == [1, 2]
