"""Aliasing: results that share their input's numbers, and the tensors an op keeps by
reference for its backward. Each case is one function of `lib` (autodiff or torch): its
numbers are checked against values worked out by hand (no torch needed) and, where torch
is installed, torch must give the same numbers, or both must refuse.

Covered:
- views torch takes and we must take too: `diagonal` (any offset and dims), the einsums
  that only rearrange (`'ij->ji'`, `'ij->ij'`, `'ii->i'`): writes through them reach the
  base, changes of the base show in them, in-graph writes give torch's gradients, and a
  saved value changed through them is refused; `diag` of a matrix, `repeat`, `tile` and
  `repeat_interleave` are copies, as torch's;
- a view taken under no_grad and changed in place with grad mode on (or used after its
  base changed) is refused, as torch refuses it; both in no_grad, or both outside, works;
- integer and bool tensors an op keeps for backward (indices, masks, conditions, class
  targets) changed in place before backward: refused, as torch; the constants our ops
  copy (embedding's indices, loss weights) give the forward's gradient;
- a custom Function that saves a view of its input (x.T, x.reshape(-1), x[1:]) is refused
  once the input changes; one that saves a copy is not;
- `view` of numbers whose strides no view can follow is refused (use reshape);
- a compiled masked_fill_ reads each call's mask (it wrote through a broadcast copy the
  trace kept as a constant).
"""
import numpy as np
import pytest

import autodiff as ad
import nn


def T(lib, values, requires_grad=False, dtype=np.float64):
    """A tensor of `lib` (autodiff or torch) from `values`, float64 unless told."""
    return lib.tensor(np.array(values, dtype=dtype), requires_grad=requires_grad)


def ints(lib, values):
    """An int64 tensor of `lib`."""
    return lib.tensor(np.array(values, dtype=np.int64))


def g(t):
    """t.grad as nested lists."""
    return t.grad.tolist()


def F(lib):
    return nn.functional if lib is ad else lib.nn.functional


def assert_same(ours, expected):
    """ours == expected: tuples element by element, ints exactly, numbers to 1e-12."""
    if isinstance(expected, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(expected), (ours, expected)
        for o, e in zip(ours, expected):
            assert_same(o, e)
    elif isinstance(expected, int):
        assert ours == expected and type(ours) is int, (ours, expected)
    else:
        np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(expected, np.float64),
                                   rtol=1e-12, atol=1e-15, strict=True)


X = [[0.5, -1.2, 2.0], [0.3, 0.8, -0.4]]        # a (2, 3) input
W = [[1.5, -0.5, 0.2], [0.7, 0.1, -1.1]]        # weights of a (2, 3) loss
NINE = np.arange(9.0).reshape(3, 3)


def by_hand(array, *writes):
    """`array` (a copy) with each (index, value) of `writes` written into it, as a list."""
    out = np.array(array, dtype=np.float64)
    for index, value in writes:
        out[index] = value
    return out.tolist()


# ---------------------------------------------------------------- value cases

CASES = {}
VALUES = {}


def case(expected):
    def register(fn):
        CASES[fn.__name__] = fn
        VALUES[fn.__name__] = expected
        return fn
    return register


# diagonal: a view

@case((by_hand(NINE, ((0, 0), 10), ((1, 1), 14), ((2, 2), 18)), 1))
def diagonal_write_reaches_the_base(lib):
    a = T(lib, NINE)
    a.diagonal().add_(10)
    return a.tolist(), a._version


@case(by_hand(np.arange(24.0).reshape(2, 3, 4),
              ((0, slice(None), 1), -1), ((1, slice(None), 2), -1),      # offset 1, dims 0, 2
              ((slice(None), 0, 1), -2), ((slice(None), 1, 2), -2),      # offset -1, dims 2, 1
              ((slice(None), 2, 3), -2)))
def diagonal_with_offset_and_dims_writes_through(lib):
    x = T(lib, np.arange(24.0).reshape(2, 3, 4))
    lib.diagonal(x, 1, 0, 2).fill_(-1)               # x[i, :, i + 1]
    x.diagonal(offset=-1, dim1=2, dim2=1)[...] = -2   # x[:, i, i + 1]
    return x.tolist()


@case([100.0, 104.0, 108.0])
def diagonal_sees_later_changes_of_the_base(lib):
    b = T(lib, NINE)
    d = b.diagonal()
    b.add_(100)
    return d.tolist()


