"""Monitor: the health of a network in training, layer by layer: how its activations,
gradients and updates are distributed (saturated tanh units, dead ReLUs, vanishing or
exploding gradients, updates too large or too small for the weights)."""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

import autodiff as ad
from autodiff._optional import require
from autodiff.tensor import Tensor

from ..activation import ReLU, Sigmoid, Tanh
from ..module import Module, Parameter

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLUMNS = ("layer", "saturated", "dead", "act_mean", "act_std", "act_grad_std", "grad_std",
           "grad_to_data", "update_ratio")
"""The keys of a report row, in this order."""

UPDATE_GUIDE = -3.0
"""log10 of the update ratio a healthy layer shows (updates ~1/1000 of the weights)."""

Row = dict[str, Any]


class MonitorWarning(UserWarning):
    """A layer a Monitor watches is mostly saturated or dead, or its gradients vanish or
    explode. Each layer warns of each kind once."""


class HasStepHooks(Protocol):
    """What Monitor needs of an optimizer (optim.Optimizer has it; nn does not import
    optim): its parameter groups and torch's step hooks."""

    param_groups: list[dict[str, Any]]

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> Any: ...

    def register_step_post_hook(self, hook: Callable[..., Any]) -> Any: ...


class Monitor:
    """Record, for every layer of a model and every training step, how its activations,
    gradients and updates are distributed, and warn when a layer is in trouble.

    The layers are the model's leaf modules (those without submodules), each named as in
    `named_modules` with its class: "1: Tanh". A forward hook on each layer sees its
    output y and puts a tensor hook on y, which sees dL/dy in backward (the grad_output
    of a full backward hook, without the identity ops and copies those add to every
    call); tensor hooks on each layer's `weight` parameter W see its gradient g; given
    an optimizer, its step hooks see W before and after the update. Per layer and step a
    row holds:

        act_mean, act_std   mean(y), std(y) over every element of the output (numpy's
                            std, ddof = 0)
        saturated           Tanh layers: the fraction of elements with |y| > saturation;
                            Sigmoid layers: the fraction outside sigmoid_band = [lo, hi].
                            There tanh' = 1 − y² (σ' = y(1 − y)) is about 0: little
                            gradient flows back through a saturated unit
        dead                ReLU layers: the fraction of units (output features: every
                            dim but the first, the batch) that are 0 for every sample of
                            the batch: they pass no gradient back at all
        act_grad_std        std(dL/dy), the gradient at the layer's output
        grad_std            std(g), g the gradient the backward computed for W (what
                            W.grad holds when gradients are zeroed before each backward)
        grad_to_data        std(g) / std(W)
        update_ratio        log10(std(ΔW) / std(W)), ΔW = W after the step − W before,
                            std(W) before: the optimizer's actual change (about −3 is
                            healthy; −inf when W did not change)

    None where a statistic does not apply (no Tanh, Sigmoid or ReLU; no weight; the
    optimizer does not hold the weight, or no optimizer; std(W) = 0) or was not seen in
    that step. A layer called several times in one step keeps its last call's numbers.

    A step is one backward pass, or, with an optimizer, one `optimizer.step()`: the first
    forward pass after it starts a new step. Forward passes run without grad
    (`ad.no_grad()`, evaluation) are not recorded.

    Warnings (MonitorWarning, once per layer and kind, naming the layer): a layer is
    mostly saturated or mostly dead (fraction > mostly), or its gradients vanish or
    explode: their root mean square √mean((dL/dy)²) is below `vanishing` or above
    `exploding` (the size of the gradient, so a gradient that is the same for every
    element, as `y.sum()` gives the last layer, is not taken for a vanishing one).

    Only modules are seen: an activation called as a function inside a forward
    (`F.relu(self.fc1(x))`) has no module, so no row; write it as a layer (`nn.ReLU()`)
    to watch it. `ad.compile`: it works on eager steps; a compiled step with a Monitor
    attached runs eagerly (ad.compile warns once, since module hooks are Python code a
    replay would skip), and stays eager after `remove()`.

    Cost: a training step of document 004's MLP (784→64→64→64→10 written with nn.ReLU
    layers, Adam, random batches of 32) took 1.6x as long with a Monitor attached (with
    its optimizer): 0.60 ms → 0.94 ms, the median of 4,000 steps run alternately with and
    without one; 1.5x to 1.8x over 8 such runs on a shared 2-vCPU AMD EPYC, 2026-12-07.
    The ~0.35 ms added goes to some thirty means and stds (of outputs, gradients and
    weights) and to the hooks' Python calls: a step with more arithmetic per layer
    (larger batches or layers) pays a smaller share.

    Args:
        model: the module to watch.
        optimizer: its optimizer, for update ratios (and a step per optimizer step).
        saturation: |tanh| above this is saturated (0.97: tanh' < 0.06).
        sigmoid_band: (lo, hi): a sigmoid output outside it is saturated (σ' < 0.03).
        mostly: the fraction of saturated or dead units above which a layer warns.
        vanishing, exploding: the rms of dL/dy below / above which a layer warns.

    Attributes:
        history: one list of rows (as `report` returns them) per step, oldest first.
        layers: (name, module) of each watched layer, in report order.
        labels: their names in the report ("1: Tanh").

    >>> import autodiff as ad, nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    >>> with nn.utils.Monitor(model) as monitor:
    ...     (model(ad.ones(2, 3)) ** 2).sum().backward()
    >>> [(row["layer"], row["saturated"] is None) for row in monitor.report()]
    [('0: Linear', True), ('1: Tanh', False)]
    >>> len(monitor.history)
    1
    """

    def __init__(self, model: Module, optimizer: HasStepHooks | None = None, *,
                 saturation: float = 0.97, sigmoid_band: tuple[float, float] = (0.03, 0.97),
                 mostly: float = 0.5, vanishing: float = 1e-7, exploding: float = 1e3) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Monitor: model must be an nn.Module, got {type(model).__name__}")
        if optimizer is not None and not callable(getattr(optimizer, "register_step_pre_hook",
                                                          None)):
            raise TypeError(f"Monitor: optimizer must be an optimizer of optim (it needs step "
                            f"hooks), got {type(optimizer).__name__}; pass "
                            f"Monitor(model, opt) with opt = optim.SGD(model.parameters(), ...)")
        _check_thresholds(saturation, sigmoid_band, mostly, vanishing, exploding)
        self.saturation, self.sigmoid_band, self.mostly = saturation, tuple(sigmoid_band), mostly
        self.vanishing, self.exploding = vanishing, exploding
        self.optimizer = optimizer
        self.layers: list[tuple[str, Module]] = [
            (name, module) for name, module in model.named_modules()
            if next(module.children(), None) is None]
        self.labels = [f"{name}: {type(module).__name__}" if name else type(module).__name__
                       for name, module in self.layers]
        self.history: list[list[Row]] = []
        self._step_done = True                  # the next recorded forward starts a step
        self._warned: set[tuple[int, str]] = set()
        self._latest: list[dict[str, np.ndarray]] = []     # this step's y and dL/dy, for plot
        self._weights: dict[int, Parameter] = {}
        self._before_step: dict[int, np.ndarray] = {}
        self._removers: list[Callable[[], None]] = []
        for index, (_, layer) in enumerate(self.layers):
            self._removers.append(
                layer.register_forward_hook(functools.partial(self._forward, index)).remove)
            weight = getattr(layer, "weight", None)
            if isinstance(weight, Parameter) and weight.requires_grad:
                self._weights[index] = weight
                self._removers.append(weight.register_hook(
                    functools.partial(self._weight_grad, index)))
        if optimizer is not None:
            self._removers += [optimizer.register_step_pre_hook(self._save_weights).remove,
                               optimizer.register_step_post_hook(self._updated).remove]

    # ---------------------------------------------------------------- results

    def report(self, step: int = -1) -> list[Row]:
        """The rows of one step (the latest by default; indexed as `history`): a dict per
        layer with the keys `COLUMNS`, the statistics as floats or None."""
        if not self.history:
            raise RuntimeError("Monitor.report: no step recorded yet; run a forward pass "
                               "(with grad enabled) and backward() with the monitor attached")
        if not -len(self.history) <= step < len(self.history):
            raise IndexError(f"Monitor.report: step {step} is out of range for "
                             f"{len(self.history)} recorded steps")
        return [dict(row) for row in self.history[step]]

    def plot(self) -> Figure:
        """A matplotlib figure (made with pyplot: `plt.show()` shows it) of three plots:
        the latest step's activations y and gradients at the layer outputs, as log10
        |dL/dy| (zeros left out), each a histogram line per layer (the Tanh, Sigmoid and
        ReLU layers; every layer when there are none) giving the fraction of the layer's
        values in each of 50 bins shared by all layers; and the update ratio of each
        weight over the steps, with the guide at 1e-3 dashed. Needs matplotlib
        (`pip install matplotlib`)."""
        plt = require("matplotlib.pyplot", "demos", "Monitor.plot")
        if not self.history:
            raise RuntimeError("Monitor.plot: no step recorded yet; train a step with the "
                               "monitor attached first")
        figure, (activations, gradients, updates) = plt.subplots(
            3, 1, figsize=(8, 9), layout="constrained")
        shown = [index for index, (_, layer) in enumerate(self.layers)
                 if isinstance(layer, (Tanh, Sigmoid, ReLU))] or range(len(self.layers))
        step = len(self.history) - 1
        outputs, grads = [], []
        for index in shown:
            row, seen = self.history[-1][index], self._latest[index]
            if "activation" in seen:
                health = "".join(f", {key} {row[key]:.0%}" for key in ("saturated", "dead")
                                 if row[key] is not None)
                outputs.append((f"{self.labels[index]} (std {row['act_std']:.2f}{health})",
                                seen["activation"]))
            if "grad" in seen:
                grad = seen["grad"]
                grads.append((f"{self.labels[index]} (std {row['act_grad_std']:.1e})",
                              np.log10(np.abs(grad[grad != 0]))))
        _histograms(activations, outputs)
        activations.set(title=f"activations y (step {step})", xlabel="y",
                        ylabel="fraction of values")
        _histograms(gradients, grads)
        gradients.set(title=f"gradients at the layer outputs (step {step})",
                      xlabel="log10 |dL/dy|", ylabel="fraction of values")
        self._plot_updates(updates)
        for axes in (activations, gradients, updates):
            if axes.get_legend_handles_labels()[0]:
                axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        return figure

    def _plot_updates(self, axes: Axes) -> None:
        """update_ratio per step, one curve per weight, and the guide at log10 = −3."""
        axes.set(title="update ratio log10(std(ΔW) / std(W))", xlabel="step",
                 ylabel="log10 ratio")
        if self.optimizer is None:
            axes.text(0.5, 0.5, "no optimizer: Monitor(model, optimizer) records updates",
                      ha="center", va="center", transform=axes.transAxes)
            return
        steps = np.arange(len(self.history))
        for index in self._weights:
            ratios = [row[index]["update_ratio"] for row in self.history]
            axes.plot(steps, [math.nan if r is None or r == -math.inf else r for r in ratios],
                      label=self.labels[index])
        axes.axhline(UPDATE_GUIDE, color="black", linestyle="--", label="guide: 1e-3")

    # ---------------------------------------------------------------- detaching

    def remove(self) -> None:
        """Detach every hook: later steps are not recorded (history stays)."""
        for remover in self._removers:
            remover()
        self._removers = []

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    # ---------------------------------------------------------------- the hooks

    def _row(self, index: int, forward: bool = False) -> Row:
        """Layer `index`'s row in the step being recorded; a forward pass after a finished
        step (or the first thing seen) starts a new step."""
        if not self.history or (forward and self._step_done):
            self.history.append([{**dict.fromkeys(COLUMNS), "layer": label}
                                 for label in self.labels])
            self._latest = [{} for _ in self.layers]
            self._step_done = False
        return self.history[-1][index]

    def _forward(self, index: int, layer: Module, args: tuple, output: Any) -> None:
        """Forward hook: the activation statistics of the layer's output."""
        y = output[0] if isinstance(output, tuple) and output else output
        if not isinstance(y, Tensor) or not ad.is_grad_enabled():
            return
        if y.requires_grad:
            y.register_hook(functools.partial(self._output_grad, index))
        values = y.numpy()
        row = self._row(index, forward=True)
        self._latest[index]["activation"] = values
        row["act_mean"], row["act_std"] = _mean_std(values)
        if isinstance(layer, Tanh):
            row["saturated"] = _fraction(np.abs(values) > self.saturation)
        elif isinstance(layer, Sigmoid):
            low, high = self.sigmoid_band
            row["saturated"] = _fraction((values < low) | (values > high))
        elif isinstance(layer, ReLU):
            row["dead"] = _fraction(np.all(values == 0, axis=0))
        if row["saturated"] is not None and row["saturated"] > self.mostly:
            where = (f"|y| > {self.saturation}" if isinstance(layer, Tanh)
                     else f"y outside [{self.sigmoid_band[0]}, {self.sigmoid_band[1]}]")
            self._warn_once(index, "saturated", f"is mostly saturated: {row['saturated']:.0%} "
                            f"of its outputs have {where}, where its derivative is about 0, so "
                            f"little gradient flows back through them; initialise the layer "
                            f"before it with smaller weights (nn.init.xavier_uniform_, for "
                            f"tanh with gain 5/3) or normalise its input")
        if row["dead"] is not None and row["dead"] > self.mostly:
            self._warn_once(index, "dead", f"is mostly dead: {row['dead']:.0%} of its units "
                            f"are 0 for every sample of the batch, so they pass no gradient "
                            f"back; lower the learning rate, initialise the bias before it "
                            f"at a small positive value, or use nn.LeakyReLU")

    def _output_grad(self, index: int, grad: Tensor) -> None:
        """Tensor hook of the layer's output y: the std of dL/dy."""
        values = grad.numpy()
        row = self._row(index)
        self._latest[index]["grad"] = values
        row["act_grad_std"] = _mean_std(values)[1]
        if self.optimizer is None:
            self._step_done = True
        size = float(np.sqrt(np.mean(np.square(values, dtype=np.float64)))) if values.size \
            else 0.0
        if size < self.vanishing:
            self._warn_once(index, "vanishing", f"has vanishing gradients: rms(dL/dy) = "
                            f"{size:.2g} < {self.vanishing}, so the layers before it hardly "
                            f"learn; look for saturated units or too small weights after it")
        elif size > self.exploding:
            self._warn_once(index, "exploding", f"has exploding gradients: rms(dL/dy) = "
                            f"{size:.2g} > {self.exploding}; lower the learning rate or the "
                            f"initial weights, or clip gradients (nn.utils.clip_grad_norm_)")

    def _weight_grad(self, index: int, grad: Tensor) -> None:
        """Tensor hook of the layer's weight: std(g) and std(g) / std(W)."""
        row = self._row(index)
        row["grad_std"] = _mean_std(grad.numpy())[1]
        row["grad_to_data"] = _ratio(row["grad_std"], _mean_std(self._weights[index].numpy())[1])
        if self.optimizer is None:
            self._step_done = True

    def _save_weights(self, optimizer: HasStepHooks, args: tuple, kwargs: dict) -> None:
        """Step pre-hook: copy each watched weight the optimizer holds."""
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        self._before_step = {index: weight.numpy().copy()
                             for index, weight in self._weights.items() if id(weight) in held}

    def _updated(self, optimizer: HasStepHooks, args: tuple, kwargs: dict) -> None:
        """Step post-hook: the update ratio of each weight copied before; ends the step."""
        for index, before in self._before_step.items():
            change = _mean_std(self._weights[index].numpy() - before)[1]
            scale = _mean_std(before)[1]
            self._row(index)["update_ratio"] = (
                None if scale == 0 else -math.inf if change == 0 else math.log10(change / scale))
        self._before_step = {}
        self._step_done = True

    def _warn_once(self, index: int, kind: str, message: str) -> None:
        if (index, kind) not in self._warned:
            self._warned.add((index, kind))
            warnings.warn(f"Monitor: layer '{self.labels[index]}' {message}", MonitorWarning,
                          stacklevel=2)


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """mean(v) and std(v) = √(mean((v − mean(v))²)) (ddof 0, as np.std), in two passes:
    a sum, then a dot product of the centred values with themselves. On a layer's output
    (32 × 64 values) that takes a fifth of the time of values.mean() and values.std(),
    whose overhead would otherwise be most of a Monitor's cost."""
    flat = values.ravel()
    mean = flat.sum() / flat.size
    centred = flat - mean
    return float(mean), math.sqrt(np.dot(centred, centred) / flat.size)


