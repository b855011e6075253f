"""Optimizer: the base class every update rule in `optim` shares (mirrors torch.optim).

An optimizer holds `param_groups` (a list of dicts: the tensors under "params", and each
hyperparameter, a group's own value overriding `defaults`) and `state` (per-parameter
arrays such as momentum buffers, keyed by the tensor). A subclass gives two things:

    _check(options)                      raise ValueError naming a bad hyperparameter
    _update(param, grad, state, group)   one step of its rule, in place, on ndarrays

`_update` is written once, as plain per-parameter math: each rule is PyTorch's
single-tensor update (`torch/optim/<rule>.py`, `_single_tensor_<rule>`) transcribed line
for line on ndarrays, in the same order of operations, each line commented with the line
of the algorithm box it carries out. The in-place tensor ops those functions use are here
on arrays (`lerp_`, `addcmul_`, `addcdiv_`), evaluated in torch's order. `step()` runs
`_update` either once per parameter (the reference path) or once over all of a group's
parameters laid end to end in flat buffers (the fast path, see `optim.flat`); the rules
are elementwise, so both give the same numbers, bit for bit. A rule that is not (Adafactor
factors its second moment into row and column averages) sets `elementwise = False` and
always takes the per-parameter path. Updates write into the parameters' arrays inside
`autodiff.versions.InPlaceUpdate`, which counts the change in each parameter's version,
and are never recorded in the graph.

`register_step_pre_hook` and `register_step_post_hook` add Python code that runs around
every `step()` (torch's step hooks): `hook(optimizer, args, kwargs)`.
"""
from __future__ import annotations

import copy
import functools
import itertools
import math
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autodiff import Tensor, enable_grad, events, versions
from autodiff.dtypes import scalar

from .flat import FlatGroup
from .state import OptimizerState

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
StepHook = Callable[["Optimizer", tuple[Any, ...], dict[str, Any]], Any]
"""hook(optimizer, args, kwargs): args are step's positional arguments, the optimizer first."""

_hook_ids = itertools.count()


def in_dtype(entries: dict[str, Any], dtype: np.dtype) -> dict[str, Any]:
    """A parameter's state with its arrays converted, where they differ, to the
    parameter's dtype: after `model.double()` (or `.float()`) the state follows the
    parameters, as it does in load_state_dict. (The fast path converts in `FlatGroup`.)"""
    for key, value in entries.items():
        if isinstance(value, np.ndarray) and value.dtype != dtype:
            entries[key] = value.astype(dtype)
    return entries


# state entries that sum or average squared gradients: never negative
SECOND_MOMENTS = frozenset({"exp_avg_sq", "max_exp_avg_sq", "sum", "square_avg",
                            "acc_delta", "exp_inf", "row_var", "col_var", "variance"})


def check_nonnegative(optimizer: str, name: str, value: Any) -> None:
    """Raise ValueError unless value >= 0 (NaN fails too)."""
    if not value >= 0:
        raise ValueError(f"{optimizer}: {name} must be >= 0, got {value!r}")


def check_eps(optimizer: str, value: Any) -> None:
    """Raise ValueError unless eps is finite and >= 0 (it is added to a denominator)."""
    if not 0.0 <= value < math.inf:
        raise ValueError(f"{optimizer}: eps must be finite and >= 0, got {value!r}")


def check_unit_interval(optimizer: str, name: str, value: Any) -> None:
    """Raise ValueError unless 0 <= value < 1."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{optimizer}: {name} must be in [0, 1), got {value!r}")


def check_adam_options(optimizer: str, options: dict[str, Any]) -> None:
    """The Adam family's checks: lr >= 0, finite eps, betas in [0, 1), weight_decay >= 0."""
    check_nonnegative(optimizer, "lr", options["lr"])
    check_eps(optimizer, options["eps"])
    check_unit_interval(optimizer, "betas[0]", options["betas"][0])
    check_unit_interval(optimizer, "betas[1]", options["betas"][1])
    check_nonnegative(optimizer, "weight_decay", options["weight_decay"])


