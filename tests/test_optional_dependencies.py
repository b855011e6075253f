"""Optional dependencies: `import autodiff, nn, optim` needs numpy only, and a feature whose
package is missing (safetensors, graphviz, matplotlib, tqdm) raises an ImportError that
names the package, what needs it, and how to install it. A missing package is simulated
the way Python itself reports one: `sys.modules[name] = None`."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import autodiff as ad
import nn
import optim
from autodiff._optional import EXTRAS, MissingDependencyError, require

ROOT = Path(__file__).resolve().parent.parent
FILES = "nn.save / nn.load / optim.save_state / optim.load_state (safetensors files)"


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """without(package): make `package` and its submodules impossible to import."""
    def block(package: str) -> None:
        for name in [n for n in sys.modules if n.startswith(package + ".")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, package, None)
    return block


def assert_explains(error: pytest.ExceptionInfo, package: str, extra: str, purpose: str) -> None:
    message = str(error.value)
    assert message.startswith(f"{purpose}: needs the {package} package, which is not "
                              f"installed. Install it with ")
    assert f"`pip install {' '.join(EXTRAS[extra])}`" in message
    assert f"`pip install -e \".[{extra}]\"`" in message
    assert "autodiff, nn and optim on PyPI are unrelated projects" in message
    assert isinstance(error.value, ad.MissingDependencyError)
    assert isinstance(error.value, ModuleNotFoundError)       # so `except ImportError` works
    assert error.value.name == package


def model_and_optimizer() -> tuple[nn.Module, optim.Optimizer]:
    model = nn.Linear(2, 1)
    return model, optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize("call", [
    lambda path: nn.save(model_and_optimizer()[0], path),
    lambda path: nn.save(model_and_optimizer()[0].state_dict(), path),
    lambda path: optim.save_state(model_and_optimizer()[1], path),
], ids=["nn.save(model)", "nn.save(state_dict)", "optim.save_state"])
def test_saving_without_safetensors_says_how_to_install_it(call: Callable, without: Callable,
                                                           tmp_path: Path) -> None:
    without("safetensors")
    with pytest.raises(ImportError) as error:
        call(tmp_path / "file.safetensors")
    assert_explains(error, "safetensors", "io", FILES)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("call", [
    lambda path: nn.load(path),
    lambda path: nn.load(path, nn.Linear(2, 1)),
    lambda path: optim.load_state(model_and_optimizer()[1], path),
], ids=["nn.load(path)", "nn.load(path, model)", "optim.load_state"])
def test_loading_without_safetensors_says_how_to_install_it(call: Callable, without: Callable,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    nn.save(nn.Linear(2, 1), path)
    without("safetensors")
    with pytest.raises(ImportError) as error:
        call(path)
    assert_explains(error, "safetensors", "io", FILES)


@pytest.mark.parametrize("call", [
    lambda path: ad.viz.draw(ad.tensor(2.0, requires_grad=True).exp()),
    lambda path: ad.viz.save(ad.tensor(2.0, requires_grad=True).exp(), path=path / "g.dot"),
    lambda path: ad.viz.save(ad.tensor(2.0, requires_grad=True).exp(), path=path / "g.png"),
], ids=["draw", "save(.dot)", "save(.png)"])
def test_drawing_without_graphviz_says_how_to_install_it(call: Callable, without: Callable,
                                                         tmp_path: Path) -> None:
    without("graphviz")
    with pytest.raises(ImportError) as error:
        call(tmp_path)
    assert_explains(error, "graphviz", "viz", "viz.draw")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("package", ["matplotlib", "tqdm"])
def test_the_demos_helper_names_both_demo_packages(package: str, without: Callable) -> None:
    without(package)
    with pytest.raises(ImportError) as error:
        require(package, "demos", "python -m demos")
    assert_explains(error, package, "demos", "python -m demos")
    assert "`pip install matplotlib tqdm`" in str(error.value)


def test_require_returns_the_module_when_it_is_installed() -> None:
    import safetensors.numpy
    assert require("safetensors.numpy", "io", "a test") is safetensors.numpy


def test_a_package_that_is_installed_but_lacks_the_module_shows_the_plain_error(
        without: Callable) -> None:
    without("numpy.testing")
    with pytest.raises(ModuleNotFoundError) as error:
        require("numpy.testing", "io", "a test")
    assert not isinstance(error.value, MissingDependencyError)
    assert error.value.name == "numpy.testing"


def test_the_extras_are_those_of_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")                 # Python 3.11 and later
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for extra, packages in EXTRAS.items():
        names = tuple(requirement.split(">")[0].split("=")[0] for requirement in extras[extra])
        assert names == packages, extra


def test_importing_autodiff_nn_and_optim_needs_numpy_only() -> None:
    script = ("import sys\n"
              "from importlib.metadata import packages_distributions\n"
              "before = set(sys.modules)\n"
              "import autodiff, nn, optim\n"
              "new = {name.split('.')[0] for name in set(sys.modules) - before}\n"
              "owners = packages_distributions()\n"
              "print(sorted({d for name in new for d in owners.get(name, [])}))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "['autodiff', 'numpy']"
