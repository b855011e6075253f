"""max_pool2d and avg_pool2d (autodiff/ops/pool.py): values against torch's CPU kernels
written out window by window, gradients against finite differences to second order in
float64 (Hypothesis over kernels, strides, paddings, dilations and ceil_mode), the tie
rule, NaN, PyTorch on the same numbers in float32, and the errors for bad input."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import autodiff as ad

# An average, or a gradient that adds the upstream values of overlapping windows, is a
# float32 sum in torch's order or ours: they differ on the scale of Σ|terms| (the same op
# on |x|, the same backward of |upstream|), not of the result, which may be near 0.
SCALE_RTOL = 1e-5


def assert_close_on_scale(actual, expected, scale):
    """|actual - expected| <= SCALE_RTOL · scale element by element."""
    np.testing.assert_array_less(np.abs(actual - expected),
                                 SCALE_RTOL * scale + np.finfo(np.float32).tiny)


def windows_along(size, kernel, stride, padding, dilation, ceil_mode):
    """torch's pooling_output_shape: how many windows fit along one axis."""
    span = dilation * (kernel - 1) + 1
    count = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def reference_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    """Each window's maximum over the pixels it covers, and the index h·W + w of the
    first one (a strict > scan in row-major order)."""
    n, c, height, width = x.shape
    oh = windows_along(height, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = windows_along(width, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    values, indices = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), dtype=np.int64)
    for p in range(oh):
        for q in range(ow):
            rows = [p * stride[0] - padding[0] + i * dilation[0] for i in range(kernel[0])]
            cols = [q * stride[1] - padding[1] + j * dilation[1] for j in range(kernel[1])]
            taps = [(r, s) for r in rows if 0 <= r < height for s in cols if 0 <= s < width]
            window = np.stack([x[:, :, r, s] for r, s in taps], axis=-1)
            best = window.argmax(axis=-1)
            values[:, :, p, q] = window.max(axis=-1)
            indices[:, :, p, q] = [[taps[k][0] * width + taps[k][1] for k in row] for row in best]
    return values, indices


def reference_avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad,
                         divisor_override):
    """torch's avg_pool2d CPU kernel, window by window."""
    n, c, height, width = x.shape
    oh = windows_along(height, kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = windows_along(width, kernel[1], stride[1], padding[1], 1, ceil_mode)
    y = np.zeros((n, c, oh, ow))
    for p in range(oh):
        for q in range(ow):
            h0, w0 = p * stride[0] - padding[0], q * stride[1] - padding[1]
            h1 = min(h0 + kernel[0], height + padding[0])
            w1 = min(w0 + kernel[1], width + padding[1])
            pool_size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, height), min(w1, width)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            divisor = divisor_override or (pool_size if count_include_pad
                                           else (h1 - h0) * (w1 - w0))
            y[:, :, p, q] = total / divisor
    return y


def covers_the_input(problem):
    """Every window has a tap inside the input (dilated taps can skip it; that is an error)."""
    shape, options = problem
    kernel, stride, padding, dilation = pairs(options)
    for axis in range(2):
        count = windows_along(shape[2 + axis], kernel[axis], stride[axis], padding[axis],
                              dilation[axis], options["ceil_mode"])
        for window in range(count):
            taps = [window * stride[axis] - padding[axis] + i * dilation[axis]
                    for i in range(kernel[axis])]
            if not any(0 <= t < shape[2 + axis] for t in taps):
                return False
    return True


@st.composite
def pool_problems(draw, dilated=True):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, 1, 2, (2, 1), (3, 2)]))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    size = []
    for axis in range(2):
        smallest = max(1, dilation[axis] * (kernel[axis] - 1) + 1 - 2 * padding[axis])
        size.append(draw(st.integers(smallest, smallest + 3)))
    options = {"kernel_size": kernel, "stride": stride, "padding": padding,
               "ceil_mode": draw(st.booleans())}
    if dilated:
        options["dilation"] = dilation
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size), options


def pairs(options):
    kernel = options["kernel_size"]
    stride = options["stride"] or kernel
    stride = (stride, stride) if isinstance(stride, int) else stride
    return kernel, stride, options["padding"], options.get("dilation", (1, 1))


# ---------------------------------------------------------------- max_pool2d

@settings(max_examples=40)
@given(problem=pool_problems().filter(covers_the_input), data=st.data())
def test_max_pool2d_takes_each_windows_maximum_and_is_twice_differentiable(
        problem, data, strategies, check_grads):
    shape, options = problem
    x = data.draw(strategies.distinct(shape))                # no ties: derivatives exist
    y, indices = ad.max_pool2d(ad.tensor(x), return_indices=True, **options)
    values, positions = reference_max_pool2d(x, *pairs(options), options["ceil_mode"])
    np.testing.assert_array_equal(y.numpy(), values)
    np.testing.assert_array_equal(indices.numpy(), positions)
    assert indices.dtype == np.int64
    check_grads(lambda t: ad.max_pool2d(t, **options), x)


def test_max_pool2d_ties_give_the_gradient_to_the_first_maximum():
    """Ties: the whole gradient goes to the first maximum of the window in row-major
    order (torch's rule). Overlapping windows each pick their own first maximum."""
    x = ad.zeros(1, 1, 2, 2, requires_grad=True)
    ad.max_pool2d(x, 2).backward(ad.ones(1, 1, 1, 1))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1, 0], [0, 0]]]])
    x = ad.tensor([[[[3.0, 3.0, 3.0]]]], requires_grad=True)
    ad.max_pool2d(x, (1, 2), stride=1).sum().backward()      # windows [0, 1] and [1, 2]
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1, 1, 0]]]])
    x = ad.tensor([[[[1.0, 5.0], [5.0, 2.0]]]], requires_grad=True)
    y, index = ad.max_pool2d(x, 2, return_indices=True)
    y.backward(ad.tensor([[[[2.0]]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 2], [0, 0]]]])
    assert index.item() == 1


