"""Computation graphs as pictures.

`draw(*outputs)` walks the graph that produced `outputs` and returns a
`graphviz.Digraph`: one record per tensor (its name, shape and dtype, its values, or
min / mean / max when it has more than four, and its gradient the same way), one small
node per op, edges in the direction the data flows, one labelled box per `scope`, and a
legend. Tensors holding NaN or inf, and the ops that produced them, are red.
`save(*outputs, path=...)` renders that picture to .png, .svg, .pdf or .dot.

The walk is iterative, so graphs of any depth draw (up to `max_nodes`, which guards
against pictures nobody can read). The graphviz package is imported only when drawing:
`import autodiff` does not need it. Rendering images also needs Graphviz's `dot` program.

>>> import autodiff as ad
>>> x = ad.tensor(2.0, requires_grad=True)
>>> y = (x * 3).tanh()
>>> g = ad.viz.draw(y)           # tensors t0, t1, t2; ops f1, f2; the constant 3 is c0
>>> [line.strip() for line in g.body if "->" in line]
['t0 -> f1', 'c0 -> f1', 'f1 -> t1', 't1 -> f2', 'f2 -> t2']
"""
from __future__ import annotations

import functools
import html
import inspect
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ._optional import require
from .backward import topological_order
from .errors import AutodiffError
from .grad_mode import scope as scope  # ad.viz.scope, kept beside the state it sets
from .io import write_atomically
from .tensor import Tensor, array_of

if TYPE_CHECKING:
    import graphviz


class GraphTooLargeError(AutodiffError, ValueError):
    """draw(): the graph has more nodes than `max_nodes` allows."""


class GraphvizNotFoundError(AutodiffError, RuntimeError):
    """save(): an image was asked for, but Graphviz's `dot` program is not installed."""


# ------------------------------------------------------------------ styles

FONT = "Helvetica,Arial,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"

# kind -> (legend text, fill colour, border colour, pen width, extra style)
STYLES = {
    "parameter": ("parameter", "#d4f0d4", "#2e7d32", "1.5", ""),
    "leaf": ("input (requires grad)", "#d6e6ff", "#1f5fbf", "1.5", ""),
    "constant": ("data / constant (no grad)", "#f0f0f0", "#8a8a8a", "1", ",dashed"),
    "intermediate": ("intermediate", "#ffffff", "#606060", "1", ""),
    "output": ("output", "#ffe0a8", "#c26a00", "2.5", ""),
    "nonfinite": ("holds NaN / inf", "#ffd0d0", "#d00000", "2.5", ""),
}
OP_STYLE = ("op", "#ececec", "#707070")
NONFINITE_OP_STYLE = ("op that made NaN / inf", "#ffd0d0", "#d00000")

SYMMETRIC_OPS = frozenset({"add", "mul", "maximum", "minimum"})   # no need to label operands
MAX_OPTION_CHARS = 40


def parameter_names(params: Any) -> dict[Tensor, str]:
    """Names for tensors: `params` is a dict name -> tensor, or an object with
    `named_parameters()` (an nn.Module), or None."""
    if params is None:
        return {}
    if isinstance(params, dict):
        pairs = params.items()
    elif hasattr(params, "named_parameters"):
        pairs = params.named_parameters()
    else:
        raise TypeError(f"viz.draw: params must be a dict name -> tensor or an object with "
                        f"named_parameters() (such as an nn.Module), got "
                        f"{type(params).__name__}")
    names: dict[Tensor, str] = {}
    for name, tensor in pairs:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"viz.draw: params[{name!r}] is a {type(tensor).__name__}, "
                            f"not a Tensor")
        names.setdefault(tensor, str(name))
    return names


def _is_parameter_class(tensor: Tensor) -> bool:
    """Whether the tensor says it is a learnable weight: nn.Parameter sets the public class
    attribute `is_parameter = True` (read here without importing nn, which the engine
    must not depend on)."""
    return bool(getattr(tensor, "is_parameter", False))


def _nonfinite(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array))


