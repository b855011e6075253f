"""Learning-rate schedules (mirrors torch.optim.lr_scheduler).

A scheduler sets each parameter group's "lr" from its initial value lr₀ and a count t
of `step()` calls (`last_epoch`): call `scheduler.step()` once per epoch (or per batch)
after `optimizer.step()`. Every schedule here is computed from its closed form, so
lr(t) depends only on lr₀ and t, never on what "lr" held before.

    StepLR              lr₀ · γ^⌊t / step_size⌋
    ExponentialLR       lr₀ · γᵗ
    LambdaLR            lr₀ · λ(t)
    CosineAnnealingLR   η_min + (lr₀ − η_min) · (1 + cos(π t / T_max)) / 2
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