def _fraction(mask: np.ndarray) -> float:
    """The fraction of True entries."""
    return np.count_nonzero(mask) / mask.size


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _histograms(axes: Axes, arrays: list[tuple[str, np.ndarray]]) -> None:
    """A line per (label, values): the fraction of the finite values in each of 50 bins
    spanning all of them, so that narrow and wide distributions compare on one axis."""
    arrays = [(label, values[np.isfinite(values)]) for label, values in arrays]
    arrays = [(label, values) for label, values in arrays if values.size]
    if not arrays:
        return
    edges = np.histogram_bin_edges(np.concatenate([values for _, values in arrays]), bins=50)
    centres = (edges[:-1] + edges[1:]) / 2
    for label, values in arrays:
        counts, _ = np.histogram(values, bins=edges)
        axes.plot(centres, counts / values.size, label=label)


def _check_thresholds(saturation: float, sigmoid_band: tuple[float, float], mostly: float,
                      vanishing: float, exploding: float) -> None:
    """Raise ValueError naming the first threshold out of its range."""
    if not 0 < saturation < 1:
        raise ValueError(f"Monitor: saturation is a bound on |tanh|, in (0, 1), got "
                         f"{saturation!r}")
    low, high = sigmoid_band
    if not 0 < low < high < 1:
        raise ValueError(f"Monitor: sigmoid_band must be (lo, hi) with 0 < lo < hi < 1, got "
                         f"{sigmoid_band!r}")
    if not 0 <= mostly <= 1:
        raise ValueError(f"Monitor: mostly is a fraction of units, in [0, 1], got {mostly!r}")
    if not 0 <= vanishing < exploding:
        raise ValueError(f"Monitor: need 0 <= vanishing < exploding, got vanishing="
                         f"{vanishing!r}, exploding={exploding!r}")