def test_max_pool2d_passes_nan_and_its_gradient_like_torch():
    x = ad.tensor([[[[1.0, np.nan, 7.0, 3.0]]]], requires_grad=True)
    y = ad.max_pool2d(x, (1, 2))
    assert np.isnan(y.numpy()[0, 0, 0, 0]) and y.numpy()[0, 0, 0, 1] == 7
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1, 1, 0]]]])


def test_max_pool2d_pads_with_minus_infinity():
    x = ad.full((1, 1, 2, 2), -5.0)
    np.testing.assert_array_equal(ad.max_pool2d(x, 3, stride=1, padding=1).numpy(),
                                  np.full((1, 1, 2, 2), -5.0))


# ---------------------------------------------------------------- avg_pool2d

@settings(max_examples=40)
@given(problem=pool_problems(dilated=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 3]), data=st.data())
def test_avg_pool2d_is_torchs_average_and_twice_differentiable(
        problem, count_include_pad, divisor_override, data, strategies, check_grads):
    shape, options = problem
    options = {**options, "count_include_pad": count_include_pad,
               "divisor_override": divisor_override}
    x = data.draw(strategies.floats(shape))
    y = ad.avg_pool2d(ad.tensor(x), **options)
    kernel, stride, padding, _ = pairs(options)
    expected = reference_avg_pool2d(x, kernel, stride, padding, options["ceil_mode"],
                                    count_include_pad, divisor_override)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    check_grads(lambda t: ad.avg_pool2d(t, **options), x)


def test_avg_pool2d_by_hand():
    x = ad.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]], requires_grad=True)
    y = ad.avg_pool2d(x, 2, stride=1)                        # two windows of 4
    np.testing.assert_array_equal(y.numpy(), [[[[3.0, 4.0]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.25, 0.5, 0.25], [0.25, 0.5, 0.25]]]])
    assert x.grad.dtype == np.float32
    # ceil_mode adds a last window over the leftover column, averaging what it covers
    np.testing.assert_array_equal(ad.avg_pool2d(x, 2, ceil_mode=True).numpy(),
                                  [[[[3.0, 4.5]]]])


# ---------------------------------------------------------------- PyTorch

@settings(max_examples=30)
@given(problem=pool_problems().filter(covers_the_input), data=st.data())
def test_max_pool2d_matches_torch_in_float32(problem, data, strategies):
    torch = pytest.importorskip("torch")
    shape, options = problem
    x = data.draw(strategies.floats(shape)).astype(np.float32)
    x[..., ::2] = np.round(x[..., ::2])                      # ties too: the same rule
    ours, theirs = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, index = ad.max_pool2d(ours, return_indices=True, **options)
    yt, index_t = torch.nn.functional.max_pool2d(theirs, return_indices=True, **options)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(index.numpy(), index_t.numpy())
    upstream = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    scale = ad.tensor(x.astype(np.float64), requires_grad=True)
    ad.max_pool2d(scale, **options).backward(np.abs(upstream).astype(np.float64))
    assert_close_on_scale(ours.grad.numpy(), theirs.grad.numpy(), scale.grad.numpy())


@settings(max_examples=30)
@given(problem=pool_problems(dilated=False), count_include_pad=st.booleans(), data=st.data())
def test_avg_pool2d_matches_torch_in_float32(problem, count_include_pad, data, strategies):
    torch = pytest.importorskip("torch")
    shape, options = problem
    options = {**options, "count_include_pad": count_include_pad}
    x = data.draw(strategies.floats(shape)).astype(np.float32)
    ours, theirs = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ad.avg_pool2d(ours, **options)
    yt = torch.nn.functional.avg_pool2d(theirs, **options)
    assert_close_on_scale(y.numpy(), yt.detach().numpy(),
                          ad.avg_pool2d(ad.tensor(np.abs(x).astype(np.float64)), **options).numpy())
    upstream = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    yt.backward(torch.from_numpy(upstream))
    scale = ad.tensor(x.astype(np.float64), requires_grad=True)
    ad.avg_pool2d(scale, **options).backward(np.abs(upstream).astype(np.float64))
    assert_close_on_scale(ours.grad.numpy(), theirs.grad.numpy(), scale.grad.numpy())


# ---------------------------------------------------------------- errors

def test_pool_errors_name_the_shapes_and_the_fix():
    with pytest.raises(ad.ShapeError, match=r"max_pool2d: expected a 4-D input \(N, C, H, W\), "
                                            r"got shape \(1, 28, 28\); add a batch dim"):
        ad.max_pool2d(ad.zeros(1, 28, 28), 2)
    with pytest.raises(ad.ShapeError, match=r"avg_pool2d: the window \(3, 3\) is larger than "
                                            r"the input \(2, 2\)"):
        ad.avg_pool2d(ad.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the "
                                         r"kernel_size \(3, 3\).*padding <= \(1, 1\)"):
        ad.max_pool2d(ad.zeros(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(ValueError, match=r"with dilation \(1, 2\) and padding \(0, 1\), a "
                                         r"window along dim 3 .* covers only padding"):
        ad.max_pool2d(ad.zeros(1, 1, 1, 1), (1, 2), padding=(0, 1), dilation=(1, 2))
    with pytest.raises(ValueError, match=r"kernel_size must be an int >= 1"):
        ad.max_pool2d(ad.zeros(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="divisor_override must be a positive int"):
        ad.avg_pool2d(ad.zeros(1, 1, 8, 8), 2, divisor_override=0)
