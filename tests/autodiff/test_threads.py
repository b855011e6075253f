"""Gradients accumulated into one leaf from several threads lose nothing (as in torch,
where accumulating into a leaf's .grad is locked). Thread switches are forced as often as
the interpreter allows."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest

import autodiff as ad

THREADS, BACKWARDS = 4, 200


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.parametrize("size", [1, 1 << 18])
def test_backward_from_several_threads_into_one_leaf_loses_nothing(
        size: int, frequent_switches: None) -> None:
    x = ad.zeros(size, dtype=ad.float64, requires_grad=True)
    start = threading.Barrier(THREADS)

    def work(k: int) -> None:
        start.wait()
        for _ in range(BACKWARDS):
            (x * float(k + 1)).sum().backward()          # adds k + 1 to every element

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = BACKWARDS * sum(range(1, THREADS + 1))    # 200 · (1 + 2 + 3 + 4) = 2,000
    np.testing.assert_array_equal(x.grad.numpy(), np.full(size, float(expected)))


def test_one_compiled_function_called_from_several_threads_gives_each_its_gradient(
        frequent_switches: None) -> None:
    """A replay keeps each op's saved arrays between its forward and backward: replays of
    one compiled function take turns, or a thread's backward would read another's x."""
    def cube_grad(x: ad.Tensor) -> ad.Tensor:
        x.grad = None
        (x * x * x).sum().backward()
        return x.grad

    compiled = ad.compile(cube_grad)
    compiled(ad.ones(64, requires_grad=True))
    wrong = []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(BACKWARDS * 2):
            v = rng.standard_normal(64).astype(np.float32)
            got = compiled(ad.tensor(v, requires_grad=True)).numpy()
            if not np.allclose(got, 3 * v * v, rtol=1e-6, atol=0):
                wrong.append(seed)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert compiled.cache_info().replays == THREADS * BACKWARDS * 2
