"""Gradient descent on one variable, and where it really stops (document 003, a PyTorch book).

The book (document 003 in docs/sources.md) minimises two functions with
`new x = x − learning_rate × gradient`:

1. f(x) = x², f'(x) = 2x, from x = 5 with lr 0.3 for 15 epochs. Each step multiplies x by
   1 − 0.3·2 = 0.4: 5, 2, 0.8, 0.32, 0.128, ... (the book prints "5.2, 0.8, ...": the
   comma of "5, 2" is lost). From −5 it reaches 0 as well. Like the book we list 16 values,
   x at the start and after each of epochs 1 … 15; pictures count "epochs done", 0 being
   the start.
2. f(x) = 2x⁴ − 3x² + 2x − 20. With lr 0.3 it diverges (the book's Python raised
   OverflowError, "Result too large"). With lr 0.001 for 15,000 epochs it stops at
   x ≈ 0.51, which the book calls the minimum. It is not: f'(x) = 8x³ − 6x + 2 =
   2(x + 1)(2x − 1)², so f' ≥ 0 on both sides of 0.5: x = 0.5 is a stationary inflection
   point (f = −19.625) and the only minimum is x = −1 (f = −23). Descent from the right
   creeps towards 0.5 because the gradient there vanishes like 12(x − 0.5)²; from any start
   left of 0.5 it reaches −1, and momentum carries it across the flat spot.

Every gradient comes from autodiff (a leaf tensor, `backward()`, the update under
`ad.no_grad()`) and is checked at every step against the hand derivative; autodiff's
second and third derivatives (`ad.grad(..., create_graph=True)`) classify x = 0.5.
"""
from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autodiff as ad
import optim
from demos.common import fmt, plt, print_comparison, progress, row, save_figure

DOCUMENT_X_SQUARED = "5.2, 0.8, 0.32, 0.13, 0.05, 0.02, 0.01, 0, 0, 0, 0, 0, 0, 0, 0"
DOCUMENT_X_SQUARED_MEANT = [5, 2, 0.8, 0.32, 0.13, 0.05, 0.02, 0.01] + [0] * 8   # "5.2" = 5, 2
BASIN_STARTS = np.round(np.linspace(-2.5, 2.5, 21), 2)     # where does descent end?


def square(x: Any) -> Any:
    return x ** 2


def d_square(x: Any) -> Any:
    return 2 * x


def quartic(x: Any) -> Any:
    """f(x) = 2x⁴ − 3x² + 2x − 20, on tensors (for autodiff) and arrays (for plots)."""
    return 2 * x ** 4 - 3 * x ** 2 + 2 * x - 20


def d_quartic(x: Any) -> Any:
    """The hand derivative f'(x) = 8x³ − 6x + 2 = 2(x + 1)(2x − 1)²."""
    return 8 * x ** 3 - 6 * x + 2


def descend(f: Callable, df: Callable, starts: Sequence[float], lr: float, epochs: int, *,
            quick: bool, desc: str = "") -> dict[str, Any]:
    """Plain gradient descent, x ← x − lr·f'(x), from every start at once.

    The starts never interact: the gradient of Σᵢ f(xᵢ) with respect to xᵢ is f'(xᵢ), so
    one backward() per epoch serves them all. Stops after the first epoch whose gradient
    is not finite (that epoch's x is then inf or nan).

    Returns "xs" (row k = x after k epochs, row 0 = the starts), "grads" (row k = the
    gradient used in epoch k + 1) and "derivative_error" (the largest relative difference
    between autodiff's gradient and the hand derivative `df`).
    """
    x = ad.tensor(np.asarray(starts, dtype=np.float64), requires_grad=True)
    xs, grads, worst = [x.numpy().copy()], [], 0.0
    for _ in progress(range(epochs), quick=quick, desc=desc):
        f(x).sum().backward()
        grad = x.grad.numpy().copy()
        hand = df(xs[-1])                          # the hand derivative at the same x
        ok = np.isfinite(grad) & np.isfinite(hand)
        relative = np.abs(grad - hand)[ok] / np.maximum(1.0, np.abs(hand[ok]))
        worst = max(worst, float(relative.max(initial=0.0)))
        with ad.no_grad():
            x -= lr * x.grad                       # new x = x − learning_rate × gradient
        x.grad = None
        xs.append(x.numpy().copy())
        grads.append(grad)
        if not np.isfinite(grad).all():
            break
    return {"xs": np.array(xs), "grads": np.array(grads), "derivative_error": worst}


