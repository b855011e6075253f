"""An optimizer reports the changes made to it from outside its step (`optim.state`,
`Optimizer.__setattr__`, hooks, groups), and its prepared step (`Optimizer.prepared_step`)
gives step()'s numbers, bit for bit, or is refused where it does not apply."""
import copy
import pickle
from collections import defaultdict

import numpy as np
import pytest

import autodiff as ad
import optim
from autodiff import events

from .test_fast_path import IDS, OPTIMIZERS, backward, make_params


def stepped(cls=optim.Adam, steps=2, **kwargs):
    params = make_params(np.float64)
    opt = cls(params, **{"lr": 0.05, **kwargs})
    for _ in range(steps):
        opt.zero_grad()
        backward(params)
        opt.step()
    return params, opt


def counted(change):
    """How many changes `change(params, opt)` reports for a stepped Adam."""
    params, opt = stepped()
    before = events.change_count(opt)
    change(params, opt)
    return events.change_count(opt) - before


def _entry_set(params, opt):
    opt.state[params[0]]["exp_avg"] = np.zeros((3, 4))


def _entries_updated(params, opt):
    opt.state[params[0]].update(step=1)


def _entries_or_ed(params, opt):
    opt.state[params[0]] |= {"step": 1}


def _entry_popped(params, opt):
    opt.state[params[0]].pop("exp_avg")


def _entry_set_by_default(params, opt):
    opt.state[params[0]].setdefault("new", 1)


def _entry_deleted(params, opt):
    del opt.state[params[0]]["exp_avg"]


def _entries_cleared(params, opt):
    opt.state[params[0]].clear()


def _last_entry_popped(params, opt):
    opt.state[params[0]].popitem()


def _entries_replaced(params, opt):
    opt.state[params[0]] = {}


def _entries_deleted(params, opt):
    del opt.state[params[0]]


def _entries_popped(params, opt):
    opt.state.pop(params[0])


def _state_cleared(params, opt):
    opt.state.clear()


def _state_updated(params, opt):
    opt.state.update({params[0]: {}})


def _state_assigned(params, opt):
    opt.state = defaultdict(dict)


def _groups_assigned(params, opt):
    opt.param_groups = list(opt.param_groups)


def _state_loaded(params, opt):
    opt.load_state_dict(opt.state_dict())


def _hook_added(params, opt):
    opt.register_step_pre_hook(lambda *args: None)


def _hook_removed(params, opt):
    handle = opt.register_step_post_hook(lambda *args: None)
    before = events.change_count(opt)
    handle.remove()
    handle.remove()                     # again: nothing to report
    assert events.change_count(opt) == before + 1


def _group_added(params, opt):
    opt.add_param_group({"params": [ad.zeros(2, requires_grad=True)]})


REPORTED = [_entry_set, _entries_updated, _entries_or_ed, _entry_popped,
            _entry_set_by_default, _entry_deleted, _entries_cleared, _last_entry_popped,
            _entries_replaced, _entries_deleted, _entries_popped, _state_cleared,
            _state_updated, _state_assigned, _groups_assigned, _state_loaded, _hook_added,
            _hook_removed, _group_added]


@pytest.mark.parametrize("change", REPORTED, ids=[f.__name__[1:] for f in REPORTED])
def test_every_change_from_outside_is_reported(change):
    assert counted(change) >= 1


def test_reads_a_first_access_and_the_optimizers_own_steps_are_not_reported():
    params, opt = stepped()
    before = events.change_count(opt)
    assert opt.state[params[0]]["step"] == 2 and opt.state[params[0]].get("none") is None
    assert opt.state[ad.zeros(1)] == {}                 # made empty on first access
    assert opt.state[params[1]].setdefault("step", 7) == 2      # present: no write
    for _ in range(3):
        opt.zero_grad()
        backward(params)
        opt.step()
    assert events.change_count(opt) == before
    assert opt.state[params[0]]["step"] == 5


def test_a_step_that_leaves_the_flat_buffers_behind_is_reported():
    params, opt = stepped()
    before = events.change_count(opt)
    opt.zero_grad()
    backward(params, skip=(3,))         # s without gradient: the per-parameter path
    opt.step()
    assert events.change_count(opt) == before + 1
    params, reference = stepped(foreach=False)        # never flat: nothing to leave
    before = events.change_count(reference)
    reference.zero_grad()
    backward(params)
    reference.step()
    assert events.change_count(reference) == before


