"""autodiff.viz: the DOT a drawing is made of (nodes, labels, edges, styles, clusters), the
size guard, and saving to files, with and without Graphviz's `dot` program."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autodiff as ad
from autodiff import viz

pytest.importorskip("graphviz")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` missing")

FONT = "Helvetica,Arial,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"
HEAD = f'<<font face="{MONO}"><table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
TAIL = "</table></font>>"


def header(name, shape, span=""):
    return (f'<tr><td align="left"{span}><font face="{FONT}"><b>{name}</b>  '
            f'<font color="#505050">{shape}</font></font></td></tr>')


def row(label, text):
    """A tensor's data or grad with at most 4 elements: one line."""
    return f'<tr><td align="left"><font color="#707070">{label}</font>&#160;{text}</td></tr>'


def stats_row(label, *stats, colour=None):
    """A bigger tensor's data or grad: min, mean and max in right-aligned columns."""
    cells = "".join('<td align="right">&#160;&#160;'
                    + (f'<font color="{colour}">{v}</font>' if colour else v) + "</td>"
                    for v in stats)
    return f'<tr><td align="left"><font color="#707070">{label}</font></td>{cells}</tr>'


def nodes(graph):
    """node id -> its attribute text, for every node line of the DOT source."""
    found = {}
    for line in graph.source.splitlines():
        match = re.match(r"\s*(\w+) \[(.*)\]$", line)
        if match and match.group(1) not in ("graph", "node", "edge"):
            found[match.group(1)] = match.group(2)
    return found


def clusters(graph):
    """cluster label -> (label of the cluster around it or None, ids of the nodes in it)."""
    found, stack = {}, []
    for line in (line.strip() for line in graph.source.splitlines()):
        if line.startswith("subgraph cluster_"):
            stack.append(None)
        elif not stack:
            continue
        elif line == "}":
            stack.pop()
        elif stack[-1] is None:                  # a cluster's first line: its attributes
            label = re.search(r'label=(?:"([^"]*)"|(\S+))', line)
            stack[-1] = label.group(1) or label.group(2)
            found[stack[-1]] = (stack[-2] if len(stack) > 1 else None, [])
        elif "->" not in line:
            found[stack[-1]][1].append(line.split()[0])
    return found


def edges(graph):
    return [line.strip() for line in graph.source.splitlines() if "->" in line]


def test_dot_source_of_a_known_expression_is_exactly_as_expected():
    a = ad.tensor(2.0, requires_grad=True)
    a.name = "a"
    b = ad.tensor([1.0, -1.0, 3.0])
    b.name = "b"
    y = (a - b).sum()
    y.backward()                                 # a.grad = d/da Σ(a - b) = 3

    record = 'margin="0.1,0.05"'
    op = ('color="#707070" fillcolor="#ececec" fontsize=11 height=0.3 margin="0.08,0.03" '
          'penwidth=1 shape=box style="rounded,filled"')
    expected = "\n".join([
        "digraph autodiff {",
        ('\tfontname="Helvetica,Arial,sans-serif" fontsize=12 labelloc=b nodesep=0.25 '
        'rankdir=LR ranksep=0.35'),
        '\tnode [fontname="Helvetica,Arial,sans-serif" fontsize=12]',
        ('\tedge [arrowsize=0.7 color="#505050" fontcolor="#505050" '
        'fontname="Helvetica,Arial,sans-serif" fontsize=9]'),
        (f'\tt0 [label={HEAD}{header("a", "scalar float32")}{row("data", "2.0")}'
        f'{row("grad", "3.0")}{TAIL} color="#1f5fbf" fillcolor="#d6e6ff" {record} '
        f'penwidth=1.5 shape=box style="rounded,filled"]'),
        (f'\tt1 [label={HEAD}{header("b", "[3] float32")}{row("data", "[1.0, -1.0, 3.0]")}'
        f'{TAIL} color="#8a8a8a" fillcolor="#f0f0f0" {record} penwidth=1 shape=box '
        f'style="rounded,filled,dashed"]'),
        f"\tf2 [label=<<b>sub</b>> {op}]",
        (f'\tt2 [label={HEAD}{header("t2", "[3] float32")}{row("data", "[1.0, 3.0, -1.0]")}'
        f'{TAIL} color="#606060" fillcolor="#ffffff" {record} penwidth=1 shape=box '
        f'style="rounded,filled"]'),
        f"\tf3 [label=<<b>sum</b>> {op}]",
        (f'\tt3 [label={HEAD}{header("t3", "scalar float32")}{row("data", "3.0")}{TAIL} '
        f'color="#c26a00" fillcolor="#ffe0a8" {record} penwidth=2.5 shape=box '
        f'style="rounded,filled"]'),
        "\tt0 -> f2 [label=a]",
        "\tt1 -> f2 [label=b]",
        "\tf2 -> t2",
        "\tt2 -> f3",
        "\tf3 -> t3",
        ('\tlabel=<<table border="0" cellspacing="6" cellpadding="4"><tr>'
        '<td border="1" bgcolor="#d6e6ff" color="#1f5fbf">input (requires grad)</td>'
        '<td border="1" bgcolor="#f0f0f0" color="#8a8a8a">data / constant (no grad)</td>'
        '<td border="1" bgcolor="#ffffff" color="#606060">intermediate</td>'
        '<td border="1" bgcolor="#ffe0a8" color="#c26a00">output</td>'
        '<td border="1" style="rounded" bgcolor="#ececec" color="#707070"><i>op</i></td>'
        "</tr></table>>"),
        "}",
        ""])
    assert ad.viz.draw(y).source == expected


