"""The gradient checkers (autodiff/gradcheck.py) perturb their inputs in place whatever
their memory layout (Fortran order, transposed views), and always give them back bit for
bit, even when the checked function raises in the middle of a perturbed evaluation."""
import numpy as np
import pytest

import autodiff as ad


def values() -> np.ndarray:
    """A 3×4 float64 array, C-ordered, whose entries are not exact binary fractions
    (so x + ε - ε need not give x back)."""
    return np.linspace(-1.1, 1.3, 12).reshape(3, 4)


def fortran_leaf() -> ad.Tensor:
    x = ad.tensor(np.asfortranarray(values()), requires_grad=True)
    assert x.numpy().flags.f_contiguous and not x.numpy().flags.c_contiguous
    return x


def transposed_view_leaf() -> ad.Tensor:
    base = ad.tensor(values(), requires_grad=True)
    x = ad.from_numpy(base.numpy().T).requires_grad_()
    assert x.numpy().base is base.numpy() and not x.numpy().flags.c_contiguous
    return x


def strided_view_leaf() -> ad.Tensor:
    x = ad.from_numpy(values()[:, 1:3]).requires_grad_()
    assert not x.numpy().flags.c_contiguous and not x.numpy().flags.f_contiguous
    return x


LAYOUTS = [fortran_leaf, transposed_view_leaf, strided_view_leaf]


@pytest.mark.parametrize("make_input", LAYOUTS)
def test_gradcheck_accepts_a_right_derivative_whatever_the_input_layout(make_input):
    x = make_input()
    before = x.numpy().copy()
    assert ad.gradcheck(lambda t: (t * t).sum(1), (x,))
    assert ad.gradcheck(lambda t, c: (t * c).exp(), (x, ad.tensor(np.float64(0.5))))
    np.testing.assert_array_equal(x.numpy(), before)


@pytest.mark.parametrize("make_input", LAYOUTS)
def test_gradgradcheck_accepts_a_right_derivative_whatever_the_input_layout(make_input):
    assert ad.gradgradcheck(lambda t: (t * t * t).sum(0), (make_input(),))


@pytest.mark.parametrize("make_input", LAYOUTS)
def test_gradcheck_still_rejects_a_wrong_derivative_whatever_the_input_layout(
        make_input, wrong_square):
    with pytest.raises(ad.GradcheckError, match="Jacobian mismatch"):
        ad.gradcheck(wrong_square.apply, (make_input(),))


@pytest.mark.parametrize("make_input", LAYOUTS)
def test_gradcheck_graph_accepts_right_ops_on_inputs_of_any_layout(make_input):
    x = make_input()
    y = (x * x).sum(1).tanh().sum()
    assert ad.gradcheck_graph(y) == 4


class Boom(Exception):
    pass


def raising_on_call(n: int):
    """(t * t).sum(1), raising Boom on its n-th call."""
    calls = 0

    def fn(t):
        nonlocal calls
        calls += 1
        if calls == n:
            raise Boom(f"call {n}")
        return (t * t).sum(1)

    return fn


@pytest.mark.parametrize("checker, calls_before_perturbing", [
    (ad.gradcheck, 2),          # backward's Jacobian, then the outputs' sizes
    (ad.gradgradcheck, 3),      # plus gradgradcheck's own look at the outputs
])
@pytest.mark.parametrize("perturbed_call", [1, 2, 5], ids=["plus", "minus", "later"])
def test_checkers_restore_the_input_bit_for_bit_when_the_function_raises(
        checker, calls_before_perturbing, perturbed_call):
    x = ad.tensor(values(), requires_grad=True)
    before = x.numpy().tobytes()
    with pytest.raises(Boom):
        checker(raising_on_call(calls_before_perturbing + perturbed_call), (x,))
    assert x.numpy().tobytes() == before
