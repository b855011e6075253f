"""Every primitive of the library declares its local derivative as data: a class attribute
`derivative`, one string per tensor input of its forward ("dL/dx = dL/dy · (1 − y²)"),
which `ad.trace_backward` shows for each node. Users' own Functions need none (the engine
never reads it), so `Function` itself has no default and a library op without one fails
here."""
from __future__ import annotations

import inspect

import pytest

import autodiff  # noqa: F401  (imports every op module)
import nn  # noqa: F401
from autodiff.function import Function

# forward's parameters that are options, passed to apply by keyword, not tensor inputs.
# An op with a new option (a parameter after its tensor inputs) adds its name here; a
# tensor input is never named here (so a `bias=None` input still needs its entry).
OPTIONS = frozenset({
    "axes", "axis", "correction", "count_include_pad", "counted", "descending", "dilation",
    "divisor_override", "dtype", "find", "fn", "groups", "high", "index", "keepdims",
    "kernel_size", "largest", "low", "nan", "neginf", "negative_slope", "op", "output",
    "output_size", "p", "padding", "posinf", "reduction", "shape", "size", "steps", "stride",
    "subscripts", "together", "ufunc",
})


def library_ops() -> list[type]:
    """Every subclass of Function (at any depth) defined in autodiff or nn."""
    found, todo = [], [Function]
    while todo:
        for op in todo.pop().__subclasses__():
            if op.__module__.startswith(("autodiff.", "nn.")) and op not in found:
                found.append(op)
            todo.append(op)
    return sorted(found, key=lambda op: (op.__module__, op.__name__))


def declared(op: type) -> object:
    """`derivative` from op's own class dict or a library ancestor's, never Function's."""
    for klass in op.__mro__:
        if klass is Function:
            break
        if klass.__module__.startswith(("autodiff.", "nn.")) and "derivative" in vars(klass):
            return vars(klass)["derivative"]
    raise AssertionError(f"{op.__module__}.{op.__name__} declares no `derivative`")


def tensor_inputs(op: type) -> tuple[list[str], bool]:
    """The names of forward's tensor inputs, and whether forward takes them as *args.
    They are its positional parameters after ctx up to the first option (options come
    after the tensors); the first is always a tensor, whatever its name (binary_cross_
    entropy's input is `p`, which is an option of norm)."""
    parameters = list(inspect.signature(op.forward).parameters.values())[1:]    # after ctx
    names = []
    for p in parameters:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) \
                or (names and p.name in OPTIONS):
            break
        names.append(p.name)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return names, variadic


OPS = library_ops()


def test_the_walk_finds_the_library() -> None:
    assert len(OPS) >= 85
    assert not hasattr(Function, "derivative")       # users' Functions may leave it out


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_op_declares_its_derivative(op: type) -> None:
    derivative = declared(op)
    assert isinstance(derivative, tuple), f"{op.__name__}.derivative must be a tuple"
    assert all(isinstance(rule, str) for rule in derivative)
    for rule in derivative:
        assert rule.startswith("dL/d"), rule
        assert " = " in rule or ": none" in rule, rule
    if not op.differentiable:
        assert derivative == (), f"{op.__name__} is not differentiable: declare ()"
        return
    names, variadic = tensor_inputs(op)
    if variadic:
        # *xs: one rule stands for each input
        assert not names and len(derivative) == 1, (op.__name__, derivative)
        return
    assert len(derivative) == len(names), (op.__name__, names, derivative)
    for name, rule in zip(names, derivative):
        # "dL/dx = …" or "dL/dtarget: none (…)", named as forward names the input
        assert rule.startswith((f"dL/d{name} = ", f"dL/d{name}: none")), (name, rule)


def test_every_option_name_is_used() -> None:
    """Each OPTIONS name is a parameter of some op (a stale name could later make a new
    op's tensor input pass for an option)."""
    used = set()
    for op in OPS:
        parameters = list(inspect.signature(op.forward).parameters)[2:]   # after the first input
        used.update(name for name in parameters if name in OPTIONS)
    assert used == OPTIONS
