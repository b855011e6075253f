"""Compiled.export (autodiff/jit/export.py): a compiled training step written out as a
module that needs numpy alone, its state in an .npz beside it. Run in a process where
autodiff cannot be imported, the exported step gives the replay's numbers bit for bit
(losses, parameters, running statistics, dropout masks from the saved generator); the
.npz opens without pickle; the module's ops and update rule are the library's source,
copied; and what cannot be exported is refused with a CompileError naming it."""
from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.ops.conv import Conv2d
from autodiff.ops.matmul import Linear
from autodiff.ops.pool import MaxPool2d
from benchmarks import compiled as compiled_nets
from nn import functional as F
from optim.optimizer import adam_moments, addcdiv_, addcmul_, lerp_

Batches = list[tuple[np.ndarray, np.ndarray]]

# Runs an exported step in a fresh interpreter without site-packages (-S) or the current
# folder (-I), numpy's folder added by hand, autodiff, nn and optim made unimportable.
RUNNER = """
import sys
folder, site, name, batches, steps, out = sys.argv[1:]
for package in ("autodiff", "nn", "optim", "benchmarks"):
    sys.modules[package] = None
try:
    import autodiff
except ImportError:
    pass
else:
    raise SystemExit("autodiff is importable")
sys.path.insert(0, folder)
sys.path.append(site)
import numpy as np
module = __import__(name)
data = np.load(batches, allow_pickle=False)
state = module.load_state()
losses = [module.step(state, data["x"][i], data["y"][i]) for i in range(int(steps))]
arrays = {f"{kind}/{key}": value for kind in ("parameters", "buffers")
          for key, value in state[kind].items()}
generator = np.array(repr(state["generator"].bit_generator.state))
np.savez(out, losses=np.array(losses), generator=generator, **arrays)
"""


def run_exported(module: Path, batches: Batches) -> dict[str, np.ndarray]:
    """Run the exported step on each batch in another process (see RUNNER); its losses,
    and the state's parameters, buffers and generator state after the last step."""
    folder = module.parent
    data, out = folder / "batches.npz", folder / "result.npz"
    np.savez(data, x=np.stack([x for x, _ in batches]), y=np.stack([y for _, y in batches]))
    site = str(Path(np.__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", RUNNER, str(folder), site,
                             module.stem, str(data), str(len(batches)), str(out)],
                            capture_output=True, text=True, cwd=folder, timeout=120)
    assert result.returncode == 0, result.stderr
    with np.load(out, allow_pickle=False) as saved:
        return dict(saved)


def assert_same_as_replay(step: ad.Compiled, model: nn.Module, batches: Batches,
                          exported: dict[str, np.ndarray]) -> None:
    """The replay, on the same batches from the same state, gives the exported numbers."""
    replays = step.cache_info().replays
    losses = [step(x, y).numpy() for x, y in batches]
    assert step.cache_info().replays == replays + len(batches)
    np.testing.assert_array_equal(exported["losses"], np.array(losses))
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(exported[f"parameters/{name}"], p.numpy())
    for name, b in model.named_buffers():
        np.testing.assert_array_equal(exported[f"buffers/{name}"], b.numpy())
    assert str(exported["generator"]) == repr(ad.random.default_generator.get_state())


def load_module(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the benchmark nets


def xor_batches(rng: np.random.Generator, steps: int) -> Batches:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return [(x, y)] * steps


def regression_batches(rng: np.random.Generator, steps: int) -> Batches:
    return [(rng.uniform(-2, 2, (1, 1)).astype(np.float32),
             rng.uniform(-1, 1, (1, 1)).astype(np.float32)) for _ in range(steps)]


def mnist_batches(rng: np.random.Generator, steps: int) -> Batches:
    return [(rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16))
            for _ in range(steps)]


@pytest.mark.parametrize(("net", "batches", "steps"), [
    (compiled_nets.XorNet, xor_batches, 40),
    (compiled_nets.RegressionNet, regression_batches, 40),
    (compiled_nets.MnistNet, mnist_batches, 20)])
def test_an_exported_step_without_autodiff_gives_the_replays_numbers(
        tmp_path: Path, net: type, batches: Any, steps: int) -> None:
    rng = np.random.default_rng(0)
    trained = net(seed=0)
    for x, y in batches(rng, 2):                    # a trace, then a replay
        trained.step(x, y)
    trained.step.export(tmp_path / "exported_step.py")
    later = batches(rng, steps)
    exported = run_exported(tmp_path / "exported_step.py", later)
    assert_same_as_replay(trained.step, trained.model, later, exported)


# ---------------------------------------------------------------- the CNN


def cnn_step() -> tuple[nn.Module, optim.Optimizer, ad.Compiled]:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.25),
                          nn.Linear(4 * 4 * 4, 10), nn.LogSoftmax(dim=1))
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def train_step(x: np.ndarray, y: np.ndarray) -> ad.Tensor:
        opt.zero_grad()
        loss = F.nll_loss(model(ad.from_numpy(x)), ad.from_numpy(y))
        loss.backward()
        opt.step()
        return loss

    return model, opt, ad.compile(train_step, fullgraph=True)


