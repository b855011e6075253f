"""Learning-rate schedules (mirrors torch.optim.lr_scheduler).

A scheduler sets each parameter group's "lr" from its initial value lr₀ and a count t
of `step()` calls (`last_epoch`): call `scheduler.step()` once per epoch (or per batch)
after `optimizer.step()`. The table gives the lr each schedule sets when it alone drives
the optimizer:

    StepLR *            lr₀ · γ^⌊t / step_size⌋
    ExponentialLR *     lr₀ · γᵗ
    ConstantLR *        lr₀ · factor while t < T, then lr₀
    LambdaLR            lr₀ · λ(t)
    MultiplicativeLR *  lr₀ · λ(1) · λ(2) ⋯ λ(t)
    CosineAnnealingLR * η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2
    MultiStepLR *       lr₀ · γ^(number of milestones <= t)
    LinearLR *          lr₀ · (s + (e − s) · min(t, T) / T)
    PolynomialLR *      lr₀ · (1 − min(t, T) / T)^p
    CosineAnnealingWarmRestarts   the cosine, restarted after T₀, T₀·T_mult, ... steps
    OneCycleLR          up from max_lr/div_factor to max_lr, then down to a tiny lr
    CyclicLR            triangles between base_lr and max_lr, up and down again
    ReduceLROnPlateau * lr · factor when the metric passed to step() stops improving
    ExponentialDecayLR  lr₀ · exp(−k t)         the notes' exponential annealing
    InverseTimeDecayLR  lr₀ / (1 + k t)         the notes' 1/t annealing
    SequentialLR        schedulers[i] from t = milestones[i − 1] on, restarted at its t = 0
    ChainedScheduler    every scheduler's step() in turn

As in PyTorch, the schedules marked * step *chainably*: each step moves the lr the group
holds now (StepLR: lr ← lr · γ every step_size steps) instead of recomputing it from lr₀,
so two of them on one optimizer compose. `ChainedScheduler([ConstantLR(opt, factor=0.5),
ExponentialLR(opt, gamma=0.9)])` gives lr₀ · 0.5 · 0.9ᵗ for t < 5, then lr₀ · 0.9ᵗ; an lr
set by hand carries on the same way. The others set the lr from lr₀ and t alone, so the one
of them that steps last decides it. A chainable schedule's formula in the table is its
`_get_closed_form_lr()`, which `SequentialLR` uses to restart it at a milestone.

>>> import autodiff as ad, optim
>>> opt = optim.SGD([ad.zeros(3, requires_grad=True)], lr=0.1)
>>> schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> for epoch in range(5):
...     opt.step()                        # (a real loop trains an epoch here)
...     schedule.step()
...     print(schedule.get_last_lr())
[0.1]
[0.05]
[0.05]
[0.025]
[0.025]
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from autodiff import events

from .optimizer import Optimizer

__all__ = ["ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
           "CyclicLR", "ExponentialDecayLR", "ExponentialLR", "InverseTimeDecayLR",
           "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR",
           "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR"]


class LRScheduler:
    """Base class: after each `step()`, every group's lr is `get_lr()`'s value at t.

    A schedule defines `get_lr()`: the lr at t from lr₀ and t, or, for a chainable one, from
    the group's current lr (then `_get_closed_form_lr()` gives the formula from lr₀ and t).

    Args:
        optimizer: the optimizer whose groups' "lr" to set. Each group keeps its starting
            value under "initial_lr" (lr₀).
        last_epoch: the t of the last step taken, to resume a schedule (the groups must
            then hold "initial_lr"). Default: -1 (start: t becomes 0, lr = lr₀).
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, group in enumerate(groups) if "initial_lr" not in group]
            if missing:
                raise KeyError(f"{type(self).__name__}: param_groups {missing} have no "
                               f"'initial_lr', so last_epoch={last_epoch} cannot resume a "
                               f"schedule; load the optimizer's state_dict first, or leave "
                               f"last_epoch at -1 to start one")
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step, to t = last_epoch + 1. While it runs `_is_initial` is
        True, and a chainable schedule that would move the lr relative to its last value
        leaves it as it is (PyTorch's rule: a scheduler built to resume at last_epoch must
        not move the lr a step ahead of the saved one). Under `ad.compile` it is not
        recorded: a scheduler made inside a compiled step is made on its first call only."""
        self._is_initial = True
        try:
            with events.unrecorded():       # a constructor's, not a step a replay repeats
                self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of each group at t = `last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr(), returning "
                                  f"each group's learning rate at t = last_epoch")

    def _get_closed_form_lr(self) -> list[float]:
        """Each group's lr at t from lr₀ and t alone: the schedule's formula. A schedule
        whose `get_lr` already computes it so need not define this."""
        return self.get_lr()

    @events.library_call
    def step(self) -> None:
        """Advance t by one and set every group's "lr" to the schedule's value."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _restart(self) -> None:
        """Start the schedule again: t = 0 and the lr its formula gives there (what
        `SequentialLR` does at a milestone; PyTorch's `_update_lr(0)`)."""
        self.last_epoch = 0
        self._set_lrs(self._get_closed_form_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: its attributes, except the optimizer (and functions)."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`, and set the groups' "lr" to the schedule's value at
        the restored t (so a resumed run's next `optimizer.step()` uses the right lr even
        before the optimizer's own state is loaded; PyTorch leaves "lr" to the latter)."""
        self.__dict__.update(state_dict)
        self._set_lrs(self._last_lr)


class StepLR(LRScheduler):
    """lr = lr₀ · γ^⌊t / step_size⌋: multiply by `gamma` every `step_size` steps.

    Chainable: a step multiplies the group's current lr by γ when t is a multiple of
    step_size, and leaves it otherwise.

    Args:
        optimizer: the optimizer to schedule.
        step_size: steps between decays, a positive integer.
        gamma: the factor γ. Default: 0.1.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if not (isinstance(step_size, int) and step_size >= 1):
            raise ValueError(f"StepLR: step_size must be a positive integer, got "
                             f"{step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = self._current_lrs()
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return lrs
        return [lr * self.gamma for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [lr0 * self.gamma ** (self.last_epoch // self.step_size)
                for lr0 in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = lr₀ · γᵗ: multiply by `gamma` every step.

    Chainable: a step multiplies the group's current lr by γ (`lr *= gamma`).
    `ExponentialLR(opt, gamma=math.exp(-k))` is the notes' lr₀ · exp(−k t) up to
    rounding; `ExponentialDecayLR(opt, k)` computes that form directly.

    Args:
        optimizer: the optimizer to schedule.
        gamma: the factor γ.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [lr0 * self.gamma ** self.last_epoch for lr0 in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = lr₀ · factor for t < total_iters, then lr₀: a constant warm-up.

    Chainable: the step to t = 0 multiplies the group's current lr by `factor`, the step
    to t = total_iters divides it by `factor`, and the others leave it.

    Args:
        optimizer: the optimizer to schedule.
        factor: the factor, in [0, 1]. Default: 1/3.
        total_iters: T, the steps the factor lasts. Default: 5.
        last_epoch: see `LRScheduler`. Default: -1.

    Example::

        >>> import autodiff as ad, optim
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=0.2)
        >>> warmup = optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
        >>> for _ in range(3):
        ...     print(warmup.get_last_lr())
        ...     warmup.step()
        [0.1]
        [0.1]
        [0.2]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor!r}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [lr0 * factor for lr0 in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = lr₀ · λ(t) for a function λ of the step count (one per group, or one for all).

    The functions are code, so `state_dict()` leaves them out: rebuild the scheduler with
    the same functions, then load its state.

    Args:
        optimizer: the optimizer to schedule.
        lr_lambda: a function of t, or a list of them, one per parameter group.
        last_epoch: see `LRScheduler`. Default: -1.

    Example (linear warm-up over 4 steps)::

        >>> import autodiff as ad, optim
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=0.2)
        >>> warmup = optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 4))
        >>> warmup.get_last_lr()
        [0.05]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr0 * fn(self.last_epoch) for fn, lr0 in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(LRScheduler):
    """lr ← lr · λ(t) at each step: lr = lr₀ · λ(1) · λ(2) ⋯ λ(t), for a function λ of the
    step count (one per group, or one for all).

    Chainable: each step multiplies the lr the group holds now. As for `LambdaLR`, the
    functions stay out of `state_dict()`.

    Args:
        optimizer: the optimizer to schedule.
        lr_lambda: a function of t, or a list of them, one per parameter group.
        last_epoch: see `LRScheduler`. Default: -1.

    Example (lr ← 0.9 · lr each step)::

        >>> import autodiff as ad, optim
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> schedule = optim.lr_scheduler.MultiplicativeLR(opt, lambda t: 0.9)
        >>> schedule.step(); schedule.step(); schedule.get_last_lr()
        [0.81]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = self._current_lrs()
        if self._is_initial:
            return lrs
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, lrs)]