# a = w; a_ii *= 5; L = Σ a²: dL/dw = 2w off the diagonal, 2 · 5w · 5 = 50w on it
@case((by_hand(2 * NINE, ((1, 1), 200), ((2, 2), 400)), 1))
def diagonal_write_in_the_graph(lib):
    w = T(lib, NINE, True)
    a = w * 1.0
    a.diagonal().mul_(5.0)
    (a * a).sum().backward()
    return g(w), a._version


# d = diag(a) taken before a *= 3: d = 3 diag(x), L = Σ d² = 9 Σ x_ii², dL/dx_ii = 18 x_ii
@case([[18.0, 0.0], [0.0, 72.0]])
def diagonal_taken_before_its_base_changed(lib):
    x = T(lib, [[1.0, 2.0], [3.0, 4.0]], True)
    a = x * 1
    d = a.diagonal()
    a.mul_(3)
    (d * d).sum().backward()
    return g(x)


# Tensor.unfold: a view (windows of the base, every step-th one)

@case(([100.0, 1.0, 2.0, 3.0, 4.0, 5.0], 1))
def unfold_write_reaches_the_base(lib):
    a = T(lib, np.arange(6.0))
    u = a.unfold(0, 2, 2)
    u[0, 0] = 100.0
    return a.tolist(), a._version


@case([[10.0, 11.0], [12.0, 13.0], [14.0, 15.0]])
def unfold_sees_later_changes_of_the_base(lib):
    b = T(lib, np.arange(6.0))
    w = b.unfold(0, 2, 2)
    b.add_(10.0)
    return w.tolist()


# c = 2x after the windows were taken; L = Σ over windows of c², element i in n_i windows:
# dL/dx_i = n_i · 2 · 2x_i · 2 = 8 n_i x_i, n = 1, 2, 3, 3, 2, 1
@case([8.0, 32.0, 72.0, 96.0, 80.0, 48.0])
def unfold_taken_before_its_base_changed(lib):
    x = T(lib, np.arange(1.0, 7.0), True)
    c = x * 1.0
    windows = c.unfold(0, 3, 1)
    c.mul_(2.0)
    (windows ** 2).sum().backward()
    return g(x)


# a = w (2 x 5); windows of 2, step 2, along dim 1 (column 4 in none) multiplied by 3:
# L = Σ a², dL/dw = 2 · 3w · 3 = 18w in the windows, 2w in column 4
@case((by_hand(2 * np.arange(10.0).reshape(2, 5),
               ((slice(None), slice(0, 4)), 18 * np.arange(10.0).reshape(2, 5)[:, :4])), 1))
def unfold_write_in_the_graph(lib):
    w = T(lib, np.arange(10.0).reshape(2, 5), True)
    a = w * 1.0
    a.unfold(1, 2, 2).mul_(3.0)
    (a * a).sum().backward()
    return g(w), a._version


# a size-1 axis is not an expansion, whatever stride numpy gives it: writable, as torch's
@case([6.0, 7.0])
def size_one_axes_and_no_op_expands_are_writable(lib):
    a = T(lib, [1.0, 2.0])
    a[None].add_(1.0)
    a[:, None].add_(1.0)
    a.expand(2).add_(1.0)
    a.expand(1, 1, 2).add_(1.0)
    lib.broadcast_to(a, (2,)).add_(1.0)
    return a.tolist()


@case((NINE.tolist(), [10.0, 14.0, 18.0]))
def diag_of_a_matrix_is_a_copy(lib):
    a = T(lib, NINE)
    d = lib.diag(a)
    d.add_(10)
    return a.tolist(), d.tolist()


# einsum: the equations that only rearrange are views

