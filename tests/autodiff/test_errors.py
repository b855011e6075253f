"""Errors a user can act on: each is an autodiff exception (never a bare numpy
traceback) whose message names the operation, the shapes or values, and the fix."""
import re

import numpy as np
import pytest

import autodiff as ad


def raises(error, *fragments):
    """pytest.raises(error) whose message contains every fragment, literally."""
    return pytest.raises(error, match="(?s)" + "".join(f"(?=.*{re.escape(f)})"
                                                       for f in fragments))


@pytest.mark.parametrize("name, op", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
    ("maximum", ad.maximum), ("minimum", ad.minimum),
    ("where", lambda a, b: ad.where(a > 0, a, b)),
])
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(name, op):
    a = ad.ones(2, 3, requires_grad=True)
    b = ad.ones(4, requires_grad=True)
    with raises(ad.ShapeError, f"{name}:", "(2, 3)", "(4,)"):
        op(a, b)


def test_matmul_inner_sizes():
    with raises(ad.ShapeError, "matmul: ", "(3, 4) @ (5, 2): inner sizes 4 and 5 differ"):
        ad.ones(3, 4) @ ad.ones(5, 2)


def test_matmul_suggests_the_transpose():
    with raises(ad.ShapeError, "(64, 784) @ (10, 784)", "inner sizes 784 and 10 differ",
                "did you mean x @ w.T?"):
        ad.zeros(64, 784) @ ad.zeros(10, 784)


def test_matmul_batch_dims_that_do_not_broadcast():
    with raises(ad.ShapeError, "matmul: ", "(2, 3, 4) @ (3, 4, 2)", "(2,) and (3,)"):
        ad.ones(2, 3, 4) @ ad.ones(3, 4, 2)


def test_matmul_of_a_0d_tensor():
    with raises(ad.ShapeError, "matmul: ", "() @ (3,)", "use *"):
        ad.tensor(2.0) @ ad.ones(3)


def test_backward_on_a_non_scalar():
    y = ad.ones(3, requires_grad=True) * 2
    with raises(ad.BackwardError, "backward", "(3,)", "y.sum()", "gradient="):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = ad.ones(3, requires_grad=True) * 2
    with raises(ad.ShapeError, "backward", "(2,)", "(3,)"):
        y.backward(ad.ones(2))


class BadGradient(ad.Function):
    """y = x + 0, whose backward returns a gradient of a shape x never had."""

    @staticmethod
    def forward(ctx, x):
        return x + 0

    @staticmethod
    def backward(ctx, grad):
        return grad[:1]


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1)])
def test_a_backward_returning_the_wrong_shape_names_the_op_and_the_shapes(shape):
    x = ad.ones(*shape, requires_grad=True)
    y = BadGradient.apply(x)
    with raises(ad.BackwardError, "bad_gradient: backward returned a gradient of shape "
                f"{(1,) + shape[1:]} for input 0 of shape {shape}"):
        y.sum().backward()


