"""ad.trace_backward: the steps come in the order backward() runs the nodes, in-place and
setitem nodes included; the gradients the steps send add up to what loss.backward() gives
on every demo's network; the trace touches no .grad, runs no hook and leaves the graph
usable; the table, the HTML frames and the saved pictures show what they say."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from demos import backprop, char_lm, mnist, mnist_cnn, regression, xor

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def regression_case() -> tuple[nn.Module, ad.Tensor]:
    model = regression.activation_net()
    x = ad.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(8, 1))
    return model, F.mse_loss(model(x), 2 * x + 1)


def xor_case() -> tuple[nn.Module, ad.Tensor]:
    model = xor.build_model("keras")
    x = ad.tensor(xor.X)
    return model, F.binary_cross_entropy(model(x), ad.tensor(xor.Y))


def mnist_case() -> tuple[nn.Module, ad.Tensor]:
    model = mnist.Net()
    x = ad.tensor(np.random.default_rng(0).random((4, 784), dtype=np.float32))
    return model, F.cross_entropy(model(x), ad.tensor([3, 1, 4, 1]))


def cnn_case() -> tuple[nn.Module, ad.Tensor]:
    model = mnist_cnn.make_cnn()
    x = ad.tensor(np.random.default_rng(1).standard_normal((2, 1, 28, 28), dtype=np.float32))
    return model, F.cross_entropy(model(x), ad.tensor([7, 2]))


def backprop_case() -> tuple[nn.Module, ad.Tensor]:
    model = backprop.regression_net()
    x = ad.tensor([[0.3], [-0.8]])
    return model, F.mse_loss(model(x), ad.tensor([[0.5], [1.0]]))


def char_lm_case() -> tuple[nn.Module, ad.Tensor]:
    model = char_lm.Transformer(block=6, embd=8, heads=2, layers=1)
    codes = ad.tensor([[0, 5, 12, 1, 0, 0], [0, 9, 9, 3, 14, 0]])
    targets = ad.tensor([[5, 12, 1, 0, -1, -1], [9, 9, 3, 14, 0, -1]])
    return model, char_lm.sequence_loss(model(codes), targets)


NETWORKS: dict[str, Callable[[], tuple[nn.Module, ad.Tensor]]] = {
    "regression": regression_case, "xor": xor_case, "mnist": mnist_case, "cnn": cnn_case,
    "backprop": backprop_case, "char_lm": char_lm_case}


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_the_steps_add_up_to_what_backward_gives(network):
    ad.manual_seed(0)
    model, loss = NETWORKS[network]()
    trace = ad.trace_backward(loss, params=model)
    assert all(p.grad is None for p in model.parameters())
    loss.backward()
    assert set(trace.grads) == set(model.parameters())
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(trace.grads[p].numpy(), p.grad.numpy(), err_msg=name)


def test_the_steps_come_in_the_order_backward_runs_the_nodes():
    ad.manual_seed(0)
    model, loss = regression_case()
    trace = ad.trace_backward(loss, params=model)
    arrivals: list[ad.Tensor] = []
    for step in trace:
        step.output.register_hook(lambda g, t=step.output: arrivals.append(t))
    loss.backward()
    assert [id(t) for t in arrivals] == [id(step.output) for step in trace]
    assert [step.op for step in trace] == ["mse_loss", "linear", "sigmoid", "linear",
                                           "sigmoid", "linear"]


def test_in_place_and_setitem_nodes_are_steps():
    x = ad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    buffer = ad.zeros(4)
    buffer[1:] = x * 2
    buffer += 1
    loss = (buffer * buffer).sum()
    trace = ad.trace_backward(loss)
    ops = [step.op for step in trace]
    assert "copy_slices" in ops or any("slice" in op or "setitem" in op for op in ops), ops
    loss.backward()
    np.testing.assert_array_equal(trace.grads[x].numpy(), x.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, -12.0, 28.0])   # 2·2·(2x + 1)


def test_the_trace_touches_no_grad_runs_no_hook_and_keeps_the_graph():
    w = ad.tensor([[1.0, 2.0]], requires_grad=True)
    w.grad = ad.tensor([[5.0, 5.0]])
    h = w * 3
    h.retain_grad()
    called = []
    h.register_hook(lambda g: called.append(g))
    loss = (h ** 2).sum()
    trace = ad.trace_backward(loss)
    assert called == [] and h.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [[5.0, 5.0]])
    np.testing.assert_array_equal(trace.grads[w].numpy(), [[18.0, 36.0]])
    loss.backward()                                      # the graph was retained
    np.testing.assert_array_equal(w.grad.numpy(), [[23.0, 41.0]])
    assert len(called) == 1


def test_input_gradients_before_and_after_summing_broadcast_axes():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = ad.tensor([0.5], requires_grad=True)
    trace = ad.trace_backward((x + b).sum())
    add = next(step for step in trace if step.op == "add")
    sent = {g.position: g for g in add.input_grads}
    assert sent[0].raw.shape == sent[0].summed.shape == (2, 3)
    assert sent[1].raw.shape == (2, 3) and sent[1].summed.shape == (1,)
    assert sent[1].summed.tolist() == [6.0]
    assert "summed from shape (2, 3) over the broadcast axes" in str(trace)


def test_the_table_shows_rules_numbers_and_source_lines():
    x = ad.tensor([0.5, -1.0], requires_grad=True)
    y = x.tanh()
    loss = (y * y).sum()
    text = str(ad.trace_backward(loss))
    assert text.startswith("backward of loss (): 3 steps, in the order backward() runs them")
    tanh_step = text[text.index(": tanh"):]
    assert re.search(r"rule +.*1 [−-] y²", tanh_step), tanh_step
    assert "test_backward_trace.py:" in text and "y = x.tanh()" in text
    expected = 2 * np.tanh([0.5, -1.0]) * (1 - np.tanh([0.5, -1.0]) ** 2)
    assert f"{expected[0]:.4g}" in text and f"{expected[1]:.4g}" in text
    big = ad.trace_backward((ad.ones(10, 10, requires_grad=True) * 2).sum())
    assert "shape (10, 10): mean 2, std 0, min 2, max 2" in str(big)


def test_a_custom_function_shows_its_docstring_as_rule():
    class Cube(ad.Function):
        """y = x³;  dy/dx = 3x²"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2

    trace = ad.trace_backward(Cube.apply(ad.tensor(2.0, requires_grad=True)))
    assert trace[0].rule == ("y = x³;  dy/dx = 3x²",)