@case((by_hand([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], ((1, 0), 100)), 1))
def einsum_transpose_writes_through(lib):
    x = T(lib, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    lib.einsum("ij->ji", x)[0, 1] = 100               # x[1, 0]
    return x.tolist(), x._version


@case((by_hand(NINE, ((0, 0), -1), ((1, 1), -1), ((2, 2), -1)), [1.0, 1.0, 1.0]))
def einsum_diagonal_is_a_view_both_ways(lib):
    x = T(lib, NINE)
    d = lib.einsum("ii->i", x)
    d.fill_(-1)
    x.add_(2)
    x.sub_(2)
    return x.tolist(), (d + 2).tolist()


@case(by_hand(2 * NINE, ((1, 1), 200), ((2, 2), 400)))
def einsum_diagonal_write_in_the_graph(lib):
    w = T(lib, NINE, True)
    a = w * 1.0
    lib.einsum("ii->i", a).mul_(5.0)
    (a * a).sum().backward()
    return g(w)


@case(([9.0, 12.0, 15.0], 0))
def einsum_that_sums_is_a_copy(lib):
    x = T(lib, NINE)
    s = lib.einsum("ij->j", x)
    x.mul_(0)
    return s.tolist(), s._version


# views taken under no_grad: both in no_grad, or both outside, is fine

# a = 2x; a[0] *= 3 under no_grad is not recorded: dL/dx = 2w; a holds the tripled row
@case((by_hand(2 * np.array(W), ), by_hand(2 * np.array(X), ((0,), 6 * np.array(X[0])))))
def view_and_change_both_under_no_grad(lib):
    x = T(lib, X, True)
    a = x * 2.0
    with lib.no_grad():
        v = a[0]
        v.mul_(3.0)
    (a * T(lib, W)).sum().backward()
    return g(x), a.tolist()


@case(by_hand(2 * np.array(W), ((0,), 6 * np.array(W[0]))))
def view_and_change_both_with_grad(lib):
    x = T(lib, X, True)
    a = x * 2.0
    v = a[0]
    v.mul_(3.0)
    (a * T(lib, W)).sum().backward()
    return g(x)


# constants our ops copy: the gradient is the forward's, where torch refuses instead

@case([[0.0, 0.0, 0.0], [1.5, -0.5, 0.2], [2.2, -0.4, -0.9]])
def embedding_indices_changed_after_the_lookup(lib):
    w = T(lib, [[0.5, -1.2, 2.0], [0.3, 0.8, -0.4], [1.1, -0.2, 0.9]], True)
    idx = ints(lib, [1, 2, 2])
    y = F(lib).embedding(idx, w)
    if lib is ad:                           # (torch refuses the change)
        idx[0] = 0                          # our lookup keeps a copy of the indices
    (y * T(lib, [W[0], W[1], [1.5, -0.5, 0.2]])).sum().backward()
    return g(w)


# repeat, tile and repeat_interleave with all counts 1 are copies, as torch's

@case(([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],) * 3)
def repeats_of_one_are_copies(lib):
    results = []
    for f in (lambda t: t.repeat(1, 1), lambda t: t.tile((1,)),
              lambda t: t.repeat_interleave(1, dim=0)):
        x = T(lib, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
        r = f(x)
        x.add_(100.0)                       # the copy keeps the old numbers
        r.add_(1.0)                         # and can be written
        results.append(r.tolist())
    return tuple(results)


@case([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
def repeat_saved_by_mul_keeps_its_values(lib):
    x = T(lib, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    w = T(lib, np.ones((2, 3)), True)
    y = (x.repeat(1, 1) * w).sum()
    with lib.no_grad():
        x.mul_(0.0)
    y.backward()
    return np.ravel(g(w)).tolist()


@pytest.mark.parametrize("name", CASES)
def test_values(name):
    assert_same(CASES[name](ad), VALUES[name])


@pytest.mark.parametrize("name", CASES)
def test_values_match_torch(name):
    torch = pytest.importorskip("torch")
    assert_same(CASES[name](torch), VALUES[name])


# ---------------------------------------------------------------- refusals
# Each pattern must raise: ours an InPlaceError (a RuntimeError) whose message holds the
# listed words, torch a RuntimeError matching its message.

SAVED_CHANGED = "modified by an inplace operation"
NO_GRAD_VIEW = "created in no_grad mode"


def einsum_view_changes_a_saved_output(lib):
    x = T(lib, X, True)
    a = x.exp()                             # exp saves its output a
    lib.einsum("ij->ji", a).mul_(3)         # a view of a: a changes
    a.sum().backward()


def einsum_view_changed_under_no_grad(lib):
    w, x = T(lib, X, True), T(lib, X)
    y = (x * w).sum()                       # mul saves x for w's gradient
    with lib.no_grad():
        lib.einsum("ij->ij", x).zero_()
    y.backward()


def diagonal_view_changes_a_saved_input(lib):
    w, x = T(lib, NINE, True), T(lib, NINE)
    y = (x * w).sum()
    x.diagonal().fill_(0)
    y.backward()


def no_grad_view(op):
    def pattern(lib):
        x = T(lib, X, True)
        a = x * 2.0
        with lib.no_grad():
            v = a[0]                        # a view of a, taken under no_grad
        if op == "mul_":
            v.mul_(3.0)
        elif op == "add_":
            v.add_(1.0)
        elif op == "clamp_":
            v.clamp_(-1.0, 1.0)
        elif op == "+=":
            v += a[1]
        elif op == "view of it":
            v[1:].mul_(3.0)
        elif op == "setitem":
            v[0] = x[1, 0]
        (a * T(lib, W)).sum().backward()
    return pattern


def no_grad_view_of_a_plain_tensor_written_with_grad(lib):
    x, w = T(lib, X), T(lib, [1.0, 2.0, 3.0], True)
    with lib.no_grad():
        v = x[0]
    v.add_(w)


def no_grad_view_used_after_its_base_was_stepped(lib):
    w = T(lib, X, True)
    with lib.no_grad():
        v = w[0]                            # a view of a parameter
        w.add_(1.0)                         # an optimizer step
    (v * 2).sum().backward()


def index_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [0, 1])
    y = x[idx]
    idx[0] = 1
    (y * T(lib, W)).sum().backward()


def column_index_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [0, 2])
    y = x[:, idx]
    idx[0] = 1
    (y * y).sum().backward()


def bool_mask_index_changed(lib):
    x, mask = T(lib, X, True), lib.tensor(np.array(X) > 0)
    y = x[mask]
    mask[0, 0] = False
    (y * y).sum().backward()


def gather_index_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [[0, 1], [2, 2]])
    y = x.gather(1, idx)
    idx[0, 0] = 2
    (y * y).sum().backward()


def index_select_index_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [0, 2])
    y = x.index_select(1, idx)
    idx[0] = 1
    (y * y).sum().backward()


def take_along_dim_flat_indices_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [0, 4])
    y = lib.take_along_dim(x, idx)
    idx[0] = 1
    (y * y).sum().backward()


