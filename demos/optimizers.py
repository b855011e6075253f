"""The lecture notes' update rules raced through a ravine and on a regression (document 002).

The notes (cs231n lectures 4–6; document 002 in docs/sources.md) give the updates as code,
with dx the gradient:

    SGD        x -= lr * dx
    momentum   v = mu * v - lr * dx;  x += v
    Nesterov   v_prev = v;  v = mu * v - lr * dx;  x += -mu * v_prev + (1 + mu) * v
    annealing  lr = lr0 * exp(-k t)   or   lr = lr0 / (1 + k t)
    Adagrad    cache += dx**2;  x -= lr * dx / (sqrt(cache) + eps)
    RMSprop    cache = decay * cache + (1 - decay) * dx**2;  x -= lr * dx / (sqrt(cache) + eps)
    Adam       m = b1*m + (1-b1)*dx;  v = b2*v + (1-b2)*dx**2;  x -= lr * m / (sqrt(v) + eps)

and claim: a small enough lr always makes progress; momentum converges faster almost
always; too large an lr keeps jumping around the optimum late in training, so anneal it;
Adagrad, RMSprop and Adam give every parameter its own step size. `optim` implements
these (with Adam's bias correction, which the notes leave out). Here they race on

1. **a ravine**: Rosenbrock's function f(x, y) = (1 − x)² + 100(y − x²)², minimum
   f(1, 1) = 0, from Rosenbrock's own start (−1.2, 1). We pick it over Beale's function
   because it is *the* ravine: a curved valley whose walls are steep (the Hessian's large
   eigenvalue is ≈ 1,500 at the start, 1,002 at the minimum) and whose floor is nearly
   flat (0.4 at the minimum: a condition number of 2,500), so plain gradient descent must
   take small steps across and then crawl along. Beale's function tests flat plateaus and
   steep edges rather than a ravine. The parameters are one `ad.tensor` of shape (2,), f is written
   with autodiff ops, the gradient comes from `backward()`, the Hessian from double
   backward;
2. **document 000's regression**: the 1 → 2 → 5 → 1 sigmoid net fitting y = 2.3x + 4.7,
   one sample per step in the document's order (30 passes, 3,000 steps), every optimizer
   from the same initial weights, measured after each pass by the MSE against the true
   line over all 100 x.

Learning rates. The SGD family shares one lr per task: on the ravine 0.001, below the
stability limit 2/λ_max = 0.0013 of the walls at the start (plain SGD then lowers f at
every step), and momentum and Nesterov (μ = 0.9) take the same lr, so only momentum
differs. On the regression SGD takes 0.03, and momentum lr·(1 − μ) = 0.003, the same
step size once the velocity has built up (lr / (1 − μ)), since the same lr would take
steps 10× larger and jump around. The annealed runs start at 4× the SGD lr, beyond the
walls' stability limit, and decay to the SGD lr over the run (exponential: k = ln 4 / T;
1/t: k = 3 / T for T steps); the same 4× lr without annealing is run beside them. The
adaptive methods take the same lr on both tasks, each its usual scale: Adagrad 0.5
(its first step moves every coordinate by lr, then its steps shrink), RMSprop 0.01 (its
steps stay about lr per coordinate) and Adam 0.02 (document 000's lr), with PyTorch's
other defaults (RMSprop decay 0.99, Adam β 0.9 / 0.999, eps 1e-10 / 1e-8 / 1e-8).
"""
from __future__ import annotations

import math
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D

import autodiff as ad
import nn
import optim
from demos.common import fmt, plt, print_comparison, progress, row, save_figure
from demos.regression import activation_net, make_data, mse_to_line
from optim.lr_scheduler import ExponentialDecayLR, InverseTimeDecayLR