# torch's in-place tensor ops, on arrays. A scalar goes in as a 0-d array of the arrays'
# dtype: the same number numpy makes of a Python float, but a ufunc applies it to a small
# array in half the time (0.45 against 0.97 µs on 25 float32 numbers). The weights of
# lerp_ and addcmul_ are a group's constants (1 − β), so their arrays are made once
# (`autodiff.dtypes.scalar`); addcdiv_'s change from step to step.


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, work: np.ndarray) -> None:
    """start ← start + w·(end − start), in place: torch's `start.lerp_(end, w)`, which
    computes it as start + w·(end − start) for |w| < 0.5 and as end − (end − start)·(1 − w)
    otherwise (w and 1 − w in start's dtype). `work` is scratch of start's shape."""
    w = scalar(weight, work.dtype)
    difference = np.subtract(end, start, out=work)
    if abs(w.item()) < 0.5:
        difference *= w
        start += difference
    else:
        difference *= 1 - w
        np.subtract(end, difference, out=start)


def addcmul_(target: np.ndarray, a: np.ndarray, b: np.ndarray, value: float,
             work: np.ndarray) -> None:
    """target ← target + value·a·b, in place: torch's `target.addcmul_(a, b, value=value)`,
    in its order ((value·a)·b, then the sum). `work` is scratch of target's shape."""
    np.multiply(a, scalar(value, work.dtype), out=work)
    work *= b
    target += work


def addcdiv_(target: np.ndarray, a: np.ndarray, b: np.ndarray, value: float,
             work: np.ndarray) -> None:
    """target ← target + value·a/b, in place: torch's `target.addcdiv_(a, b, value=value)`,
    in its order ((value·a)/b, then the sum). `work` is scratch of target's shape (it may
    not be b)."""
    np.multiply(a, np.array(value, work.dtype), out=work)
    work /= b
    target += work


def decayed_gradient(param: np.ndarray, grad: np.ndarray, group: dict[str, Any]
                     ) -> np.ndarray:
    """The first lines of the boxes: g_t ← ∇f(θ_{t−1}) (−∇f(θ_{t−1}) if maximize), then
    g_t ← g_t + λθ_{t−1} for weight decay λ ≠ 0 (L2 decay added to the gradient, not
    decoupled): torch's `grad = -grad` and `grad = grad.add(param, alpha=λ)`."""
    g = -grad if group["maximize"] else grad
    decay = group["weight_decay"]
    return g + decay * param if decay != 0 else g


