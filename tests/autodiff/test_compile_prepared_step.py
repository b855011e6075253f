"""A compiled training step replays `optimizer.step()` as the optimizer's prepared step
(`Optimizer.prepared_step`): the update on its flat buffers, without step()'s checks of
the state. Every change made to the optimizer between calls must give what eager code
gives, bit for bit: the change is reported and the step retraces, or the prepared step
sees it and runs step() itself. Each case runs the same calls eagerly and compiled."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn import functional as F

from .test_compile import _eager_and_compiled

STEPS = 7
X = np.linspace(-1, 1, 24).reshape(6, 4)
Y = np.linspace(0, 1, 12).reshape(6, 2)


def _first_array(entries: dict[str, Any]) -> str:
    """The key of the first array in a parameter's state (exp_avg, momentum_buffer)."""
    return next(key for key, value in entries.items() if isinstance(value, np.ndarray))


def _entry_replaced(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    entries = opt.state[model.weight]
    entries[_first_array(entries)] = np.full((2, 4), 0.25)


def _entry_edited_in_place(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    entries = opt.state[model.weight]
    entries[_first_array(entries)][...] = 0.5


def _entries_as_a_plain_dict(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.state[model.bias] = dict(opt.state[model.bias])


def _state_cleared(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.state.clear()


def _state_assigned(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.state = defaultdict(dict)


def _entries_deleted(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    del opt.state[model.bias]           # it starts again: the states now disagree


def _state_loaded(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    saved = opt.state_dict()
    for entries in saved["state"].values():
        key = _first_array(entries)
        entries[key] = entries[key] * 0.5
    opt.load_state_dict(saved)


def _pre_hook_added(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    def halve_grads(optimizer: Any, args: Any, kwargs: Any) -> None:
        for p in model.parameters():
            p.grad = p.grad * 0.5
    opt.register_step_pre_hook(halve_grads)


def _param_group_added(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.add_param_group({"params": extra.parameters(), "lr": 0.05})


def _param_appended_to_the_list(opt: optim.Optimizer, model: nn.Module, extra: nn.Module
                                ) -> None:
    extra.weight.grad = ad.ones_like(extra.weight)
    opt.param_groups[0]["params"].append(extra.weight)


def _group_replaced(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.param_groups[0] = {**opt.param_groups[0], "lr": 0.2}


def _lr_changed(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    opt.param_groups[0]["lr"] = 0.01


def _data_replaced(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    model.weight.data = model.weight.numpy() * 0.5


def _to_float32(opt: optim.Optimizer, model: nn.Module, extra: nn.Module) -> None:
    model.float()


CHANGES: dict[str, Callable[[optim.Optimizer, nn.Module, nn.Module], None]] = {
    "a state entry replaced": _entry_replaced,
    "a state entry edited in place": _entry_edited_in_place,
    "a parameter's entries deleted": _entries_deleted,
    "a parameter's entries stored as a plain dict": _entries_as_a_plain_dict,
    "the state cleared": _state_cleared,
    "the state assigned": _state_assigned,
    "the state loaded": _state_loaded,
    "a step pre-hook added": _pre_hook_added,
    "a parameter group added": _param_group_added,
    "a parameter appended to a group's list": _param_appended_to_the_list,
    "a group replaced in the list": _group_replaced,
    "the learning rate changed": _lr_changed,
    "a parameter's array replaced": _data_replaced,
    "the model cast to float32": _to_float32,
}


def training_step(model: nn.Module, opt: optim.Optimizer) -> Callable[..., ad.Tensor]:
    """The step every case runs: zero_grad, the MSE of model(x) against y, backward, step."""
    def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _training(change: str, make_optimizer: Callable[..., optim.Optimizer]
              ) -> Callable[[Callable[..., Any]], list[Any]]:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        ad.manual_seed(0)
        model, extra = nn.Linear(4, 2).double(), nn.Linear(4, 2).double()
        opt = make_optimizer(model.parameters())
        x, y = ad.tensor(X), ad.tensor(Y)
        f, out = wrap(training_step(model, opt)), []
        for i in range(STEPS):
            if i == 3:
                CHANGES[change](opt, model, extra)
                if model.weight.dtype != x.dtype:
                    x, y = x.to(model.weight.dtype), y.to(model.weight.dtype)
            out.append(f(x, y).item())
        return out + [p.numpy().tolist() for p in [*model.parameters(), *extra.parameters()]]

    return run


OPTIMIZERS = {"Adam": lambda params: optim.Adam(params, lr=0.1),
              "RMSprop": lambda params: optim.RMSprop(params, lr=0.01),
              "SGD with momentum": lambda params: optim.SGD(params, lr=0.1, momentum=0.9)}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("change", CHANGES)
def test_a_change_to_the_optimizer_between_replays_gives_what_eager_gives(
        change: str, optimizer: str) -> None:
    eager, compiled, f = _eager_and_compiled(_training(change, OPTIMIZERS[optimizer]))
    assert compiled == eager
    assert f.cache_info().replays >= 3


def test_the_step_replays_prepared_and_a_reported_change_retraces() -> None:
    ad.manual_seed(0)
    model = nn.Linear(4, 2).double()
    opt = optim.Adam(model.parameters(), lr=0.1)
    step = ad.compile(training_step(model, opt))
    x, y = ad.tensor(X), ad.tensor(Y)
    for _ in range(3):
        step(x, y)
    assert "adam_step()" in step.source and "adam.step()" not in step.source
    assert step.cache_info()[:2] == (1, 2)
    opt.state[model.bias]["exp_avg"] = np.zeros(2)
    step(x, y)
    info = step.cache_info()
    assert info[:2] == (2, 2)
    assert info.last_retrace.startswith("the Adam changed: its state was loaded or written")


def test_a_step_whose_gradients_come_from_outside_runs_step_when_one_is_missing() -> None:
    def run(wrap: Callable[..., Any]) -> list[Any]:
        w = ad.tensor([1.0, -2.0], dtype=ad.float64, requires_grad=True)
        b = ad.tensor([0.5], dtype=ad.float64, requires_grad=True)
        opt = optim.Adam([w, b], lr=0.1)
        f = wrap(lambda: opt.step())
        for i in range(6):
            opt.zero_grad()
            loss = (w * w).sum() + ((b * 3).sum() if i != 3 else 0)
            loss.backward()
            f()
        return [w.numpy().tolist(), b.numpy().tolist(), opt.state[b]["step"]]

    eager, compiled, f = _eager_and_compiled(run)
    assert compiled == eager
    assert eager[2] == 5                        # b had no gradient once: not stepped
    info = f.cache_info()
    assert (info.traces, info.replays) == (2, 4)     # the step counts now differ
    assert info.last_retrace.startswith("the Adam changed")


def test_a_step_with_hooks_or_its_own_step_replays_the_call() -> None:
    ad.manual_seed(0)
    model = nn.Linear(4, 2).double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.register_step_post_hook(lambda optimizer, args, kwargs: None)
    step = ad.compile(training_step(model, opt))
    step(ad.tensor(X), ad.tensor(Y))
    assert "sgd.step()" in step.source and "sgd_step" not in step.source


def test_an_optimizer_holding_a_parameter_without_gradient_replays_without_retracing() -> None:
    ad.manual_seed(0)
    model, unused = nn.Linear(4, 2).double(), nn.Linear(4, 2).double()
    opt = optim.Adam([*model.parameters(), *unused.parameters()], lr=0.1)
    step = ad.compile(training_step(model, opt))
    x, y = ad.tensor(X), ad.tensor(Y)
    for _ in range(5):
        step(x, y)
    assert step.cache_info()[:2] == (1, 4)
    assert "adam.step()" in step.source        # step() itself: its per-parameter path