START, MINIMUM = (-1.2, 1.0), (1.0, 1.0)
TOLERANCE = 1e-3                    # "reached": distance to (1, 1) below this
RAVINE_STEPS, QUICK_RAVINE_STEPS = 5_000, 1_000
QUICK_NOTE = " (not compared in --quick: too few steps to reach the minimum)"
PASSES, QUICK_PASSES = 30, 3        # regression: passes over the 100 samples, one per step
MU = 0.9
SGD_LR = {"ravine": 1e-3, "regression": 0.03}
MOMENTUM_LR = {"ravine": 1e-3, "regression": 0.03 * (1 - MU)}
ADAPTIVE_LR = {"adagrad": 0.5, "rmsprop": 0.01, "adam": 0.02}
ANNEALING_START = 4                 # annealed runs start at 4 × SGD's lr and end at it


@dataclass(frozen=True)
class Contender:
    """One optimizer setup: how to build it on some parameters, and how to draw it."""
    label: str
    colour: str
    build: Callable[[list[ad.Tensor]], tuple[optim.Optimizer, Any]]   # -> (optimizer, schedule)


def contenders(task: str, steps: int) -> dict[str, Contender]:
    """The nine setups raced on `task` ("ravine" or "regression") for `steps` steps."""
    lr, momentum_lr = SGD_LR[task], MOMENTUM_LR[task]
    high = ANNEALING_START * lr

    def plain(make: Callable[[list[ad.Tensor]], optim.Optimizer]) -> Callable:
        return lambda params: (make(params), None)

    def annealed(schedule: type, k: float) -> Callable:
        def build(params: list[ad.Tensor]) -> tuple[optim.Optimizer, Any]:
            optimizer = optim.SGD(params, lr=high)
            return optimizer, schedule(optimizer, k=k)
        return build

    return {
        "sgd": Contender(f"SGD, lr {lr:g}", "black",
                         plain(lambda p: optim.SGD(p, lr=lr))),
        "momentum": Contender(f"momentum {MU}, lr {momentum_lr:g}", "tab:blue",
                              plain(lambda p: optim.SGD(p, lr=momentum_lr, momentum=MU))),
        "nesterov": Contender(f"Nesterov {MU}, lr {momentum_lr:g}", "tab:cyan",
                              plain(lambda p: optim.SGD(p, lr=momentum_lr, momentum=MU,
                                                        nesterov=True))),
        "sgd_high_lr": Contender(f"SGD, lr {high:g} (no annealing)", "tab:gray",
                                 plain(lambda p: optim.SGD(p, lr=high))),
        "exponential": Contender(f"SGD, lr {high:g}·exp(−kt) → {lr:g}", "tab:orange",
                                 annealed(ExponentialDecayLR, math.log(ANNEALING_START) / steps)),
        "inverse_time": Contender(f"SGD, lr {high:g}/(1 + kt) → {lr:g}", "tab:brown",
                                  annealed(InverseTimeDecayLR, (ANNEALING_START - 1) / steps)),
        "adagrad": Contender(f"Adagrad, lr {ADAPTIVE_LR['adagrad']:g}", "tab:green",
                             plain(lambda p: optim.Adagrad(p, lr=ADAPTIVE_LR["adagrad"]))),
        "rmsprop": Contender(f"RMSprop, lr {ADAPTIVE_LR['rmsprop']:g}", "tab:purple",
                             plain(lambda p: optim.RMSprop(p, lr=ADAPTIVE_LR["rmsprop"]))),
        "adam": Contender(f"Adam, lr {ADAPTIVE_LR['adam']:g}", "tab:red",
                          plain(lambda p: optim.Adam(p, lr=ADAPTIVE_LR["adam"]))),
    }


# ---------------------------------------------------------------- the ravine