# ------------------------------------------------------------------ text

def _number(value: Any) -> str:
    """4 significant digits; a float always looks like a float (2.0, not 2)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = f"{float(value) + 0.0:.4g}"          # + 0.0 turns -0.0 into 0.0
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + "×".join(str(n) for n in shape) + "]" if shape else "scalar"


def _stats(array: np.ndarray) -> tuple[list[str], str]:
    """([min, mean, max] of the finite elements, or [] if there are none), and a note
    counting NaN and inf ("" when all are finite)."""
    finite = array[np.isfinite(array)] if np.issubdtype(array.dtype, np.inexact) \
        else array.ravel()
    stats = [_number(finite.min()), _number(finite.mean(dtype=np.float64)),
             _number(finite.max())] if finite.size else []
    if finite.size == array.size:
        return stats, ""
    nans = int(np.isnan(array).sum())
    infs = array.size - finite.size - nans
    counts = [f"{n} {kind}" for n, kind in ((nans, "NaN"), (infs, "inf")) if n]
    return stats, " and ".join(counts) + f" of {array.size}"


def _values(array: np.ndarray) -> list[str]:
    """Up to 4 elements as they are; more as min / mean / max of the finite ones, plus
    a count of NaN and inf when there are any; booleans as a count of True."""
    if array.size <= 4:
        return [np.array2string(array, separator=", ", formatter={"all": _number},
                                max_line_width=10 ** 6).replace("\n", "")]
    if array.dtype == np.bool_:
        return [f"{int(array.sum())} True of {array.size}"]
    stats, note = _stats(array)
    lines = ["min {}  mean {}  max {}".format(*stats)] if stats else []
    return lines + ([note] if note else [])


def _cell(text: str, align: str = "right", span: int = 1, colour: str = "") -> str:
    if colour:
        text = f'<font color="{colour}">{text}</font>'
    colspan = f' colspan="{span}"' if span > 1 else ""
    gap = "&#160;&#160;" if align == "right" else ""          # space between columns
    return f'<td align="{align}"{colspan}>{gap}{text}</td>'


def _in_columns(array: np.ndarray) -> bool:
    """Whether `array` is summarised as min / mean / max columns."""
    return array.size > 4 and array.dtype != np.bool_


def _rows(label: str, array: np.ndarray) -> list[str]:
    """A grey label, then the values: one line when they are few, else under the columns
    min / mean / max, with a note counting NaN and inf. Red when not all finite."""
    red = "#d00000" if _nonfinite(array) else ""
    name = f'<font color="#707070">{label}</font>'
    if not _in_columns(array):
        text = html.escape(_values(array)[0])
        if red:
            text = f'<font color="{red}">{text}</font>'
        return [f'<tr><td align="left">{name}&#160;{text}</td></tr>']
    stats, note = _stats(array)
    rows = [f"<tr>{_cell(name, 'left')}" + "".join(_cell(v, colour=red) for v in stats)
            + "</tr>"] if stats else []
    if note:
        first = _cell(name, "left") if not stats else "<td></td>"
        rows.append(f"<tr>{first}{_cell(html.escape(note), 'left', 3, red)}</tr>")
    return rows


def _tensor_label(name: str, tensor: Tensor, show_values: bool, show_grads: bool) -> str:
    """Name, shape and dtype on top; below, the values and the gradient, if asked for:
    in full up to 4 elements, else as min / mean / max columns."""
    data = tensor._data
    grad = tensor.grad if show_grads else None
    columns = _in_columns(data) and (show_values or grad is not None)
    span = ' colspan="4"' if columns else ""
    rows = [(f'<tr><td align="left"{span}><font face="{FONT}"><b>{html.escape(name)}</b>  '
            f'<font color="#505050">{_shape(data.shape)} {data.dtype}</font></font></td></tr>')]
    if columns:
        rows.append("<tr><td></td>" + "".join(
            _cell(title, colour="#707070") for title in ("min", "mean", "max")) + "</tr>")
    if show_values:
        rows += _rows("data", data)
    if grad is not None:
        rows += _rows("grad", grad._data)
    return (f'<<font face="{MONO}"><table border="0" cellborder="0" cellspacing="0" '
            f'cellpadding="1">' + "".join(rows) + "</table></font>>")


def _constant_label(value: Any, show_values: bool) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return _number(array[()]) if show_values else type(value).__name__
    lines = [f"{_shape(array.shape)} {array.dtype}"] + (_values(array) if show_values else [])
    return "<" + "<br/>".join(html.escape(line) for line in lines) + ">"


@functools.cache
def _signature(op: type) -> tuple[tuple[str, ...], bool, dict[str, Any]]:
    """(names of forward's positional inputs, whether it takes *inputs, option defaults)."""
    parameters = list(inspect.signature(op.forward).parameters.values())[1:]   # skip ctx
    names = tuple(p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    variadic = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
    return names, variadic, defaults


def _option_text(value: Any) -> str:
    if not isinstance(value, tuple):
        return _atom_text(value)
    return "(" + ", ".join(_atom_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"


def _atom_text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{_shape(value.shape)} {value.dtype}"
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype):
        return str(value)
    return repr(value)


def _op_label(node: Any, nonfinite: bool, first: bool) -> str:
    """The op's name, its options that differ from the defaults, and, for the first op
    on a path whose output is not finite although its inputs are, a note saying so."""
    op = type(node)
    _, _, defaults = _signature(op)
    options = [f"{key}={_option_text(value)}" for key, value in node.options.items()
               if not (key in defaults and _same(defaults[key], value))]
    text = ", ".join(options)
    if len(text) > MAX_OPTION_CHARS:
        text = text[:MAX_OPTION_CHARS - 1] + "…"
    label = f"<b>{html.escape(op.op_name())}</b>"
    if nonfinite:
        label = f'<font color="#d00000">{label}</font>'
    if text:
        label += f'<br/><font point-size="9" color="#505050">{html.escape(text)}</font>'
    if first:
        label += '<br/><font point-size="9" color="#d00000">NaN / inf start here</font>'
    return f"<{label}>"


def _same(default: Any, value: Any) -> bool:
    return type(default) is type(value) and not isinstance(value, np.ndarray) \
        and default == value


def _operand_labels(node: Any) -> list[str]:
    """Edge labels saying which operand is which, for ops where the order matters."""
    count = len(node.inputs)
    if count < 2 or type(node).op_name() in SYMMETRIC_OPS:
        return [""] * count
    names, variadic, _ = _signature(type(node))
    return [str(i) for i in range(count)] if variadic else list(names[:count])


def _legend(kinds: set[str], has_ops: bool, has_nonfinite_op: bool) -> str:
    cells = []
    for kind, (text, fill, border, _, _) in STYLES.items():
        if kind in kinds:
            cells.append(f'<td border="1" bgcolor="{fill}" color="{border}">{text}</td>')
    for present, (text, fill, border) in ((has_ops, OP_STYLE),
                                           (has_nonfinite_op, NONFINITE_OP_STYLE)):
        if present:
            cells.append(f'<td border="1" style="rounded" bgcolor="{fill}" color="{border}">'
                         f'<i>{text}</i></td>')
    return ('<<table border="0" cellspacing="6" cellpadding="4"><tr>'
            + "".join(cells) + "</tr></table>>")


# ------------------------------------------------------------------ drawing

def draw(*outputs: Tensor, params: Any = None, show_values: bool = True,
         show_grads: bool = True, rankdir: str = "LR", max_nodes: int | None = 500,
         highlight: Tensor | None = None) -> graphviz.Digraph:
    """The computation graph that produced `outputs`, as a `graphviz.Digraph`.

    Args:
        outputs: the tensors to draw back from (a loss, several heads, ...).
        params: names for parameters, a dict name -> tensor or any object with
            `named_parameters()` (an `nn.Module`). Otherwise a tensor is called by its
            `t.name`, else by a short id (t0, t1, ... in the order they were made).
        show_values: print each tensor's values (≤ 4 elements) or min / mean / max.
        show_grads: print each tensor's `.grad` the same way, when it has one.
        rankdir: "LR" (left to right), "TB", "RL" or "BT".
        max_nodes: refuse graphs with more nodes than this (None: no limit).
        highlight: a tensor of the graph whose op (or, for a leaf, itself) gets a thick
            red border: the step `ad.trace_backward` is at.

    Tensors are records, ops are small rounded nodes, constants that are not tensors
    (the 2 in `x * 2`) are small dashed nodes. Ops made inside `viz.scope(...)`, their
    outputs and the parameters only they use sit in one labelled box per scope. The
    legend under the picture names the styles. Render with `save(...)`, or
    `draw(...).render("graph", format="png")`.
    """
    graphviz = require("graphviz", "viz", "viz.draw")
    if not outputs:
        raise TypeError("viz.draw: pass at least one tensor to draw, e.g. draw(loss)")
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"viz.draw: output {i} is a {type(t).__name__}, not a Tensor")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"viz.draw: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    tensors = topological_order(outputs, leaves=True)
    _check_size(tensors, max_nodes)
    picture = _Picture(parameter_names(params), set(outputs), show_values, show_grads)
    for t in tensors:
        picture.add(t)
    if highlight is not None:
        picture.highlight(highlight)
    picture.place_parameters()

    graph = graphviz.Digraph("autodiff")
    graph.attr(rankdir=rankdir, fontname=FONT, fontsize="12", labelloc="b", nodesep="0.25",
               ranksep="0.35")
    graph.attr("node", fontname=FONT, fontsize="12")
    graph.attr("edge", color="#505050", arrowsize="0.7", fontname=FONT, fontsize="9",
               fontcolor="#505050")
    _add_clusters(graphviz, graph, picture.nodes)
    for tail, head, operand in picture.edges:
        graph.edge(tail, head, label=operand or None)
    for tail, head in picture.layout_edges():
        graph.edge(tail, head, style="invis")
    graph.attr(label=picture.legend())
    return graph


def _check_size(tensors: list[Tensor], max_nodes: int | None) -> None:
    ops = sum(1 for t in tensors if t.grad_fn is not None)
    constants = sum(1 for t in tensors if t.grad_fn is not None
                    for x in t.grad_fn.inputs if not isinstance(x, Tensor))
    total = len(tensors) + ops + constants
    if max_nodes is not None and total > max_nodes:
        raise GraphTooLargeError(
            f"viz.draw: the graph has {total} nodes ({len(tensors)} tensors, {ops} ops, "
            f"{constants} constants), more than max_nodes={max_nodes}; pass "
            f"max_nodes={total} (or max_nodes=None) to draw it all, or draw a smaller part "
            f"of it (an intermediate tensor instead of the loss)")


class _Picture:
    """The nodes (by scope) and edges of a drawing, gathered one tensor at a time."""

    def __init__(self, names: dict[Tensor, str], outputs: set[Tensor], show_values: bool,
                 show_grads: bool) -> None:
        self.names = names
        self.outputs = outputs
        self.show_values = show_values
        self.show_grads = show_grads
        self.ids: dict[Tensor, str] = {}
        self.nodes: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]] = {(): []}
        self.scope_of: dict[str, tuple[str, ...]] = {}
        self.edges: list[tuple[str, str, str]] = []
        self.consumers: dict[str, list[tuple[str, ...]]] = {}   # leaf id -> scopes using it
        self.parameters: list[str] = []
        self.made: set[str] = set()                  # ids of tensors computed by an op
        self.inputs_of: dict[str, list[str]] = {}
        self.ancestors: dict[str, set[str]] = {}
        self.kinds: set[str] = set()
        self.ops = self.nonfinite_ops = self.constants = 0

    def _node(self, node_id: str, where: tuple[str, ...], **attributes: str) -> None:
        self.nodes.setdefault(where, []).append((node_id, attributes))
        self.scope_of[node_id] = where

    def add(self, t: Tensor) -> None:
        """Draw `t` and the op that made it; its inputs were added before."""
        tensor_id = self.ids[t] = f"t{len(self.ids)}"
        is_parameter = t.grad_fn is None and (t in self.names or _is_parameter_class(t))
        if is_parameter:
            self.parameters.append(tensor_id)
        if _nonfinite(t._data) or (t._grad is not None and _nonfinite(t._grad._data)):
            kind = "nonfinite"
        elif t in self.outputs:
            kind = "output"
        elif t.grad_fn is not None:
            kind = "intermediate"
        elif is_parameter:
            kind = "parameter"
        else:
            kind = "leaf" if t.requires_grad else "constant"
        self.kinds.add(kind)
        name = self.names.get(t) or t.name or tensor_id
        _, fill, border, width, extra = STYLES[kind]
        record = {"label": _tensor_label(name, t, self.show_values, self.show_grads),
                  "shape": "box", "style": "rounded,filled" + extra, "fillcolor": fill,
                  "color": border, "penwidth": width, "margin": "0.1,0.05"}
        node = t.grad_fn
        if node is None:
            self._node(tensor_id, (), **record)
            return
        self.made.add(tensor_id)
        where = tuple(node.scope or ())
        made_nonfinite = _nonfinite(t._data)
        first = made_nonfinite and not any(
            _nonfinite(np.asarray(array_of(x))) for x in node.inputs)
        self.ops += 1
        self.nonfinite_ops += made_nonfinite
        _, fill, border = NONFINITE_OP_STYLE if made_nonfinite else OP_STYLE
        op_id = "f" + tensor_id[1:]
        self._node(op_id, where, label=_op_label(node, made_nonfinite, first), shape="box",
                   style="rounded,filled", fillcolor=fill, color=border,
                   penwidth="2.5" if first else "1", margin="0.08,0.03", height="0.3",
                   fontsize="11")
        for x, operand in zip(node.inputs, _operand_labels(node)):
            if isinstance(x, Tensor):
                self.edges.append((self.ids[x], op_id, operand))
                self.consumers.setdefault(self.ids[x], []).append(where)
                continue
            constant_id = f"c{self.constants}"
            self.constants += 1
            self.kinds.add("constant")
            _, fill, border, width, extra = STYLES["constant"]
            self._node(constant_id, where, label=_constant_label(x, self.show_values),
                       shape="box", style="rounded,filled" + extra, fillcolor=fill,
                       color=border, penwidth=width, fontsize="10", margin="0.05,0.02",
                       height="0.25", width="0.3")
            self.edges.append((constant_id, op_id, operand))
        self._node(tensor_id, where, **record)
        self.edges.append((op_id, tensor_id, ""))

    def highlight(self, t: Tensor) -> None:
        """A thick red border on the op that made `t` (on `t` itself for a leaf)."""
        if t not in self.ids:
            raise ValueError("viz.draw: the tensor to highlight is not in the graph drawn")
        tensor_id = self.ids[t]
        target = "f" + tensor_id[1:] if tensor_id in self.made else tensor_id
        for nodes in self.nodes.values():
            for node_id, attributes in nodes:
                if node_id == target:
                    attributes.update(color="#d00000", penwidth="3")

    def place_parameters(self) -> None:
        """Move each parameter into the innermost scope every op using it is inside of."""
        moved: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]] = {(): []}
        parameters = set(self.parameters)
        for node_id, attributes in self.nodes[()]:
            scopes = self.consumers.get(node_id, []) if node_id in parameters else []
            # commonprefix of tuples compares scope names, not characters
            common = tuple(os.path.commonprefix(scopes)) if scopes else ()  # noqa: RUF071
            moved.setdefault(common, []).append((node_id, attributes))
            self.scope_of[node_id] = common
        self.nodes[()] = []
        for where, members in moved.items():          # parameters first in their box
            self.nodes[where] = members + self.nodes.get(where, [])

    def layout_edges(self) -> list[tuple[str, str]]:
        """Invisible edges from the computed data entering a scope to the parameters
        drawn in it, so each scope's box starts below (or right of) its input and the
        boxes line up one after another instead of climbing beside each other. None
        where the data itself depends on the parameter (that would be a cycle)."""
        entering: dict[tuple[str, ...], dict[str, None]] = {}
        for tail, head, _ in self.edges:
            inner, outer = self.scope_of[head], self.scope_of[tail]
            if tail in self.made:
                for depth in range(1, len(inner) + 1):
                    if outer[:depth] != inner[:depth]:
                        entering.setdefault(inner[:depth], {})[tail] = None
        layout = []
        for parameter in self.parameters:
            where = self.scope_of[parameter]
            for depth in range(1, len(where) + 1):
                for tail in entering.get(where[:depth], ()):
                    if parameter not in self._ancestors(tail):
                        layout.append((tail, parameter))
        return layout

    def _ancestors(self, node_id: str) -> set[str]:
        """Every node `node_id` was computed from (an explicit stack, no recursion)."""
        if node_id not in self.ancestors:
            if not self.inputs_of:
                for tail, head, _ in self.edges:
                    self.inputs_of.setdefault(head, []).append(tail)
            found: set[str] = set()
            stack = [node_id]
            while stack:
                for tail in self.inputs_of.get(stack.pop(), ()):
                    if tail not in found:
                        found.add(tail)
                        stack.append(tail)
            self.ancestors[node_id] = found
        return self.ancestors[node_id]

    def legend(self) -> str:
        return _legend(self.kinds, self.ops > 0, self.nonfinite_ops > 0)


