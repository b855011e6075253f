"""The benchmarks compare like with like: the hand-written numpy versions compute the
same numbers as the library's, step by step, and the target report reads ratios right."""
import numpy as np
import pytest

from benchmarks import __main__ as bench
from benchmarks import by_hand, compiled, with_autodiff, workloads


def same_start(ours, hand):
    """Copy the hand-written net's initial weights into the library's net."""
    for param, value in zip(ours.model.parameters(), hand.adam.params, strict=True):
        param.numpy()[...] = value


def test_regression_by_hand_is_the_same_math_as_the_library():
    hand, ours = by_hand.RegressionNet(seed=0), with_autodiff.RegressionNet(seed=0)
    same_start(ours, hand)
    for x, y in workloads.regression_batches(seed=0, steps=40):     # past flushes at 16, 32
        assert ours.train_step(x, y) == pytest.approx(hand.train_step(x, y), rel=1e-5)
    for param, value in zip(ours.model.parameters(), hand.adam.params):
        np.testing.assert_allclose(param.numpy(), value, rtol=1e-5, atol=1e-6)


def test_mnist_by_hand_is_the_same_math_as_the_library():
    rng = np.random.default_rng(0)
    hand, ours = by_hand.MnistNet(seed=0), with_autodiff.MnistNet(seed=0)
    same_start(ours, hand)
    for _ in range(20):
        x = rng.random((15, 784), dtype=np.float32)
        y = rng.integers(0, 10, 15)
        assert ours.train_step(x, y) == pytest.approx(hand.train_step(x, y), rel=1e-5)
    x = rng.random((50, 784), dtype=np.float32)
    logits = hand.logits(x)                            # ours ends in LogSoftmax
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ours.logits(x), log_probs, rtol=1e-4, atol=1e-5)


def test_cnn_by_hand_is_the_same_math_as_the_library():
    """The hand-written im2col CNN and the library's Conv2d/MaxPool2d net give the same
    losses step by step from the same weights, and the same logits after training."""
    rng = np.random.default_rng(1)
    hand, ours = by_hand.CnnNet(seed=0), with_autodiff.CnnNet(seed=0)
    assert (hand.channels, hand.kernel) == (ours.channels, ours.kernel)
    same_start(ours, hand)
    for _ in range(5):
        x = rng.random((8, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 8)
        assert ours.train_step(x, y) == pytest.approx(hand.train_step(x, y), rel=1e-5)
    for param, value in zip(ours.model.parameters(), hand.adam.params):
        np.testing.assert_allclose(param.numpy(), value, rtol=1e-4, atol=1e-6)
    x = rng.random((6, 1, 28, 28), dtype=np.float32)
    logits = hand.logits(x)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ours.logits(x), log_probs, rtol=1e-4, atol=1e-5)


def test_by_hand_pooling_breaks_ties_like_the_library():
    """Both give a window's gradient to its first maximum in row-major order."""
    a = np.array([[[[1.0, 1.0], [1.0, 0.0]]]], dtype=np.float32)
    pooled, masks = by_hand.max_pool_2x2(a)
    grad = by_hand.max_unpool_2x2(np.full_like(pooled, 3.0), masks)
    np.testing.assert_array_equal(grad, [[[[3.0, 0.0], [0.0, 0.0]]]])


def test_phases_split_a_step_and_count_the_graph():
    batches = workloads.regression_batches(seed=0, steps=50)
    ours = workloads.autodiff_phases(with_autodiff.RegressionNet(seed=0), batches)
    hand = workloads.by_hand_phases(by_hand.RegressionNet(seed=0), batches)
    assert set(ours) == {"forward", "backward", "step"}
    assert set(hand) == {"forward + backward", "step"}
    assert all(value > 0 for value in [*ours.values(), *hand.values()])


def test_target_report_reads_both_kinds_of_ratio():
    best = {"mnist-15": {"autodiff": {"us_per_step": 300.0}, "numpy": {"us_per_step": 200.0},
                         "torch": {"us_per_step": 900.0}},
            "regression": {"autodiff": {"us_per_step": 100.0}, "torch": {"us_per_step": 390.0},
                           "micrograd": {"us_per_step": 250.0}}}
    report, missed = bench.target_report(best)
    assert ("autodiff = 1.50× numpy: NOT met (needs autodiff ≤ 260 µs/step: 40 µs or 13.3% "
            "less") in report
    assert "torch = 3.00× autodiff: met" in report
    assert "torch = 3.90× autodiff: NOT met (needs autodiff ≤ 98 µs/step" in report
    assert "micrograd = 2.50× autodiff: met" in report
    assert "mnist-128: autodiff or numpy not measured" in report
    assert missed == [("mnist-15", "autodiff"), ("regression", "autodiff")]


def test_target_report_checks_the_compiled_variant_and_its_tracing_cost():
    best = {"xor": {"autodiff": {"us_per_step": 80.0, "first_step_us": 10_000.0},
                    "compiled": {"us_per_step": 40.0, "first_step_us": 32_000.0},
                    "torch": {"us_per_step": 220.0}},
            "regression": {"autodiff": {"us_per_step": 80.0, "first_step_us": 100.0},
                           "compiled": {"us_per_step": 40.0, "first_step_us": 19_000.0}}}
    report, missed = bench.target_report(best)
    assert "xor: torch ≥ 5.0× slower than compiled: torch = 5.50× compiled: met" in report
    assert ("xor: compiled first call (the trace) ≤ 3.0× eager's first step or ≤ 20 ms: "
            "3.20×, 32.0 ms: NOT met (400.00× a warm eager step)") in report
    assert ("regression: compiled first call (the trace) ≤ 3.0× eager's first step or ≤ "
            "20 ms: 190.00×, 19.0 ms: met") in report
    assert missed == []


@pytest.mark.parametrize("name", ["MnistNet", "RegressionNet", "XorNet"])
def test_the_compiled_variant_trains_as_the_eager_one_bit_for_bit(name):
    eager, ours = getattr(with_autodiff, name)(seed=0), getattr(compiled, name)(seed=0)
    rng = np.random.default_rng(0)
    features = {"MnistNet": 784, "RegressionNet": 1, "XorNet": 2}[name]
    for _ in range(5):
        x = rng.random((4, features), dtype=np.float32)
        y = rng.integers(0, 10, 4) if name == "MnistNet" else \
            rng.random((4, 1), dtype=np.float32).round()
        assert ours.train_step(x, y) == eager.train_step(x, y)
    assert ours.step.cache_info().replays == 4