def scatter_index_changed(lib):
    x, src, idx = T(lib, X, True), T(lib, X, True), ints(lib, [[0, 1], [2, 0]])
    y = x.scatter(1, idx, src)
    idx[0, 0] = 2
    (y * y).sum().backward()


def scatter_add_index_changed(lib):
    x, src, idx = T(lib, X, True), T(lib, X, True), ints(lib, [[0, 1], [2, 0]])
    y = x.scatter_add(1, idx, src)
    idx[0, 0] = 2
    (y * y).sum().backward()


def masked_select_mask_changed(lib):
    x, mask = T(lib, X, True), lib.tensor(np.array(X) > 0)
    y = x.masked_select(mask)
    mask[0, 0] = False
    (y * y).sum().backward()


def cross_entropy_target_buffer_reused(lib):
    x = T(lib, NINE / 4, True)
    target = ints(lib, [0, 2, 1])              # a buffer refilled per micro-batch
    loss1 = F(lib).cross_entropy(x, target)
    target.copy_(ints(lib, [1, 1, 1]))
    loss2 = F(lib).cross_entropy(x * 2, target)
    (loss1 + loss2).backward()


def nll_loss_target_changed(lib):
    x, target = T(lib, X, True), ints(lib, [0, 2])
    loss = F(lib).nll_loss(x, target)
    target[0] = 1
    loss.backward()


def where_condition_changed(lib):
    x = T(lib, X, True)
    cond = lib.tensor(np.array(X) > 0)
    y = lib.where(cond, x, x * 2)
    cond[0, 0] = False
    (y * T(lib, W)).sum().backward()


def tensor_where_condition_changed(lib):
    x = T(lib, X, True)
    cond = lib.tensor(np.array(X) > 0)
    y = x.where(cond, x * 3)
    cond[0, 0] = False
    (y * y).sum().backward()


def masked_fill_mask_changed(lib):
    x, mask = T(lib, X, True), lib.tensor(np.array(X) > 0)
    y = x.masked_fill(mask, 0.0)
    mask[0, 1] = True
    (y * T(lib, W)).sum().backward()


def masked_fill_in_place_mask_changed(lib):
    x, mask = T(lib, X, True), lib.tensor(np.array(X) > 0)
    a = x * 1
    a.masked_fill_(mask, 0.0)
    mask[0, 0] = False
    a.sum().backward()


def setitem_index_changed(lib):
    x, idx = T(lib, X, True), ints(lib, [0, 2])
    buf = lib.zeros(4, 3, dtype=lib.float64)
    buf[idx] = x * 2
    idx[0] = 1
    (buf * buf).sum().backward()