def _lambdas(name: str, optimizer: Optimizer,
             lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]
             ) -> list[Callable[[int], float]]:
    """One function of t per parameter group: the one given for all, or the list's."""
    groups = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != groups:
            raise ValueError(f"{name}: got {len(lr_lambda)} lr_lambdas for {groups} parameter "
                             f"groups; pass one per group")
        functions = list(lr_lambda)
    else:
        functions = [lr_lambda] * groups
    for fn in functions:
        if not callable(fn):
            raise TypeError(f"{name}: lr_lambda must be a function of the step count, got "
                            f"{type(fn).__name__}")
    return functions


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2: half a cosine from lr₀
    down to `eta_min` over `T_max` steps (and back up over the next T_max, as in PyTorch).

    Chainable, as PyTorch's: a step scales the group's current distance to η_min by the
    formula's ratio from t − 1 to t,
        lr ← η_min + (lr − η_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t − 1) / T_max)),
    except just after the bottom (t − 1 = T_max, 3·T_max, ...), where that ratio is 0/0
    and the step adds the formula's first rise instead: lr ← lr + (lr₀ − η_min) ·
    (1 − cos(π / T_max)) / 2.

    Args:
        optimizer: the optimizer to schedule.
        T_max: steps from lr₀ to η_min, positive.
        eta_min: the lowest learning rate η_min. Default: 0.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, lrs = self.last_epoch, self._current_lrs()
        if self._is_initial:
            return lrs
        if (t - 1 - self.T_max) % (2 * self.T_max) == 0:
            rise = (1 - math.cos(math.pi / self.T_max)) / 2
            return [lr + (lr0 - self.eta_min) * rise for lr, lr0 in zip(lrs, self.base_lrs)]
        ratio = ((1 + math.cos(math.pi * t / self.T_max))
                 / (1 + math.cos(math.pi * (t - 1) / self.T_max)))
        return [self.eta_min + (lr - self.eta_min) * ratio for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (lr0 - self.eta_min) * cosine for lr0 in self.base_lrs]


