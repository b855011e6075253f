"""Random numbers as torch draws them: generators of one's own (`ad.Generator`), the
`generator=` argument, and the sampling functions (randperm, multinomial, normal,
bernoulli, randint's two forms)."""
import numpy as np
import pytest

import autodiff as ad
import nn.functional as F


def draws(generator):
    return [ad.rand(3, generator=generator).tolist(), ad.randn(2, generator=generator).tolist(),
            ad.randint(0, 10, (4,), generator=generator).tolist(),
            ad.randperm(5, generator=generator).tolist(),
            ad.multinomial(ad.tensor([0.1, 0.6, 0.3]), 2, generator=generator).tolist(),
            ad.normal(0.0, 2.0, (3,), generator=generator).tolist(),
            ad.ones(4).normal_(generator=generator).tolist()]


def test_a_generator_seeded_alike_draws_alike_and_leaves_the_default_alone():
    ad.manual_seed(1)
    before = ad.rand(2).tolist()
    ad.manual_seed(1)
    first = draws(ad.Generator().manual_seed(42))
    assert ad.rand(2).tolist() == before              # the default generator was not used
    assert draws(ad.Generator().manual_seed(42)) == first
    assert draws(ad.Generator().manual_seed(43)) != first


def test_generator_state_and_seeds():
    g = ad.Generator().manual_seed(7)
    assert g.initial_seed() == 7
    state = g.get_state()
    a = ad.rand(3, generator=g).tolist()
    g.set_state(state)
    assert ad.rand(3, generator=g).tolist() == a
    assert isinstance(ad.manual_seed(3), ad.Generator) and ad.initial_seed() == 3
    with pytest.raises(ad.DeviceError):
        ad.Generator(device="cuda")


def test_randint_takes_torchs_two_forms():
    ad.manual_seed(0)
    high_only = ad.randint(3, (1000,))
    both = ad.randint(5, 8, size=(1000,))
    assert set(high_only.tolist()) == {0, 1, 2} and set(both.tolist()) == {5, 6, 7}
    assert high_only.dtype == np.int64
    with pytest.raises(ad.DomainError, match="randint"):
        ad.randint(5, 2, (3,))
    assert ad.randint_like(ad.zeros(2, 3), 4).shape == (2, 3)


def test_randperm_is_a_permutation():
    assert sorted(ad.randperm(50).tolist()) == list(range(50))


def test_multinomial_draws_in_proportion_and_without_replacement_once_each():
    g = ad.Generator().manual_seed(0)
    samples = ad.multinomial(ad.tensor([1.0, 3.0, 0.0, 6.0]), 20000, replacement=True,
                             generator=g)
    share = np.bincount(samples.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(share, [0.1, 0.3, 0.0, 0.6], atol=0.015)
    rows = ad.multinomial(ad.tensor([[1.0, 1.0, 1.0], [2.0, 5.0, 1.0]]), 3, generator=g)
    assert rows.shape == (2, 3) and all(sorted(r) == [0, 1, 2] for r in rows.tolist())
    assert rows.dtype == np.int64
    with pytest.raises(ad.DomainError, match="without replacement"):
        ad.multinomial(ad.tensor([1.0, 1.0]), 3)
    with pytest.raises(ad.DomainError, match="without replacement"):
        ad.multinomial(ad.tensor([0.0, 5.0, 1.0]), 3)
    with pytest.raises(ad.DomainError, match="non-negative"):
        ad.multinomial(ad.tensor([1.0, -1.0]), 1)


def test_normal_and_bernoulli_statistics():
    g = ad.Generator().manual_seed(1)
    x = ad.normal(ad.full((100000,), 3.0), ad.full((100000,), 0.5), generator=g)
    assert abs(x.numpy().mean() - 3) < 0.01 and abs(x.numpy().std() - 0.5) < 0.01
    assert x.dtype == np.float32 and ad.normal(0.0, 1.0, (2, 3)).shape == (2, 3)
    b = ad.bernoulli(ad.full((100000,), 0.25), generator=g)
    assert set(np.unique(b.numpy())) == {0.0, 1.0} and abs(b.numpy().mean() - 0.25) < 0.01


@pytest.mark.parametrize("p", [[0.5, 2.0], [-0.1], [float("nan")]])
def test_bernoulli_refuses_probabilities_outside_0_1_as_torch(p):
    with pytest.raises(ad.DomainError, match=r"bernoulli: every probability must lie in"):
        ad.bernoulli(ad.tensor(p))
    with pytest.raises(ad.DomainError, match=r"bernoulli_: every probability must lie in"):
        ad.zeros(len(p)).bernoulli_(ad.tensor(p))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        torch.bernoulli(torch.tensor(p))


def test_empty_is_zero_filled_of_the_shape_asked():
    assert ad.empty(2, 3).tolist() == [[0.0] * 3] * 2 and ad.empty_like(ad.ones(4)).shape == (4,)


def test_torch_dropout_and_nn_dropout_draw_one_mask_alike():
    """ad.dropout (torch.dropout) and nn.functional.dropout share one mask function."""
    x = ad.ones(1000)
    ad.manual_seed(3)
    ours = ad.dropout(x, 0.3).numpy()
    ad.manual_seed(3)
    np.testing.assert_array_equal(ours, F.dropout(x, 0.3).numpy())
    assert set(np.unique(ours)) == {0.0, np.float32(1 / 0.7)}
    assert 250 < (ours == 0).sum() < 350
    np.testing.assert_array_equal(ad.dropout(x, 1.0).numpy(), np.zeros(1000))
    assert ad.dropout(x, 0.3, train=False) is x