def rosenbrock(x: Any, y: Any) -> Any:
    """f(x, y) = (1 − x)² + 100(y − x²)², on tensors (autodiff) or arrays (plots)."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def hessian(point: tuple[float, float]) -> np.ndarray:
    """Rosenbrock's Hessian at `point` by double backward: the gradient's graph is kept
    (create_graph=True) and each of its two entries is differentiated again."""
    p = ad.tensor(np.array(point), requires_grad=True)
    gradient, = ad.grad(rosenbrock(p[0], p[1]), [p], create_graph=True)
    return np.array([ad.grad(gradient[i], [p], retain_graph=True)[0].numpy() for i in range(2)])


def effective_lr(optimizer: optim.Optimizer, p: ad.Tensor) -> np.ndarray:
    """The step size each coordinate got in the last step, the factor in front of dx
    (Adam: of its bias-corrected m̂): SGD lr; Adagrad lr / (√cache + eps); RMSprop the
    same with the running average; Adam lr / (√v̂ + eps)."""
    group, state = optimizer.param_groups[0], optimizer.state[p]
    lr, eps = group["lr"], group.get("eps", 0.0)
    if isinstance(optimizer, optim.Adagrad):
        return lr / (np.sqrt(state["sum"]) + eps)
    if isinstance(optimizer, optim.RMSprop):
        return lr / (np.sqrt(state["square_avg"]) + eps)
    if isinstance(optimizer, optim.Adam):
        v_hat = state["exp_avg_sq"] / (1 - group["betas"][1] ** state["step"])
        return lr / (np.sqrt(v_hat) + eps)
    return np.full(2, lr)


def descend_ravine(contender: Contender, steps: int) -> dict[str, np.ndarray]:
    """`steps` updates on Rosenbrock's function from START. Returns the path (steps + 1
    points), f along it, and the effective lr of each coordinate at each step."""
    p = ad.tensor(np.array(START), requires_grad=True)              # (2,) float64
    optimizer, schedule = contender.build([p])
    path, lrs = [p.numpy().copy()], []
    for _ in range(steps):
        optimizer.zero_grad()
        rosenbrock(p[0], p[1]).backward()
        optimizer.step()
        lrs.append(effective_lr(optimizer, p))
        if schedule is not None:
            schedule.step()
        path.append(p.numpy().copy())
    path = np.array(path)
    return {"path": path, "f": rosenbrock(path[:, 0], path[:, 1]), "lr": np.array(lrs)}


def ravine_summary(run: dict[str, np.ndarray]) -> dict[str, Any]:
    """Where a ravine run started and ended, when it first came within TOLERANCE of the
    minimum (None: never), how often f rose, and the range of its step sizes."""
    distance = np.linalg.norm(run["path"] - np.array(MINIMUM), axis=1)
    reached = np.flatnonzero(distance < TOLERANCE)
    return {"start_f": run["f"][0], "final_f": run["f"][-1], "final_distance": distance[-1],
            "steps_to_tolerance": int(reached[0]) if len(reached) else None,
            "f_increases": int(np.sum(np.diff(run["f"]) > 0)),
            "finite": bool(np.isfinite(run["path"]).all()),
            "lr_first": run["lr"][0], "lr_last": run["lr"][-1],
            "lr_min": run["lr"].min(axis=0), "lr_max": run["lr"].max(axis=0),
            "lr_only_shrinks": bool(np.all(np.diff(run["lr"], axis=0) <= 0))}


# ---------------------------------------------------------------- the regression

def fit_regression(contender: Contender, initial: dict[str, Any], data: dict[str, ad.Tensor],
                   passes: int) -> np.ndarray:
    """Document 000's loop with `contender`'s optimizer: for each pass, for each sample
    in order, one step on (ŷ(xᵢ) − y_ᵢ)². Returns the MSE against the true line before
    training and after each pass. (Within a pass the in-order sweep drags the curve to
    the latest samples and back, so the MSE swings with a period of 100 steps: measuring
    at the same point of every pass shows the trend.)"""
    model = activation_net()
    model.load_state_dict(initial)                      # every optimizer starts the same
    optimizer, schedule = contender.build(list(model.parameters()))
    criterion = nn.MSELoss()
    x, target = data["x"], data["y_"]
    curve = [mse_to_line(model, data)]
    for _ in range(passes):
        for j in range(len(x)):
            optimizer.zero_grad()
            criterion(model(x[j:j + 1]), target[j:j + 1]).backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
        curve.append(mse_to_line(model, data))
    return np.array(curve)


# ---------------------------------------------------------------- pictures

FAMILIES = [(["sgd", "momentum", "nesterov"], "SGD and momentum, the same lr"),
            (["sgd_high_lr", "exponential", "inverse_time"], "a 4× larger lr, annealed or not"),
            (["adagrad", "rmsprop", "adam"], "per-parameter step sizes")]
STYLES = ("-", "--", ":")                   # the three members of a family, in that order
VIEW = {"xlim": (-1.5, 1.5), "ylim": (-0.4, 1.7)}    # every path stays inside this box


def contour_panel(ax: Any, run: dict[str, np.ndarray], racer: Contender) -> None:
    """One optimizer alone on log-spaced contours of f: its path from the start to its end
    point (a dot, its coordinates and distance to the minimum in the title)."""
    xs, ys = np.meshgrid(np.linspace(*VIEW["xlim"], 300), np.linspace(*VIEW["ylim"], 300))
    ax.contour(xs, ys, rosenbrock(xs, ys), levels=np.logspace(-2, 3.5, 23), norm=LogNorm(),
               cmap="Greys_r", linewidths=0.6, alpha=0.6)
    path = run["path"]
    end = path[-1]
    distance = np.linalg.norm(end - np.array(MINIMUM))
    ax.plot(path[:, 0], path[:, 1], "-", color=racer.colour, lw=1.3)
    ax.plot(*START, "s", color="white", mec="black", ms=8, zorder=5)
    ax.plot(*MINIMUM, "*", color="gold", mec="black", ms=15, zorder=5)
    ax.plot(*end, "o", color=racer.colour, ms=8, mec="black", mew=1, zorder=6)
    ax.set(title=f"{racer.label}\nend ({end[0]:.3f}, {end[1]:.3f}), {distance:.2g} from (1, 1)",
           xlabel="x", ylabel="y", aspect="equal", **VIEW)
    ax.title.set_fontsize(10)


def distance_panel(ax: Any, runs: dict[str, dict], racers: dict[str, Contender],
                   names: list[str], title: str, floor: float) -> None:
    """‖(x, y) − (1, 1)‖ against the steps done (0 = the start), log scale down to
    `floor`, for `names`, each in its own line style so that equal curves stay visible;
    the end of each is a dot."""
    steps = len(runs[names[0]]["path"]) - 1
    for name, style in zip(names, STYLES):
        d = np.maximum(np.linalg.norm(runs[name]["path"] - np.array(MINIMUM), axis=1), 1e-16)
        ax.plot(np.arange(steps + 1), d, ls=style, color=racers[name].colour, lw=1.8,
                label=f"{racers[name].label}: ends {d[-1]:.2g} away")
        ax.plot(steps, d[-1], "o", color=racers[name].colour, mec="black", ms=6, zorder=4)
    ax.axhline(TOLERANCE, color="0.5", ls=":", lw=1, label=f"tolerance {TOLERANCE:g}")
    ax.set(yscale="log", ylim=(floor, 10), xlabel="steps done (0 = the start)",
           ylabel="‖(x, y) − (1, 1)‖ (log scale)", title=f"distance to the minimum:\n{title}")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8, loc="best")


def plot_ravine(runs: dict[str, dict], racers: dict[str, Contender], steps: int,
                path: pathlib.Path) -> None:
    """One row per family of optimizers: a panel with each one's path on the contours
    (so that no path hides another), then the family's distances to the minimum. Bottom:
    the step size each coordinate got."""
    fig = plt.figure(figsize=(19, 15.5), layout="constrained")
    grid = fig.add_gridspec(4, 4, width_ratios=[1, 1, 1, 1.1], height_ratios=[1, 1, 1, 1.1])
    closest = min(np.linalg.norm(r["path"] - np.array(MINIMUM), axis=1).min()
                  for r in runs.values())
    floor = max(1e-12, min(closest, TOLERANCE) / 5)
    for k, (names, title) in enumerate(FAMILIES):
        for column, name in enumerate(names):
            contour_panel(fig.add_subplot(grid[k, column]), runs[name], racers[name])
        distance_panel(fig.add_subplot(grid[k, 3]), runs, racers, names, title, floor)

    sizes = fig.add_subplot(grid[3, :])
    step = np.arange(1, steps + 1)                        # the lr used by step 1, 2, ...
    sizes.plot(step, runs["sgd"]["lr"][:, 0], color=racers["sgd"].colour, lw=1.5,
               label=f"SGD, momentum, Nesterov: lr {SGD_LR['ravine']:g}")
    for name in ("sgd_high_lr", "exponential", "inverse_time"):
        sizes.plot(step, runs[name]["lr"][:, 0], color=racers[name].colour, lw=1.5,
                   label=racers[name].label)
    for name in ("adagrad", "rmsprop", "adam"):
        lr = runs[name]["lr"]
        sizes.plot(step, lr[:, 0], color=racers[name].colour, lw=1.5,
                   label=f"{racers[name].label}: x")
        sizes.plot(step, lr[:, 1], color=racers[name].colour, lw=1.5, ls="--",
                   label=f"{racers[name].label}: y")
    sizes.set(yscale="log", xlabel="step", ylabel="effective learning rate (log scale)",
              title="step size per unit of gradient, per coordinate: lr, or "
                    "lr / (√cache + eps) for the adaptive methods (Adam: of its m̂)")
    sizes.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.01, 0.5))

    markers = [Line2D([], [], color="0.3", lw=1.3, label="path (colour: the optimizer)"),
               Line2D([], [], ls="", marker="s", color="white", mec="black", ms=8,
                      label="start (−1.2, 1)"),
               Line2D([], [], ls="", marker="*", color="gold", mec="black", ms=15,
                      label="minimum (1, 1)"),
               Line2D([], [], ls="", marker="o", color="0.6", mec="black", ms=8,
                      label=f"end point after {steps:,} steps (coordinates in each title)"),
               Line2D([], [], color="0.5", lw=0.8, label="contours of f, log-spaced")]
    fig.legend(handles=markers, loc="outside upper center", ncol=5, fontsize=10,
               title=f"{steps:,} steps on Rosenbrock's ravine f(x, y) = (1 − x)² + "
                     "100(y − x²)²: one panel per optimizer, one row per family",
               title_fontsize=14, frameon=False)
    save_figure(fig, path)


def plot_regression(curves: dict[str, np.ndarray], racers: dict[str, Contender],
                    samples: int, path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for name, curve in curves.items():
        ax.plot(np.arange(len(curve)), curve, "o-", ms=3, color=racers[name].colour, lw=1.3,
                label=racers[name].label)
    ax.set(yscale="log", xlabel=f"passes done over the {samples} samples, one step per sample "
                                "(0 = before training)",
           ylabel="MSE against the true line, after the pass",
           title="document 000's regression: 1 → 2 → 5 → 1 sigmoid net fitting "
                 "y = 2.3x + 4.7, same initial weights")
    ax.legend(fontsize=8, ncol=2, loc="upper right")
    save_figure(fig, path)


# ---------------------------------------------------------------- the run

def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    # ---- the ravine: how steep the walls, how flat the floor (Hessian by autodiff)
    eigen_start = np.linalg.eigvalsh(hessian(START))
    eigen_minimum = np.linalg.eigvalsh(hessian(MINIMUM))
    print(f"Rosenbrock's Hessian eigenvalues (autodiff, double backward): at the start "
          f"{fmt(eigen_start[0])}, {fmt(eigen_start[1])}; at the minimum "
          f"{fmt(eigen_minimum[0])}, {fmt(eigen_minimum[1])} "
          f"(condition number {eigen_minimum[1] / eigen_minimum[0]:,.0f})")

    steps = QUICK_RAVINE_STEPS if quick else RAVINE_STEPS
    racers = contenders("ravine", steps)
    runs = {name: descend_ravine(c, steps)
            for name, c in progress(racers.items(), quick=quick, desc="ravine")}
    ravine = {name: ravine_summary(r) for name, r in runs.items()}
    for name, s in ravine.items():
        print(f"  {racers[name].label:>32}: f {fmt(s['start_f'])} → {fmt(s['final_f'])}, "
              f"{reach(s)} after {steps:,} steps")
    plot_ravine(runs, racers, steps, out / "ravine.png")

    # ---- document 000's regression, same initial weights for everyone
    passes = QUICK_PASSES if quick else PASSES
    data = make_data()
    samples = len(data["x"])
    initial = {k: v.numpy().copy() for k, v in activation_net().state_dict().items()}
    fitters = contenders("regression", passes * samples)
    curves = {name: fit_regression(c, initial, data, passes)
              for name, c in progress(fitters.items(), quick=quick, desc="regression")}
    regression = {name: {"start_mse": c[0], "final_mse": c[-1], "best_mse": c.min(),
                         "finite": bool(np.isfinite(c).all())}
                  for name, c in curves.items()}
    for name, r in regression.items():
        print(f"  {fitters[name].label:>32}: MSE to the line {fmt(r['start_mse'])} → "
              f"{fmt(r['final_mse'])} after {passes * samples:,} steps")
    plot_regression(curves, fitters, samples, out / "regression_losses.png")

    rows = comparison(ravine, regression, steps, eigen_start)
    print_comparison(rows, "optimizers: document 002 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "ravine": {"function": "rosenbrock", "start": START, "minimum": MINIMUM,
                   "steps": steps, "tolerance": TOLERANCE,
                   "hessian_eigenvalues": {"start": eigen_start, "minimum": eigen_minimum},
                   "optimizers": {name: {"label": racers[name].label, **ravine[name],
                                         "path_every_10_steps": runs[name]["path"][::10]}
                                  for name in racers}},
        "regression": {"steps": passes * samples, "passes": passes,
                       "optimizers": {name: {"label": fitters[name].label, **regression[name],
                                             "mse_after_each_pass": curves[name]}
                                      for name in fitters}},
    }


# ---------------------------------------------------------------- the table

def reach(summary: dict[str, Any]) -> str:
    """How a ravine run ended."""
    steps = summary["steps_to_tolerance"]
    if steps is not None:
        return f"within {TOLERANCE:g} at step {steps:,}"
    return f"{summary['final_distance']:.2g} away"


def comparison(ravine: dict[str, dict], regression: dict[str, dict], steps: int,
               eigen_start: np.ndarray) -> list[dict[str, Any]]:
    """The closing table: each update rule, what the notes claim, what we saw (ravine:
    where it ended after `steps` steps; regression: the final MSE against the line).
    Reaching the minimum takes momentum about 1,600 steps and Adam 3,000: a --quick run
    (fewer steps) cannot compare Nesterov with momentum or show Adam clearing the ravine,
    so those two rows make no claim there."""
    full_length = steps >= RAVINE_STEPS

    def ours(name: str) -> str:
        return (f"ravine {reach(ravine[name])}, regression MSE "
                f"{fmt(regression[name]['final_mse'], 3)}")

    def distance(name: str) -> float:
        return ravine[name]["final_distance"]

    sgd, momentum, nesterov = ravine["sgd"], ravine["momentum"], ravine["nesterov"]
    adagrad_lr = np.array([ravine["adagrad"]["lr_first"], ravine["adagrad"]["lr_last"]])
    # each verdict's condition, for its text and its `agrees` flag alike
    progresses = sgd["f_increases"] == 0
    rows = [row("SGD, x -= lr·dx", "a small enough lr always makes progress (full batch)",
                f"lr {SGD_LR['ravine']:g} < 2/λ_max = {2 / eigen_start[1]:.2g}: f rose in "
                f"{sgd['f_increases']} of {steps:,} steps; " + ours("sgd"),
                "agrees; but it crawls along the flat floor" if progresses
                else "differs: f rose at some steps", agrees=progresses)]

    faster = distance("momentum") < distance("sgd")
    rows.append(row("momentum μ = 0.9", "converges faster, almost always",
                    "same lr as SGD: " + ours("momentum"),
                    "agrees: it speeds through the ravine" if faster
                    else "differs: not faster than SGD here", agrees=faster))

    # cs231n's "a bit better" is borne out when Nesterov is not behind momentum: at most
    # 5 % more steps to the tolerance ("on par"), or closer when neither reached it
    if nesterov["steps_to_tolerance"] and momentum["steps_to_tolerance"]:
        ratio = nesterov["steps_to_tolerance"] / momentum["steps_to_tolerance"]
        not_behind = ratio <= 1.05
        nesterov_verdict = ("slightly faster than momentum" if ratio < 0.95 else
                            "on par with momentum" if not_behind else
                            "slower than momentum") + f" ({ratio:.2f}× its steps)"
    else:
        not_behind = distance("nesterov") < distance("momentum")
        nesterov_verdict = ("ahead of momentum" if not_behind
                            else "behind momentum") + " (neither reached the tolerance)"
    rows.append(row("Nesterov μ = 0.9", "formula only (the author did not follow it); "
                    "cs231n: a bit better than momentum", ours("nesterov"),
                    nesterov_verdict + ("" if full_length else QUICK_NOTE),
                    agrees=not_behind if full_length else None))

    annealed = ("exponential", "inverse_time")
    settles = all(distance(n) < min(distance("sgd_high_lr"), distance("sgd")) for n in annealed)
    mse = {name: regression[name]["final_mse"] for name in regression}
    calms = all(mse[n] < mse["sgd_high_lr"] for n in annealed)
    beats_sgd = all(mse[n] < mse["sgd"] for n in annealed)
    # the claim: decaying a too-large lr beats keeping it, on both tasks (beating SGD's
    # smaller constant lr as well is a bonus, not the claim)
    anneal_helps = settles and calms
    rows.append(row("annealing lr₀·exp(−kt), lr₀/(1 + kt)",
                    "too large an lr jumps around the optimum late in training: decay it",
                    "; ".join(f"{label}: {ours(n)}" for n, label in
                              (("sgd_high_lr", "4× lr, constant"), ("exponential", "exp"),
                               ("inverse_time", "1/t"))),
                    ("agrees: " if anneal_helps else "differs: ")
                    + ("on the ravine the decayed large lr settles deeper than either "
                       "constant lr" if settles else "on the ravine annealing did not "
                       "settle deeper than both constant lrs")
                    + ("; on the regression it beats both constant lrs" if calms and beats_sgd
                       else "; on the regression it beats the constant 4× lr but not SGD's lr"
                       if calms else "; on the regression it does not beat the constant 4× lr"),
                    agrees=anneal_helps))

    only_shrinks = bool(ravine["adagrad"]["lr_only_shrinks"])
    rows.append(row("Adagrad, cache += dx²", "a learning rate per parameter; (cs231n) it "
                    "only decays, often too fast",
                    f"x, y step sizes {fmt(adagrad_lr[0, 0], 2)}, {fmt(adagrad_lr[0, 1], 2)} "
                    f"→ {fmt(adagrad_lr[1, 0], 2)}, {fmt(adagrad_lr[1, 1], 2)}; "
                    + ours("adagrad"),
                    "agrees: it only shrinks, fixed by the first large gradients"
                    if only_shrinks else "differs: its step size grew at some step",
                    agrees=only_shrinks))

    rms = ravine["rmsprop"]
    grows_again = not rms["lr_only_shrinks"]
    rows.append(row("RMSprop, leaky cache", "a learning rate per parameter that does not "
                    "shrink for good",
                    f"step sizes between {fmt(rms['lr_min'].min(), 2)} and "
                    f"{fmt(rms['lr_max'].max(), 2)}; " + ours("rmsprop"),
                    ("agrees: they grow again as the gradients shrink"
                     if grows_again else "differs: they only shrank")
                    + ("; without momentum it zig-zags on the floor"
                       if rms["steps_to_tolerance"] is None else ""), agrees=grows_again))

    adam = ravine["adam"]
    clears = adam["steps_to_tolerance"] is not None
    rows.append(row("Adam, RMSprop + momentum", "eps 1e-8, β 0.9 / 0.999; written without "
                    "bias correction", ours("adam"),
                    ("agrees: momentum plus per-parameter steps clear the ravine"
                     if clears else "the ravine is not cleared in this run")
                    + "; bias correction included, as in the paper and PyTorch"
                    + ("" if full_length else QUICK_NOTE),
                    agrees=clears if full_length else None))
    return rows
