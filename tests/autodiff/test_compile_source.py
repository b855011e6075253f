"""compiled.source and compiled.report() (autodiff/jit/codegen.py, compiled.py): the
replay runs the generated source itself; it reads forward, backward and optimizer in
order, with names from the model and a comment naming the op and the user's line; hostile
module names cannot change what it means; report() lists guarded and baked-in numbers."""
from __future__ import annotations

import ast
import os

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from nn import functional as F

SCALE = 3.0


def xor_step() -> tuple[nn.Module, ad.Compiled]:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.1)

    def train_step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, ad.compile(train_step)


XOR_X = ad.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = ad.tensor([[0.0], [1.0], [1.0], [0.0]])


def code_lines(source: str) -> list[str]:
    return [line.split("#")[0].strip() for line in source.splitlines()[1:]]


def test_the_source_reads_forward_backward_and_the_update_in_order() -> None:
    _, step = xor_step()
    step(XOR_X, XOR_Y)
    source = step.source
    lines = code_lines(source)
    assert source.startswith("def train_step(args):")
    assert "x = args[0]._data" in lines and "y = args[1]._data" in lines
    assert "layer0_weight = layer0_weight_tensor._data" in lines
    # each op's lines start with a comment naming it; forward, backward, then the update
    ops = [line.split("#")[1].split()[0:2] for line in source.splitlines() if "#" in line]
    assert [op[0] if op[0] != "d" else " ".join(op) for op in ops] == [
        "Optimizer.zero_grad", "linear", "tanh", "linear", "sigmoid", "binary_cross_entropy",
        "loss.backward():", "d binary_cross_entropy", "d sigmoid", "d linear", "d tanh",
        "d linear", "Optimizer.step"]
    # the ops' own lines, inlined: no call per op
    # the branches the traced kinds decide are gone (x is 2-d: np.dot, not @)
    assert "linear = np.dot(x, layer0_weight.T)" in lines
    assert not any("ndim" in line or "type(" in line for line in lines)
    assert "tanh = np.tanh(linear)" in lines
    assert not any(".forward(" in line or ".backward(" in line for line in lines)
    # a backward's returned gradients go straight to their variables, no tuple between
    assert "d_layer0_weight = np.dot(d_linear.T, x_3)" in lines
    assert not any(line.startswith("g = ") for line in lines)
    assert lines.index("with accumulating:") < lines.index("sgd_step()")
    assert "accumulate_grad(layer0_weight_tensor, d_layer0_weight)" in lines
    assert lines[-1] == "return make(binary_cross_entropy)"
    here = os.path.basename(__file__)
    forward = next(line for line in source.splitlines() if "tanh = np.tanh(linear)" in line)
    assert forward.split("#")[1].split() == [
        "tanh", f"{here}:28", "loss", "=", "F.binary_cross_entropy(model(x),", "y)"]


def test_the_replay_runs_the_source_shown() -> None:
    _, step = xor_step()
    step(XOR_X, XOR_Y)
    program = step._last_program
    assert program.run.__code__.co_filename.startswith("<ad.compile train_step")
    assert ast.unparse(ast.parse(step.source)) == ast.unparse(
        ast.parse("".join(__import__("linecache").getlines(program.run.__code__.co_filename))))
    step(XOR_X, XOR_Y)
    assert step.cache_info().replays == 1


def test_gradients_summed_and_unbroadcast_where_the_trace_saw_it() -> None:
    w = ad.tensor([[0.5, -1.0, 2.0]], requires_grad=True)

    def step(x: ad.Tensor) -> ad.Tensor:
        w.grad = None
        loss = ((x + w) * w).sum()       # w used twice; broadcast over x's rows
        loss.backward()
        return w.grad

    compiled = ad.compile(step)
    x = ad.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    traced = compiled(x).numpy()
    replayed = compiled(x).numpy()
    np.testing.assert_array_equal(replayed, traced)
    np.testing.assert_array_equal(traced, (x.numpy() + 2 * w.numpy()).sum(0, keepdims=True))
    assert "add_gradients(" in compiled.source and "to_input(" in compiled.source
    assert compiled.cache_info().replays == 1


HOSTILE = ["def", "return 1  # x", "line\nbreak", "1", "λ", "x", "args", "np",
           "layer0_weight", "__init__x", "ctx_linear\r\nimport os"]


