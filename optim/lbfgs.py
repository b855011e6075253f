"""LBFGS: limited-memory BFGS on the flat vector of all parameters, with an optional
strong-Wolfe line search (torch.optim.LBFGS, after minFunc; Nocedal & Wright, "Numerical
Optimization", algorithms 7.4 and 3.5–3.6)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff import Tensor, enable_grad, events, versions

from .optimizer import Optimizer, ParamsT, check_nonnegative, with_step_hooks

LINE_SEARCHES = (None, "strong_wolfe")

STATE_KEYS = frozenset({"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                        "H_diag", "prev_flat_grad", "prev_loss", "al"})
"""torch's state entries (all kept under the first parameter, as torch keeps them)."""

Evaluate = Callable[[Any], tuple[float, np.ndarray]]
"""evaluate(t) -> (f, g): the loss and flat gradient at θ + t·d (θ, d fixed)."""


def cubic_interpolate(x1: Any, f1: float, g1: Any, x2: Any, f2: float, g2: Any,
                      bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to `bounds` (default: the interval between x1 and x2); the middle of the bounds
    when the cubic has no minimum (torch's `_cubic_interpolate`, minFunc's polyinterp):

        d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2)
        d2 = √(d1² − g1·g2)
        x  = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)      (x1 ≤ x2; else mirrored)

    >>> float(cubic_interpolate(0.0, 1.0, -2.0, 2.0, 1.0, 2.0))   # f = (x − 1)², min at 1
    1.0
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(evaluate: Evaluate, t: Any, d: np.ndarray, f: float, g: np.ndarray,
                 gtd: Any, c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple[float, np.ndarray, Any, int]:
    """A step length t along the descent direction d that satisfies the strong Wolfe
    conditions (torch's `_strong_wolfe`, minFunc's lswolfe), φ(t) = f(θ + t·d):

        sufficient decrease   φ(t) ≤ φ(0) + c1·t·φ'(0)
        curvature             |φ'(t)| ≤ −c2·φ'(0)

    First bracket: try t, then cubic-interpolated larger steps (at most 10·t), until an
    interval [t_lo, t_hi] is known to hold such a point (or t itself satisfies both).
    Then zoom: shrink the bracket by cubic interpolation (kept 0.1·width away from its
    ends when progress stalls) until the conditions hold, the bracket is narrower than
    tolerance_change/max|d|, or max_ls evaluations have been spent.

    Args: evaluate(t) gives (f, g) at θ + t·d; f, g the loss and gradient at θ;
    gtd = gᵀd = φ'(0) < 0. Returns (f, g, t, evaluations made) at the step found.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)                  # φ(t), ∇f at θ + t·d
    ls_func_evals = 1
    gtd_new = g_new.dot(d)                      # φ'(t)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]      # decrease failed: past it
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]  # both conditions hold
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]      # slope turned: past it
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # still descending: extrapolate to a longer step, between 1.01·t and 10·t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter == max_ls:                       # out of evaluations: between 0 and t
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break                               # the bracket is too small to matter
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end: move it 0.1·width inside, when it is at an end or
        # the last trial also made too little progress
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = evaluate(t)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # sufficient decrease fails, or no lower than the low end: t is the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True                     # the Wolfe conditions hold at t
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            # t is the new low end
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def check_count(name: str, value: Any) -> None:
    """Raise ValueError unless value is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"LBFGS: {name} must be a whole number >= 1, got {value!r}")


