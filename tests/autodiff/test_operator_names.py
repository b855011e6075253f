"""torch's named comparisons, logical and bitwise functions, narrow and concat: each name
exists as a method and an `ad.` function and gives torch's values and dtypes."""
from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

COMPARISONS = ["gt", "ge", "lt", "le", "ne", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]
A = np.array([-2.0, 0.0, 0.5, 3.0, 3.0])
B = np.array([1.0, 0.0, -0.5, 3.0, 4.0])


def same(ours: ad.Tensor, theirs) -> None:
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", COMPARISONS + LOGICAL)
@pytest.mark.parametrize("other", ["tensor", "number"])
def test_comparisons_and_logical_functions_match_torch(name, other):
    torch = pytest.importorskip("torch")
    b_ours, b_theirs = (ad.tensor(B), torch.tensor(B)) if other == "tensor" else (0.5, 0.5)
    if name in LOGICAL and other == "number":       # torch takes tensors alone there
        b_theirs = torch.tensor(b_theirs)
    same(getattr(ad.tensor(A), name)(b_ours), getattr(torch.tensor(A), name)(b_theirs))
    same(getattr(ad, name)(ad.tensor(A), b_ours), getattr(torch, name)(torch.tensor(A),
                                                                       b_theirs))


def test_comparisons_give_the_operators_answers_without_torch():
    a, b = ad.tensor(A), ad.tensor(B)
    np.testing.assert_array_equal(a.ge(b).numpy(), [False, True, True, True, False])
    np.testing.assert_array_equal(a.ne(b).numpy(), [True, False, True, False, True])
    np.testing.assert_array_equal(ad.logical_and(a, b).numpy(), [True, False, True, True, True])
    np.testing.assert_array_equal(a.logical_not().numpy(), [False, True, False, False, False])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_bitwise_and_logical_not_match_torch(dtype):
    torch = pytest.importorskip("torch")
    a = np.array([5, 0, 3, -1, 6]).astype(dtype)
    b = np.array([3, 0, 1, 2, 6]).astype(dtype)
    for name in BITWISE:
        same(getattr(ad.tensor(a), name)(ad.tensor(b)), getattr(torch.tensor(a), name)(
            torch.tensor(b)))
        same(getattr(ad, name)(ad.tensor(a), ad.tensor(b)),
             getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    same(ad.tensor(a).bitwise_not(), torch.tensor(a).bitwise_not())
    same(ad.logical_not(ad.tensor(a)), torch.logical_not(torch.tensor(a)))


def test_bitwise_functions_refuse_floats_as_torch():
    with pytest.raises(ad.DtypeError, match="&"):
        ad.tensor([1.0]).bitwise_and(ad.tensor([1.0]))


@pytest.mark.parametrize("dim, start, length", [(0, 1, 2), (1, -3, 2), (1, 0, 0), (-1, 4, 0),
                                                (0, -4, 4)])
def test_narrow_matches_torch_and_is_a_view_in_the_graph(dim, start, length):
    x = np.arange(20.0).reshape(4, 5)
    ours = ad.tensor(x, requires_grad=True)
    narrowed = ours.narrow(dim, start, length)
    (narrowed * 2).sum().backward()
    torch = pytest.importorskip("torch")
    theirs = torch.tensor(x, requires_grad=True)
    expected = theirs.narrow(dim, start, length)
    (expected * 2).sum().backward()
    np.testing.assert_array_equal(narrowed.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(ad.narrow(ours, dim, start, length).detach().numpy(),
                                  expected.detach().numpy())


def test_narrow_writes_through_as_a_view():
    x = ad.zeros(3, 4)
    x.narrow(1, 1, 2).fill_(7.0)
    np.testing.assert_array_equal(x.numpy()[:, 1:3], 7.0)
    np.testing.assert_array_equal(x.numpy()[:, [0, 3]], 0.0)


@pytest.mark.parametrize("start, length", [(5, 0), (-5, 1), (2, 4), (0, -1), (6, 0)])
def test_narrow_refuses_a_range_outside_the_dimension(start, length):
    with pytest.raises(ad.ShapeError, match="narrow: start"):
        ad.zeros(3, 4).narrow(1, start, length)


def test_concat_is_cat():
    a, b = ad.tensor([[1.0, 2.0]]), ad.tensor([[3.0, 4.0]])
    np.testing.assert_array_equal(ad.concat([a, b], dim=1).numpy(), [[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(ad.concat([a, b]).numpy(), [[1.0, 2.0], [3.0, 4.0]])