def adam_moments(param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                 group: dict[str, Any], work: np.ndarray
                 ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The first lines of the Adam family's boxes, in place, as torch's single-tensor
    Adam, NAdam and RAdam run them: count the step t, take g_t (negated if maximize),
    apply weight decay (g_t ← g_t + λθ_{t−1}, or θ_t ← θ_{t−1} − γλθ_{t−1} when
    decoupled), then m_t ← β₁m_{t−1} + (1 − β₁)g_t (torch's lerp_) and
    v_t ← β₂v_{t−1} + (1 − β₂)g_t² (torch's mul_ then addcmul_). The state starts as
    m₀ = v₀ = 0, and v₀^max = 0 when the group has amsgrad. `work` is scratch of param's
    shape. Returns (t, m_t, v_t, g_t)."""
    beta1, beta2 = group["betas"]
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
        if group.get("amsgrad"):
            state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1
    m, v = state["exp_avg"], state["exp_avg_sq"]
    g = -grad if group["maximize"] else grad            # g_t ← ∇f(θ_{t−1})  (− if maximize)
    decay = group["weight_decay"]
    if decay != 0:
        if group.get("decoupled_weight_decay"):
            param *= 1 - group["lr"] * decay            # θ_t ← θ_{t−1} − γλθ_{t−1}
        else:
            g = g + decay * param                       # g_t ← g_t + λθ_{t−1}
    lerp_(m, g, 1 - beta1, work)                        # m_t ← β₁m_{t−1} + (1 − β₁)g_t
    v *= scalar(beta2, v.dtype)
    addcmul_(v, g, g, 1 - beta2, work)                  # v_t ← β₂v_{t−1} + (1 − β₂)g_t²
    return state["step"], m, v, g


def check_not_a_model(optimizer: str, params: Any) -> None:
    """Raise TypeError when `params` is a model (`optim.SGD(model, lr=0.1)`) or its
    `parameters` method not yet called, instead of the model's parameters."""
    if callable(getattr(params, "parameters", None)):     # duck-typed: optim never imports nn
        raise TypeError(f"{optimizer}: params is the model itself ({type(params).__name__}), "
                        f"not its parameters; pass model.parameters(), e.g. "
                        f"optim.{optimizer}(model.parameters(), lr=...)")
    if getattr(params, "__name__", None) == "parameters" and callable(params):
        raise TypeError(f"{optimizer}: params is the method model.parameters, not its "
                        f"result; call it: optim.{optimizer}(model.parameters(), lr=...)")


class StepHookHandle:
    """Returned by `register_step_pre_hook` and `register_step_post_hook`: `remove()`
    unregisters the hook (and calls `removed`); removing it again does nothing. (nn's
    RemovableHandle does the same for module hooks, but optim does not import nn.)"""

    def __init__(self, hooks: dict[int, StepHook], key: int,
                 removed: Callable[[], None]) -> None:
        self._hooks, self._key, self._removed = hooks, key, removed

    def remove(self) -> None:
        if self._hooks.pop(self._key, None) is not None:
            self._removed()


def with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator of `Optimizer.step` that runs the step hooks around it, as torch does:

        for each pre-hook:   result = hook(optimizer, args, kwargs)
                             if result is not None: args, kwargs = result
        loss = step(*args, **kwargs)
        for each post-hook:  hook(optimizer, args, kwargs)

    args holds the optimizer itself, then the positional arguments of the call
    (`opt.step(closure)`: (opt, closure); `opt.step(closure=closure)`: (opt,) and
    {"closure": closure}). Post-hooks see the arguments the pre-hooks left, not the
    step's return value. Hooks run in the order they were added."""

    @functools.wraps(step)
    def hooked(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if not self._step_pre_hooks and not self._step_post_hooks:
            return step(self, *args, **kwargs)
        args = (self, *args)
        for hook in tuple(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is None:
                continue
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{type(self).__name__}.step: a step pre-hook must return "
                                   f"None or a tuple (new_args, new_kwargs), got {result!r:.100}")
            args, kwargs = result
        loss = step(*args, **kwargs)
        for hook in tuple(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return loss

    return hooked


class Optimizer(ABC):
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors to optimize, or of dicts defining parameter
            groups (each with a "params" entry and any hyperparameters to override).
        defaults: the hyperparameters of a group that does not set them.

    A parameter whose `.grad` is None is skipped entirely by `step()`: no weight decay,
    no change to its state.

    Unless a group sets foreach=False, its parameters' data are moved into one flat
    array when the group is added (same values; each `p.data` becomes a view into it),
    so an array taken from `p.data` before that no longer follows the parameter.
    Assigning `p.data` later is fine: the next step notices and rebuilds the buffer.

    The state follows the parameters' dtype: after `model.double()` (or `.float()`, or
    any `p.data = array` of another float dtype) the next step converts each state
    array (momentum, running averages) to the parameter's new dtype and carries on.
    PyTorch keeps the old dtype instead (its Adam then fails with a dtype error; SGD,
    RMSprop and Adagrad go on with float32 state for float64 parameters).

    Optimizers share nothing with each other (their scratch buffers included), so
    separate models can train in separate threads, each with its own optimizer.

    Under `ad.compile`, `step()` is replayed as a call of the whole method, step hooks
    included: the hooks run on every call, traced or replayed, and see the optimizer as
    it is then (a hook added or removed after tracing counts from the next call). An
    optimizer without hooks is replayed as its `prepared_step()`.

    Changes to the optimizer made from outside its step are reported to
    `autodiff.events.object_changed` (so that a prepared step learns of them): a
    parameter group added, a step hook added or removed, `state` or `param_groups`
    assigned (`load_state_dict` does both), and every write into `state` (see
    `optim.state`).
    """

    elementwise = True
    """Whether `_update` treats each element on its own, so that it may run over a group's
    flat buffers; False sends every step down the per-parameter path."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self._check(defaults)
        self._stepping: int | None = None       # the thread running step(), while it does
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = OptimizerState(self._state_changed)
        self.param_groups: list[dict[str, Any]] = []
        self._flat: dict[int, FlatGroup] = {}
        self._scratch_buffers: dict[tuple[tuple[int, ...], np.dtype, str], np.ndarray] = {}
        self._step_pre_hooks: dict[int, StepHook] = {}
        self._step_post_hooks: dict[int, StepHook] = {}
        check_not_a_model(type(self).__name__, params)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            f"or of dicts, got a single tensor; wrap it in a list: [t]")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines + [")"])

    def __deepcopy__(self, memo: dict[int, Any]) -> Optimizer:
        """A copy over copies of its parameters (those `memo` does not already hold, as
        when the model is copied with it) with a copy of the state, as torch's. Its flat
        buffers are made anew over the copied parameters: a copy of the old ones would
        leave each copied parameter's array outside the copied buffer, and the copy's
        steps would update the buffer alone."""
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            if name not in ("_flat", "_scratch_buffers", "_stepping", "state"):
                object.__setattr__(copied, name, copy.deepcopy(value, memo))
        object.__setattr__(copied, "_stepping", None)
        object.__setattr__(copied, "_scratch_buffers", {})
        object.__setattr__(copied, "_flat", {})
        object.__setattr__(copied, "state", OptimizerState(
            copied._state_changed, copy.deepcopy(dict(self.state), memo)))
        for index, group in enumerate(copied.param_groups):
            if self._flat.get(index) is not None \
                    and FlatGroup.can_hold(group["params"], copied.state):
                copied._flat[index] = FlatGroup(group["params"], copied.state)
        return copied

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("state", "param_groups"):
            events.object_changed(self)

    def _state_changed(self) -> None:
        """Report a write into `state`, unless this optimizer's own step, running in this
        thread, made it (a step keeps its flat buffers and the entries consistent)."""
        if self._stepping != threading.get_ident():
            events.object_changed(self)

    @abstractmethod
    def _check(self, options: dict[str, Any]) -> None:
        """Raise ValueError naming the first bad hyperparameter in `options`."""

    @abstractmethod
    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Apply one step of the rule to `param` in place, given its gradient. On the
        first step `state` is empty: create its arrays then, and afterwards change them
        in place only (the fast path hands out views of them)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with "params" and optional hyperparameters),
        e.g. a layer to fine-tune with its own learning rate."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        check_not_a_model(name, params)
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize tensors, got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf tensor (one computed "
                                 f"from others); optimize the leaves it was made from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same tensor twice")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter "
                             f"group")
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        self.param_groups.append(group)
        if self.elementwise and group["foreach"] is not False \
                and FlatGroup.can_hold(params, self.state):
            self._flat[len(self.param_groups) - 1] = FlatGroup(params, self.state)
        events.object_changed(self)

    def _scratch(self, like: np.ndarray, purpose: str = "update") -> np.ndarray:
        """A work buffer of `like`'s shape and dtype for one purpose, reused across steps:
        updates write their intermediate results into it instead of allocating temporaries
        (for the MNIST net's 59,210 parameters, fresh temporaries cost more than the
        arithmetic). Each optimizer has its own buffers, so optimizers stepping in
        different threads never write into each other's."""
        key = (like.shape, like.dtype, purpose)
        buffer = self._scratch_buffers.get(key)
        if buffer is None:
            buffer = self._scratch_buffers[key] = np.empty_like(like)
        return buffer

    @events.library_call
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: p.grad ← None (default), or p.grad ← 0 in
        place (the same tensor, so a reference kept to it sees the zeros), as torch's;
        a parameter without a gradient keeps None (see `autodiff.versions.zero_grads`)."""
        for group in self.param_groups:
            versions.zero_grads(group["params"], set_to_none)

    def register_step_pre_hook(self, hook: StepHook) -> StepHookHandle:
        """Call `hook(optimizer, args, kwargs)` before every `step()`, args being the
        optimizer followed by step's positional arguments. A non-None return value must
        be a tuple (new_args, new_kwargs): step runs as step(*new_args, **new_kwargs) (so
        new_args starts with the optimizer) and later hooks see them. Returns a handle
        whose `remove()` unregisters the hook.

        >>> import autodiff as ad, optim
        >>> w = ad.tensor([1.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.5)
        >>> handle = opt.register_step_pre_hook(lambda o, args, kwargs: print("step", len(args)))
        >>> w.grad = ad.tensor([1.0])
        >>> opt.step()
        step 1
        >>> handle.remove()
        >>> opt.step()
        >>> w
        tensor([0.], requires_grad=True)
        """
        key = next(_hook_ids)
        self._step_pre_hooks[key] = hook
        events.object_changed(self)
        return StepHookHandle(self._step_pre_hooks, key,
                              functools.partial(events.object_changed, self))

    def register_step_post_hook(self, hook: StepHook) -> StepHookHandle:
        """Call `hook(optimizer, args, kwargs)` after every `step()`, with the arguments
        the step ran with (as the pre-hooks left them); its return value is ignored.
        Returns a handle whose `remove()` unregisters the hook."""
        key = next(_hook_ids)
        self._step_post_hooks[key] = hook
        events.object_changed(self)
        return StepHookHandle(self._step_post_hooks, key,
                              functools.partial(events.object_changed, self))

    @events.library_call
    @with_step_hooks
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()`'s loss, if
        a closure (re-evaluating the model and calling backward) is given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._stepping = threading.get_ident()
        try:
            for index, group in enumerate(self.param_groups):
                with versions.InPlaceUpdate(group["params"]) as (params, values, grads):
                    flat = self._flat_group(index, group, params, values)
                    if flat is not None:
                        flat.gather_grads(grads)
                        self._update(flat.data, flat.grad, flat.state, group)
                        flat.scatter_state(self.state)
                    else:
                        for p, value, grad in zip(params, values, grads):
                            self._update(value, grad, in_dtype(self.state[p], value.dtype),
                                         group)
                        if self._flat.get(index) is not None:
                            events.object_changed(self)     # the state moved apart from
                            #                                 the flat buffers' (a prepared
                            #                                 step's)
        finally:
            self._stepping = None
        return loss

    def prepared_step(self) -> Callable[[], None] | None:
        """`step()` prepared for a caller that steps many times (a compiled training
        step): a function that does what `step()` does now, for as long as this
        optimizer reports no change (`autodiff.events.change_count(self)`; see the class
        docstring). It runs each group's update on its flat buffers without step()'s
        checks of the state; each call still checks that the groups hold the same
        parameters, each with its array and a gradient, and calls `step()` instead when
        one does not (`param_groups` or a group's "params" edited in place are seen
        there, since those are not reported). None when step() would not take that path
        now: a subclass's own step, step hooks, a group with foreach=False or without
        flat buffers, a parameter without a gradient, a state not counting its changes
        (a dict stored by hand, `opt.state = ...`)."""
        if type(self).step is not Optimizer.step or self._step_pre_hooks \
                or self._step_post_hooks or type(self.state) is not OptimizerState:
            return None
        groups = self.param_groups
        plans = []
        for index, group in enumerate(groups):
            params, flat = group["params"], self._flat.get(index)
            expected = list(zip(params, flat.data_views, flat.grad_views)) if flat else []
            if group["foreach"] is False or flat is None \
                    or not self.state.counts_changes(params) \
                    or not flat.is_current(params, [p.numpy() for p in params], self.state) \
                    or not versions.gather_grads(params, expected):
                return None
            # the state dicts stay these while no change is reported
            plans.append((group, flat, expected, [self.state[p] for p in params]))
        count, state, update, step = len(groups), self.state, self._update, self.step
        gather = versions.gather_grads

        def prepared() -> None:
            if self.param_groups is not groups or len(groups) != count:
                step()
                return
            for group, (mine, _, expected, _) in zip(groups, plans):
                if group is not mine or not gather(group["params"], expected):
                    step()          # it gathers again; the flat gradients are scratch
                    return
            for group, flat, _, entries in plans:
                update(flat.data, flat.grad, flat.state, group)
                flat.scatter_state(state, entries)
                versions.bump_all(flat.params)

        return prepared

    def _flat_group(self, index: int, group: dict[str, Any], params: list[Tensor],
                    values: list[np.ndarray]) -> FlatGroup | None:
        """The flat buffers of group `index`, rebuilt when stale; None when the group must
        take the per-parameter path this step (foreach=False, some gradient is None,
        mixed dtypes, or parameters whose states disagree, e.g. different step counts),
        and always for a rule that is not elementwise.
        params: the group's parameters that have a gradient, values: their arrays."""
        if not self.elementwise or group["foreach"] is False \
                or len(params) != len(group["params"]):
            return None
        flat = self._flat.get(index)
        if flat is None or not flat.is_current(params, values, self.state):
            flat = FlatGroup(params, self.state) if FlatGroup.can_hold(params, self.state) \
                else None
            self._flat[index] = flat
            events.object_changed(self)
        return flat

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: {"state": {index: {...}}, "param_groups": [...]},
        PyTorch's structure, parameters numbered in group order. Arrays are copies."""
        index = {id(p): i for i, p in enumerate(
            p for group in self.param_groups for p in group["params"])}
        groups = [{**{k: v for k, v in group.items() if k != "params"},
                   "params": [index[id(p)] for p in group["params"]]}
                  for group in self.param_groups]
        state = {index[id(p)]: copy.deepcopy(entries)
                 for p, entries in self.state.items() if id(p) in index and entries}
        return {"state": state, "param_groups": groups}

    def _check_saved_group(self, index: int, options: dict[str, Any]) -> None:
        """Check a saved group's hyperparameters as the constructor checks arguments."""
        name = type(self).__name__
        try:
            self._check(options)
        except (TypeError, KeyError) as err:
            raise ValueError(f"{name}.load_state_dict: parameter group {index} has a "
                             f"malformed hyperparameter: {err!r}") from err
        except ValueError as err:
            raise ValueError(f"{name}.load_state_dict: parameter group {index}: {err}") from err

    def _state_shape(self, key: str, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of the state array `key` of a parameter of `shape`: the parameter's
        own, unless a rule keeps smaller arrays (Adafactor's row and column averages)."""
        return shape

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` (into an optimizer over the same parameters, in the
        same groups), so training resumes exactly where it was saved."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, list) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), list) for g in saved_groups):
            raise ValueError(f"{name}.load_state_dict: param_groups must be a list of dicts, "
                             f"each with a 'params' list, got {saved_groups!r:.200}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            self._check_saved_group(i, {**group, **saved})
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has "
                             f"{len(saved_groups)} parameter groups, this optimizer "
                             f"{len(self.param_groups)}")
        params: dict[int, Tensor] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the saved state, "
                                 f"{len(group['params'])} here")
            params.update(zip(saved["params"], group["params"]))
        for key, entries in state_dict["state"].items():
            p = params[int(key)]
            for entry, value in entries.items():
                expected = self._state_shape(entry, p.shape)
                if isinstance(value, np.ndarray) and value.shape != expected:
                    raise ValueError(f"{name}.load_state_dict: state '{entry}' of "
                                     f"parameter {key} has shape {value.shape}, the "
                                     f"parameter {p.shape}; expected {expected}")
                if entry in SECOND_MOMENTS and not np.all(np.asarray(value) >= 0):
                    raise ValueError(f"{name}.load_state_dict: state '{entry}' of parameter "
                                     f"{key} holds negative or NaN values; it is a running "
                                     f"sum or average of squares, so it cannot be")
        self.state = OptimizerState(self._state_changed, {
            params[int(key)]: {entry: np.array(value, dtype=params[int(key)].dtype)
                               if isinstance(value, np.ndarray) else value
                               for entry, value in entries.items()}
            for key, entries in state_dict["state"].items()})
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