def test_large_tensors_show_min_mean_max_and_options_that_differ_from_defaults():
    x = ad.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x.mean(dim=0, keepdim=True)              # 4 elements: shown in full
    z = x.sum()                                  # default options: no options line
    (y.sum() + z).backward()
    found = nodes(ad.viz.draw(y, z))
    titles = "".join(f'<td align="right">&#160;&#160;<font color="#707070">{title}</font></td>'
                     for title in ("min", "mean", "max"))
    top = header("t0", "[3×4] float64", span=' colspan="4"')
    assert found["t0"].startswith(
        f'label={HEAD}{top}<tr><td></td>{titles}'
        f'</tr>{stats_row("data", "0.0", "5.5", "11.0")}'
        f'{stats_row("grad", "1.333", "1.333", "1.333")}{TAIL} ')
    assert row("data", "[[4.0, 5.0, 6.0, 7.0]]") in found["t1"]
    assert found["f1"].startswith('label=<<b>mean</b><br/><font point-size="9" '
                                  'color="#505050">axis=(0,), keepdims=True</font>>')
    assert found["f2"].startswith("label=<<b>sum</b>> ")


def test_show_values_and_show_grads_switch_the_rows_off():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    both = nodes(ad.viz.draw(y))["t0"]
    assert row("data", "[1.0, 2.0]") in both and row("grad", "[2.0, 4.0]") in both
    neither = nodes(ad.viz.draw(y, show_values=False, show_grads=False))["t0"]
    assert "data" not in neither and "grad" not in neither
    assert header("t0", "[2] float32") in neither


def test_constants_that_are_not_tensors_are_small_nodes_and_operands_are_labelled():
    x = ad.tensor([3.0], requires_grad=True)
    y = 2 ** x                                   # Pow(2, x): the base is the constant
    graph = ad.viz.draw(y)
    found = nodes(graph)
    assert found["c0"].startswith("label=2 ")
    assert 'style="rounded,filled,dashed"' in found["c0"]
    assert edges(graph) == ["c0 -> f1 [label=a]", "t0 -> f1 [label=b]", "f1 -> t1"]
    assert row("data", "[8.0]") in found["t1"]


def test_nan_and_inf_are_red_and_the_op_where_they_start_is_marked():
    with np.errstate(divide="ignore", invalid="ignore"):
        x = ad.tensor([1.0, -1.0, 0.0, 4.0, 9.0], requires_grad=True)
        y = x.log()                              # log(-1) = NaN, log(0) = -inf
        z = (y * 2).sum()
    found = nodes(ad.viz.draw(z))
    assert 'color="#1f5fbf"' in found["t0"]      # x itself is finite
    for op in ("f1", "f2", "f3"):                # log, mul, sum made non-finite outputs
        assert 'fillcolor="#ffd0d0"' in found[op] and 'color="#d00000"' in found[op]
    assert "NaN / inf start here" in found["f1"] and "penwidth=2.5" in found["f1"]
    assert "start here" not in found["f2"] and "penwidth=1 " in found["f2"]
    for tensor in ("t1", "t2", "t3"):
        assert 'fillcolor="#ffd0d0"' in found[tensor]
    # log([1, -1, 0, 4, 9]) = [0, NaN, -inf, 1.386, 2.197]: stats of the finite three
    assert (stats_row("data", "0.0", "1.195", "2.197", colour="#d00000") + '<tr><td></td>'
            '<td align="left" colspan="3"><font color="#d00000">1 NaN and 1 inf of 5</font>'
            "</td></tr>") in found["t1"]
    assert 'fillcolor="#ffd0d0"' not in found["c0"]


