"""nn.utils.Monitor: every statistic against the same formula computed by hand in numpy,
saturated and dead layers on crafted weights, update ratios from copies of the weights,
warnings once per layer and kind, what a step is, removal, the plot, and ad.compile
falling back to eager steps while a Monitor is attached."""
from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.errors import CompileWarning
from nn.utils import Monitor, MonitorWarning

RTOL = 1e-12          # float64 throughout: the monitor and the hand computation agree to rounding
pytestmark = pytest.mark.filterwarnings("ignore::nn.utils.MonitorWarning")   # unless tested
KINDS = ("mostly saturated", "mostly dead", "vanishing gradients", "exploding gradients")


def small_net() -> tuple[nn.Sequential, ad.Tensor, ad.Tensor]:
    """Linear → Tanh → Linear → ReLU → Linear → Sigmoid in float64, with a fixed batch of 8;
    unit 0 of the ReLU is dead (bias −50) and the last layer's weights are large enough
    that some sigmoid outputs leave [0.03, 0.97]."""
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.ReLU(),
                          nn.Linear(5, 3), nn.Sigmoid()).double()
    with ad.no_grad():
        model[0].weight *= 5
        model[2].bias[0] = -50.0
        model[4].weight *= 8
    rng = np.random.default_rng(1)
    return model, ad.tensor(rng.standard_normal((8, 4))), ad.tensor(rng.random((8, 3)))


def by_hand(model: nn.Sequential, x: np.ndarray, t: np.ndarray) -> list[dict[str, float]]:
    """The forward and backward of L = mean((s − t)²) through the small net, in numpy, and
    each row's statistics by their formulas."""
    (w1, b1), (w2, b2), (w3, b3) = [(model[i].weight.numpy(), model[i].bias.numpy())
                                    for i in (0, 2, 4)]
    h1 = x @ w1.T + b1
    a1 = np.tanh(h1)
    h2 = a1 @ w2.T + b2
    r = np.maximum(h2, 0)
    h3 = r @ w3.T + b3
    s = 1 / (1 + np.exp(-h3))
    ds = 2 * (s - t) / s.size
    dh3 = ds * s * (1 - s)
    dr = dh3 @ w3
    dh2 = dr * (h2 > 0)
    da1 = dh2 @ w2
    dh1 = da1 * (1 - a1 ** 2)
    weights = {0: (w1, dh1.T @ x), 2: (w2, dh2.T @ a1), 4: (w3, dh3.T @ r)}
    outputs = [(h1, dh1), (a1, da1), (h2, dh2), (r, dr), (h3, dh3), (s, ds)]
    rows = []
    for index, (y, dy) in enumerate(outputs):
        row = {"act_mean": y.mean(), "act_std": y.std(), "act_grad_std": dy.std()}
        if index in weights:
            w, g = weights[index]
            row |= {"grad_std": g.std(), "grad_to_data": g.std() / w.std()}
        rows.append(row)
    rows[1]["saturated"] = np.mean(np.abs(a1) > 0.97)
    rows[3]["dead"] = np.mean(np.all(r == 0, axis=0))
    rows[5]["saturated"] = np.mean((s < 0.03) | (s > 0.97))
    return rows


def mse_step(model: nn.Module, x: ad.Tensor, t: ad.Tensor,
             opt: optim.Optimizer | None = None) -> None:
    if opt is not None:
        opt.zero_grad()
    F.mse_loss(model(x), t).backward()
    if opt is not None:
        opt.step()


# ---------------------------------------------------------------- the statistics

def test_every_statistic_equals_its_formula_computed_by_hand():
    model, x, t = small_net()
    expected = by_hand(model, x.numpy(), t.numpy())
    with Monitor(model) as monitor:
        mse_step(model, x, t)
    rows = monitor.report()
    assert [row["layer"] for row in rows] == ["0: Linear", "1: Tanh", "2: Linear", "3: ReLU",
                                              "4: Linear", "5: Sigmoid"]
    assert all(list(row) == ["layer", "saturated", "dead", "act_mean", "act_std",
                             "act_grad_std", "grad_std", "grad_to_data", "update_ratio"]
               for row in rows)
    for row, hand in zip(rows, expected):
        for key in ("saturated", "dead", "act_mean", "act_std", "act_grad_std", "grad_std",
                    "grad_to_data", "update_ratio"):
            if key in hand:
                assert row[key] == pytest.approx(hand[key], rel=RTOL, abs=1e-15), \
                    (row["layer"], key)
            else:
                assert row[key] is None, (row["layer"], key)
    assert rows[3]["dead"] == 0.2                          # the unit with bias −50, alone
    assert 0 < rows[5]["saturated"] < 1 and 0 < rows[1]["saturated"] < 1


def test_grad_std_is_of_the_latest_backward_even_when_grad_accumulates():
    model, x, t = small_net()
    monitor = Monitor(model)
    mse_step(model, x, t)
    first = monitor.report()[0]["grad_std"]
    mse_step(model, x, t)                                  # .grad now holds twice the gradient
    assert monitor.report()[0]["grad_std"] == pytest.approx(first, rel=RTOL)
    assert model[0].weight.grad.numpy().std() == pytest.approx(2 * first, rel=RTOL)