VIEWS = {"x.T": lambda x: x.T, "x.reshape(-1)": lambda x: x.reshape(-1),
         "x[1:]": lambda x: x[1:]}
UNDO = {"x.T": lambda v, shape: v.T, "x.reshape(-1)": lambda v, shape: v.reshape(shape)}


class SaveView(ad.Function):
    """y = (x²)ᵀ, saving a view of x (`ctx.view` picks which: VIEWS)."""

    @staticmethod
    def forward(ctx, x, view):
        ctx.view, ctx.shape = view, x.shape
        ctx.save_for_backward(VIEWS[view](x))
        return (x ** 2).T

    @staticmethod
    def backward(ctx, grad):
        saved, = ctx.saved_tensors
        if ctx.view == "x[1:]":
            x = np.concatenate([np.zeros((1, ctx.shape[1])), saved])
        else:
            x = UNDO[ctx.view](saved, ctx.shape)
        return 2 * x * grad.T, None


def custom_function_saves(view):
    def pattern(lib):
        x = T(lib, [[1.0, 2.0], [3.0, 4.0]], True)
        a = x * 1.0
        if lib is ad:
            y = SaveView.apply(a, view)
        else:
            y = torch_save_view(lib).apply(a, view)
        a.add_(10.0)                        # the input changes after it was saved
        y.sum().backward()
    return pattern


def torch_save_view(torch):
    class TorchSaveView(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, view):
            ctx.save_for_backward(VIEWS[view](x))
            return (x ** 2).T

        @staticmethod
        def backward(ctx, grad):
            _ = ctx.saved_tensors           # torch refuses here, as it unpacks them
            raise AssertionError("torch refuses before this runs")
    return TorchSaveView


