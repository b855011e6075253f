"""The tutorial notebooks (docs/tutorials) run top to bottom without an error, print and
draw what their text says, and are saved with the outputs of such a run.

Each notebook is executed once, with `execute` from docs/tutorials/run.py (the function
that regenerates the saved files), in a fresh kernel of the test's Python. How long they
take is `make bench`'s business, not the tests'.

Floats differ in their last bits between BLAS builds and CPUs, so the numbers a fresh run
prints are compared with the saved ones on their own scale (see `same_number`), never
digit for digit.
"""
from __future__ import annotations

import html
import importlib.util
import math
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from nn.data import names
from nn.data.mnist import DatasetError

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
NAMES = ["01_neuron.ipynb", "02_backprop_by_hand.ipynb", "03_xor.ipynb", "04_mnist_mlp.ipynb",
         "05_char_lm.ipynb", "06_backward_steps.ipynb", "07_backprop_ninja.ipynb",
         "08_monitor.ipynb"]
NEED_DOT = {"01_neuron.ipynb", "02_backprop_by_hand.ipynb",    # they show graphs as SVG
            "06_backward_steps.ipynb"}
NEEDS_MNIST = {"04_mnist_mlp.ipynb"}
NEEDS_NAMES = {"05_char_lm.ipynb"}        # the names corpus, found or downloaded
# The numbers in the saved outputs must be a fresh run's (see `same_number`); where float32
# training over thousands of steps may round differently with another CPU's BLAS and take
# another path, to within this much (absolute) besides.
NUMBER_TOLERANCE = {"04_mnist_mlp.ipynb": 0.01}
# What the float64 notebooks print below this is rounding noise: differences of two
# computations of the same order-one quantity (hand vs autodiff), which the notebooks
# themselves assert to be at most 1e-12. 0.0e+00 on one machine is 2.8e-17 on another.
NOISE = 1e-12
# Printed floats with many digits: another CPU's exp, tanh or BLAS agree to this (relative).
RELATIVE = 1e-9
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]\d+)?")


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tutorials_run", TUTORIALS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = load_runner()


