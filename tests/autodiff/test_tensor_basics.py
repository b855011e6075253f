"""The lines course notebooks open with (device, dtype names, .to, .cpu), conversions,
new tensors like another, and torch's other names for the operators, against torch."""
import numpy as np
import pytest

import autodiff as ad
import nn


def test_the_device_line_of_a_notebook_runs_and_picks_the_cpu():
    device = "cuda" if ad.cuda.is_available() else "cpu"
    model = nn.Linear(3, 2).to(device)
    x = ad.ones(4, 3).to(device)
    assert device == "cpu" and model(x).shape == (4, 2)
    assert x.device == ad.device("cpu") and str(x.device) == "cpu" and not x.is_cuda
    assert x.cpu() is x and model.cpu() is model
    assert not ad.backends.mps.is_available() and ad.cuda.device_count() == 0
    assert ad.device("cpu:0").index == 0 and ad.device(ad.device("cpu")) == "cpu"


@pytest.mark.parametrize("ask", [
    lambda: ad.ones(2).cuda(), lambda: ad.ones(2).to("cuda"), lambda: ad.device("mps"),
    lambda: nn.Linear(2, 2).cuda(), lambda: nn.Linear(2, 2).to("cuda:0"),
    lambda: ad.ones(2).to(device="cuda"),
])
def test_another_device_is_refused_with_an_error_that_says_so(ask):
    with pytest.raises(ad.DeviceError, match="CPU only"):
        ask()
    assert issubclass(ad.DeviceError, RuntimeError)


def test_dtype_names_are_torchs():
    assert (ad.float, ad.double, ad.half, ad.long, ad.int, ad.short, ad.uint8, ad.bool) == \
        (np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.uint8, np.bool_)
    assert ad.tensor([1, 2], dtype=ad.long).dtype == np.int64


@pytest.mark.parametrize("convert, dtype", [
    (lambda x: x.to(ad.float64), np.float64), (lambda x: x.to("cpu", ad.float64), np.float64),
    (lambda x: x.to(device="cpu", dtype=ad.half), np.float16),
    (lambda x: x.to(ad.tensor([1], dtype=ad.int32)), np.int32), (lambda x: x.int(), np.int32),
    (lambda x: x.long(), np.int64), (lambda x: x.bool(), np.bool_),
    (lambda x: x.half(), np.float16),
    (lambda x: x.double(), np.float64), (lambda x: x.type(ad.float64), np.float64),
    (lambda x: x.type_as(ad.zeros(1, dtype=ad.int64)), np.int64), (lambda x: x.byte(), np.uint8),
])
def test_conversions(convert, dtype):
    x = ad.tensor([1.5, -2.5, 0.0])
    assert convert(x).dtype == dtype


def test_to_keeps_the_tensor_when_nothing_changes_and_copies_when_asked():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.to(ad.float32) is x
    copy = x.to(ad.float32, copy=True)
    assert copy is not x and copy.grad_fn is not None


def test_a_float_to_float_conversion_stays_differentiable():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x.to(device="cpu", dtype=ad.float64) * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == np.float32


def test_type_names():
    assert ad.ones(1).type() == "autodiff.FloatTensor"
    assert ad.ones(1, dtype=ad.int64).type() == "autodiff.LongTensor"
    assert ad.tensor([True]).type() == "autodiff.BoolTensor"