def _add_clusters(graphviz: Any, graph: Any,
                  nodes: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]]) -> None:
    """Nodes into nested clusters, one per scope; built innermost first, no recursion."""
    every_scope = set(nodes)
    for where in list(nodes):
        every_scope.update(where[:i] for i in range(1, len(where)))
    clusters = {where: graphviz.Digraph(name=f"cluster_{i}")
                for i, where in enumerate(sorted(every_scope - {()}))}
    for where, cluster in clusters.items():
        fill = ("#f5f8ff", "#eaf0fb")[len(where) % 2]
        cluster.attr(label=graphviz.nohtml(where[-1]), style="rounded,filled", fillcolor=fill,
                     color="#9aa8c7",
                     fontname=FONT, fontsize="13", labeljust="r", labelloc="t", margin="10")
    for where, members in nodes.items():
        target = clusters[where] if where else graph
        for node_id, attributes in members:
            target.node(node_id, **attributes)
    for where in sorted(clusters, key=len, reverse=True):
        parent = clusters[where[:-1]] if len(where) > 1 else graph
        parent.subgraph(clusters[where])


# ------------------------------------------------------------------ saving

FORMATS = ("png", "svg", "pdf", "dot")


def save(*outputs: Tensor, path: str | os.PathLike, **draw_kwargs: Any) -> str:
    """Draw `outputs` (see `draw`, which takes `draw_kwargs`) and write the picture to
    `path` in the format its extension names: .png, .svg, .pdf or .dot. The file is
    written whole or not at all (a temporary file renamed into place). Returns the path.

    .dot needs only the graphviz package; the images also need Graphviz's `dot` program.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in FORMATS:
        raise ValueError(f"viz.save: cannot tell the format from {path!r}; end the file "
                         f"name with one of " + ", ".join("." + f for f in FORMATS))
    graph = draw(*outputs, **draw_kwargs)
    if extension == "dot":
        content = graph.source.encode("utf-8")
    else:
        graphviz = require("graphviz", "viz", "viz.save")
        try:
            content = graph.pipe(format=extension)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(
                f"viz.save: writing {path!r} needs Graphviz's `dot` program, which is not on "
                f"PATH. Install it with `apt install graphviz` (Debian/Ubuntu), `brew install "
                f"graphviz` (macOS) or `conda install graphviz`. Without it, save to a .dot "
                f"file or use draw(...).source") from None
    write_atomically(path, content)
    return path