def image_batches(rng: np.random.Generator, steps: int) -> Batches:
    return [(rng.standard_normal((6, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 6))
            for _ in range(steps)]


@pytest.fixture
def exported_cnn(tmp_path: Path) -> tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]:
    """The CNN traced and replayed once, its lr changed (as a scheduler would), exported."""
    model, opt, step = cnn_step()
    for x, y in image_batches(np.random.default_rng(1), 2):
        step(x, y)
    opt.param_groups[0]["lr"] = 5e-3
    step.export(tmp_path / "cnn_step.py")
    return model, opt, step, tmp_path / "cnn_step.py"


def test_the_cnn_with_dropout_and_batch_norm_runs_100_steps_as_the_replay(
        exported_cnn: tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]) -> None:
    model, _, step, path = exported_cnn
    running_mean = model[1].running_mean.numpy().copy()
    batches = image_batches(np.random.default_rng(2), 100)
    exported = run_exported(path, batches)
    assert_same_as_replay(step, model, batches, exported)     # masks, running stats too
    assert not np.array_equal(model[1].running_mean.numpy(), running_mean)
    assert "dropout_mask(" in path.read_text(encoding="utf-8")


def test_the_npz_holds_the_state_without_pickle(
        exported_cnn: tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]) -> None:
    model, opt, _, path = exported_cnn
    weight = model[0].weight
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as saved:
        assert all(saved[key].dtype != object for key in saved.files)
        np.testing.assert_array_equal(saved["parameters/0.weight"], weight.numpy())
        np.testing.assert_array_equal(saved["buffers/1.running_var"],
                                      model[1].running_var.numpy())
        np.testing.assert_array_equal(saved["optimizers/0/state/0.weight/exp_avg_sq"],
                                      opt.state[weight]["exp_avg_sq"])
        assert float(saved["optimizers/0/param_groups/0/lr"]) == 5e-3
        assert int(saved["generator/state/state"].item()) == \
            ad.random.default_generator.get_state()["state"]["state"]    # 128 bits
        assert ["optimizers/0/param_groups/0/lr", "float"] in saved["python_values"].tolist()
    state = load_module(path).load_state()
    group = state["optimizers"][0]["param_groups"][0]
    assert group["lr"] == 5e-3 and group["betas"] == (0.9, 0.999) and group["amsgrad"] is False
    assert group["params"] == tuple(name for name, _ in model.named_parameters())
    assert state["optimizers"][0]["state"]["0.weight"]["step"] == 2
    assert state["generator"].bit_generator.state == ad.random.default_generator.get_state()
    assert set(state["buffers"]) == {name for name, _ in model.named_buffers()}


# ---------------------------------------------------------------- the module's source


def imported_modules(source: str) -> list[tuple[str, str | None]]:
    """(module, alias) of each import statement in `source`, anywhere in it."""
    imports = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imports += [(alias.name, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports += [(node.module or "", None)]
    return imports


def test_the_module_imports_numpy_and_nothing_outside_the_standard_library(
        tmp_path: Path, exported_cnn: tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]
        ) -> None:
    trained = compiled_nets.XorNet(seed=0)
    trained.step(*xor_batches(np.random.default_rng(0), 1)[0])
    trained.step.export(tmp_path / "xor_step.py")
    assert imported_modules((tmp_path / "xor_step.py").read_text(encoding="utf-8")) == [
        ("numpy", "np")]
    imports = imported_modules(exported_cnn[3].read_text(encoding="utf-8"))
    assert ("numpy", "np") in imports
    assert all(module == "numpy" or module.split(".")[0] in sys.stdlib_module_names
               for module, _ in imports)


def function_body(tree: ast.AST, cls: str, method: str) -> str:
    """ast.dump of the body of cls.method in a parsed module."""
    owner = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls)
    node = next(n for n in owner.body if isinstance(n, ast.FunctionDef) and n.name == method)
    return ast.dump(ast.Module(node.body, []))


def module_function_body(tree: ast.AST, name: str) -> str:
    """ast.dump of the body of the module-level function `name` in a parsed module."""
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.dump(ast.Module(node.body, []))


def library_body(function: Any) -> str:
    source = inspect.cleandoc("\n" + inspect.getsource(function))
    return ast.dump(ast.Module(ast.parse(source).body[0].body, []))


def test_ops_and_the_update_rule_are_the_librarys_source_copied(
        exported_cnn: tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]) -> None:
    tree = ast.parse(exported_cnn[3].read_text(encoding="utf-8"))
    for op in (Conv2d, MaxPool2d, Linear):
        for method in ("forward", "backward"):
            assert function_body(tree, op.__name__, method) == \
                library_body(getattr(op, method))
    assert function_body(tree, "Adam", "_update") == library_body(optim.Adam._update)
    for rule_helper in (adam_moments, lerp_, addcmul_, addcdiv_):     # what _update calls
        assert module_function_body(tree, rule_helper.__name__) == library_body(rule_helper)
    helpers = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"unfold_array", "fold_array", "window_taps", "to_input"} <= helpers