def test_hostile_module_names_cannot_change_what_the_source_means() -> None:
    ad.manual_seed(0)
    model = nn.Sequential()
    for name in HOSTILE:
        model.add_module(name, nn.Linear(2, 2))
    twin = nn.Sequential()
    for name in HOSTILE:
        twin.add_module(name, nn.Linear(2, 2))
    twin.load_state_dict(model.state_dict())
    opts = [optim.SGD(m.parameters(), lr=0.1) for m in (model, twin)]

    def train(m: nn.Module, opt: optim.Optimizer):
        def step(x: ad.Tensor) -> ad.Tensor:
            opt.zero_grad()
            loss = (m(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step

    compiled, eager = ad.compile(train(model, opts[0])), train(twin, opts[1])
    x = ad.tensor([[1.0, -2.0], [0.5, 3.0]])
    for _ in range(3):
        assert compiled(x).item() == eager(x).item()
    assert_same(model, twin)
    assert compiled.cache_info().replays == 2
    tree = ast.parse(compiled.source)
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef)
    statements = [s for s in ast.walk(tree.body[0]) if isinstance(s, ast.stmt)][1:]
    lines = [line for line in compiled.source.splitlines() if line.strip() != "else:"]
    assert len(lines) == len(statements) + 1     # one line each
    assigned = [t.id for s in statements if isinstance(s, ast.Assign) for t in s.targets
                if isinstance(t, ast.Name)]
    assert all(name.isidentifier() for name in assigned)
    assert not any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in ast.walk(tree))


def assert_same(a: nn.Module, b: nn.Module) -> None:
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_source_of_a_function_that_runs_eagerly_is_refused() -> None:
    compiled = ad.compile(lambda x: ad.tensor(x.sum().item()))
    with pytest.raises(ad.CompileError, match="nothing traced yet"):
        _ = compiled.source
    with pytest.warns(ad.CompileWarning):
        compiled(ad.ones(3))
    with pytest.raises(ad.CompileError, match="runs eagerly, so there is no source: .*item"):
        _ = compiled.source


class Scaler:
    scale = 2.0


def test_report_lists_guarded_numbers_and_those_baked_in() -> None:
    scaler = Scaler()

    def step(x: ad.Tensor) -> ad.Tensor:
        return x * SCALE + scaler.scale

    compiled = ad.compile(step)
    x = ad.ones(2)
    compiled(x)
    report = compiled.report()
    guarded, baked = report.split("Baked in")
    assert "the global 'SCALE' = 3.0" in guarded
    line = step.__code__.co_firstlineno + 1
    assert f"2.0          add                  {os.path.basename(__file__)}:{line}" in baked
    scaler.scale = 5.0
    assert compiled(x).tolist() == [5.0, 5.0]            # baked in: not seen, as reported
    assert compiled.cache_info().replays == 1


def test_numbers_read_by_functions_defined_inside_are_guarded() -> None:
    global SCALE

    def step(x: ad.Tensor) -> ad.Tensor:
        def inner(t: ad.Tensor) -> ad.Tensor:
            return t * SCALE
        return inner(x)

    compiled = ad.compile(step)
    x = ad.ones(1)
    try:
        assert compiled(x).tolist() == [3.0]
        SCALE = 4.0
        assert compiled(x).tolist() == [4.0]
        assert "the global 'SCALE' changed from 3.0 to 4.0" in compiled.cache_info().last_retrace
    finally:
        SCALE = 3.0


def test_a_submodule_read_but_not_called_is_guarded_and_its_number_reported() -> None:
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear, self.drop = nn.Linear(2, 2), nn.Dropout(0.25)

        def forward(self, x: ad.Tensor) -> ad.Tensor:
            return F.dropout(self.linear(x), self.drop.p)    # reads drop.p, never calls drop

    head = Head()
    compiled = ad.compile(lambda x: head(x).detach())
    x = ad.ones(64, 2)
    compiled(x), compiled(x)
    assert any("0.25" in line and "dropout_mask" in line
               for line in compiled.report().split("Baked in")[1].splitlines())
    head.drop.p = 1.0
    assert compiled(x).numpy().max() == 0.0                  # retraced: all dropped
    assert "module 'drop' (Dropout) changed" in compiled.cache_info().last_retrace