def overflow_epoch_in_python(x: float, lr: float, epochs: int) -> tuple[int, str] | None:
    """Replay the book's loop on Python floats: its `x ** 3` raises OverflowError where
    numpy returns inf. Returns (epoch, message) of the raise, or None."""
    for epoch in range(1, epochs + 1):
        try:
            gradient = 8 * x ** 3 - 6 * x + 2
        except OverflowError as error:
            return epoch, str(error)
        x -= lr * gradient
    return None


def with_optim_sgd(start: float, lr: float, variants: Sequence[dict[str, Any]], epochs: int,
                   *, quick: bool) -> np.ndarray:
    """Descent on the quartic with `optim.SGD`, one parameter group per variant (its own
    momentum and nesterov), all from `start`. Returns x after each epoch, shape
    (epochs + 1, variants)."""
    xs = [ad.tensor(np.array(start, dtype=np.float64), requires_grad=True) for _ in variants]
    optimizer = optim.SGD([{"params": [x], **v} for x, v in zip(xs, variants)], lr=lr)
    path = [[x.item() for x in xs]]
    for _ in progress(range(epochs), quick=quick, desc="SGD with momentum"):
        optimizer.zero_grad()
        sum(quartic(x) for x in xs).backward()
        optimizer.step()
        path.append([x.item() for x in xs])
    return np.array(path)


def derivatives_at(x0: float, order: int) -> list[float]:
    """f'(x0), f''(x0), ... up to `order`, each by differentiating the previous one's graph."""
    x = ad.tensor(x0, dtype=ad.float64, requires_grad=True)
    values, y = [], quartic(x)
    for _ in range(order):
        y, = ad.grad(y, [x], create_graph=True)
        values.append(y.item())
    return values