def mnist_folder() -> Path:
    """The folder holding mnist/: $AUTODIFF_DATA, else ../shared/data beside the repo."""
    default = TUTORIALS.parents[2] / "shared" / "data"
    folder = Path(os.environ.get("AUTODIFF_DATA") or default)
    if not (folder / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {folder}/mnist")
    return folder


def names_corpus() -> Path:
    """The names tarball, found on this machine or downloaded; skipped when offline."""
    try:
        return names.find_tarball()
    except DatasetError as error:
        if "could not download" not in str(error):
            raise
        pytest.skip(f"the names corpus is not here and cannot be downloaded: {error}")


@pytest.fixture(scope="module")
def run() -> Callable[[str], nbformat.NotebookNode]:
    """`run(name)` executes the notebook (once per test module) and returns it with its
    new outputs."""
    done: dict[str, nbformat.NotebookNode] = {}

    def execute(name: str) -> nbformat.NotebookNode:
        if name in NEED_DOT and shutil.which("dot") is None:
            pytest.skip("needs Graphviz's dot to draw the graphs")
        if name in NEEDS_NAMES:
            names_corpus()
        if name not in done:
            with pytest.MonkeyPatch.context() as patch:
                if name in NEEDS_MNIST:
                    patch.setenv("AUTODIFF_DATA", str(mnist_folder()))
                done[name] = runner.execute(TUTORIALS / name)
        return done[name]
    return execute


def code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def text_of(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed: its streams and the plain text of its results."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "text/plain" in output.get("data", {}):
            parts.append(output.data["text/plain"])
    return "".join(parts)


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(text_of(cell) for cell in code_cells(notebook))


def prose(notebook: nbformat.NotebookNode) -> str:
    """The markdown, with the typographic minus read as "-" so numbers parse."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return text.replace("−", "-")


def said(notebook: nbformat.NotebookNode, phrase: str) -> bool:
    """Whether the markdown says `phrase`, wherever its lines break."""
    return " ".join(phrase.split()) in " ".join(prose(notebook).split())


def kinds(cell: nbformat.NotebookNode) -> list[tuple[str, ...]]:
    """Per output: its type, and the mime types of its data."""
    return [(output.output_type, *sorted(output.get("data", {}))) for output in cell.outputs]


def cell_with(notebook: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    return next(cell for cell in code_cells(notebook) if code in cell.source)


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def last_digit(text: str) -> float:
    """The value of one unit in the last digit of a printed float: 1e-4 for "0.0073",
    1e-17 for "1.1e-16"; 0 for a zero in scientific notation, whose exponent says nothing."""
    mantissa, _, exponent = text.replace(",", "").partition("e")
    decimals = len(mantissa.partition(".")[2])
    if exponent and float(mantissa) == 0:
        return 0.0
    return 10.0 ** (int(exponent or 0) - decimals)


def same_number(saved: str, fresh: str, tolerance: float = 0.0) -> bool:
    """Whether a number printed by a fresh run agrees with the one in the saved file.

    Integers count things (parameters, epochs, classes): they must be equal. Floats are
    compared on their scale: two values that are both rounding noise (|x| <= NOISE) agree;
    otherwise they may differ by one unit in the last printed digit and a half (a value
    within rounding of a boundary prints either way), by RELATIVE of their size, or by
    `tolerance`, whichever is largest."""
    a, b = float(saved.replace(",", "")), float(fresh.replace(",", ""))
    if not any(c in saved + fresh for c in ".e"):
        return a == b
    if max(abs(a), abs(b)) <= NOISE:
        return True
    unit = max(last_digit(saved), last_digit(fresh))
    return abs(a - b) <= max(1.5 * unit, RELATIVE * max(abs(a), abs(b)), tolerance)


# ---------------------------------------------------------------- every notebook

@pytest.mark.parametrize("name", NAMES)
def test_runs_top_to_bottom_without_errors(run, name: str) -> None:
    notebook = run(name)
    cells = code_cells(notebook)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            assert output.get("name") != "stderr", f"{cell.source}\n{output.text}"


@pytest.mark.parametrize("name", NAMES)
def test_every_plot_and_drawing_shows_a_picture(run, name: str) -> None:
    notebook = run(name)
    for cell in code_cells(notebook):
        pictures = [kind for output in cell.outputs for kind in output.get("data", {})
                    if kind.startswith("image/")]
        expected = (["image/png"] * cell.source.count("plt.show()")
                    + ["image/svg+xml"] * cell.source.count("ad.viz.draw("))
        assert sorted(pictures) == sorted(expected), cell.source


@pytest.mark.parametrize("name", NAMES)
def test_saved_outputs_are_those_of_a_run(run, name: str) -> None:
    """The committed notebook holds what running its code gives: the same cells, the same
    printed text, numbers that agree on their scale (`same_number`), the same kinds of
    output, and no volatile metadata. `python docs/tutorials/run.py` regenerates it."""
    fresh = run(name)
    saved = nbformat.read(TUTORIALS / name, as_version=4)
    assert saved.metadata == runner.METADATA
    assert [c.source for c in saved.cells] == [c.source for c in fresh.cells]
    tolerance = NUMBER_TOLERANCE.get(name, 0.0)
    stale = f"{name}: the saved outputs are stale; run python docs/tutorials/run.py {name}"
    for old, new in zip(code_cells(saved), code_cells(fresh)):
        assert "execution" not in old.metadata
        assert old.execution_count == new.execution_count, stale
        assert kinds(old) == kinds(new), f"{stale}\n{new.source}"
        old_text, new_text = text_of(old), text_of(new)
        assert NUMBER.sub("#", old_text) == NUMBER.sub("#", new_text), f"{stale}\n{new_text}"
        for a, b in zip(NUMBER.findall(old_text), NUMBER.findall(new_text)):
            assert same_number(a, b, tolerance), f"{stale}: {a} in the file, {b} now\n{new_text}"


def test_the_runner_names_every_tutorial() -> None:
    assert [path.name for path in runner.NOTEBOOKS] == NAMES


def test_clean_drops_what_changes_between_runs() -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("ad.viz.draw(o)")])
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    cell = notebook.cells[0]
    cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    cell.outputs = [nbformat.v4.new_output(
        "execute_result", data={"image/svg+xml": "<svg/>",
                                "text/plain": "<graphviz.graphs.Digraph at 0x7f3b1413bf90>"},
        execution_count=1)]
    cleaned = runner.clean(notebook)
    assert cleaned.metadata == runner.METADATA
    assert "execution" not in cleaned.cells[0].metadata
    assert cleaned.cells[0].outputs[0].data == {"image/svg+xml": "<svg/>"}


# ---------------------------------------------------------------- 1. the neuron

MICROGRAD = {"o": 1.0, "n": 0.5, "b": 0.5, "x1w1x2w2": 0.5, "x1w1": 0.5, "x2w2": 0.5,
             "x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}      # micrograd's known values


def test_neuron_gradients_by_hand_equal_autodiff_and_the_text(run) -> None:
    notebook = run("01_neuron.ipynb")
    table = {name: float(value) for name, value in
             re.findall(r"^\| ∂o/∂(\w+) \| .* \| (-?[\d.]+) \|$", prose(notebook), re.M)}
    assert table == MICROGRAD
    rows = re.findall(r"^∂o/∂(\w+) +(-?\d\.\d{6}) +(-?\d\.\d{6}) +(\S+)$", printed(notebook),
                      re.M)
    assert [name for name, *_ in rows] == list(MICROGRAD)
    for name, by_hand, by_autodiff, difference in rows:       # printed to 6 decimals
        assert abs(float(by_hand) - MICROGRAD[name]) <= 1.5e-6, name
        assert abs(float(by_autodiff) - MICROGRAD[name]) <= 1.5e-6, name
        assert float(difference) <= 1e-12


def test_neuron_values_are_those_the_text_states(run) -> None:
    notebook = run("01_neuron.ipynb")
    assert "n = 0.8814 and o = tanh(n) = 1/√2 ≈ 0.7071" in notebook.cells[0].source
    assert printed(notebook).startswith("n = 0.8814, o = 0.7071\n")
    assert math.isclose(math.tanh(0.8813735870195432), 1 / math.sqrt(2))


def test_neuron_drawing_shows_every_value_and_gradient(run) -> None:
    notebook = run("01_neuron.ipynb")
    cell = cell_with(notebook, "ad.viz.draw(o)")
    svg = html.unescape(next(o.data["image/svg+xml"] for o in cell.outputs if "data" in o))
    for text in [*MICROGRAD, "0.8814", "0.7071", "-1.5", "6.881"]:
        assert re.search(rf">\s*{re.escape(text)}<", svg), text


def test_neuron_gradcheck_passes_and_catches_a_wrong_derivative(run) -> None:
    notebook = run("01_neuron.ipynb")
    assert text_of(cell_with(notebook, "print(ad.gradcheck(neuron")) == "True\n"
    finite = text_of(cell_with(notebook, "eps = 1e-6"))
    by_differences, by_backward = re.fullmatch(
        r"∂o/∂x1 by finite differences: (\S+), by backward: (\S+)\n", finite).groups()
    assert abs(float(by_differences) + 1.5) <= 1.5e-6                # printed to 6 decimals
    assert abs(float(by_backward) + 1.5) <= 1.5e-6
    failure = text_of(cell_with(notebook, "class WrongTanh"))
    assert failure.startswith("Jacobian mismatch for output 0 with respect to input 0:")
    analytical, numerical = map(float, re.search(r"analytical (\S+), numerical (\S+),",
                                                 failure).groups())
    assert math.isclose(analytical, 3 * (1 / math.sqrt(2) - 1), rel_tol=1e-9)   # (1 - o)·w1
    assert math.isclose(numerical, -1.5, rel_tol=1e-6)        # central differences, eps 1e-6
    assert said(notebook, "backward said ∂o/∂x1 = (1 - o)·w1 = -0.879, finite differences -1.5")


# ---------------------------------------------------------------- 2. backprop by hand

def test_backprop_by_hand_equals_autodiff_element_by_element(run) -> None:
    notebook = run("02_backprop_by_hand.ipynb")
    text = printed(notebook)
    assert "Total params: 25" in text and said(notebook, "25 parameters in all")
    assert said(notebook, "we allow 1e-12")
    layers = re.findall(r"^layer (\d): max \|hand − autodiff\| dz (\S+), dW (\S+), db (\S+), "
                        r"da_prev (\S+)$", text, re.M)
    assert [layer for layer, *_ in layers] == ["3", "2", "1"]
    differences = [float(d) for _, *row in layers for d in row]
    largest = float(re.search(r"^largest difference: (\S+)$", text, re.M)[1])
    assert largest == max(differences) <= 1e-12
    first = re.search(r"^dW\^1 by hand: (\[.*\])  autodiff: (\[.*\])$", text, re.M)
    by_hand, by_autodiff = numbers(first[1]), numbers(first[2])      # numpy's 8 decimals
    assert len(by_hand) == len(by_autodiff) == 2
    assert all(abs(h - a) <= 1.5e-8 for h, a in zip(by_hand, by_autodiff))


def test_backprop_forward_and_update_step(run) -> None:
    notebook = run("02_backprop_by_hand.ipynb")
    text = printed(notebook)
    by_autodiff = re.search(r"^ŷ = (\S+), L = \(ŷ − y\)² = (\S+)$", text, re.M)
    by_hand = re.search(r"^by hand: ŷ = (\S+), L = (\S+)$", text, re.M)
    for hand, auto in zip(by_hand.groups(), by_autodiff.groups(), strict=True):
        assert abs(float(hand) - float(auto)) <= 1.5e-6          # printed to 6 decimals
    step = float(re.search(r"by hand vs optim.SGD: max \|difference\| (\S+)$", text, re.M)[1])
    assert step <= 1e-12
    before, after, model = re.search(r"^L = (\S+) → (\S+) after one step \(the model after "
                                     r"optim.SGD: (\S+)\)$", text, re.M).groups()
    assert before == by_hand[2]                     # the same float, printed twice
    assert abs(float(after) - float(model)) <= 1.5e-6 and float(after) < float(before)
    assert said(notebook, "α = 0.02") and "alpha = 0.02" in cell_with(notebook, "W_new").source


# ---------------------------------------------------------------- 3. XOR

def test_xor_summary_counts_like_keras(run) -> None:
    notebook = run("03_xor.ipynb")
    text = printed(notebook)
    rows = re.findall(r"^(\d) \((\w+)\)\s+\(None, (\d+)\)\s+(\d+)$", text, re.M)
    assert rows == [("0", "Linear", "10", "30"), ("1", "Tanh", "10", "0"),
                    ("2", "Linear", "1", "11"), ("3", "Sigmoid", "1", "0")]
    for line in ("Total params: 41", "Trainable params: 41", "Non-trainable params: 0"):
        assert line in text
    assert said(notebook, "= 30 parameters") and said(notebook, "41 in all")


def test_xor_training_log_and_predictions(run) -> None:
    notebook = run("03_xor.ipynb")
    text = printed(notebook)
    before = numbers(re.search(r"^predictions before training: \[(.*)\]$", text, re.M)[1])
    assert before[0] == 0.5 and all(abs(p - 0.5) < 0.1 for p in before)

    log = re.findall(r"^epoch +(\d+)  loss (\d\.\d{4})  accuracy (\d\.\d\d)$", text, re.M)
    assert [int(epoch) for epoch, *_ in log] == [1, *range(250, 3001, 250)]
    losses = [float(loss) for _, loss, _ in log]
    assert abs(losses[0] - math.log(2)) < 0.02                     # "starts at ln 2"
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.01
    assert float(log[-1][2]) == 1.0
    assert "range(1, 3001)" in cell_with(notebook, "loss_fn =").source
    assert said(notebook, "we train 3,000 epochs")

    after = numbers(re.search(r"^predictions after training: \[(.*)\]$", text, re.M)[1])
    assert [round(p) for p in after] == [0, 1, 1, 0]
    assert max(abs(p - y) for p, y in zip(after, [0, 1, 1, 0])) < 0.02
    assert "classes: [0, 1, 1, 0]\n" in text
    assert said(notebook, "The classes are [0, 1, 1, 0]")
    assert said(notebook, "within 0.02 of its target")


# ---------------------------------------------------------------- 4. MNIST

def test_mnist_is_the_documents_experiment(run) -> None:
    notebook = run("04_mnist_mlp.ipynb")
    text = printed(notebook)
    assert "60,000 training images in 4,000 batches of 15; 10,000 test images\n" in text
    assert "Total params: 59,210" in text and said(notebook, "59,210 parameters")
    training = cell_with(notebook, "optim.Adam").source
    assert "lr=0.001" in training and "range(1, 3)" in training      # 2 epochs
    assert "batch_size=15, shuffle=True" in cell_with(notebook, "DataLoader(").source


def test_mnist_accuracy_meets_the_bounds_the_text_states(run) -> None:
    notebook = run("04_mnist_mlp.ipynb")
    text = printed(notebook)
    bounds = re.search(r"at least (0\.\d+)\s+after the first epoch and at least (0\.\d+) after "
                       r"the second", prose(notebook))
    assert bounds is not None and tuple(map(float, bounds.groups())) == (0.94, 0.955)
    before = float(re.search(r"^accuracy before training: (\S+)$", text, re.M)[1])
    assert abs(before - 0.1) < 0.05                                 # "about 0.1"
    epochs = re.findall(r"^epoch (\d): mean loss (\S+), test accuracy (\S+)$", text, re.M)
    assert [int(epoch) for epoch, *_ in epochs] == [1, 2]
    assert float(epochs[1][1]) < float(epochs[0][1])
    for (_, _, accuracy), bound in zip(epochs, bounds.groups()):
        assert float(accuracy) >= float(bound)


def test_mnist_text_states_the_accuracy_of_the_saved_run(run) -> None:
    fresh = run("04_mnist_mlp.ipynb")
    saved = nbformat.read(TUTORIALS / "04_mnist_mlp.ipynb", as_version=4)
    stated = re.search(r"In the run saved here the test accuracy is (\S+) before training, "
                       r"(\S+) after the first epoch and (\S+) after the second",
                       " ".join(prose(saved).split()))
    pattern = r"^(?:accuracy before training: |epoch \d: mean loss \S+, test accuracy )(\S+)$"
    assert list(stated.groups()) == re.findall(pattern, printed(saved), re.M)
    for text, now in zip(stated.groups(), re.findall(pattern, printed(fresh), re.M)):
        assert abs(float(text) - float(now)) <= NUMBER_TOLERANCE["04_mnist_mlp.ipynb"]


def test_mnist_first_test_images_and_their_predictions(run) -> None:
    notebook = run("04_mnist_mlp.ipynb")
    text = text_of(cell_with(notebook, "prediction: {prediction}"))
    predictions = numbers(re.search(r"^predictions: \[(.*)\]$", text, re.M)[1])
    labels = numbers(re.search(r"^labels: +\[(.*)\]$", text, re.M)[1])
    assert labels == [7, 2, 1, 0, 4, 1, 4, 9]                      # MNIST's test set starts so
    assert sum(p == y for p, y in zip(predictions, labels)) >= 7
    assert said(notebook, "The first 8 test images")


# ---------------------------------------------------------------- 5. the character-level model

def test_char_lm_losses_fall_with_more_context(run) -> None:
    text = printed(run("05_char_lm.ipynb"))
    counted = float(re.search(r"counted bigram: (\d\.\d{4}) nats/char", text).group(1))
    learned = float(re.search(r"learned bigram (\d\.\d{4})", text).group(1))
    mlp = float(re.search(r"MLP (\d\.\d{4})", text).group(1))
    assert mlp + 0.05 < min(learned, counted) and abs(learned - counted) < 0.05
    assert counted < math.log(27) - 0.5
    samples = re.findall(r"^\[(.*)\]$", text, re.M)
    assert len(samples) == 2
    for line in samples:
        drawn = re.findall(r"'([a-z]*)'", line)
        assert len(drawn) == 8 and any(drawn)


# ---------------------------------------------------------------- 6. stepping through backward

def test_backward_steps_match_the_hand_formulas_and_backward(run) -> None:
    notebook = run("06_backward_steps.ipynb")
    text = printed(notebook)
    assert text.startswith("backward of loss (): 6 steps, in the order backward() runs them")
    ops = re.findall(r"^step \d: (\w+) ", text, re.M)
    assert ops == ["mse_loss", "linear", "sigmoid", "linear", "sigmoid", "linear"]
    sent = re.search(r"step 1 sends +\[(.*)\]", text).group(1)
    by_hand = re.search(r"by hand \[(.*)\]", text).group(1)
    assert numbers(sent) == numbers(by_hand)
    assert float(re.search(r"a\(1 − a\): (\S+)", text).group(1)) <= 1e-15
    assert text.count("equal to .grad: True") == 6
    shown = next(cell for cell in code_cells(notebook) if cell.source == "trace")
    html_output = shown.outputs[0].data["text/html"]
    assert html_output.count('type="radio"') == 6 and html_output.count("<svg") == 6


# ---------------------------------------------------------------- 7. backprop ninja

def test_backprop_ninja_right_answers_match_to_rounding(run) -> None:
    notebook = run("07_backprop_ninja.ipynb")
    text = printed(notebook)
    assert "all 16 gradients match" in text and "all 24 gradients match" in text
    ok_rows = re.findall(r"^  \S+ +\([\d, ]*\) +ok +max abs error (\S+), rel (\S+) "
                         r"\(tolerance (\S+)\)$", text, re.M)
    assert len(ok_rows) >= 16 + 24
    assert all(float(error) <= 1e-12 and float(rel) <= 1e-12 for error, rel, _ in ok_rows)
    assert "fc1.weight.grad after the checks: None\n" in text
    after = float(re.search(r"max \|fc1.weight.grad − dW1\| = (\S+)$", text, re.M)[1])
    assert after <= 1e-12
    assert float(re.search(r"max \|h1 − F.batch_norm\(z1\)\| = (\S+)$", text, re.M)[1]) \
        <= 1e-12
    assert said(notebook, "a tiny synthetic batch") and said(notebook, "Everything is float64")
    assert said(notebook, "its **biased** variance (dividing by N, not N - 1")


def test_backprop_ninja_mistakes_get_their_diagnoses(run) -> None:
    text = printed(run("07_backprop_ninja.ipynb"))
    assert "15 of 16 gradients are wrong" in text
    assert ("off by a constant factor: yours is 8 × the true gradient; 8 is the batch size N: "
            "mean vs sum") in text
    assert text.count("follows from the wrong gradient of logits above") == 14
    diagnoses = re.findall(r"^  (\w+) +(wrong shape|wrong) +(.*)$", text, re.M)
    assert [(name, diagnosis.split(":")[0]) for name, _, diagnosis in diagnoses] == [
        ("W4", "transposed"), ("b4", "a broadcast axis not summed"), ("logits", "wrong sign"),
        ("z3", "forgot the factor (x > 0) of relu"),
        ("b3", "follows from the wrong gradient of z3 above"),
        ("W3", "follows from the wrong gradient of z3 above"),
        ("W2", "first wrong in backward order")]
    unbiased = re.search(r"^3 of 24 gradients are wrong.*\n((?:  .*\n)+)", text, re.M)[1]
    assert re.findall(r"^  (\w+) +(.*)$", unbiased, re.M) == [
        ("diff", "first wrong in backward order: the error starts here"),
        ("z1", "follows from the wrong gradient of diff above"),
        ("W1", "follows from the wrong gradient of diff above")]
    assert "dz1 = ddiff: first wrong in backward order: the error starts here\n" in text
    assert "dγ = dh1 ⊙ x̂: a broadcast axis not summed" in text


# ---------------------------------------------------------------- 8. the monitor

REPORT_ROW = re.compile(r"^(\d+): (Linear|Tanh) +(.*)$", re.M)


def report_table(text: str) -> dict[int, list[float]]:
    """The printed report: layer number -> its numbers (a Tanh row: saturated, act_mean,
    act_std, act_grad_std; a Linear row: act_mean, act_std, act_grad_std, grad_std,
    grad_to_data, update_ratio)."""
    return {int(layer): [float(n) for n in rest.split()]
            for layer, _, rest in REPORT_ROW.findall(text)}


def test_monitor_measures_the_three_initialisations(run) -> None:
    notebook = run("08_monitor.ipynb")
    large, small, xavier = (text_of(cell_with(notebook, f"{name}, losses = train("))
                            for name in ("large", "small", "xavier"))
    # randn: every deep tanh layer mostly saturated, and warned of; the first layer's
    # update ratio far above the guide of -3, the last hidden one's below it
    rows = report_table(large)
    assert len(rows) == 17
    assert all(rows[layer][0] > 0.5 for layer in range(3, 16, 2)) and rows[1][0] < 0.1
    warned = re.findall(r"^warning: layer '(\d+): Tanh' is mostly saturated", large, re.M)
    assert warned == [str(layer) for layer in range(3, 16, 2)]
    assert rows[0][-1] > -1 and rows[14][-1] < -3
    # randn · 0.01: the spread shrinks about 10x per block, forwards and backwards
    rows = report_table(small)
    act_std = [rows[layer][2] for layer in range(1, 16, 2)]
    grad_std = [rows[layer][3] for layer in range(1, 16, 2)]
    assert all(0.05 < b / a < 0.2 for a, b in zip(act_std, act_std[1:]))
    assert all(5 < b / a < 20 for a, b in zip(grad_std, grad_std[1:]))
    assert all(rows[layer][-1] < -9 for layer in range(0, 17, 2))
    vanishing = re.findall(r"^warning: layer '(\d+): \w+' has vanishing gradients", small, re.M)
    assert sorted(map(int, vanishing)) == list(range(10))
    first, last = map(float, re.search(r"^loss: (\S+) at the first step, (\S+) at the last",
                                       small, re.M).groups())
    assert abs(first - math.log(2)) < 0.01 and first - last < 0.05        # hardly learns
    # Xavier with gain 5/3: no warnings, little saturation, one scale of gradients, update
    # ratios around the guide, and the loss falls
    rows = report_table(xavier)
    assert "warning" not in xavier
    assert all(rows[layer][0] < 0.1 for layer in range(1, 16, 2))
    assert rows[1][3] / rows[15][3] < 10
    ratios = numbers(re.search(r"^update ratios at step 39: \[(.*)\]$", xavier, re.M)[1])
    assert len(ratios) == 9 and all(-4 < r < -2 for r in ratios)
    first, last = map(float, re.search(r"^loss: (\S+) at the first step, (\S+) at the last",
                                       xavier, re.M).groups())
    assert last < 0.5 * first
    assert said(notebook, "from -3.6 to -2.8 after 40 steps")
    assert "STEPS, LR = 40, 0.02" in cell_with(notebook, "def train(").source