class ExponentialDecayLR(LRScheduler):
    """lr = lr₀ · exp(−k t): the lecture notes' exponential annealing (document 002).

    Computed from lr₀ and t (not chainable, unlike `ExponentialLR`).

    Args:
        optimizer: the optimizer to schedule.
        k: the decay rate, >= 0 (lr falls by a factor e every 1/k steps).
        last_epoch: see `LRScheduler`. Default: -1.

    Example::

        >>> import math, autodiff as ad, optim
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> schedule = optim.lr_scheduler.ExponentialDecayLR(opt, k=math.log(2))
        >>> for _ in range(3):
        ...     schedule.step()
        >>> round(schedule.get_last_lr()[0], 12)     # halved three times
        0.125
    """

    def __init__(self, optimizer: Optimizer, k: float, last_epoch: int = -1) -> None:
        if not k >= 0:
            raise ValueError(f"ExponentialDecayLR: k must be >= 0, got {k!r}")
        self.k = k
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr0 * math.exp(-self.k * self.last_epoch) for lr0 in self.base_lrs]


class InverseTimeDecayLR(LRScheduler):
    """lr = lr₀ / (1 + k t): the lecture notes' 1/t annealing (document 002, docs/sources.md).

    Computed from lr₀ and t (not chainable).

    Args:
        optimizer: the optimizer to schedule.
        k: the decay rate, >= 0 (lr is halved after 1/k steps).
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, k: float, last_epoch: int = -1) -> None:
        if not k >= 0:
            raise ValueError(f"InverseTimeDecayLR: k must be >= 0, got {k!r}")
        self.k = k
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr0 / (1 + self.k * self.last_epoch) for lr0 in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = lr₀ · γ^(number of milestones <= t): multiply by `gamma` at each milestone.

    Chainable: a step multiplies the group's current lr by γ once for each time t is
    listed in `milestones`.

    Args:
        optimizer: the optimizer to schedule.
        milestones: the steps at which to decay.
        gamma: the factor γ. Default: 0.1.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        decays = self.milestones.count(self.last_epoch)
        return [lr * self.gamma ** decays for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [lr0 * self.gamma ** passed for lr0 in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = lr₀ · (s + (e − s) · min(t, T) / T): the factor goes linearly from
    `start_factor` s to `end_factor` e over `total_iters` T steps (a warm-up), then stays.

    Chainable: the step to t = 0 multiplies the group's current lr by s, and the step to
    t = 1 … T by the factor's ratio from t − 1 to t, 1 + (e − s) / (T·s + (t − 1)(e − s)).

    Args:
        optimizer: the optimizer to schedule.
        start_factor: s, in (0, 1]. Default: 1/3.
        end_factor: e, in [0, 1]. Default: 1.
        total_iters: T. Default: 5.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got {start_factor!r} and {end_factor!r}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, lrs = self.last_epoch, self._current_lrs()
        if t == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or t > self.total_iters:
            return lrs
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (t - 1) * change)
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        done = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [lr0 * factor for lr0 in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = lr₀ · (1 − min(t, T) / T)^p: a polynomial decay of power p from lr₀ to 0 over
    `total_iters` T steps, then 0 (p = 1: a straight line down).

    Chainable: the step to t ≤ T multiplies the group's current lr by the formula's ratio
    from t − 1 to t, ((1 − t/T) / (1 − (t − 1)/T))^p; later steps leave it.

    Args:
        optimizer: the optimizer to schedule.
        total_iters: T, the steps to reach 0, a positive integer. Default: 5.
        power: p. Default: 1.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        if not (isinstance(total_iters, int) and total_iters >= 1):
            raise ValueError(f"PolynomialLR: total_iters must be a positive integer, got "
                             f"{total_iters!r}")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, lrs = self.last_epoch, self.total_iters, self._current_lrs()
        if self._is_initial or t > T:
            return lrs
        ratio = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [lr0 * left ** self.power for lr0 in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): lr = η_min + (lr₀ − η_min)(1 + cos(π T_cur/T_i))/2,
    where T_cur counts the steps since the last restart and the i-th period lasts
    T_i = T₀ · T_multⁱ steps.

    Args:
        optimizer: the optimizer to schedule.
        T_0: steps of the first period, a positive integer.
        T_mult: how much longer each period is than the last, an integer >= 1. Default: 1.
        eta_min: the lowest learning rate. Default: 0.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not (isinstance(T_0, int) and T_0 >= 1) or not (isinstance(T_mult, int)
                                                           and T_mult >= 1):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer "
                             f"and T_mult an integer >= 1, got {T_0!r} and {T_mult!r}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        super().__init__(optimizer, last_epoch)

    def _period(self) -> tuple[int, int]:
        """(T_cur, T_i) at t."""
        t = self.last_epoch
        if self.T_mult == 1:
            return t % self.T_0, self.T_0
        n = int(math.log(t / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        start = self.T_0 * (self.T_mult ** n - 1) // (self.T_mult - 1)
        return t - start, self.T_0 * self.T_mult ** n

    def get_lr(self) -> list[float]:
        t_cur, t_i = self._period()
        cosine = (1 + math.cos(math.pi * t_cur / t_i)) / 2
        return [self.eta_min + (lr0 - self.eta_min) * cosine for lr0 in self.base_lrs]


def _per_group(name: str, optimizer: Optimizer, value: float | Sequence[float]) -> list[float]:
    """`value` for each parameter group: one number for all, or a list with one per group."""
    groups = len(optimizer.param_groups)
    if not isinstance(value, (list, tuple)):
        return [value] * groups
    if len(value) != groups:
        raise ValueError(f"{name}: got {len(value)} values for {groups} parameter groups; "
                         f"pass one number, or a list with one per group")
    return list(value)


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str,
           end_momentum: str) -> dict[str, Any]:
    """One phase of OneCycleLR: up to `end_step`, from the group's value under each start
    key to its value under the end key (PyTorch's `_schedule_phases` entries)."""
    return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
            "start_momentum": start_momentum, "end_momentum": end_momentum}


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per batch: over the first
    `pct_start` of `total_steps` the lr rises from max_lr/div_factor to max_lr while the
    momentum falls from max_momentum to base_momentum; then the lr falls to
    max_lr/(div_factor·final_div_factor) while the momentum rises back. Each move follows
    half a cosine (anneal_strategy='cos') or a line ('linear'), as PyTorch's. With
    `three_phase`, the lr comes back down to max_lr/div_factor over a second `pct_start`
    of the steps, and only then falls to the final lr (the momentum staying at its top).

    Args:
        optimizer: the optimizer to schedule (its "momentum", or Adam's β₁, is cycled
            when cycle_momentum is True).
        max_lr: the peak learning rate, one for all groups or a list with one per group.
        total_steps: steps in the cycle, or give epochs and steps_per_epoch.
        pct_start: the share of the cycle spent rising, in [0, 1]. Default: 0.3.
        anneal_strategy: 'cos' or 'linear'. Default: 'cos'.
        cycle_momentum: also cycle the momentum. Default: True.
        base_momentum, max_momentum: its range (numbers, or lists with one per group).
            Default: 0.85, 0.95.
        div_factor: max_lr / the starting lr. Default: 25.
        final_div_factor: the starting lr / the final lr. Default: 1e4.
        three_phase: rise, fall back to the starting lr, then fall to the final one.
            Default: False.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and "
                                 "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if not (isinstance(total_steps, int) and total_steps >= 1):
            raise ValueError(f"OneCycleLR: total_steps must be a positive integer, got "
                             f"{total_steps!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        rise_end = float(pct_start * total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                _phase(total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                       "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum and "momentum" not in optimizer.defaults \
                and "betas" not in optimizer.defaults:
            raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum or "
                             "betas; pass cycle_momentum=False")
        if last_epoch == -1:
            columns = zip(optimizer.param_groups,
                          _per_group("OneCycleLR: max_lr", optimizer, max_lr),
                          _per_group("OneCycleLR: max_momentum", optimizer, max_momentum),
                          _per_group("OneCycleLR: base_momentum", optimizer, base_momentum))
            for group, peak, top, bottom in columns:
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if cycle_momentum:
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return start + (end - start) * fraction

    def _current_phase(self) -> tuple[dict[str, Any], float]:
        """The phase t is in, and the step it started at."""
        start = 0.0
        for phase in self._schedule_phases[:-1]:
            if self.last_epoch <= phase["end_step"]:
                return phase, start
            start = phase["end_step"]
        return self._schedule_phases[-1], start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, beyond total_steps "
                             f"{self.total_steps}")
        phase, start = self._current_phase()
        fraction = (t - start) / (phase["end_step"] - start)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                    fraction))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]],
                                        group[phase["end_momentum"]], fraction)
                _set_momentum(group, momentum)
        return lrs