def test_copies_and_pickles_of_the_state_are_plain_dicts():
    params, opt = stepped()
    entries = opt.state[params[0]]
    for copied in (copy.copy(entries), copy.deepcopy(entries), entries.copy(),
                   pickle.loads(pickle.dumps(entries))):     # noqa: S301 - our own bytes
        assert type(copied) is dict and copied.keys() == entries.keys()
    deep = copy.deepcopy(entries)
    assert deep["exp_avg"] is not entries["exp_avg"]
    np.testing.assert_array_equal(deep["exp_avg"], entries["exp_avg"])
    for whole in (copy.copy(opt.state), copy.deepcopy(opt.state), opt.state.copy()):
        assert type(whole) is defaultdict and whole.default_factory is dict
        assert len(whole) == len(opt.state)
    assert all(type(e) is dict for e in opt.state_dict()["state"].values())
    before = events.change_count(opt)
    copy.deepcopy(opt.state)[params[0]]["step"] = 0     # a copy is not the state
    assert events.change_count(opt) == before and opt.state[params[0]]["step"] == 2


def test_a_dict_stored_as_entries_stays_that_dict():
    params, opt = stepped()
    mine = {"step": 2, "exp_avg": np.zeros((3, 4)), "exp_avg_sq": np.zeros((3, 4))}
    opt.state[params[0]] = mine
    assert opt.state[params[0]] is mine


def twins(cls, kwargs):
    """Two optimizers on equal parameters, stepped twice alike."""
    made = []
    for _ in range(2):
        params = make_params(np.float64)
        opt = cls(params, **kwargs)
        for _ in range(2):
            opt.zero_grad()
            backward(params)
            opt.step()
        made.append((params, opt))
    return made


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=IDS)
def test_the_prepared_step_gives_steps_numbers_bitwise(cls, kwargs):
    (params, opt), (twin, twin_opt) = twins(cls, kwargs)
    prepared = opt.prepared_step()
    assert prepared is not None
    for t in range(6):
        for ps, run in ((params, prepared), (twin, twin_opt.step)):
            ps[0].grad = None
            backward(ps, skip=(3,) if t == 4 else ())     # s without gradient once
            run()
    for p, q in zip(params, twin):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert opt.state[p].keys() == twin_opt.state[q].keys()
        for key, value in twin_opt.state[q].items():
            np.testing.assert_array_equal(opt.state[p][key], value)


def test_the_prepared_step_counts_in_each_parameters_version():
    params, opt = stepped()
    prepared = opt.prepared_step()
    y = params[1] * params[1]           # saves b
    opt.zero_grad()
    backward(params)
    prepared()
    with pytest.raises(ad.InPlaceError):
        y.sum().backward()


def test_where_the_prepared_step_does_not_apply_there_is_none():
    _, hooked = stepped()
    hooked.register_step_pre_hook(lambda *args: None)
    _, reference = stepped(foreach=False)
    _, assigned = stepped()
    assigned.state = defaultdict(dict, assigned.state)
    params, plain = stepped()
    plain.state[params[0]] = dict(plain.state[params[0]])
    params, gradless = stepped()
    params[2].grad = None
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    lbfgs = optim.LBFGS([w])
    for opt in (hooked, reference, assigned, plain, gradless, lbfgs):
        assert opt.prepared_step() is None
    assert stepped()[1].prepared_step() is not None


def deep_copied_steps(lib, name, kwargs):
    """Step an optimizer once, deep-copy it, step the copy three times: the copy's
    parameter and the original's, with autodiff or torch."""
    if lib == "torch":
        torch = pytest.importorskip("torch")
        tensor, make = (lambda v: torch.tensor(v, dtype=torch.float64)), \
            getattr(torch.optim, name)
    else:
        tensor, make = (lambda v: ad.tensor(v, dtype=ad.float64)), getattr(optim, name)
    w = tensor([1.0, 2.0]).requires_grad_()
    opt = make([w], **kwargs)
    w.grad = tensor([1.0, 1.0])
    opt.step()
    twin = copy.deepcopy(opt)
    copied = twin.param_groups[0]["params"][0]
    for _ in range(3):
        copied.grad = tensor([10.0, -3.0])
        twin.step()
    return copied.detach().numpy().tolist(), w.detach().numpy().tolist()


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.1, amsgrad=True)), ("Rprop", dict(lr=0.1)), ("ASGD", dict(lr=0.1))])
def test_a_deep_copied_optimizer_steps_its_copied_parameters_as_torchs(name, kwargs):
    ours, theirs = deep_copied_steps("ad", name, kwargs), deep_copied_steps("torch", name,
                                                                             kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)   # the copy moved
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)   # the original did not