def test_new_tensors_take_the_dtype_of_the_one_they_are_made_from():
    x = ad.ones(2, dtype=ad.float64)
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros((2, 3)).dtype == np.float64
    assert x.new_ones(2).tolist() == [1.0, 1.0] and x.new_empty(3).shape == (3,)
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_zeros(2, dtype=ad.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_contiguous_copies_only_what_is_not_and_passes_the_gradient():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.contiguous() is x
    y = x.T.contiguous()
    assert y.numpy().flags.c_contiguous and y.tolist() == [[0, 3], [1, 4], [2, 5]]
    (y * ad.tensor([[1.0, 2.0]] * 3)).sum().backward()
    assert x.grad.tolist() == [[1, 1, 1], [2, 2, 2]]


def test_sum_as_torch_sums_bools_and_integers_as_int64_and_takes_a_dtype():
    assert ad.tensor([True, True, False]).sum().dtype == np.int64
    assert ad.tensor([1, 2], dtype=ad.int32).sum().dtype == np.int64
    assert ad.tensor([1.5, 2.0]).sum(dtype=ad.float64).dtype == np.float64
    assert (ad.tensor([1, 2]) == ad.tensor([1, 2])).all().item() is True


def test_the_default_dtype_is_float32_and_can_be_float64():
    assert ad.get_default_dtype() == np.float32
    try:
        ad.set_default_dtype(ad.float64)
        assert ad.tensor([0.5]).dtype == ad.zeros(2).dtype == ad.randn(2).dtype == np.float64
        assert ad.tensor([1]).dtype == np.int64
    finally:
        ad.set_default_dtype(ad.float32)
    with pytest.raises(ad.DtypeError, match="set_default_dtype"):
        ad.set_default_dtype(ad.int64)


def test_inference_mode_records_nothing():
    w = ad.ones(2, requires_grad=True)
    with ad.inference_mode():
        assert not (w * 2).requires_grad
    with ad.inference_mode(False):
        assert (w * 2).requires_grad

    @ad.inference_mode()
    def predict(x):
        return x * w

    assert not predict(ad.ones(2)).requires_grad


A = np.array([[1.0, -2.0], [3.5, 4.0]])
B = np.array([[0.5, 2.0], [-1.0, 3.0]])
ALIASES = {
    "add alpha": lambda lib, a, b: a.add(b, alpha=2),
    "sub alpha": lambda lib, a, b: a.sub(b, alpha=3),
    "subtract": lambda lib, a, b: a.subtract(b), "mul": lambda lib, a, b: a.mul(b),
    "multiply": lambda lib, a, b: a.multiply(b), "div": lambda lib, a, b: a.div(b),
    "divide": lambda lib, a, b: a.divide(b), "true_divide": lambda lib, a, b: a.true_divide(b),
    "pow": lambda lib, a, b: a.abs().pow(b), "neg": lambda lib, a, b: a.neg(),
    "negative": lambda lib, a, b: a.negative(), "matmul": lambda lib, a, b: a.matmul(b),
    "mm": lambda lib, a, b: a.mm(b), "bmm": lambda lib, a, b: a[None].bmm(b[None]),
    "dot": lambda lib, a, b: a[0].dot(b[1]), "t": lambda lib, a, b: a.t() * b,
    "mT": lambda lib, a, b: a.mT * b, "mH": lambda lib, a, b: a.mH * b,
    "view_as": lambda lib, a, b: a.view_as(b.reshape(4)), "reshape_as": lambda lib, a, b:
    a.reshape_as(b.reshape(1, 4)), "expand_as": lambda lib, a, b: a[0].expand_as(b) * b,
}


@pytest.mark.parametrize("name", ALIASES)
def test_method_aliases_match_torch_in_values_and_gradients(name):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (ad, torch):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        y = ALIASES[name](lib, a, b)
        y.sum().backward()
        results.append([y.detach().numpy(), a.grad.numpy(),
                        None if b.grad is None else b.grad.numpy()])
    for ours, theirs in zip(*results):
        if theirs is None:
            assert ours is None or not ours.any()
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_div_rounding_modes_as_torch():
    assert ad.tensor([7, -7]).div(2, rounding_mode="floor").tolist() == [3, -4]
    assert ad.tensor([7, -7]).div(2, rounding_mode="trunc").tolist() == [3, -3]
    assert ad.tensor([7.0, -7.0]).div(2, rounding_mode="floor").tolist() == [3.0, -4.0]
    assert ad.tensor([7, -7]).div(2, rounding_mode="floor").dtype == np.int64
    assert ad.tensor([7, -7]).div(2).dtype == np.float32
    torch = pytest.importorskip("torch")
    for mode in ("floor", "trunc"):
        for a, b in (([7, -7, 5], 2), ([7.5, -7.5, 0.5], -2.0), ([9, -9, 1], [2, 4, -3])):
            ours = ad.tensor(a).div(ad.tensor(b) if isinstance(b, list) else b,
                                    rounding_mode=mode)
            theirs = torch.tensor(a).div(torch.tensor(b) if isinstance(b, list) else b,
                                         rounding_mode=mode)
            assert ours.tolist() == theirs.tolist()
            assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_integer_div_with_rounding_is_exact_and_refuses_zero_as_torch(mode):
    a = ad.tensor([7, -7, 6, -6, 0, 5], dtype=ad.int32)
    b = ad.tensor([2, 2, -4, -4, 3, -1])
    expected = {"floor": [3, -4, -2, 1, 0, -5], "trunc": [3, -3, -1, 1, 0, -5]}[mode]
    assert a.div(b, rounding_mode=mode).tolist() == expected
    assert a.div(b, rounding_mode=mode).dtype == np.int64        # promoted, as torch
    compiled = ad.compile(lambda x, y: x.div(y, rounding_mode=mode))
    for _ in range(2):
        assert compiled(a, b).tolist() == expected
    for run in (lambda: a.div(ad.tensor([1, 0, 1, 1, 1, 1]), rounding_mode=mode),
                lambda: compiled(a, ad.tensor([1, 0, 1, 1, 1, 1]))):
        with pytest.raises(ad.DomainError, match="integer division by zero"):
            run()
    assert compiled.cache_info().replays == 2


def test_whole_tensor_comparisons():
    a, b = ad.tensor([1.0, 2.0]), ad.tensor([1.0, 2.0 + 1e-6])
    assert a.allclose(b) and ad.allclose(a, b) and not a.equal(b) and a.equal(a)
    assert a.isclose(b).tolist() == [True, True] and ad.isclose(a, b + 1).tolist() == [False, False]
    assert not ad.equal(a, ad.tensor([1.0, 2.0, 3.0]))
    m = ad.tensor([[True, False], [True, True]])
    assert m.all(dim=1).tolist() == [False, True] and m.any(dim=0, keepdim=True).shape == (1, 2)
    assert ad.tensor([0, 3]).any().item() and not ad.tensor([0, 3]).all().item()


@pytest.mark.parametrize("call, message", [
    (lambda: ad.ones(2, 3).mm(ad.ones(3)), "mm: needs two matrices"),
    (lambda: ad.ones(2, 3, 4).bmm(ad.ones(3, 4, 2)), "bmm: needs two 3-D tensors"),
    (lambda: ad.ones(3).dot(ad.ones(2)), "dot: needs two 1-D tensors"),
    (lambda: ad.ones(2, 2, 2).t(), "t: expects a tensor with at most 2 dimensions"),
    (lambda: ad.ones(2).to("float64"), "neither a device nor a dtype"),
])
def test_alias_errors_name_the_op(call, message):
    with pytest.raises(ad.AutodiffError, match=message):
        call()
