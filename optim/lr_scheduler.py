"""Learning-rate schedules (mirrors torch.optim.lr_scheduler).

A scheduler sets each parameter group's "lr" from its initial value lr₀ and a count t
of `step()` calls (`last_epoch`): call `scheduler.step()` once per epoch (or per batch)
after `optimizer.step()`. Every schedule here is computed from its closed form, so
lr(t) depends only on lr₀ and t, never on what "lr" held before.

    StepLR              lr₀ · γ^⌊t / step_size⌋
    ExponentialLR       lr₀ · γᵗ
    LambdaLR            lr₀ · λ(t)
    CosineAnnealingLR   η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2
    MultiStepLR         lr₀ · γ^(number of milestones <= t)
    LinearLR            lr₀ · (s + (e − s) · min(t, T) / T)
    CosineAnnealingWarmRestarts   the cosine, restarted after T₀, T₀·T_mult, ... steps
    OneCycleLR          up from max_lr/div_factor to max_lr, then down to a tiny lr
    ReduceLROnPlateau   lr · factor when the metric passed to step() stops improving
    ExponentialDecayLR  lr₀ · exp(−k t)         the notes' exponential annealing
    InverseTimeDecayLR  lr₀ / (1 + k t)         the notes' 1/t annealing

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
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from autodiff.tracing import replayed

from .optimizer import Optimizer


class LRScheduler(ABC):
    """Base class: after each `step()`, every group's lr is `get_lr()`'s value at t.

    Args:
        optimizer: the optimizer whose groups' "lr" to set. Each group keeps its starting
            value under "initial_lr" (lr₀).
        last_epoch: the t of the last step taken, to resume a schedule (the groups must
            then hold "initial_lr"). Default: -1 (start: t becomes 0, lr = lr₀).
    """

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
        self.step()

    @abstractmethod
    def get_lr(self) -> list[float]:
        """The learning rate of each group at t = `last_epoch`."""

    @replayed
    def step(self) -> None:
        """Advance t by one and set every group's "lr" to the schedule's value."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

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
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


class StepLR(LRScheduler):
    """lr = lr₀ · γ^⌊t / step_size⌋: multiply by `gamma` every `step_size` steps.

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
        return [lr0 * self.gamma ** (self.last_epoch // self.step_size)
                for lr0 in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = lr₀ · γᵗ: multiply by `gamma` every step.

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
        return [lr0 * self.gamma ** self.last_epoch for lr0 in self.base_lrs]


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
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: got {len(lr_lambda)} lr_lambdas for "
                                 f"{groups} parameter groups; pass one per group")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr0 * fn(self.last_epoch) for fn, lr0 in zip(self.lr_lambdas, self.base_lrs)]


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2: half a cosine from lr₀
    down to `eta_min` over `T_max` steps (and back up over the next T_max, as in PyTorch).

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
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (lr0 - self.eta_min) * cosine for lr0 in self.base_lrs]


class ExponentialDecayLR(LRScheduler):
    """lr = lr₀ · exp(−k t): the lecture notes' exponential annealing (document 002).

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

    Args:
        optimizer: the optimizer to schedule.
        milestones: the steps at which to decay, increasing.
        gamma: the factor γ. Default: 0.1.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [lr0 * self.gamma ** passed for lr0 in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = lr₀ · (s + (e − s) · min(t, T) / T): the factor goes linearly from
    `start_factor` s to `end_factor` e over `total_iters` T steps (a warm-up), then stays.

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
        done = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [lr0 * factor for lr0 in self.base_lrs]


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


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per batch: over the first
    `pct_start` of `total_steps` the lr rises from max_lr/div_factor to max_lr while the
    momentum falls from max_momentum to base_momentum; then the lr falls to
    max_lr/(div_factor·final_div_factor) while the momentum rises back. Each move follows
    half a cosine (anneal_strategy='cos') or a line ('linear'), as PyTorch's.

    Args:
        optimizer: the optimizer to schedule (its "momentum", or Adam's β₁, is cycled
            when cycle_momentum is True).
        max_lr: the peak learning rate.
        total_steps: steps in the cycle, or give epochs and steps_per_epoch.
        pct_start: the share of the cycle spent rising. Default: 0.3.
        anneal_strategy: 'cos' or 'linear'. Default: 'cos'.
        cycle_momentum: also cycle the momentum. Default: True.
        base_momentum, max_momentum: its range. Default: 0.85, 0.95.
        div_factor: max_lr / the starting lr. Default: 25.
        final_div_factor: the starting lr / the final lr. Default: 1e4.
        last_epoch: see `LRScheduler`. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, last_epoch: int = -1) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and "
                                 "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        self.peak_step = float(pct_start * total_steps) - 1
        self.cycle_momentum = cycle_momentum
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group["initial_lr"] = max_lr / div_factor
            group["max_lr"] = max_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                if "momentum" not in group and "betas" not in group:
                    raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with "
                                     "momentum or betas; pass cycle_momentum=False")
                group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return start + (end - start) * fraction

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, beyond total_steps "
                             f"{self.total_steps}")
        rising = t <= self.peak_step
        start, end = (0.0, self.peak_step) if rising else (self.peak_step,
                                                             self.total_steps - 1)
        fraction = (t - start) / (end - start)
        lrs = []
        for group in self.optimizer.param_groups:
            lr_from, lr_to = ((group["initial_lr"], group["max_lr"]) if rising
                              else (group["max_lr"], group["min_lr"]))
            lrs.append(self._anneal(lr_from, lr_to, fraction))
            if self.cycle_momentum:
                m_from, m_to = ((group["max_momentum"], group["base_momentum"]) if rising
                                else (group["base_momentum"], group["max_momentum"]))
                momentum = self._anneal(m_from, m_to, fraction)
                if "betas" in group:
                    group["betas"] = (momentum, group["betas"][1])
                else:
                    group["momentum"] = momentum
        return lrs


class ReduceLROnPlateau:
    """Multiply each group's lr by `factor` when the metric given to `step(metric)` has
    not improved for more than `patience` steps (then wait `cooldown` steps), never
    below `min_lr`, as PyTorch's.

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
        groups = optimizer.param_groups
        self.optimizer = optimizer
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) \
            else [min_lr] * len(groups)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def _better(self, value: float) -> bool:
        """Better than the best by more than the threshold (torch's comparisons)."""
        if self.threshold_mode == "rel":
            if self.mode == "min":
                return value < self.best * (1 - self.threshold)
            return value > self.best * (1 + self.threshold)
        if self.mode == "min":
            return value < self.best - self.threshold
        return value > self.best + self.threshold

    def step(self, metrics: Any) -> None:
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
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