REFUSED = {
    # name: (pattern, words our message holds, torch's message)
    "einsum view changes a saved output": (einsum_view_changes_a_saved_output,
                                           ["exp:", "its output", SAVED_CHANGED], SAVED_CHANGED),
    "einsum view changed under no_grad": (einsum_view_changed_under_no_grad,
                                          ["mul:", "its input 0", SAVED_CHANGED], SAVED_CHANGED),
    "diagonal view changes a saved input": (diagonal_view_changes_a_saved_input,
                                            ["mul:", "its input 0", SAVED_CHANGED], SAVED_CHANGED),
    **{f"no_grad view then {op}": (no_grad_view(op), [NO_GRAD_VIEW, "no_grad", "clone"],
                                   NO_GRAD_VIEW)
       for op in ("mul_", "add_", "clamp_", "+=", "view of it", "setitem")},
    "no_grad view of a plain tensor written with a tensor that requires grad": (
        no_grad_view_of_a_plain_tensor_written_with_grad, ["add_:", NO_GRAD_VIEW],
        NO_GRAD_VIEW),
    "no_grad view used after its base was stepped": (
        no_grad_view_used_after_its_base_was_stepped, [NO_GRAD_VIEW, "its base"],
        NO_GRAD_VIEW),
    "index": (index_changed, ["index:", "its index", "int64 of shape (2,)", SAVED_CHANGED],
              SAVED_CHANGED),
    "column index": (column_index_changed, ["index:", "its index", SAVED_CHANGED], SAVED_CHANGED),
    "bool mask index": (bool_mask_index_changed, ["index:", "its index", "bool", SAVED_CHANGED],
                        SAVED_CHANGED),
    "gather": (gather_index_changed, ["index:", "its index", SAVED_CHANGED], SAVED_CHANGED),
    "index_select": (index_select_index_changed, ["index:", "its index", SAVED_CHANGED],
                     SAVED_CHANGED),
    "take_along_dim": (take_along_dim_flat_indices_changed, ["its index", SAVED_CHANGED],
                       SAVED_CHANGED),
    "scatter": (scatter_index_changed, ["scatter:", "its index", SAVED_CHANGED], SAVED_CHANGED),
    "scatter_add": (scatter_add_index_changed, ["scatter_add:", "its index", SAVED_CHANGED],
                    SAVED_CHANGED),
    "masked_select": (masked_select_mask_changed, ["index:", "its index", SAVED_CHANGED],
                      SAVED_CHANGED),
    "cross_entropy target": (cross_entropy_target_buffer_reused,
                             ["cross_entropy:", "its target", SAVED_CHANGED], SAVED_CHANGED),
    "nll_loss target": (nll_loss_target_changed, ["nll_loss:", "its target", SAVED_CHANGED],
                        SAVED_CHANGED),
    "where condition": (where_condition_changed, ["where:", "its condition", SAVED_CHANGED],
                        SAVED_CHANGED),
    "Tensor.where condition": (tensor_where_condition_changed, ["its condition", SAVED_CHANGED],
                               SAVED_CHANGED),
    "masked_fill mask": (masked_fill_mask_changed, ["where:", "its condition", SAVED_CHANGED],
                         SAVED_CHANGED),
    "masked_fill_ mask": (masked_fill_in_place_mask_changed,
                          ["copy_slices:", "its index", SAVED_CHANGED], SAVED_CHANGED),
    "setitem index": (setitem_index_changed, ["copy_slices:", "its index", SAVED_CHANGED],
                      SAVED_CHANGED),
    **{f"custom Function saves {view}": (custom_function_saves(view),
                                         ["save_view:", "its input 0", SAVED_CHANGED],
                                         "modified inplace|" + SAVED_CHANGED)
       for view in ("x.T", "x.reshape(-1)", "x[1:]")},
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused(name):
    pattern, words, _ = REFUSED[name]
    with pytest.raises(ad.InPlaceError) as caught:
        pattern(ad)
    assert isinstance(caught.value, RuntimeError)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


@pytest.mark.parametrize("name", REFUSED)
def test_torch_refuses_too(name):
    torch = pytest.importorskip("torch")
    pattern, _, message = REFUSED[name]
    with pytest.raises(RuntimeError, match=message):
        pattern(torch)


def test_the_no_grad_view_message_says_what_to_do():
    with pytest.raises(ad.InPlaceError) as caught:
        no_grad_view("mul_")(ad)
    message = str(caught.value)
    assert message.startswith("mul_: ")
    assert "shape (3,)" in message and "both inside the no_grad block" in message
    assert "both outside" in message and "clone()" in message


def test_a_refused_index_change_names_the_versions_and_the_line():
    with pytest.raises(ad.InPlaceError) as caught:
        index_changed(ad)
    message = str(caught.value)
    assert "it is at version 1; it was saved at version 0" in message
    assert f"{__file__}:" in message and "Hint: change a clone" in message


def test_writing_into_overlapping_windows_is_refused():
    # torch writes them one element after another (its result depends on its loop order)
    x = ad.arange(6.0)
    windows = x.unfold(0, 3, 1)                          # x[0:3], x[1:4], ...: overlapping
    for write in (lambda: windows.add_(1.0), lambda: windows.mul_(2.0),
                  lambda: windows.__setitem__(Ellipsis, 0.0)):
        with pytest.raises(ad.InPlaceError, match=r"overlapping windows of unfold.*clone\(\)"):
            write()
    with pytest.raises(ad.InPlaceError, match="an expanded or broadcast tensor"):
        ad.ones(1).expand(3).add_(1.0)                   # a real expansion: torch refuses
    assert writes_into_single_windows(ad) == [-9.0, -19.0, -19.0, -13.0, -4.0, -5.0]


def writes_into_single_windows(lib):
    x = lib.arange(6.0)
    windows = x.unfold(0, 3, 1)
    windows[0] = 9.0                                     # one window does not overlap itself
    windows[1].add_(10.0)
    x.unfold(0, 2, 2).mul_(-1.0)                         # windows that do not overlap
    return x.tolist()


def test_torch_writes_into_single_windows_the_same():
    torch = pytest.importorskip("torch")
    assert writes_into_single_windows(torch) == [-9.0, -19.0, -19.0, -13.0, -4.0, -5.0]


def test_unfold_is_a_view_with_the_gradient_of_its_windows():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    u = x.unfold(1, 2, 1)                                # (2, 2, 4, 2)
    assert u.shape == (2, 2, 4, 2)
    assert np.shares_memory(u.numpy(), x.detach().numpy())
    assert u[1, 1, 3].tolist() == [19.0, 23.0]           # x[1, 1:3, 3]
    (u * u).sum().backward()
    counts = np.array([1.0, 2.0, 1.0])[None, :, None]    # rows in 1, 2, 1 windows
    assert x.grad.tolist() == (2 * np.arange(24.0).reshape(2, 3, 4) * counts).tolist()
    assert ad.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    assert ad.arange(6.0).unfold(0, 0, 1).shape == (7, 0)
    with pytest.raises(ad.ShapeError, match="unfold: windows of size 7 and step 1"):
        ad.arange(6.0).unfold(0, 7, 1)


# ---------------------------------------------------------------- what is not refused

def test_an_index_changed_after_backward_is_fine():
    x, idx = T(ad, X, True), ints(ad, [0, 1])
    y = x[idx]
    (y * T(ad, W)).sum().backward()
    idx[0] = 1
    assert g(x) == W


def test_a_custom_function_that_saves_a_copy_is_not_refused():
    class SaveCopy(ad.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x.copy())
            return x ** 2

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return 2 * x * grad

    x = T(ad, [1.0, 2.0], True)
    a = x * 1.0
    y = SaveCopy.apply(a)
    a.add_(10.0)
    y.sum().backward()
    assert g(x) == [2.0, 4.0]               # the copy holds the forward's numbers


def test_loss_weights_changed_after_the_loss_give_the_forward_gradient():
    # torch refuses; our losses keep the weights' numbers as computed (pos_weight enters
    # through a new tensor (pw - 1) y + 1); the gradient is the forward's
    torch = pytest.importorskip("torch")

    def run(lib, change):
        x = T(lib, X, True)
        pos_weight = T(lib, [1.0, 2.0, 3.0])
        loss = F(lib).binary_cross_entropy_with_logits(x, T(lib, np.full((2, 3), 0.5)),
                                                        pos_weight=pos_weight)
        if change:
            pos_weight[0] = 9.0
        loss.backward()
        return g(x)
    assert_same(run(ad, True), run(torch, False))


def test_take_along_dim_refuses_where_torch_computes_from_the_forward_indices():
    # torch's take_along_dim along a dim gathers from a copy of the broadcast indices; ours
    # gathers from a view of them, and refuses (both keep the contract: no silent change)
    x, idx = T(ad, X, True), ints(ad, [[0], [2]])
    y = ad.take_along_dim(x, idx, 1)
    idx[0, 0] = 1
    with pytest.raises(ad.InPlaceError, match="its index"):
        y.sum().backward()


# ---------------------------------------------------------------- view of strides no view follows

def test_view_of_a_transposed_tensor_is_refused():
    a = ad.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ad.ShapeError) as caught:
        a.T.view(6)
    message = str(caught.value)
    assert message.startswith("view: ") and "(3, 2)" in message and "reshape" in message
    assert a.T.reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]    # reshape copies
    assert a.view(3, 2).view(-1).tolist() == list(np.arange(6.0))       # contiguous: fine