class CyclicLR(LRScheduler):
    """The cyclical learning rate (Smith, 2017), stepped once per batch: the lr goes up
    and down between `base_lr` and `max_lr` in triangles of `step_size_up` steps up and
    `step_size_down` down, while the momentum (or Adam's β₁) goes the other way between
    `max_momentum` and `base_momentum`. With c = ⌊1 + t/(up + down)⌋ the cycle and
    x = 1 + t/(up + down) − c the place in it,

        h  = x / r              while x ≤ r = up/(up + down), else (x − 1)/(r − 1)
        lr = base_lr + (max_lr − base_lr) · h · s

    where the scale s is 1 ('triangular'), 1/2^(c−1) ('triangular2': each cycle half as
    high), γᵗ ('exp_range'), or scale_fn(c) (scale_mode 'cycle') or scale_fn(t)
    ('iterations') for a function given. PyTorch's formulas, in its order.

    Args:
        optimizer: the optimizer to schedule; its groups' lr start at base_lr.
        base_lr, max_lr: the lr's range, numbers or lists with one per group.
        step_size_up: steps up, positive. Default: 2000.
        step_size_down: steps down. Default: step_size_up.
        mode: 'triangular', 'triangular2' or 'exp_range' (ignored with scale_fn).
        gamma: γ of 'exp_range'. Default: 1.
        scale_fn: a function of c or t giving s, instead of the mode's. Default: None.
        scale_mode: 'cycle' or 'iterations': what scale_fn takes. Default: 'cycle'.
        cycle_momentum: also cycle the momentum (or β₁). Default: True.
        base_momentum, max_momentum: its range (numbers or lists). Default: 0.8, 0.9.
        last_epoch: see `LRScheduler`. Default: -1.

    `state_dict()` leaves scale_fn out (it is code): rebuild the scheduler with it.
    """

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1) -> None:
        if step_size_down is None:
            step_size_down = step_size_up
        if not step_size_up > 0 or not step_size_down >= 0:
            raise ValueError(f"CyclicLR: step_size_up must be positive and step_size_down "
                             f">= 0, got {step_size_up!r} and {step_size_down!r}")
        if scale_fn is None and mode not in self.MODES:
            raise ValueError(f"CyclicLR: mode must be one of {self.MODES} (or give scale_fn), "
                             f"got {mode!r}")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        if cycle_momentum and "momentum" not in optimizer.defaults \
                and "betas" not in optimizer.defaults:
            raise ValueError("CyclicLR: cycle_momentum needs an optimizer with momentum or "
                             "betas; pass cycle_momentum=False")
        base_lrs = _per_group("CyclicLR: base_lr", optimizer, base_lr)
        self.max_lrs = _per_group("CyclicLR: max_lr", optimizer, max_lr)
        self.total_size = float(step_size_up) + float(step_size_down)
        self.step_ratio = float(step_size_up) / self.total_size
        self.mode, self.gamma, self.scale_fn = mode, gamma, scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else \
            "iterations" if mode == "exp_range" else "cycle"
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums = _per_group("CyclicLR: base_momentum", optimizer,
                                             base_momentum)
            self.max_momentums = _per_group("CyclicLR: max_momentum", optimizer,
                                            max_momentum)
        if last_epoch == -1:
            for i, group in enumerate(optimizer.param_groups):
                group["lr"] = base_lrs[i]
                if cycle_momentum:
                    _set_momentum(group, self.max_momentums[i])
                    group["max_momentum"] = self.max_momentums[i]
                    group["base_momentum"] = self.base_momentums[i]
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _scale(self, cycle: int) -> float:
        """s: the height of this cycle's triangle, as a share of max_lr − base_lr."""
        x = cycle if self.scale_mode == "cycle" else self.last_epoch
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x if self.mode == "exp_range" else 1.0

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle)
        lrs = [base + (top - base) * height * scale
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, top - (top - base) * height * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.pop("scale_fn")
        return state


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    """Set a group's momentum, or its β₁ for the Adam family (what the cycling schedules
    move)."""
    if "betas" in group:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's lr by `factor` when the metric given to `step(metric)` has
    not improved for more than `patience` steps (then wait `cooldown` steps), never
    below `min_lr`, as PyTorch's. It moves the lr the group holds (chainable), and
    computes no lr of its own, so it has no `get_lr`.

    Args:
        optimizer: the optimizer whose lr to reduce.
        mode: 'min' (a loss) or 'max' (an accuracy). Default: 'min'.
        factor: the factor, < 1. Default: 0.1.
        patience: steps without improvement tolerated. Default: 10.
        threshold: how much better counts as better. Default: 1e-4.
        threshold_mode: 'rel' (best·(1 ∓ threshold)) or 'abs' (best ∓ threshold).
        cooldown: steps to wait after a reduction. Default: 0.
        min_lr: a floor, one number or one per group. Default: 0.
        eps: reductions smaller than this are skipped. Default: 1e-8.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0,
                 eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor!r}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and "
                             f"threshold_mode 'rel' or 'abs', got {mode!r}, "
                             f"{threshold_mode!r}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.min_lrs = _per_group("ReduceLROnPlateau: min_lr", optimizer, min_lr)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._current_lrs()

    def _better(self, value: float) -> bool:
        """Better than the best by more than the threshold (torch's comparisons)."""
        if self.threshold_mode == "rel":
            if self.mode == "min":
                return value < self.best * (1 - self.threshold)
            return value > self.best * (1 + self.threshold)
        if self.mode == "min":
            return value < self.best - self.threshold
        return value > self.best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Take the epoch's metric (a number or one-element tensor)."""
        value = float(metrics)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, floor)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()