def plot_square(runs: dict[str, np.ndarray], path: pathlib.Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    grid = np.linspace(-5.5, 5.5, 200)
    left.plot(grid, square(grid), color="0.3", lw=1.5, label="f(x) = x²")
    for (label, xs), colour in zip(runs.items(), ("tab:blue", "tab:orange")):
        left.plot(xs, square(xs), "o-", color=colour, ms=5, lw=1, alpha=0.85, label=label)
        right.plot(np.arange(len(xs)), xs, "o-", color=colour, ms=5, lw=1, label=label)
    right.plot(np.arange(16), DOCUMENT_X_SQUARED_MEANT, "x", color="k", ms=8,
               label="the book's printout")
    left.set(title="f(x) = x², lr 0.3: each step multiplies x by 0.4", xlabel="x",
             ylabel="f(x)")
    right.set(title="x at the start (0), then after each of the 15 epochs",
              xlabel="epochs done (0 = the start x₀)", ylabel="x")
    right.axhline(0, color="0.7", lw=0.8)
    left.legend()
    right.legend()
    save_figure(fig, path)


def plot_quartic(plain: np.ndarray, momentum: np.ndarray, labels: Sequence[str],
                 basins: tuple[np.ndarray, np.ndarray], path: pathlib.Path) -> None:
    """Four panels: the function with both paths from x = 5, a close-up of the two
    stationary points, x per epoch for each optimizer, and where each start ends."""
    fig, ((full, zoom), (paths, basin)) = plt.subplots(2, 2, figsize=(12, 9))
    colours = ("tab:red", "tab:green", "tab:purple", "tab:brown")
    epochs = len(plain) - 1
    marked = np.unique(np.geomspace(1, epochs, 30).astype(int))   # early steps are the long ones
    fast = momentum[:, 2]                                          # momentum 0.9

    grid = np.linspace(-4, 5.2, 400)
    full.plot(grid, quartic(grid), color="0.3", lw=1.5, label="f(x) = 2x⁴ − 3x² + 2x − 20")
    full.plot(fast, quartic(fast), "-", color=colours[2], lw=1, label=f"{labels[2]}, lr 0.001")
    full.plot(plain[marked], quartic(plain[marked]), "o", color=colours[0], ms=5,
              label="plain GD, lr 0.001 (30 epochs, log-spaced)")
    full.set(title="from x = 5", xlabel="x", ylabel="f(x)")
    full.legend(loc="upper center")

    grid = np.linspace(-1.5, 1.1, 400)
    zoom.plot(grid, quartic(grid), color="0.3", lw=1.5)
    inside = fast[(fast > -1.5) & (fast < 1.1)]
    zoom.plot(inside, quartic(inside), ".", color=colours[2], ms=4,
              label=f"{labels[2]}: passes 0.5, settles at −1")
    zoom.plot(-1, quartic(-1.0), "*", color="gold", mec="k", ms=18, zorder=3,
              label="global minimum x = −1, f = −23")
    zoom.plot(0.5, quartic(0.5), "D", color="white", mec="k", ms=10, zorder=3,
              label="stationary inflection x = 0.5, f = −19.625")
    near = plain[marked][plain[marked] < 1.1]
    zoom.plot(near, quartic(near), "o", color=colours[0], ms=5, zorder=4,
              label=f"plain GD: x = {plain[-1]:.4f} after {epochs:,} epochs")
    zoom.set(title="close up: f' = 2(x + 1)(2x − 1)² vanishes twice", xlabel="x",
             ylabel="f(x)", ylim=(-23.8, -17))
    zoom.legend(loc="upper left", fontsize=9)

    steps = np.arange(1, len(plain))
    paths.plot(steps, plain[1:], color=colours[0], lw=2, label="plain GD (the book)")
    for k, label in enumerate(labels[1:], start=1):
        paths.plot(steps[:len(momentum) - 1], momentum[1:, k], color=colours[k], lw=1.5,
                   label=f"{label} (optim.SGD)")
    paths.axhline(0.5, color="0.5", ls="--", lw=1)
    paths.axhline(-1, color="goldenrod", ls="--", lw=1)
    paths.set(xscale="log", title="x after each epoch from x = 5, lr 0.001",
              xlabel="epoch (log scale)",
              ylabel="x", ylim=(-4.2, 5.2))
    paths.legend(loc="upper right", fontsize=9)

    starts, ends = basins
    basin.plot(starts, ends, "o", color="tab:blue", ms=6)
    basin.axvline(0.5, color="0.5", ls="--", lw=1)
    basin.set(title=f"where plain GD ends after {epochs:,} epochs (lr 0.001)",
              xlabel="start x₀", ylabel="final x", yticks=[-1, -0.5, 0, 0.5])
    basin.text(-2.4, -0.75, "starts left of 0.5\nreach the minimum −1", fontsize=10)
    basin.text(0.7, 0.2, "starts right of 0.5\nstall at the inflection", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def plot_divergence(xs: np.ndarray, grads: np.ndarray, path: pathlib.Path) -> None:
    """log₁₀|x| per epoch until the gradient overflows float64."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    finite = np.isfinite(xs)
    ax.plot(np.flatnonzero(finite), np.log10(np.abs(xs[finite])), "o-", color="k", ms=5)
    diverged_at = len(grads)
    limit = np.log10(np.finfo(np.float64).max)
    ax.axhline(limit, color="0.5", ls=":", lw=1)
    ax.text(0, limit - 18, "largest float64, 1.8e308", color="0.4", fontsize=9)
    ax.axvline(diverged_at, color="red", lw=1.5)
    ax.text(diverged_at - 0.15, 15, f"epoch {diverged_at}: f'(x) = {grads[-1]},\n"
            f"x becomes {xs[diverged_at]}\n(the book's Python:\nOverflowError)", color="red",
            ha="right", fontsize=9)
    ax.set(title="f(x) = 2x⁴ − 3x² + 2x − 20, lr 0.3, from x = 5",
           xlabel="epochs done (0 = the start x₀ = 5)",
           ylabel="log₁₀ |x|", xlim=(-0.3, diverged_at + 0.3), ylim=(-5, 330))
    save_figure(fig, path)


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    # ---- example 1: f(x) = x², lr 0.3, 15 epochs, from 5 and from −5
    square_run = descend(square, d_square, [5.0, -5.0], lr=0.3, epochs=15, quick=quick)
    from_5, from_minus_5 = square_run["xs"].T
    print("f(x) = x², lr 0.3: x at the start, then after epochs 1 … 15")
    print("  from 5: ", ", ".join(fmt(v, 3) for v in from_5))
    print("  from -5:", ", ".join(fmt(v, 3) for v in from_minus_5))
    plot_square({"from x = 5": from_5, "from x = −5": from_minus_5}, out / "x_squared.png")

    # ---- example 2, lr 0.3: diverges within a few epochs
    with np.errstate(over="ignore", invalid="ignore"):     # we detect the inf ourselves
        diverging = descend(quartic, d_quartic, [5.0], lr=0.3, epochs=15, quick=quick)
    diverged_at = len(diverging["grads"])                  # the epoch whose gradient was inf
    last_x = diverging["xs"][diverged_at - 1, 0]
    python = overflow_epoch_in_python(5.0, 0.3, 15)
    print(f"quartic, lr 0.3: x at the start, then after epochs 1 … {diverged_at}: "
          f"{', '.join(fmt(v, 4) for v in diverging['xs'][:, 0])}")
    print(f"  epoch {diverged_at}: f'(x) = {diverging['grads'][-1, 0]} at x = {last_x:.4g}; "
          f"the book's loop on Python floats raises OverflowError at epoch {python[0]} "
          f"({python[1]})")
    plot_divergence(diverging["xs"][:, 0], diverging["grads"][:, 0], out / "quartic_lr_0.3.png")

    # ---- example 2, lr 0.001, 15,000 epochs: the number of epochs is the point, so
    # quick mode keeps it. The basin sweep rides along in the same tensor.
    epochs = 15_000
    slow = descend(quartic, d_quartic, [5.0, *BASIN_STARTS], lr=0.001, epochs=epochs,
                   quick=quick, desc="quartic, lr 0.001")
    plain = slow["xs"][:, 0]
    final_x = float(plain[-1])
    ends = slow["xs"][-1, 1:]
    print(f"quartic, lr 0.001, {epochs:,} epochs from 5: x = {final_x:.6f}, "
          f"f = {quartic(final_x):.6f}, f'(x) = {d_quartic(final_x):.3g}")

    # ---- the truth about x ≈ 0.5: f' = 2(x + 1)(2x − 1)² has a double root there
    stationary = sorted(float(r.real) for r in np.roots([8, 0, -6, 2]))
    at_half = derivatives_at(0.5, 3)
    at_minimum = derivatives_at(-1.0, 2)
    print(f"stationary points (roots of 8x³ − 6x + 2): {[round(r, 6) for r in stationary]}")
    print(f"at x = 0.5: f = {quartic(0.5)}, f' = {at_half[0]:g}, f'' = {at_half[1]:g}, "
          f"f''' = {at_half[2]:g} (autodiff): an inflection, not a minimum")
    print(f"at x = -1:  f = {quartic(-1.0)}, f' = {at_minimum[0]:g}, "
          f"f'' = {at_minimum[1]:g} > 0: the global minimum")

    # ---- which optimizers get across the flat spot from x = 5 (same lr, same epochs)
    variants = [{"momentum": 0.0}, {"momentum": 0.5}, {"momentum": 0.9},
                {"momentum": 0.9, "nesterov": True}]
    labels = ["plain SGD", "momentum 0.5", "momentum 0.9", "Nesterov 0.9"]
    # momentum 0.9 is at −1 within 100 epochs, so quick mode runs 1,000
    optimizer_epochs = 1_000 if quick else epochs
    momentum = with_optim_sgd(5.0, 0.001, variants, optimizer_epochs, quick=quick)
    same_as_hand_loop = float(np.max(np.abs(momentum[:, 0] - plain[:optimizer_epochs + 1])))
    optimizers = [{"optimizer": label, **v, "final_x": float(momentum[-1, k]),
                   "reaches_minimum": bool(abs(momentum[-1, k] + 1) < 1e-3)}
                  for k, (label, v) in enumerate(zip(labels, variants))]
    for o in optimizers:
        print(f"  optim.SGD {o['optimizer']:>13}: x = {o['final_x']:+.6f} after "
              f"{optimizer_epochs:,} epochs")
    print(f"  optim.SGD without momentum vs the hand loop above: max |difference| "
          f"{same_as_hand_loop:g}")
    left, right = BASIN_STARTS < 0.5, BASIN_STARTS > 0.5
    print(f"plain GD from {len(BASIN_STARTS)} starts in [-2.5, 2.5]: every start < 0.5 ends "
          f"within {np.max(np.abs(ends[left] + 1)):.1g} of -1; every start > 0.5 ends in "
          f"[{ends[right].min():.5f}, {ends[right].max():.5f}]")
    plot_quartic(plain, momentum, labels, (BASIN_STARTS, ends), out / "quartic.png")

    derivative_error = max(square_run["derivative_error"], slow["derivative_error"],
                           diverging["derivative_error"])
    reaching = [o["optimizer"] for o in optimizers if o["reaches_minimum"]]
    printed = [round(float(v), 2) for v in from_5]
    inflection = abs(at_half[0]) < 1e-12 and abs(at_half[1]) < 1e-12 and at_half[2] != 0
    # each verdict's condition, for its text and its `agrees` flag alike
    trajectory = printed == DOCUMENT_X_SQUARED_MEANT
    reaches_zero = bool(abs(from_minus_5[-1]) < 1e-4)
    overflows_alike = python is not None and diverged_at == python[0]
    stops_at_051 = round(final_x, 2) == 0.51
    hand_derivative = derivative_error < 1e-9                   # relative: rounding only
    rows = [
        row("x² from 5, lr 0.3: x at the start, then after epochs 1 … 15", DOCUMENT_X_SQUARED,
            ", ".join(f"{v:g}" for v in printed),
            "agrees; the book's \"5.2\" is \"5, 2\" with the comma lost"
            if trajectory else "differs", agrees=trajectory),
        row("x² from −5", "also reaches 0", f"x = {from_minus_5[-1]:.2g} after 15 epochs",
            "agrees" if reaches_zero else "differs", agrees=reaches_zero),
        row("quartic, lr 0.3", "diverges: OverflowError, \"Result too large\"",
            f"f' = {diverging['grads'][-1, 0]} at epoch {diverged_at} (x = {last_x:.3g}); "
            f"Python floats overflow at epoch {python[0] if python else 'none of 15'}",
            "agrees (numpy returns inf where Python raises)" if overflows_alike
            else "differs", agrees=overflows_alike),
        row("quartic, lr 0.001, 15,000 epochs", "stops at x ≈ 0.51",
            f"x = {final_x:.4f}, f = {quartic(final_x):.4f}",
            "agrees" if stops_at_051 else "differs", agrees=stops_at_051),
        # showing the book wrong, and saying so, is the outcome we want: agrees=True
        row("is x ≈ 0.51 the minimum?", "yes, \"the minimum\"",
            f"no: f'(0.5) = f''(0.5) = 0, f'''(0.5) = {at_half[2]:g}: inflection "
            f"(f = −19.625); minimum x = −1, f = −23",
            "document wrong: gradient descent stalls where f' vanishes" if inflection
            else "differs", agrees=inflection),
        row("reaching x = −1 from 5", "—",
            f"{', '.join(reaching)} (optim.SGD); plain GD from every start < 0.5",
            "momentum carries x across the flat spot" if reaching else "not reproduced",
            agrees=None),                                        # ours: the book claims nothing
        row("autodiff gradient vs hand f'", "f'(x) = 8x³ − 6x + 2 by hand",
            f"max relative difference {derivative_error:.1g}",
            "agrees" if hand_derivative else "differs", agrees=hand_derivative),
    ]
    print_comparison(rows, "gradient_descent: document 003 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "x_squared": {"lr": 0.3, "epochs": 15, "from_5": from_5, "from_minus_5": from_minus_5},
        "quartic_lr_0.3": {"xs": diverging["xs"][:, 0], "diverged_at_epoch": diverged_at,
                           "gradient_at_divergence": diverging["grads"][-1, 0],
                           "x_before_divergence": last_x,
                           "python_overflow_epoch": python[0],
                           "python_overflow_message": python[1]},
        "quartic_lr_0.001": {"epochs": epochs, "final_x": final_x,
                             "final_f": quartic(final_x), "final_gradient": d_quartic(final_x),
                             "basin_starts": BASIN_STARTS, "basin_final_x": ends},
        "truth": {"stationary_points": stationary, "f_at_0.5": quartic(0.5),
                  "derivatives_at_0.5": at_half, "f_at_minus_1": quartic(-1.0),
                  "derivatives_at_minus_1": at_minimum},
        "optimizers": optimizers, "optimizer_epochs": optimizer_epochs,
        "optim_sgd_vs_hand_loop": same_as_hand_loop,
        "derivative_max_relative_error": derivative_error,
    }
