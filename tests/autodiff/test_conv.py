"""The window ops of autodiff/ops/conv.py: unfold, fold and conv2d. Values against loops
written out pixel by pixel, gradients against finite differences to second order in
float64 (Hypothesis over shapes, strides, paddings, dilations and groups), unfold and
fold as adjoints, PyTorch on the same numbers in float32, and the errors for bad input."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad

# float32 sums of up to ~100 products, added by torch in another order (and by another
# CPU's BLAS in yet another): they differ on the scale of Σ|terms| (n·eps·Σ|terms| at
# worst, 6e-6·Σ|terms| for n = 100), not of the result, which may be near 0
SCALE_RTOL = 1e-5


def assert_close_on_scale(actual, expected, scale):
    """|actual - expected| <= SCALE_RTOL · scale element by element, where scale holds
    each element's Σ|terms|: the same op applied to the absolute values."""
    np.testing.assert_array_less(np.abs(actual - expected),
                                 SCALE_RTOL * scale + np.finfo(np.float32).tiny)


def as_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def resolved_padding(padding, kernel, dilation):
    """((top, bottom), (left, right)) as torch pads: 'same' puts an odd total's extra
    row or column at the bottom or right."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = as_pair(padding)
    return (ph, ph), (pw, pw)


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """y[n, o, p, q] = b[o] + Σ W[o, c, i, j] x̃[n, g·C/g + c, p·sh + i·dh, q·sw + j·dw],
    one output pixel at a time."""
    (top, bottom), (left, right) = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_channels, per_group, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], out_channels, oh, ow))
    for o in range(out_channels):
        first = o // (out_channels // groups) * per_group
        for p in range(oh):
            for q in range(ow):
                patch = xp[:, first:first + per_group, p * sh:p * sh + dh * (kh - 1) + 1:dh,
                           q * sw:q * sw + dw * (kw - 1) + 1:dw]
                y[:, o, p, q] = (patch * w[o]).sum(axis=(1, 2, 3)) + (0 if b is None else b[o])
    return y


@st.composite
def conv_problems(draw):
    """A small convolution: shapes, stride, padding (int, pair, 'same' or 'valid'),
    dilation, groups and bias, with an input just large enough for a window or three."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    choices = ["valid", 0, 1, (0, 1), (2, 1)] + (["same"] if stride == (1, 1) else [])
    padding = draw(st.sampled_from(choices))
    pads = resolved_padding(padding, kernel, dilation)
    size = []
    for axis in range(2):
        smallest = max(1, dilation[axis] * (kernel[axis] - 1) + 1 - sum(pads[axis]))
        size.append(draw(st.integers(smallest, smallest + 2)))
    return {"x": (draw(st.integers(1, 2)), in_channels, *size),
            "w": (out_channels, in_channels // groups, *kernel),
            "bias": draw(st.booleans()), "stride": stride, "padding": padding,
            "dilation": dilation, "groups": groups}


def draw_arrays(data, problem, strategies):
    x = data.draw(strategies.floats(problem["x"]))
    w = data.draw(strategies.floats(problem["w"]))
    b = data.draw(strategies.floats((problem["w"][0],))) if problem["bias"] else None
    return x, w, b


def conv_of(problem):
    def conv(x, w, b=None):
        return ad.conv2d(x, w, b, problem["stride"], problem["padding"], problem["dilation"],
                         problem["groups"])
    return conv


# ---------------------------------------------------------------- conv2d

@settings(max_examples=40)
@given(problem=conv_problems(), data=st.data())
def test_conv2d_is_the_sum_written_out_and_one_node(problem, data, strategies):
    x, w, b = draw_arrays(data, problem, strategies)
    y = conv_of(problem)(ad.tensor(x, requires_grad=True), ad.tensor(w), b)
    pads = resolved_padding(problem["padding"], problem["w"][2:], problem["dilation"])
    expected = reference_conv2d(x, w, b, problem["stride"], pads, problem["dilation"],
                                problem["groups"])
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert type(y.grad_fn).__name__ == "Conv2d"
    if problem["padding"] == "same":
        assert y.shape[2:] == problem["x"][2:]


@settings(max_examples=20)
@given(problem=conv_problems(), data=st.data())
def test_conv2d_is_twice_differentiable(problem, data, strategies, check_grads):
    x, w, b = draw_arrays(data, problem, strategies)
    arrays = (x, w) if b is None else (x, w, b)
    check_grads(conv_of(problem), *arrays)


def test_conv2d_gradients_by_hand():
    """A 2 × 2 kernel of ones over a 3 × 3 image: dL/dx counts the windows reading each
    pixel; dL/dW sums each tap's pixels over the windows; dL/db counts the outputs."""
    x = ad.arange(9, dtype=ad.float32).reshape(1, 1, 3, 3).requires_grad_()
    w = ad.ones(1, 1, 2, 2, requires_grad=True)
    b = ad.zeros(1, requires_grad=True)
    y = ad.conv2d(x, w, b)
    np.testing.assert_array_equal(y.numpy(), [[[[8, 12], [20, 24]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])
    np.testing.assert_array_equal(w.grad.numpy(), [[[[8, 12], [20, 24]]]])
    np.testing.assert_array_equal(b.grad.numpy(), [4])
    assert x.grad.dtype == w.grad.dtype == y.dtype == np.float32


def test_conv2d_second_derivative_in_the_input_through_the_weight_gradient():
    """L = Σ conv(x, w)² is quadratic: d/dx of dL/dw (contracted with ones) by hand."""
    x = ad.tensor(np.arange(4.0).reshape(1, 1, 2, 2), requires_grad=True)
    w = ad.tensor(np.array([[[[2.0]]]]), requires_grad=True)
    loss = (ad.conv2d(x, w) ** 2).sum()                  # Σ (w x)²: dL/dw = 2 w Σ x²
    g, = ad.grad(loss, [w], create_graph=True)
    assert g.item() == pytest.approx(2 * 2 * (0 + 1 + 4 + 9))
    h, = ad.grad(g.sum(), [x])                           # d(2 w Σ x²)/dx = 4 w x
    np.testing.assert_allclose(h.numpy(), 4 * 2 * x.numpy())


def test_conv2d_skips_the_input_gradient_it_does_not_need():
    ad.manual_seed(0)                                    # not the draws earlier tests left
    x = ad.randn(2, 1, 5, 5)
    w = ad.randn(3, 1, 3, 3, requires_grad=True)
    ad.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 1, 3, 3)


# ---------------------------------------------------------------- unfold and fold

@st.composite
def window_problems(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    size = []
    for axis in range(2):
        smallest = max(1, dilation[axis] * (kernel[axis] - 1) + 1 - 2 * padding[axis])
        size.append(draw(st.integers(smallest, smallest + 2)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)
    return shape, {"kernel_size": kernel, "dilation": dilation, "padding": padding,
                   "stride": stride}


def reference_unfold(x, kernel_size, dilation, padding, stride):
    """cols[n, c·kh·kw + i·kw + j, p·ow + q] = x̃[n, c, p·sh + i·dh, q·sw + j·dw]."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    (kh, kw), (dh, dw), (sh, sw) = kernel_size, dilation, stride
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    cols = np.zeros((x.shape[0], x.shape[1] * kh * kw, oh * ow))
    for c in range(x.shape[1]):
        for i in range(kh):
            for j in range(kw):
                for p in range(oh):
                    for q in range(ow):
                        cols[:, c * kh * kw + i * kw + j, p * ow + q] = \
                            xp[:, c, p * sh + i * dh, q * sw + j * dw]
    return cols


@settings(max_examples=25)
@given(problem=window_problems(), data=st.data())
def test_unfold_and_fold_are_adjoint_and_twice_differentiable(problem, data, strategies,
                                                              check_grads):
    shape, window = problem
    x = data.draw(strategies.floats(shape))
    cols = ad.unfold(ad.tensor(x), **window)
    np.testing.assert_array_equal(cols.numpy(), reference_unfold(x, **window))
    c = data.draw(strategies.floats(cols.shape))
    folded = ad.fold(ad.tensor(c), shape[2:], **window)
    assert folded.shape == shape
    # ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩: fold is unfold's adjoint. The two sums add up to a
    # few hundred products in different orders: near 0 they differ on the scale of Σ|terms|
    # (plus 1e-300 for products that underflow to subnormals, rounded to absolute steps)
    scale = np.abs(cols.numpy() * c).sum()
    assert (cols.numpy() * c).sum() == pytest.approx((x * folded.numpy()).sum(), rel=1e-12,
                                                  abs=1e-13 * scale + 1e-300)
    check_grads(lambda t: ad.unfold(t, **window), x)
    check_grads(lambda t: ad.fold(t, shape[2:], **window), c)


def test_fold_adds_overlapping_entries():
    """Two 2-wide windows of stride 1 over 3 columns share the middle column."""
    cols = ad.tensor([[[1.0, 10.0], [2.0, 20.0]]])          # (1, 1·1·2, 2 windows)
    np.testing.assert_array_equal(ad.fold(cols, (1, 3), (1, 2)).numpy(), [[[[1, 12, 20]]]])


# ---------------------------------------------------------------- PyTorch

@settings(max_examples=25)
@given(problem=conv_problems(), data=st.data())
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_conv2d_matches_torch_in_float32(problem, data, strategies):
    torch = pytest.importorskip("torch")
    x, w, b = (None if a is None else a.astype(np.float32)
               for a in draw_arrays(data, problem, strategies))
    ours = [ad.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    y = conv_of(problem)(*ours)
    options = {k: problem[k] for k in ("stride", "padding", "dilation", "groups")}
    yt = torch.nn.functional.conv2d(*theirs[:2], theirs[2] if b is not None else None,
                                    **options)
    upstream = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    # each output's and each gradient's Σ|terms|: the same sums over absolute values
    scales = [ad.tensor(np.abs(a).astype(np.float64), requires_grad=True)
              for a in (x, w, b) if a is not None]
    scale = conv_of(problem)(*scales)
    scale.backward(np.abs(upstream).astype(np.float64))
    assert_close_on_scale(y.numpy(), yt.detach().numpy(), scale.numpy())
    y.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    for a, t, s in zip(ours, theirs, scales):
        assert a.grad.dtype == np.float32
        assert_close_on_scale(a.grad.numpy(), t.grad.numpy(), s.grad.numpy())


@settings(max_examples=15)
@given(problem=window_problems(), data=st.data())
def test_unfold_and_fold_match_torch(problem, data, strategies):
    torch = pytest.importorskip("torch")
    shape, window = problem
    x = data.draw(strategies.floats(shape)).astype(np.float32)
    cols = ad.unfold(ad.tensor(x), **window)
    expected = torch.nn.functional.unfold(torch.from_numpy(x), **window)
    np.testing.assert_array_equal(cols.numpy(), expected.numpy())
    assert_close_on_scale(ad.fold(cols, shape[2:], **window).numpy(),
                          torch.nn.functional.fold(expected, shape[2:], **window).numpy(),
                          ad.fold(ad.tensor(np.abs(cols.numpy())), shape[2:], **window).numpy())


# ---------------------------------------------------------------- errors

def test_conv2d_errors_name_the_shapes_and_the_fix():
    w = ad.zeros(32, 1, 3, 3)
    with pytest.raises(ad.ShapeError, match=r"conv2d: expected a 4-D input \(N, C, H, W\), "
                                            r"got shape \(1, 28, 28\); add a batch dim with "
                                            r"x.unsqueeze\(0\)"):
        ad.conv2d(ad.zeros(1, 28, 28), w)
    with pytest.raises(ad.ShapeError, match=r"kernel \(5, 5\) is larger than the input "
                                            r"\(3, 3\) padded by .* to \(3, 3\).*more padding"):
        ad.conv2d(ad.zeros(1, 1, 3, 3), ad.zeros(2, 1, 5, 5))
    with pytest.raises(ad.ShapeError, match=r"kernel \(3, 3\) \(dilated to \(5, 5\)\)"):
        ad.conv2d(ad.zeros(1, 1, 4, 4), w, dilation=2)
    with pytest.raises(ad.ShapeError, match=r"3 channels \(dim 1\), but weight of shape "
                                            r"\(32, 1, 3, 3\) with groups=1 expects 1"):
        ad.conv2d(ad.zeros(2, 3, 8, 8), w)
    with pytest.raises(ad.ShapeError, match="6 output channels, which groups=4 does not divide"):
        ad.conv2d(ad.zeros(2, 4, 8, 8), ad.zeros(6, 1, 3, 3), groups=4)
    with pytest.raises(ad.ShapeError, match=r"bias must have shape \(32,\)"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), w, ad.zeros(3))
    with pytest.raises(ad.ShapeError, match="weight must have shape"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), ad.zeros(3, 3))
    with pytest.raises(ValueError, match="'same' is not supported for strided convolutions"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'valid' or 'same'"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), w, padding="full")
    with pytest.raises(ValueError, match=r"stride must be an int >= 1 or a pair"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), w, stride=(1, 0))
    with pytest.raises(ValueError, match="groups must be an int >= 1"):
        ad.conv2d(ad.zeros(1, 1, 8, 8), w, groups=0)


def test_unfold_and_fold_errors():
    with pytest.raises(ad.ShapeError, match="unfold: expected a 4-D input"):
        ad.unfold(ad.zeros(3, 4), 2)
    with pytest.raises(ad.ShapeError, match="unfold: the kernel"):
        ad.unfold(ad.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ad.ShapeError, match=r"fold: input of shape \(1, 4, 5\) has 5 columns.*"
                                            r"2 × 2 = 4 windows"):
        ad.fold(ad.zeros(1, 4, 5), 3, 2)
    with pytest.raises(ad.ShapeError, match=r"multiple of kh·kw = 4"):
        ad.fold(ad.zeros(1, 6, 4), 3, 2)