@needs_dot
def test_html_steps_through_frames_with_radio_buttons_and_no_script():
    ad.manual_seed(0)
    model, loss = backprop_case()
    page = ad.trace_backward(loss, params=model)._repr_html_()
    assert page.count('type="radio"') == 6 and page.count("<svg") == 6
    assert "<script" not in page and ":checked ~ .steps .s6{display:block}" in page
    assert page.count('stroke="#d00000"') >= 6             # each frame outlines its node


@needs_dot
def test_save_frames_writes_one_picture_per_step(tmp_path: Path):
    ad.manual_seed(0)
    model, loss = backprop_case()
    paths = ad.trace_backward(loss, params=model).save_frames(tmp_path / "frames")
    assert [Path(p).name for p in paths] == [f"step_{i}.png" for i in range(1, 7)]
    assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_refusals_name_the_problem():
    with pytest.raises(ad.BackwardError, match="does not require grad"):
        ad.trace_backward(ad.tensor([1.0]).sum())
    with pytest.raises(TypeError, match="loss must be a Tensor"):
        ad.trace_backward(1.0)
    with pytest.raises(ad.BackwardError, match="gradients can be implied only for "
                                               "one-element outputs"):
        ad.trace_backward(ad.ones(3, requires_grad=True) * 2)


def test_a_compiled_function_that_traces_runs_eagerly():
    w = ad.tensor([1.0, 2.0], requires_grad=True)

    def step(x: ad.Tensor) -> int:
        return len(ad.trace_backward((w * x).sum()))

    compiled = ad.compile(step)
    with pytest.warns(ad.CompileWarning, match="calls ad.trace_backward"):
        assert compiled(ad.ones(2)) == 2