class BroadcastGradient(ad.Function):
    """y = 2x for x of shape (2, 1), whose backward returns dL/dx broadcast to (3, 2, 4):
    allowed, the engine sums it back (to 3 · 4 · 2 = 24 per element for y.sum())."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad * 2, (3, 2, 4))


def test_a_backward_returning_a_broadcast_gradient_is_summed_back():
    x = ad.ones(2, 1, requires_grad=True)
    BroadcastGradient.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[24.0], [24.0]])


def test_backward_through_a_freed_graph():
    x = ad.ones(3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with raises(ad.BackwardError, "second time", "retain_graph=True"):
        y.backward()


def test_grad_through_a_freed_graph():
    x = ad.ones(3, requires_grad=True)
    y = (x * x).sum()
    ad.grad(y, [x])
    with raises(ad.BackwardError, "retain_graph=True"):
        ad.grad(y, [x])


def test_backward_on_a_tensor_that_does_not_require_grad():
    with raises(ad.BackwardError, "does not require grad", "requires_grad=True"):
        ad.ones(3).sum().backward()
    x = ad.ones(3, requires_grad=True)
    with ad.no_grad():
        y = (x * 2).sum()
    with raises(ad.BackwardError, "does not require grad", "no_grad"):
        y.backward()


def test_grad_with_inputs_or_outputs_that_do_not_require_grad():
    x = ad.ones(2, requires_grad=True)
    with raises(ad.BackwardError, "grad: input 1 does not require grad"):
        ad.grad((x * 2).sum(), [x, ad.ones(2)])
    with raises(ad.BackwardError, "grad: output 0 does not require grad"):
        ad.grad(ad.ones(2).sum(), [x])


def test_an_integer_tensor_asked_to_require_grad():
    with raises(ad.DtypeError, "only floating-point tensors can require grad", "int64",
                "t.float()"):
        ad.tensor([1, 2, 3], requires_grad=True)


def test_data_that_is_not_numbers():
    with raises(ad.DtypeError, "tensor: cannot make a tensor from"):
        ad.tensor({"a": 1})


@pytest.mark.parametrize("name, call", [
    ("sum", lambda x: x.sum(dim=2)), ("sum", lambda x: x.sum(axis=(0, -3))),
    ("mean", lambda x: x.mean(dim=-3)), ("var", lambda x: x.var(dim=5)),
    ("max", lambda x: x.max(dim=2)), ("min", lambda x: x.min(dim=-3)),
    ("argmax", lambda x: x.argmax(dim=2)), ("argmin", lambda x: x.argmin(dim=2)),
    ("logsumexp", lambda x: x.logsumexp(dim=2)), ("softmax", lambda x: x.softmax(dim=2)),
    ("log_softmax", lambda x: x.log_softmax(dim=-3)), ("squeeze", lambda x: x.squeeze(2)),
    ("transpose", lambda x: x.transpose(0, 2)), ("permute", lambda x: x.permute(0, 2)),
    ("flatten", lambda x: x.flatten(0, 2)), ("cat", lambda x: ad.cat([x, x], dim=2)),
])
def test_axis_out_of_range(name, call):
    with raises(ad.ShapeError, f"{name}: dim", "out of range", "2 dimensions", "-2 to 1"):
        call(ad.ones(3, 4, requires_grad=True))


@pytest.mark.parametrize("name, call, allowed", [
    ("unsqueeze", lambda x: x.unsqueeze(3), "-3 to 2"),
    ("stack", lambda x: ad.stack([x, x], dim=-4), "-3 to 2"),
])
def test_axis_out_of_range_for_ops_that_add_a_dim(name, call, allowed):
    with raises(ad.ShapeError, f"{name}: dim", "out of range", allowed):
        call(ad.ones(3, 4))


def test_same_axis_twice():
    with raises(ad.ShapeError, "sum: dim (1, -1) names the same axis twice"):
        ad.ones(3, 4).sum(dim=(1, -1))


def test_max_with_several_dims_explains_what_to_do():
    with raises(ad.ShapeError, "max: with a dim", "(0, 1)", ".max(dim=-1).values"):
        ad.ones(3, 4).max(dim=(0, 1))


@pytest.mark.parametrize("index, fragment", [
    (5, "index 5 is out of bounds for axis 0 with size 3"),
    (-4, "index -4 is out of bounds for axis 0 with size 3"),
    ((0, 2), "index 2 is out of bounds for axis 1 with size 2"),
    ([0, 3], "index 3 is out of bounds for axis 0 with size 3"),
    ((0, 0, 0), "too many indices"),
])
def test_index_out_of_bounds_is_an_index_error_naming_the_shape(index, fragment):
    x = ad.ones(3, 2, requires_grad=True)
    with raises(IndexError, "index: ", fragment, "(3, 2)") as caught:
        x[index]
    assert isinstance(caught.value, ad.AutodiffError)


def test_index_out_of_bounds_with_an_integer_tensor():
    with raises(IndexError, "out of bounds", "(3,)"):
        ad.ones(3)[ad.tensor([0, 7])]


def test_index_with_float_arrays():
    with raises(IndexError, "must hold integers or booleans", "float"):
        ad.ones(3)[ad.tensor([0.0, 1.0])]


def test_boolean_mask_of_the_wrong_shape():
    with raises(IndexError, "index: ", "(3, 2)"):
        ad.ones(3, 2)[np.array([True, False])]


@pytest.mark.parametrize("op, update", [
    ("+=", lambda x: x.__iadd__(1)), ("-=", lambda x: x.__isub__(1)),
    ("*=", lambda x: x.__imul__(2)), ("/=", lambda x: x.__itruediv__(2)),
])
def test_in_place_arithmetic_on_a_tensor_that_requires_grad(op, update):
    x = ad.ones(3, requires_grad=True)
    with raises(ad.InPlaceError, op, "leaf tensor that requires grad", "in-place",
                "no_grad", "x.data"):
        update(x)
    np.testing.assert_array_equal(x.numpy(), [1, 1, 1])          # unchanged


def test_augmented_assignment_statement_raises_too():
    x = ad.ones(3, requires_grad=True)
    with pytest.raises(ad.InPlaceError):
        x += 1


def test_item_assignment_on_a_tensor_that_requires_grad():
    x = ad.ones(3, requires_grad=True)
    with raises(ad.InPlaceError, "setitem", "leaf tensor that requires grad", "no_grad"):
        x[0] = 5.0


def test_in_place_changes_that_are_allowed():
    x = ad.ones(3, requires_grad=True)
    x.numpy()[0] = 5.0                              # bypasses autograd, on purpose
    with ad.no_grad():
        x -= 1                                   # an optimizer step
        x[2] = 7.0
    np.testing.assert_array_equal(x.numpy(), [4.0, 0.0, 7.0])
    c = ad.ones(2)                               # no grad: in-place is fine
    c += 1
    c[0] = 9.0
    np.testing.assert_array_equal(c.numpy(), [9.0, 2.0])


@pytest.mark.parametrize("call, fragments", [
    (lambda: ad.ones(2, 3).reshape(4, 2), ("reshape", "(2, 3)", "6 elements", "(4, 2)")),
    (lambda: ad.ones(2, 3).reshape(-1, 4), ("reshape", "(2, 3)", "(-1, 4)")),
    (lambda: ad.ones(2, 3).expand(4, 3, 3), ("expand", "(2, 3)", "size 2")),
    (lambda: ad.ones(2, 3).expand(3), ("expand", "fewer dimensions")),
    (lambda: ad.cat([ad.ones(2, 3), ad.ones(3, 2)]), ("cat", "(2, 3)", "(3, 2)")),
    (lambda: ad.stack([ad.ones(2), ad.ones(3)]), ("stack", "(2,)", "(3,)")),
    (lambda: ad.ones(2, 3).permute(1, 0, 2), ("permute", "out of range")),
    (lambda: ad.ones(2, 3).permute(1), ("permute", "(1,)", "each of the 2 dimensions")),
    (lambda: ad.ones(2, 3).flatten(1, 0), ("flatten", "start_dim 1", "end_dim 0")),
    (lambda: ad.ones(3).clip(2.0, 1.0), ("clip", "min 2.0 is larger than max 1.0")),
    (lambda: ad.ones(3).item(), ("item", "(3,)")),
    (lambda: ad.ones(0).argmax(), ("argmax", "empty")),
])
def test_shape_mistakes(call, fragments):
    with raises(ad.ShapeError, *fragments):
        call()


def test_hook_returning_the_wrong_shape():
    x = ad.ones(3, requires_grad=True)
    x.register_hook(lambda g: ad.ones(2))
    with raises(ad.ShapeError, "hook", "(2,)", "(3,)"):
        (x * 2).sum().backward()


@pytest.mark.parametrize("call", [
    lambda x: x.register_hook(print), lambda x: x.retain_grad(),
])
def test_hooks_and_retain_grad_need_requires_grad(call):
    with raises(ad.DtypeError, "does not require grad"):
        call(ad.ones(2))


def test_requires_grad_cannot_be_turned_off_on_a_computed_tensor():
    y = ad.ones(2, requires_grad=True) * 2
    with raises(ad.DtypeError, "requires_grad_", "detach()"):
        y.requires_grad_(False)