class LBFGS(Optimizer):
    """L-BFGS (Liu & Nocedal, 1989): quasi-Newton steps d ≈ −H⁻¹g, with the inverse
    Hessian H⁻¹ pieced together from the last `history_size` steps s and gradient changes
    y, never formed. It works on θ, the flat vector of all the parameters, and each
    `step(closure)` runs up to max_iter iterations, calling the closure to evaluate the
    loss f and its gradient g at new points.

    The algorithm (torch's; γ lr, m history_size)::

        f, g ← closure()                                 (f, ∇f at θ)
        if max|g| ≤ tolerance_grad: return
        for k = 1 … max_iter:
            if this is the optimizer's first iteration:
                d ← −g;  memory ← empty;  H₀ ← 1
            else:
                y ← g − g_prev;  s ← t·d                 (the last change of g and θ)
                if yᵀs > 1e-10:                          (curvature: keep the pair)
                    remember (y, s, ρ = 1/yᵀs), forgetting the oldest beyond m
                    H₀ ← yᵀs / yᵀy                       (scale of the initial H⁻¹)
                q ← −g                                   (two-loop recursion: d = −H⁻¹g)
                for i = newest … oldest:  αᵢ ← ρᵢ·sᵢᵀq;  q ← q − αᵢ·yᵢ
                r ← H₀·q
                for i = oldest … newest:  βᵢ ← ρᵢ·yᵢᵀr;  r ← r + (αᵢ − βᵢ)·sᵢ
                d ← r
            g_prev ← g;  f_prev ← f
            t ← min(1, 1/Σ|g|)·γ on the first iteration ever, else γ
            if gᵀd > −tolerance_change: stop             (d is no descent direction)
            line_search_fn = "strong_wolfe":  t, f, g ← strong_wolfe(θ, t, d)
                                              θ ← θ + t·d
            line_search_fn = None:            θ ← θ + t·d
                                              f, g ← closure()   (unless k = max_iter)
            stop if k = max_iter, or max_eval evaluations are spent, or
                    max|g| ≤ tolerance_grad, or max|t·d| ≤ tolerance_change,
                    or |f − f_prev| < tolerance_change

    The memory (y, s, ρ, H₀, d, t, g_prev, f_prev) lasts from one step to the next, in
    `state` under torch's keys (old_dirs = the y, old_stps = the s, ro, H_diag, d, t,
    prev_flat_grad, prev_loss, al, func_evals, n_iter), kept as torch keeps it: all under
    the first parameter, the vectors flat (one number per parameter element).

    Parameters change in place through `autodiff.versions.InPlaceUpdate`, as under every
    optimizer: each write counts in their versions, so a graph that saved them refuses
    backward afterwards. A parameter whose .grad is None counts as a zero gradient
    (torch's); it is not written (a write cannot reach it), which moves nothing unless a
    closure gave it a gradient once and later none: that is refused by name.

    Args:
        params: the tensors to optimize; one parameter group only (the direction couples
            all parameters, so they cannot have options of their own).
        lr: γ, the step length tried (scaled on the very first iteration). Default: 1.
        max_iter: iterations per step(). Default: 20.
        max_eval: closure calls per step(). Default: max_iter · 5 // 4.
        tolerance_grad: stop when max|g| is at most this. Default: 1e-7.
        tolerance_change: stop when the loss or the step changes less. Default: 1e-9.
        history_size: m, the (y, s) pairs remembered. Default: 100.
        line_search_fn: None (fixed step γ) or "strong_wolfe". Default: None.

    Example (a quadratic is solved in a few iterations of one step)::

        >>> import autodiff as ad, optim
        >>> x = ad.tensor([3.0, -1.0], dtype=ad.float64, requires_grad=True)
        >>> opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((x - ad.tensor([1.0, 2.0], dtype=ad.float64)) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> loss = opt.step(closure)
        >>> x.detach().numpy().round(6).tolist()
        [1.0, 2.0]
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            check_count("max_iter", max_iter)
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        self._params: list[Tensor] = self.param_groups[0]["params"]

    def _check(self, options: dict[str, Any]) -> None:
        check_nonnegative("LBFGS", "lr", options["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            check_count(name, options[name])
        check_nonnegative("LBFGS", "tolerance_grad", options["tolerance_grad"])
        check_nonnegative("LBFGS", "tolerance_change", options["tolerance_change"])
        if options["line_search_fn"] not in LINE_SEARCHES:
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{options['line_search_fn']!r}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """LBFGS has no rule per parameter: its direction couples all of them, so `step`
        works on their flat vector and never calls this."""
        raise NotImplementedError("LBFGS has no per-parameter update: call "
                                  "opt.step(closure), which works on all parameters at once")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """The one parameter group, at construction (torch's LBFGS allows no other)."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "its direction couples all parameters; pass them all in one "
                             "list, optim.LBFGS(model.parameters())")
        if isinstance(param_group, dict):       # the base reads "foreach" (its flat path),
            param_group = {**param_group, "foreach": False}     # which LBFGS does not take
        super().add_param_group(param_group)
        del self.param_groups[0]["foreach"]     # so the group holds torch's keys alone

    # ---------------------------------------------------------------- the flat vector

    def _flat_grad(self) -> np.ndarray:
        """g: every parameter's gradient laid end to end (zeros for a .grad of None)."""
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None
                               else p.grad.numpy().reshape(-1) for p in self._params])

    def _pieces(self, flat: np.ndarray) -> list[np.ndarray]:
        """`flat` cut into one array per parameter, each of the parameter's shape."""
        ends = np.cumsum([p.numel() for p in self._params])
        return [piece.reshape(p.shape)
                for p, piece in zip(self._params, np.split(flat, ends[:-1]))]

    def _add_grad(self, t: Any, d: np.ndarray) -> None:
        """θ ← θ + t·d, in place (torch's `_add_grad`: p.add_(d_p, alpha=t))."""
        with versions.InPlaceUpdate(self._params) as (params, values, _):
            arrays = {id(p): value for p, value in zip(params, values)}
            for index, (p, piece) in enumerate(zip(self._params, self._pieces(d))):
                if id(p) in arrays:
                    arrays[id(p)] += t * piece                   # θᵢ ← θᵢ + t·dᵢ
                elif np.any(t * piece != 0):
                    self._refuse_moving(index, p)

    def _clone_params(self) -> list[np.ndarray]:
        """Copies of the parameters' values (the point a line search starts from)."""
        return [p.numpy().copy() for p in self._params]

    def _set_params(self, saved: list[np.ndarray]) -> None:
        """θ ← saved, in place (torch's `_set_param`: p.copy_(saved))."""
        with versions.InPlaceUpdate(self._params) as (params, values, _):
            arrays = {id(p): value for p, value in zip(params, values)}
            for index, (p, value) in enumerate(zip(self._params, saved)):
                if id(p) in arrays:
                    arrays[id(p)][...] = value
                elif not np.array_equal(p.numpy(), value):
                    self._refuse_moving(index, p)

    def _refuse_moving(self, index: int, p: Tensor) -> None:
        raise RuntimeError(f"LBFGS: parameter {index} (shape {p.shape}) has no gradient "
                           f"(.grad is None) but must be moved: a closure gave it a gradient "
                           f"before and none since. Each closure call must give the same "
                           f"parameters a gradient; optimize only the parameters the loss "
                           f"uses, or let the closure zero the gradients with "
                           f"opt.zero_grad(set_to_none=False)")

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray],
                              t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
        """(f, g) at θ + t·d, leaving the parameters at x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ---------------------------------------------------------------- the step

    @events.library_call
    @with_step_hooks
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to max_iter L-BFGS iterations (the algorithm in the class docstring);
        returns the loss the first call of `closure` gave. `closure` must clear the
        gradients, compute the loss, call backward on it and return it; it runs with
        gradients enabled, also under `no_grad`."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model: "
                            "def closure(): opt.zero_grad(); loss = loss_fn(model(x), y); "
                            "loss.backward(); return loss, then opt.step(closure)")

        def evaluate() -> Any:
            with enable_grad():
                return closure()

        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]     # all of LBFGS's state, under one parameter
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()                                  # f, g ← closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:                                            # max|g| ≤ tolerance_grad
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the direction d
            if state["n_iter"] == 1:
                d = -flat_grad                                  # d ← −g
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1                                      # H₀ ← 1
            else:
                y = flat_grad - prev_flat_grad                  # y ← g − g_prev
                s = d * t                                       # s ← t·d
                ys = y.dot(s)
                if ys > 1e-10:                                  # keep (y, s, ρ)
                    if len(old_dirs) == history_size:           # forget the oldest
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)                         # ρ ← 1/yᵀs
                    H_diag = ys / y.dot(y)                      # H₀ ← yᵀs/yᵀy
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad                                  # q ← −g
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]          # αᵢ ← ρᵢ·sᵢᵀq
                    q -= al[i] * old_dirs[i]                    # q ← q − αᵢ·yᵢ
                d = r = q * H_diag                              # r ← H₀·q
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]           # βᵢ ← ρᵢ·yᵢᵀr
                    r += (al[i] - be_i) * old_stps[i]           # r ← r + (αᵢ − βᵢ)·sᵢ

            prev_flat_grad = flat_grad.copy()                   # g_prev ← g
            prev_loss = loss                                    # f_prev ← f

            # the step length t
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)                              # gᵀd
            if gtd > -tolerance_change:                         # not a descent direction
                break

            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = self._clone_params()

                def evaluate_at(step: Any, x_init: list[np.ndarray] = x_init,
                                d: np.ndarray = d) -> tuple[float, np.ndarray]:
                    return self._directional_evaluate(evaluate, x_init, step, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    evaluate_at, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)                            # θ ← θ + t·d
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)                            # θ ← θ + t·d
                if n_iter != max_iter:                          # f, g ← closure()
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # the stopping conditions
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:         # max|t·d| too small
                break
            if abs(loss - prev_loss) < tolerance_change:        # |f − f_prev| too small
                break

        state["d"], state["t"] = d, t
        state["old_dirs"], state["old_stps"], state["ro"] = old_dirs, old_stps, ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"], state["prev_loss"] = prev_flat_grad, prev_loss
        return orig_loss

    # ---------------------------------------------------------------- saving and loading

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict()` of an LBFGS over parameters of the same shapes, so the
        next step continues exactly where the saved one stopped. The state sits under
        parameter 0 (torch's layout); its vectors must hold one number per parameter
        element, and old_dirs, old_stps and ro the same number of entries."""
        saved = dict(state_dict["state"])
        unknown = [key for key in saved if int(key) != 0]
        if unknown:
            raise ValueError(f"LBFGS.load_state_dict: LBFGS keeps its state under parameter "
                             f"0 alone, the saved state has entries for {unknown}")
        entries = dict(next(iter(saved.values()), {}))
        self._check_saved_state(entries)
        super().load_state_dict({**state_dict, "state": {}})
        if entries:
            dtype = np.result_type(*[p.dtype for p in self._params])
            self.state[self._params[0]] = {key: _copied(value, dtype)
                                           for key, value in entries.items()}

    def _check_saved_state(self, entries: dict[str, Any]) -> None:
        """Raise ValueError naming the first saved entry that does not fit."""
        size = sum(p.numel() for p in self._params)
        unknown = sorted(set(entries) - STATE_KEYS)
        if unknown:
            raise ValueError(f"LBFGS.load_state_dict: unknown state entries {unknown}; "
                             f"LBFGS keeps {sorted(STATE_KEYS)}")
        for key, value in entries.items():
            arrays = value if isinstance(value, list) else [value]
            for array in arrays:
                if isinstance(array, np.ndarray) and array.ndim > 0 and array.shape != (size,):
                    raise ValueError(f"LBFGS.load_state_dict: state '{key}' holds a vector of "
                                     f"shape {array.shape}; the parameters have {size} "
                                     f"elements, so it must be ({size},): was it saved from "
                                     f"another model?")
        lengths = {key: len(entries[key]) for key in ("old_dirs", "old_stps", "ro")
                   if key in entries}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"LBFGS.load_state_dict: old_dirs, old_stps and ro must hold "
                             f"one entry per remembered step each, got lengths {lengths}")


def _copied(value: Any, dtype: np.dtype) -> Any:
    """A saved state entry, copied: vectors (alone or in lists) in the parameters' dtype."""
    if isinstance(value, list):
        return [_copied(item, dtype) for item in value]
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return np.array(value, dtype=dtype)
    return value
