"""The gradient checkers themselves (autodiff/gradcheck.py): gradcheck and gradgradcheck
catch wrong derivatives and say where, gradcheck_graph names the wrong op of a built
graph, and detect_anomaly names the op that first produced NaN or inf."""
import re
import sys

import numpy as np
import pytest

import autodiff as ad


class FrozenSquare(ad.Function):
    """y = x² with dy/dx = 2x right, but 2x kept as a constant: its own derivative
    (the second derivative, 2) is lost, which only gradgradcheck can see."""

    @staticmethod
    def forward(ctx, x):
        ctx.two_x = 2 * x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.two_x


class WrongScale(ad.Function):
    """y = x · c for a constant tensor c, with a wrong dL/dx = 3c (the right one is c)."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(c)
        return x * c

    @staticmethod
    def backward(ctx, grad):
        c, = ctx.saved_tensors
        return grad * 3 * c, None


class ScalarGradient(ad.Function):
    """y = 2x, whose backward returns a 0-d gradient for a 1-d input: a wrong shape."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return (grad * 2).sum()


def float64_leaf(*values):
    return ad.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def numbers_after(word, message):
    return float(re.search(rf"{word} (-?[\d.e+-]+)", message).group(1))


def test_gradcheck_passes_right_derivatives_with_several_inputs_and_outputs():
    a, b = float64_leaf(0.5, -1.0, 2.0), float64_leaf(1.5)
    assert ad.gradcheck(lambda s, t: (s * t, (s + t).tanh(), (s ** 2).sum()), (a, b))
    assert ad.gradgradcheck(lambda s, t: (s * t).exp(), (a, b))


def test_gradcheck_reports_input_worst_element_values_and_tolerance(wrong_square):
    x = float64_leaf(1.0, 2.0, -0.5)
    with pytest.raises(ad.GradcheckError) as caught:
        ad.gradcheck(wrong_square.apply, (x,))
    message = str(caught.value)
    assert "output 0 with respect to input 0" in message
    assert "d output[1] / d input[1]" in message                  # the worst: x = 2
    assert numbers_after("analytical", message) == pytest.approx(6.0)      # 3x
    assert numbers_after("numerical", message) == pytest.approx(4.0, rel=1e-6)  # 2x
    assert numbers_after("tolerance", message) == pytest.approx(1e-5 + 1e-3 * 4, rel=1e-2)
    assert "atol 1e-05" in message and "rtol 0.001" in message


def test_gradcheck_names_the_input_and_output_that_are_wrong(wrong_square):
    a, b = float64_leaf(1.0, 2.0), float64_leaf(3.0, 0.5)
    with pytest.raises(ad.GradcheckError, match="output 1 with respect to input 1"):
        ad.gradcheck(lambda s, t: (s * t, s + wrong_square.apply(t)), (a, b))


def test_gradcheck_can_return_false_instead_of_raising(wrong_square):
    x = float64_leaf(1.0)
    assert ad.gradcheck(wrong_square.apply, (x,), raise_exception=False) is False
    assert ad.gradcheck(lambda t: t * t, (x,), raise_exception=False) is True


def test_gradcheck_warns_on_float32_inputs():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        assert ad.gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2)


def test_gradcheck_skips_inputs_that_do_not_require_grad(wrong_square):
    x, c = float64_leaf(1.0, 2.0), ad.tensor(np.array([3.0, 4.0]))
    assert ad.gradcheck(lambda t, k: wrong_square.apply(k) + t * k, (x, c))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = float64_leaf(1.0, -2.0)
    assert ad.gradcheck(FrozenSquare.apply, (x,))
    with pytest.raises(ad.GradcheckError, match="Jacobian mismatch"):
        ad.gradgradcheck(FrozenSquare.apply, (x,))


def test_gradcheck_graph_checks_every_op_of_a_right_graph():
    x = float64_leaf(0.5, 1.5)
    w = float64_leaf(2.0, -1.0)
    y = ((x * w).tanh().exp() + x.sigmoid()).sum()
    assert ad.gradcheck_graph(y) == 6                # mul, tanh, exp, sigmoid, add, sum


def test_gradcheck_graph_names_the_wrong_op(wrong_square):
    x = float64_leaf(0.5, 1.5)
    y = wrong_square.apply(x.exp()).tanh().sum()
    with pytest.raises(ad.GradcheckError, match=r"^wrong_square\b.*: backward disagrees "
                                                r"with finite differences; input 0, element \["):
        ad.gradcheck_graph(y)


