"""Optimizers in different threads do not share state: six threads, each training its own
model with its own optimizer, end with exactly the weights the same training gives when
run alone. Thread switches are forced every microsecond so that any buffer shared between
optimizers (such as a module-level scratch array) is overwritten mid-update."""
import sys
import threading

import numpy as np
import pytest

import autodiff as ad
import nn
import optim

STEPS = 200
THREADS = [(seed, (np.float32, np.float64)[seed % 2]) for seed in range(6)]
OPTIMIZERS = [
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, foreach=False)),
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.1)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(OPTIMIZERS)]


def make_model(seed, dtype):
    """An 8-16-8 tanh MLP and its data, all drawn from `seed` (no global random state)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 8))
    for p in model.parameters():
        p.data = rng.standard_normal(p.shape).astype(dtype)
    x = ad.tensor(rng.standard_normal((32, 8)).astype(dtype))
    y = ad.tensor(rng.standard_normal((32, 8)).astype(dtype))
    return model, x, y


def train(cls, kwargs, model, x, y):
    """STEPS full-batch steps of mean squared error; returns the final weights."""
    opt = cls(model.parameters(), **kwargs)
    loss_fn = nn.MSELoss()
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_threads_training_separate_models_get_the_single_threaded_weights(cls, kwargs):
    alone = [train(cls, kwargs, *make_model(seed, dtype)) for seed, dtype in THREADS]
    models = [make_model(seed, dtype) for seed, dtype in THREADS]
    results, errors = [None] * len(THREADS), []
    start = threading.Barrier(len(THREADS))

    def worker(i):
        try:
            start.wait()
            results[i] = train(cls, kwargs, *models[i])
        except BaseException as error:      # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(THREADS))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    if errors:
        raise errors[0]
    for i, (expected, got) in enumerate(zip(alone, results)):
        for p, q in zip(expected, got):
            assert q.dtype == p.dtype
            np.testing.assert_array_equal(q, p, err_msg=f"thread {i} ({THREADS[i]})")