class _SchedulerOfSchedulers(LRScheduler):
    """What SequentialLR and ChainedScheduler share: the check of their schedulers, and a
    state that holds each scheduler's `state_dict()` under "_schedulers", as PyTorch's."""

    _schedulers: list[LRScheduler]

    def _check(self, schedulers: Sequence[LRScheduler],
               optimizer: Optimizer | None) -> Optimizer:
        """Refuse an empty list, non-schedulers, ReduceLROnPlateau and a second optimizer;
        return the optimizer they share (the first scheduler's, unless `optimizer` is given)."""
        name = type(self).__name__
        if len(schedulers) == 0:
            raise ValueError(f"{name}: expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name}: schedulers[{i}] is a {type(scheduler).__name__}, "
                                f"not a learning-rate scheduler (it has no optimizer)")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name}: schedulers[{i}] is a ReduceLROnPlateau, whose "
                                 f"step() needs the metric; step it on its own, outside the "
                                 f"{name}")
        if optimizer is None:
            optimizer = schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{name}: schedulers[{i}] ({type(scheduler).__name__}) "
                                 f"schedules another optimizer than the {name}'s; build "
                                 f"every scheduler on the same optimizer")
        return optimizer

    def state_dict(self) -> dict[str, Any]:
        """Its attributes, except the optimizer, with "_schedulers" holding each
        scheduler's `state_dict()`."""
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()`: each scheduler's own, then this one's, setting the
        groups' "lr" to the last lr it set (as `LRScheduler.load_state_dict` does)."""
        own = {key: value for key, value in state_dict.items() if key != "_schedulers"}
        saved = state_dict["_schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state holds "
                             f"{len(saved)} schedulers' states, this one has "
                             f"{len(self._schedulers)} schedulers; build it with the same "
                             f"schedulers as the saved one")
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)
        self.__dict__.update(own)
        self._set_lrs(self._last_lr)


class SequentialLR(_SchedulerOfSchedulers):
    """Run `schedulers` one after another, switching at `milestones`:

        lr(t) = schedulers[i]'s lr at t − milestones[i − 1],  i = number of milestones <= t

    (with milestones[−1] = 0). At each milestone the next scheduler starts over at its own
    t = 0, from its lr₀ (its `_get_closed_form_lr` there, as PyTorch's `step(0)`); between
    milestones only the current scheduler steps.

    As PyTorch's, the constructor undoes what building the schedulers did to the
    optimizer: it sets every group's lr back to "initial_lr", moves every scheduler's t
    back by one (a step they never took), and takes the first scheduler's initial step
    again.

    Args:
        optimizer: the optimizer every scheduler schedules.
        schedulers: the schedulers, in the order they run (not ReduceLROnPlateau).
        milestones: the t at which each scheduler after the first takes over, increasing,
            one fewer than the schedulers.
        last_epoch: t before the first step. Default: -1 (as PyTorch's, only the count
            starts there: the first scheduler still starts at its own t = 0).

    Example (a linear warm-up for 2 steps, then a decay)::

        >>> import autodiff as ad, optim
        >>> from optim.lr_scheduler import ExponentialLR, LinearLR, SequentialLR
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> schedule = SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> lrs = [schedule.get_last_lr()]
        >>> for _ in range(4):
        ...     schedule.step()
        ...     lrs.append(schedule.get_last_lr())
        >>> lrs
        [[0.5], [0.75], [1.0], [0.5], [0.25]]
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        self._check(schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: got {len(schedulers)} schedulers and "
                             f"{len(milestones)} milestones; give one milestone fewer than "
                             f"schedulers (the t at which each one after the first starts)")
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be in increasing order, got "
                             f"{list(milestones)}")
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched: LRScheduler | None = None) -> None:
        """Move t back by one for `sched` (default: this SequentialLR's schedulers), and
        for the schedulers inside a SequentialLR or ChainedScheduler among them: undo the
        step each took when it was built."""
        inner = getattr(self if sched is None else sched, "_schedulers", None)
        if inner is not None:
            for scheduler in inner:
                self.recursive_undo(scheduler)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    @events.library_call
    def step(self) -> None:
        """Advance t by one: the current scheduler steps, or at a milestone the next one
        starts over."""
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerOfSchedulers):
    """Step several schedulers as one: `step()` calls each scheduler's `step()` in turn,
    each starting from the lr the one before left. With chainable schedules the factors
    multiply: ConstantLR(factor=f, total_iters=T) chained with ExponentialLR(gamma=γ)
    gives lr = lr₀ · f · γᵗ for t < T, then lr₀ · γᵗ.

    Args:
        schedulers: the schedulers, all of one optimizer (not ReduceLROnPlateau).
        optimizer: that optimizer. Default: None (the first scheduler's).

    Example::

        >>> import autodiff as ad, optim
        >>> from optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
        >>> opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> schedule = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
        ...                              ExponentialLR(opt, gamma=0.5)])
        >>> lrs = [schedule.get_last_lr()]
        >>> for _ in range(3):
        ...     schedule.step()
        ...     lrs.append(schedule.get_last_lr())
        >>> lrs
        [[0.5], [0.25], [0.25], [0.125]]
    """

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        self.optimizer = self._check(schedulers, optimizer)
        self._schedulers = list(schedulers)
        self._last_lr = self._current_lrs()

    @events.library_call
    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()