def test_a_tanh_layer_after_huge_weights_is_saturated_and_warns_naming_it():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 50), nn.Tanh(), nn.Linear(50, 1))
    with ad.no_grad():
        model[0].weight *= 100
    monitor = Monitor(model)
    with pytest.warns(MonitorWarning, match=r"^Monitor: layer '1: Tanh' is mostly saturated: "
                                            r"\d+% of its outputs have \|y\| > 0.97"):
        model(ad.randn(64, 10)).pow(2).mean().backward()
    assert monitor.report()[1]["saturated"] > 0.95


def test_a_relu_layer_after_a_large_negative_bias_is_dead():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 1))
    with ad.no_grad():
        model[0].bias.fill_(-1000.0)
    monitor = Monitor(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model(ad.randn(16, 10)).pow(2).mean().backward()
    rows = monitor.report()
    assert rows[1]["dead"] == 1.0
    assert rows[0]["act_grad_std"] == 0.0 and rows[0]["grad_std"] == 0.0   # nothing passes
    messages = [str(w.message) for w in caught if w.category is MonitorWarning]
    assert any(m.startswith("Monitor: layer '1: ReLU' is mostly dead: 100% of its units")
               for m in messages)
    assert any(m.startswith("Monitor: layer '0: Linear' has vanishing gradients") for m in messages)


def test_update_ratio_is_log10_of_the_actual_change_over_the_weight():
    model, x, t = small_net()
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    monitor = Monitor(model, opt)
    for _ in range(3):
        before = [model[i].weight.numpy().copy() for i in (0, 2, 4)]
        mse_step(model, x, t, opt)
        rows = monitor.report()
        for i, w0 in zip((0, 2, 4), before):
            change = model[i].weight.numpy() - w0
            assert rows[i]["update_ratio"] == pytest.approx(
                math.log10(change.std() / w0.std()), rel=RTOL)
        assert [rows[i]["update_ratio"] for i in (1, 3, 5)] == [None] * 3
    assert len(monitor.history) == 3
    assert monitor.report(step=0) == monitor.history[0]
    assert monitor.report(step=0)[0]["update_ratio"] != monitor.report()[0]["update_ratio"]


def test_update_ratio_is_none_for_a_weight_the_optimizer_does_not_hold():
    model, x, t = small_net()
    opt = optim.SGD(model[4].parameters(), lr=0.1)
    monitor = Monitor(model, opt)
    mse_step(model, x, t, opt)
    ratios = [row["update_ratio"] for row in monitor.report()]
    assert ratios[0] is None and ratios[2] is None and ratios[4] < 0


# ---------------------------------------------------------------- steps, warnings, removal

def test_a_step_is_one_backward_or_one_optimizer_step():
    model, x, t = small_net()
    monitor = Monitor(model)
    mse_step(model, x, t)
    mse_step(model, x, t)
    with ad.no_grad():
        model(x)                                           # evaluation: not recorded
    assert len(monitor.history) == 2
    monitor.remove()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = Monitor(model, opt)
    for _ in range(2):
        opt.zero_grad()
        for half in (slice(0, 4), slice(4, 8)):           # gradients accumulated over 2 halves
            F.mse_loss(model(x[half]), t[half]).backward()
        opt.step()
    assert len(monitor.history) == 2
    assert all(row["update_ratio"] is not None for row in monitor.report()[::2])


def test_each_layer_warns_of_each_kind_once():
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 30), nn.Tanh(), nn.Linear(30, 30), nn.Tanh(),
                          nn.Linear(30, 1))
    with ad.no_grad():
        model[0].weight *= 100
        model[2].weight *= 100
    monitor = Monitor(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            model(ad.randn(32, 10)).pow(2).mean().backward()
    messages = [str(w.message) for w in caught if w.category is MonitorWarning]
    kinds = [(m.split("'")[1], kind) for m in messages for kind in KINDS if kind in m]
    assert len(kinds) == len(messages) == len(set(kinds))
    assert ("1: Tanh", "mostly saturated") in kinds and ("3: Tanh", "mostly saturated") in kinds
    assert len(monitor.history) == 4


def test_thresholds_are_constructor_arguments():
    model, x, t = small_net()
    strict = Monitor(model, saturation=0.5, sigmoid_band=(0.4, 0.6))
    mse_step(model, x, t)
    strict.remove()
    rows = strict.report()
    a1 = np.tanh(x.numpy() @ model[0].weight.numpy().T + model[0].bias.numpy())
    assert rows[1]["saturated"] == pytest.approx(np.mean(np.abs(a1) > 0.5))
    assert rows[5]["saturated"] > by_hand(model, x.numpy(), t.numpy())[5]["saturated"]
    with pytest.warns(MonitorWarning, match="has exploding gradients"):
        with Monitor(model, vanishing=0, exploding=1e-9):
            mse_step(model, x, t)


def test_remove_and_the_context_manager_detach_every_hook():
    model, x, t = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = Monitor(model, opt)
    mse_step(model, x, t, opt)
    monitor.remove()
    monitor.remove()                                       # a second remove() does nothing
    mse_step(model, x, t, opt)
    assert len(monitor.history) == 1
    assert all(not layer._forward_hooks for layer in model)
    assert all(not p._hooks for p in model.parameters())
    assert not opt._step_pre_hooks and not opt._step_post_hooks
    with Monitor(model, opt) as watching:
        mse_step(model, x, t, opt)
    mse_step(model, x, t, opt)
    assert len(watching.history) == 1 and all(not layer._forward_hooks for layer in model)


def test_layers_are_the_leaf_modules_and_functional_activations_are_not_seen():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            return self.out(F.relu(self.block(x)))        # F.relu has no module: no row

    model = Net()
    monitor = Monitor(model)
    (model(ad.randn(5, 3)) ** 2).sum().backward()
    assert [row["layer"] for row in monitor.report()] == ["block.0: Linear", "block.1: Tanh",
                                                          "out: Linear"]
    single = nn.Linear(2, 2)
    assert Monitor(single).labels == ["Linear"]


def test_bad_arguments_and_empty_reports_are_refused_with_the_fix():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="model must be an nn.Module, got list"):
        Monitor([model])
    with pytest.raises(TypeError, match="optimizer must be an optimizer of optim"):
        Monitor(model, model)
    with pytest.raises(ValueError, match="saturation is a bound on |tanh|, in \\(0, 1\\)"):
        Monitor(model, saturation=1.5)
    with pytest.raises(ValueError, match="sigmoid_band must be \\(lo, hi\\)"):
        Monitor(model, sigmoid_band=(0.9, 0.1))
    with pytest.raises(ValueError, match="mostly is a fraction"):
        Monitor(model, mostly=2)
    with pytest.raises(ValueError, match="need 0 <= vanishing < exploding"):
        Monitor(model, vanishing=1.0, exploding=0.5)
    monitor = Monitor(model)
    with pytest.raises(RuntimeError, match="no step recorded yet; run a forward pass"):
        monitor.report()
    (model(ad.randn(3, 2)) ** 2).sum().backward()
    with pytest.raises(IndexError, match="step 1 is out of range for 1 recorded steps"):
        monitor.report(step=1)