def test_gradcheck_graph_names_the_line_under_detect_anomaly(wrong_square):
    x = float64_leaf(0.5, 1.5)
    with ad.detect_anomaly():
        line = sys._getframe().f_lineno + 1
        y = wrong_square.apply(x.exp()).tanh().sum()
    with pytest.raises(ad.GradcheckError, match=rf"wrong_square \(created at .*test_gradcheck"
                                                rf"\.py:{line}\)"):
        ad.gradcheck_graph(y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the NaN/inf are the point
def test_detect_anomaly_names_the_op_whose_forward_gives_nan():
    x = ad.tensor([1.0, -1.0], requires_grad=True)
    y = x.log()                                      # without it: NaN, no error
    assert np.isnan(y.numpy()[1])
    with ad.detect_anomaly():
        line = sys._getframe().f_lineno + 2
        with pytest.raises(ad.AnomalyError) as caught:
            (x * 2).log()
    message = str(caught.value)
    assert message.startswith("log: forward produced NaN")
    assert f"test_gradcheck.py:{line}" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the NaN/inf are the point
def test_detect_anomaly_names_the_op_whose_backward_gives_inf():
    x = ad.tensor([0.0, 4.0], requires_grad=True)
    with ad.detect_anomaly():
        line = sys._getframe().f_lineno + 1
        y = (x.sqrt() * 3).sum()                     # √0 is fine, its derivative is not
        with pytest.raises(ad.AnomalyError) as caught:
            y.backward()
    message = str(caught.value)
    assert message.startswith("sqrt: backward produced inf")
    assert f"test_gradcheck.py:{line}" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the NaN/inf are the point
def test_detect_anomaly_is_off_afterwards():
    with ad.detect_anomaly():
        pass
    x = ad.tensor([-1.0], requires_grad=True)
    assert np.isnan(x.log().numpy()[0])


# ---------------------------------------------------------------- functions using autograd inside


def tripled_by_a_hook(t):
    y = t * 2
    y.register_hook(lambda g: g * 3)          # dL/dt becomes 6, the function's slope is 2
    return y


def watched_by_a_hook(t):
    y = t.tanh()
    y.register_hook(lambda g: None)           # a hook that only looks: the gradient is right
    return y * t


def retaining_a_wrong_op(t):
    y = WrongScale.apply(t, ad.tensor(np.array([2.0, 5.0])))
    y.retain_grad()
    return y


def derivative_inside(t):
    g, = ad.grad((t ** 3).sum(), [t], create_graph=True)      # 3t², itself checked
    return g


def wrong_op_with_constants(t):
    c = ad.tensor(np.array([2.0, 5.0]))                         # does not require grad
    y = WrongScale.apply(t * 1, c) + c
    y.register_hook(lambda g: None)
    return y


@pytest.mark.parametrize("fn, right", [
    (tripled_by_a_hook, False), (watched_by_a_hook, True), (retaining_a_wrong_op, False),
    (derivative_inside, True), (wrong_op_with_constants, False),
])
def test_gradcheck_gives_a_verdict_on_functions_that_use_autograd_inside(fn, right):
    x = float64_leaf(1.0, 2.0)
    assert ad.gradcheck(fn, (x,), raise_exception=False) is right
    if right:
        assert ad.gradcheck(fn, (x,))
    else:
        with pytest.raises(ad.GradcheckError, match="output 0 with respect to input 0"):
            ad.gradcheck(fn, (x,))


def test_gradcheck_reports_a_backward_that_returns_the_wrong_shape():
    x = float64_leaf(1.0, 2.0)
    assert ad.gradcheck(ScalarGradient.apply, (x,), raise_exception=False) is False
    with pytest.raises(ad.GradcheckError, match=r"backward failed.*scalar_gradient: backward "
                                                r"returned a gradient of shape \(\) for input "
                                                r"0 of shape \(2,\)"):
        ad.gradcheck(ScalarGradient.apply, (x,))
    assert ad.gradgradcheck(ScalarGradient.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_gives_a_verdict_on_functions_that_use_autograd_inside():
    x = float64_leaf(0.5, -1.5)
    assert ad.gradgradcheck(watched_by_a_hook, (x,))
    assert ad.gradgradcheck(derivative_inside, (x,))             # third derivatives

    def detached_by_a_hook(t):
        y = t.tanh()
        y.register_hook(lambda g: g.detach())    # the first derivative loses d(dL/dy)/dv
        return y * t

    assert ad.gradcheck(detached_by_a_hook, (x,))
    assert ad.gradgradcheck(detached_by_a_hook, (x,), raise_exception=False) is False
    with pytest.raises(ad.GradcheckError, match="Jacobian mismatch"):
        ad.gradgradcheck(detached_by_a_hook, (x,))


def test_gradgradcheck_pairs_each_output_with_its_own_gradient():
    x = float64_leaf(0.5, -1.5)
    constant = ad.tensor(np.array(1.0))                         # needs no gradient
    assert ad.gradgradcheck(lambda t: (constant, t ** 3), (x,))
    assert ad.gradgradcheck(lambda t: (constant, FrozenSquare.apply(t)), (x,),
                            raise_exception=False) is False