def test_a_non_finite_gradient_makes_its_tensor_red():
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()                # d sqrt(x)/dx = 1 / (2 sqrt(x)): inf at 0
    found = nodes(ad.viz.draw(x))
    assert 'fillcolor="#ffd0d0"' in found["t0"]
    assert row("grad", '<font color="#d00000">[inf, 0.5]</font>') in found["t0"]


def test_scopes_make_nested_labelled_clusters_holding_their_ops_and_parameters():
    w = ad.tensor([[1.0, 2.0]], requires_grad=True)
    x = ad.tensor([[3.0], [4.0]])
    with viz.scope("net: MLP"):
        with viz.scope("fc1: Linear(2→1)"):
            h = w @ x                           # t2
        with viz.scope("act: Tanh()"):
            y = h.tanh()                         # t3
    graph = ad.viz.draw(y, params={"fc1.weight": w})
    lines = [line.strip() for line in graph.source.splitlines()]
    start = lines.index("subgraph cluster_0 {")
    assert lines[start + 1] == ('color="#9aa8c7" fillcolor="#eaf0fb" '
                                'fontname="Helvetica,Arial,sans-serif" fontsize=13 '
                                'label="net: MLP" labeljust=r labelloc=t margin=10 '
                                'style="rounded,filled"')
    assert clusters(graph) == {"net: MLP": (None, []),
                               "act: Tanh()": ("net: MLP", ["f3", "t3"]),
                               "fc1: Linear(2→1)": ("net: MLP", ["t0", "f2", "t2"])}
    assert lines.index("t1 [" + nodes(graph)["t1"] + "]") < start   # data stays outside
    assert "t2 -> f3" in edges(graph)


def test_an_nn_model_draws_one_box_per_layer_with_its_parameters():
    nn = pytest.importorskip("nn")
    ad.manual_seed(0)                                    # the same weights in any test order
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    y = model(ad.ones(4, 3)).sum()
    y.backward()
    graph = ad.viz.draw(y, params=model)
    found = nodes(graph)
    assert clusters(graph) == {"Sequential": (None, []),
                               "0: Linear(3→2)": ("Sequential", ["t1", "t2", "f3", "t3"]),
                               "1: ReLU": ("Sequential", ["f4", "t4"])}
    assert "<b>0.weight</b>" in found["t1"] + found["t2"]
    assert "<b>0.bias</b>" in found["t1"] + found["t2"]
    assert 'fillcolor="#d4f0d4"' in found["t1"] and 'fillcolor="#d4f0d4"' in found["t2"]


def test_parameters_sit_after_the_data_entering_their_scope():
    w1 = ad.tensor([[1.0]], requires_grad=True)
    w2 = ad.tensor([[2.0]], requires_grad=True)
    x = ad.tensor([[1.0]])
    with viz.scope("fc1"):
        h = x @ w1                               # t2
    with viz.scope("fc2"):
        y = h @ w2                               # t4
    graph = ad.viz.draw(y, params={"w1": w1, "w2": w2})
    invisible = [e for e in edges(graph) if "invis" in e]
    assert invisible == ["t2 -> t3 [style=invis]"]   # h is drawn before w2


def test_a_scope_reentered_with_its_own_output_gets_no_layout_edge_back_to_the_weight():
    w = ad.tensor([[0.5]], requires_grad=True)
    h = ad.tensor([[1.0]])
    for _ in range(2):                           # the same layer applied twice (an RNN)
        with viz.scope("cell"):
            h = (h @ w).tanh()
        h = h * 1.0                              # outside the scope, then back in
    graph = ad.viz.draw(h, params={"cell.weight": w})
    assert [e for e in edges(graph) if "invis" in e] == []