def test_torch_refuses_the_same_view():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.tensor(np.arange(6.0).reshape(2, 3)).T.view(6)


def test_a_no_grad_view_of_a_changed_base_stays_refused_after_a_use_under_no_grad():
    w = T(ad, X, True)
    with ad.no_grad():
        v = w[0]
        w.add_(1.0)
        assert (v * 2).tolist() == [3.0, -0.3999999999999999, 6.0]    # fine under no_grad
    with pytest.raises(ad.InPlaceError, match=r"^mul: A view was created in no_grad mode"):
        v * 2
    with pytest.raises(ad.InPlaceError, match=r"^mul: A view was created in no_grad mode"):
        v * 2


def test_an_index_changed_between_two_backwards_refuses_the_second():
    x, idx = T(ad, X, True), ints(ad, [0, 1])
    loss = (x[idx] * T(ad, W)).sum()
    loss.backward(retain_graph=True)
    idx[0] = 1
    with pytest.raises(ad.InPlaceError, match="its index"):
        loss.backward()


def test_a_compiled_masked_fill_reads_each_calls_mask():
    # masked_fill_ wrote through a broadcast copy of the mask, which a trace can only
    # keep as a constant: the replays filled the first call's places
    def fill(x, mask):
        y = x.clone()
        y.masked_fill_(mask, 0.0)
        return y.sum()
    for shape in ((4,), (3, 4)):
        compiled = ad.compile(fill)
        x = ad.ones(3, 4)
        for places in ([0], [0, 1, 2], []):
            mask = np.zeros(4, dtype=bool)
            mask[places] = True
            mask = ad.tensor(np.broadcast_to(mask, shape).copy())
            assert compiled(x, mask).item() == fill(x, mask).item() == 12 - 3 * len(places)
        assert compiled.cache_info().replays == 2
