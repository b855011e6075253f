"""The fast path (each group's parameters, gradients and state in flat buffers) against
the reference path (the update once per parameter): identical numbers, bit for bit, and
stale buffers noticed."""
import copy

import numpy as np
import pytest

import autodiff as ad
import nn
import optim

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.05)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01,
                         initial_accumulator_value=0.1)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.05)),
    (optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.AdamW, dict(lr=0.05, amsgrad=True)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(OPTIMIZERS)]
SHAPES = [(3, 4), (4,), (2, 3), ()]


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [ad.tensor(np.asarray(rng.standard_normal(s)).astype(dtype), requires_grad=True)
            for s in SHAPES]


def backward(params, skip=()):
    """L = Σ (V tanh(W + b))² · σ(s), coupling all four parameters non-linearly.
    skip=(0,) leaves out tanh(W + b) (W and b get no gradient), skip=(3,) leaves out σ(s)."""
    W, b, V, s = params
    total = ((V @ ad.tanh(W + b) if 0 not in skip else V) ** 2).sum()
    if 3 not in skip:
        total = total * ad.sigmoid(s)
    total.backward()


def run(cls, kwargs, foreach, dtype, steps=12, skip_at=None, disturb=None):
    params = make_params(dtype)
    opt = cls(params, **kwargs, foreach=foreach)
    for t in range(steps):
        opt.zero_grad()
        backward(params, skip=skip_at(t) if skip_at else ())
        opt.step()
        if disturb:
            disturb(t, params, opt)
    return params, opt


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_flat_buffers_give_the_reference_paths_numbers_bitwise(cls, kwargs, dtype):
    fast, fast_opt = run(cls, kwargs, None, dtype)
    slow, slow_opt = run(cls, kwargs, False, dtype)
    for p, q in zip(fast, slow):
        assert p.dtype == dtype
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        for key, value in slow_opt.state[q].items():
            np.testing.assert_array_equal(fast_opt.state[p][key], value)
    base = fast[0].numpy().base
    assert base is not None and all(p.numpy().base is base for p in fast)   # one flat buffer
    assert all(p.numpy().base is None for p in slow)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_replaced_parameter_data_and_state_are_picked_up(cls, kwargs):
    def disturb(t, params, opt):
        if t == 3:
            params[0].data = params[0].numpy() * 0.5         # e.g. a user's rescaling
        if t == 6:
            opt.load_state_dict(opt.state_dict())         # new state arrays
        if t == 8:
            params[1].data = params[1].numpy().astype(np.float32).astype(np.float64)
        if t == 9:
            state = opt.state[params[2]]
            for key, value in state.items():             # e.g. a user resetting a buffer
                if isinstance(value, np.ndarray):
                    state[key] = value * 0.5

    fast, _ = run(cls, kwargs, None, np.float64, disturb=disturb)
    slow, _ = run(cls, kwargs, False, np.float64, disturb=disturb)
    for p, q in zip(fast, slow):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert all(p.numpy().base is fast[0].numpy().base for p in fast)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_switching_foreach_off_for_some_steps_changes_nothing(cls, kwargs):
    def switch(t, params, opt):                     # steps 4 and 5 take the reference path
        opt.param_groups[0]["foreach"] = False if t in (3, 4) else None

    fast, _ = run(cls, kwargs, None, np.float64, disturb=switch)
    slow, _ = run(cls, kwargs, False, np.float64)
    for p, q in zip(fast, slow):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_steps_with_missing_gradients_match_the_reference_path(cls, kwargs):
    def skip_at(t):                  # W and b, or s, get no gradient at some steps
        return {0: (0,), 2: (0,), 5: (3,), 6: (0, 3)}.get(t, ())

    fast, _ = run(cls, kwargs, None, np.float64, skip_at=skip_at)
    slow, _ = run(cls, kwargs, False, np.float64, skip_at=skip_at)
    for p, q in zip(fast, slow):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_a_group_of_mixed_dtypes_takes_the_reference_path():
    a = ad.tensor([1.0, 2.0], dtype=ad.float32, requires_grad=True)
    b = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((a * a).sum() + (b * b).sum()).backward()
        opt.step()
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_parameters_share_one_buffer_from_construction():
    params = make_params(np.float32)
    before = [p.numpy().copy() for p in params]
    opt = optim.Adam(params, lr=0.1)
    base = params[0].numpy().base
    assert base is not None and all(p.numpy().base is base for p in params)
    for p, q in zip(params, before):
        np.testing.assert_array_equal(p.numpy(), q)
    weight = params[0].numpy()                     # taken after construction: stays live
    backward(params)
    opt.step()
    assert params[0].numpy() is weight and not np.array_equal(weight, before[0])


def test_an_empty_group_is_allowed():
    a = ad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [], "lr": 0.5}], lr=0.25)
    (a * a).sum().backward()
    opt.step()
    assert a.item() == 0.5


def _saved_then_stepped(change):
    """The GAN-style mistake: a graph saves the weight, `change` happens, opt.step()
    changes the weight in place (rebuilding the flat buffers where `change` calls for
    it), then that graph's backward."""
    lin = nn.Linear(3, 1).double()
    opt = optim.Adam(lin.parameters(), lr=0.1)
    x = ad.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    lin(x).sum().backward()
    opt.step()                                       # one ordinary step
    snapshot = copy.deepcopy(opt.state_dict())
    if change == "p.data":
        lin.weight.data = lin.weight.numpy().copy()
    if change == "double":
        lin.float().double()
    out = (lin(x) ** 2).sum()                        # saves the weight, for x's gradient
    opt.zero_grad()
    lin(x).sum().backward()
    if change == "load_state_dict":
        opt.load_state_dict(snapshot)
    opt.step()
    return out


@pytest.mark.parametrize("change", ["none", "load_state_dict", "p.data", "double"])
def test_a_step_that_rebuilds_the_buffers_still_refuses_a_graph_saved_before_it(change):
    out = _saved_then_stepped(change)
    with pytest.raises(ad.InPlaceError, match="linear: one of the values needed for its "
                                              "gradient .* modified by an inplace"):
        out.backward()


def test_reloading_the_state_keeps_the_parameters_arrays():
    params = make_params(np.float64)
    opt = optim.Adam(params, lr=0.1)
    backward(params)
    opt.step()
    arrays = [p.numpy() for p in params]
    opt.load_state_dict(opt.state_dict())
    backward(params)
    opt.step()
    assert all(p.numpy() is a for p, a in zip(params, arrays))