def test_names_come_from_params_dict_or_named_parameters_then_name_then_id():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([0.5, 0.5], requires_grad=True)
    b.name = "my_b"
    x = ad.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x + b).sum()

    class Model:
        def named_parameters(self):
            yield "layer.weight", w

    for params, w_name in (({"fc.weight": w}, "fc.weight"), (Model(), "layer.weight")):
        found = nodes(ad.viz.draw(y, params=params))
        assert header(w_name, "[2] float32") in found["t0"]
        assert 'fillcolor="#d4f0d4"' in found["t0"]      # styled as a parameter
        assert header("t1", "[2] float32") in found["t1"]
        assert 'fillcolor="#d6e6ff"' in found["t1"]      # an input that requires grad
        assert header("my_b", "[2] float32") in found["t3"]
    assert header("bias", "[2] float32") in nodes(ad.viz.draw(y, params={"bias": b}))["t3"]
    with pytest.raises(TypeError, match="named_parameters"):
        ad.viz.draw(y, params=[w])
    with pytest.raises(TypeError, match=r"params\['w'\] is a list"):
        ad.viz.draw(y, params={"w": [1.0]})


def test_a_tensor_flagged_is_parameter_is_styled_as_a_parameter_without_params():
    class Weight(ad.Tensor):
        __slots__ = ()
        is_parameter = True

    class Parameter(ad.Tensor):          # the name alone no longer makes a parameter
        __slots__ = ()

    nn = pytest.importorskip("nn")
    parameter_style = 'fillcolor="#d4f0d4"'
    for flagged in (Weight([1.0], requires_grad=True), nn.Parameter([1.0])):
        assert parameter_style in nodes(ad.viz.draw(flagged * 2))["t0"]
    unflagged = Parameter([1.0], requires_grad=True)
    assert parameter_style not in nodes(ad.viz.draw(unflagged * 2))["t0"]


def test_graphs_over_max_nodes_are_refused_with_the_count_and_what_to_pass():
    x = ad.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(30):
        y = y.tanh()                             # 31 tensors + 30 ops
    y = y * 2                                    # + 1 tensor, 1 op, 1 constant = 64
    with pytest.raises(viz.GraphTooLargeError) as error:
        ad.viz.draw(y, max_nodes=63)
    message = str(error.value)
    assert "64 nodes (32 tensors, 31 ops, 1 constants)" in message
    assert "max_nodes=63" in message and "pass max_nodes=64 (or max_nodes=None)" in message
    assert len(nodes(ad.viz.draw(y, max_nodes=64))) == 64
    assert len(nodes(ad.viz.draw(y))) == 64      # the default, 500, lets it through


def test_a_chain_deeper_than_the_recursion_limit_draws():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() + 100):
        y = y * 1.0
    assert len(edges(ad.viz.draw(y, max_nodes=None))) == 3 * (sys.getrecursionlimit() + 100)


def test_bad_arguments_are_refused():
    x = ad.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="at least one tensor"):
        ad.viz.draw()
    with pytest.raises(TypeError, match="output 0 is a float"):
        ad.viz.draw(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        ad.viz.draw(x, rankdir="up")
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf, \.dot"):
        ad.viz.save(x, path="graph.jpg")


def test_import_autodiff_does_not_import_graphviz():
    code = "import sys, autodiff; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def neuron():
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    y = (x * 3).tanh().sum()
    y.backward()
    return y


@needs_dot
def test_save_renders_png_svg_and_pdf_atomically(tmp_path):
    y = neuron()
    png = ad.viz.save(y, path=tmp_path / "g.png")
    assert png == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ad.viz.save(y, path=str(tmp_path / "g.svg"), rankdir="TB")
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "tanh" in texts and "data" in texts
    ad.viz.save(y, path=tmp_path / "g.PDF")
    assert (tmp_path / "g.PDF").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.PDF", "g.png", "g.svg"]


def test_without_dot_images_fail_with_install_hints_but_dot_files_still_work(tmp_path,
                                                                         monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    y = neuron()
    (out / "g.png").write_bytes(b"old picture")
    with pytest.raises(viz.GraphvizNotFoundError) as error:
        ad.viz.save(y, path=out / "g.png")
    message = str(error.value)
    for hint in ("apt install graphviz", "brew install graphviz", "conda install graphviz",
                 ".dot", ".source"):
        assert hint in message
    assert (out / "g.png").read_bytes() == b"old picture"     # untouched, no temp left
    path = ad.viz.save(y, path=out / "g.dot")
    assert pathlib.Path(path).read_text(encoding="utf-8") == ad.viz.draw(y).source
    assert sorted(os.listdir(out)) == ["g.dot", "g.png"]