# ---------------------------------------------------------------- the plot

def test_plot_shows_activations_gradients_and_update_ratios():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model, x, t = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = Monitor(model, opt)
    for _ in range(3):
        mse_step(model, x, t, opt)
    figure = monitor.plot()
    try:
        activations, gradients, updates = figure.axes
        assert len(activations.lines) == len(gradients.lines) == 3     # Tanh, ReLU, Sigmoid
        assert [line.get_label() for line in updates.lines] == [
            "0: Linear", "2: Linear", "4: Linear", "guide: 1e-3"]
        guide = updates.lines[-1]
        assert guide.get_linestyle() == "--" and set(guide.get_ydata()) == {-3.0}
        np.testing.assert_allclose(updates.lines[0].get_ydata(),
                                   [step[0]["update_ratio"] for step in monitor.history])
    finally:
        plt.close(figure)


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch):
    model, x, t = small_net()
    monitor = Monitor(model)
    mse_step(model, x, t)
    for name in [n for n in sys.modules if n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ad.MissingDependencyError, match="^Monitor.plot: needs the matplotlib "
                                                        "package"):
        monitor.plot()


# ---------------------------------------------------------------- ad.compile

def training_step(model: nn.Module, opt: optim.Optimizer):
    def train_step(x, t):
        opt.zero_grad()
        loss = F.mse_loss(model(x), t)
        loss.backward()
        opt.step()
        return loss
    return train_step


def test_a_compiled_step_with_a_monitor_runs_eagerly_and_is_recorded():
    model, x, t = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = ad.compile(training_step(model, opt))
    losses = [step(x, t).item() for _ in range(2)]
    assert step.cache_info().replays == 1                  # without a monitor: replayed
    monitor = Monitor(model, opt)
    with pytest.warns(CompileWarning, match="eagerly from now on: the function calls Linear, "
                                              "which has forward hooks"):
        losses.append(step(x, t).item())
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)     # it warned once only
        losses += [step(x, t).item() for _ in range(2)]
    assert step.cache_info().replays == 1 and step.cache_info().eager_reason is not None
    assert len(monitor.history) == 3
    assert all(row["update_ratio"] is not None for row in monitor.report()[::2])
    eager_model, _, _ = small_net()                        # the same five steps, not compiled
    eager_step = training_step(eager_model, optim.SGD(eager_model.parameters(), lr=0.1))
    assert losses == [eager_step(x, t).item() for _ in range(5)]
    monitor.remove()
    step(x, t)
    assert step.cache_info().replays == 1                  # eager for good, monitor or not


def test_a_gradient_the_same_everywhere_is_not_taken_for_a_vanishing_one():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Monitor(model) as monitor:
            model(ad.ones(2, 3)).sum().backward()         # dL/dy = 1 everywhere: std 0
    assert monitor.report()[1]["act_grad_std"] == 0.0
    assert not [w for w in caught if "vanishing" in str(w.message)]