def test_the_step_reads_forward_backward_and_update_in_order_with_the_users_lines(
        exported_cnn: tuple[nn.Module, optim.Optimizer, ad.Compiled, Path]) -> None:
    source = exported_cnn[3].read_text(encoding="utf-8")
    sections = [source.index(title) for title in (
        "helpers the ops call", "ops: forward and backward", "optimizer update",
        "plumbing", "def load_state(", "def step(state, x, y):")]
    assert sections == sorted(sections)
    step = source[source.index("def step("):]
    order = [step.index(needle) for needle in (
        "zero_grad(grads,", "Conv2d.forward(", "MaxPool2d.forward(", "dropout_mask(",
        "NLLLoss.forward(", "NLLLoss.backward(", "MaxPool2d.backward(", "Conv2d.backward(",
        "accumulate_grad(grads, '0.weight'", "optimizer_step(adam,")]
    assert order == sorted(order)
    here = Path(__file__).name
    forward = next(line for line in step.splitlines() if "Conv2d.forward(" in line)
    assert forward.split("#")[1].split()[:2] == ["conv2d", f"{here}:{line_of('loss = F.nll')}"]


def line_of(text: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line and "line_of" not in line)


# ---------------------------------------------------------------- refused


def test_a_function_that_runs_eagerly_cannot_be_exported(tmp_path: Path) -> None:
    compiled = ad.compile(lambda x: ad.tensor(x.sum().item()))
    with pytest.raises(ad.CompileError, match="nothing traced yet"):
        compiled.export(tmp_path / "step.py")
    with pytest.warns(ad.CompileWarning):
        compiled(ad.ones(3))
    with pytest.raises(ad.CompileError, match="runs eagerly"):
        compiled.export(tmp_path / "step.py")
    assert not (tmp_path / "step.py").exists()


def test_a_call_the_export_cannot_carry_out_is_named(tmp_path: Path) -> None:
    ad.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=10)

    @ad.compile
    def train_step(x: ad.Tensor) -> ad.Tensor:
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        schedule.step()
        return loss

    train_step(ad.ones(3, 2))
    with pytest.raises(ad.CompileError, match=r"export: cannot export a call of "
                                              r"optim\.lr_scheduler\.LRScheduler\.step"):
        train_step.export(tmp_path / "step.py")
    assert not (tmp_path / "step.py").exists()


def test_a_models_forward_alone_is_not_a_step_to_export(tmp_path: Path) -> None:
    ad.manual_seed(0)
    forward = ad.compile(nn.Linear(2, 1))
    forward(ad.ones(3, 2))
    with pytest.raises(ad.CompileError, match="whole training step"):
        forward.export(tmp_path / "step.py")


# ---------------------------------------------------------------- the demos' training steps

def demo_step(demo: str) -> tuple[nn.Module, ad.Compiled, Batches]:
    """Each demo's model, optimizer, loss and training step, written as the demo writes
    them, compiled; with a few of its batches (random data of the demo's shapes)."""
    from demos import char_lm, mnist, mnist_cnn, regression, xor
    ad.manual_seed(0)
    rng = np.random.default_rng(0)
    images = [(rng.random((4, 784), dtype=np.float32), rng.integers(0, 10, 4))
              for _ in range(3)]
    model, optimizer, loss_fn, batches = {
        "regression": lambda: (m := regression.activation_net(),
                               optim.Adam(m.parameters(), lr=regression.LR), nn.MSELoss(),
                               regression_batches(rng, 3)),
        "xor": lambda: (m := xor.build_model("keras"), optim.SGD(m.parameters(), lr=xor.LR),
                        nn.BCELoss(), xor_batches(rng, 3)),
        "mnist": lambda: (m := mnist.Net(), optim.Adam(m.parameters(), lr=mnist.LR),
                          F.nll_loss, images),
        "mnist_cnn": lambda: (m := mnist_cnn.make_cnn(),
                              optim.Adam(m.parameters(), lr=mnist_cnn.LR), F.nll_loss,
                              [(x.reshape(4, 1, 28, 28), y) for x, y in images]),
        "char_lm": lambda: (m := char_lm.MLP(),
                            optim.AdamW(m.parameters(), lr=0.1, weight_decay=0.01),
                            F.cross_entropy,
                            [(rng.integers(0, char_lm.V, (8, char_lm.CONTEXT)),
                              rng.integers(0, char_lm.V, 8)) for _ in range(3)]),
    }[demo]()

    def train_step(x: np.ndarray, y: np.ndarray) -> ad.Tensor:
        loss = loss_fn(model(ad.from_numpy(x)), ad.from_numpy(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return model, ad.compile(train_step, fullgraph=True), batches


@pytest.mark.parametrize("demo", ["regression", "xor", "mnist", "mnist_cnn", "char_lm"])
def test_every_demos_step_has_its_source_and_exports(demo: str, tmp_path: Path) -> None:
    model, step, batches = demo_step(demo)
    x, y = batches[0]
    step(x, y)
    source = step.source
    assert "accumulate_grad(" in source and ".step()" in source and ".backward(" in source
    step.export(tmp_path / f"{demo}_step.py")
    assert_same_as_replay(step, model, batches,
                          run_exported(tmp_path / f"{demo}_step.py", batches))
