"""Module, the base class of every layer and model; Parameter; the containers Sequential
and ModuleList; how built-in layers describe themselves (`Setting`) and the architecture
JSON made from those descriptions (`architecture_to_json`).

A module holds three ordered dicts, filled by plain attribute assignment:
`self.weight = Parameter(...)` registers a learnable tensor, `self.fc1 = Linear(...)` a
submodule, and `register_buffer("running_mean", t)` a tensor that is state but not
learned. Everything that walks a model (parameters(), state_dict(), train(), repr) visits
a module's own parameters, then its buffers, then its submodules in the order they were
assigned, recursively, which gives PyTorch's names and order ("0.weight", "fc1.bias").

A built-in layer describes its hyperparameters once, in the class attributes `SETTINGS`
(the constructor arguments, in the order torch's repr shows them, each marked with how it
is shown: see `Setting`) and `LABEL` (its short name in graph drawings). Everything that
describes a layer is derived from them: `hyperparameters()` (and with it the architecture
JSON of `to_json`, which `nn.save` and `nn.load` use), `extra_repr()` (so repr and print
give torch's text) and the scope label ("Linear(784→64)").

Calling a module runs, in torch's order: the forward pre-hooks (which may replace the
arguments), `forward` inside `ad.viz.scope("fc1: Linear(784→64)")` (so graph drawings group
ops by layer), then the forward hooks (which may replace the output). With full backward
hooks the tensor arguments and outputs pass through identity ops whose backward calls the
hooks (`BackwardHookCall`, nn/hooks.py). nn's layers take tensors: called on a list of
numbers or a numpy array, they raise a TypeError that says to wrap it in `ad.tensor(...)`
(torch's layers refuse them too).
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import inspect
import itertools
import json
import numbers
import reprlib
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, Literal

import numpy as np

import autodiff as ad
from autodiff import events, grad_mode
from autodiff.conversions import target_dtype
from autodiff.device import DeviceError
from autodiff.errors import AutodiffError
from autodiff.function import enter_library_call
from autodiff.sites import is_library_file
from autodiff.tensor import Tensor

from .hooks import BackwardHookCall

BUILTIN_LAYERS: dict[str, type[Module]] = {}
"""The library's own layer classes by class name: the only classes a saved architecture
may name (`nn.load` rebuilds from this registry, never by importing code)."""

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

ForwardHook = Callable[["Module", tuple, Any], Any]
ForwardPreHook = Callable[..., Any]     # (module, args) or, with_kwargs, (module, args, kwargs)
BackwardHook = Callable[["Module", tuple, tuple], Any]
BackwardPreHook = Callable[["Module", tuple], Any]

_hook_ids = itertools.count()


FORMAT = "autodiff.nn"
FORMAT_VERSION = 1
"""The architecture JSON's format tag and version (model files carry them too)."""


def builtin_layer(cls: type[Module]) -> type[Module]:
    """Class decorator: add a library layer class to BUILTIN_LAYERS."""
    BUILTIN_LAYERS[cls.__name__] = cls
    return cls


# ---------------------------------------------------------------- describing a layer

@dataclasses.dataclass(frozen=True)
class Setting:
    """One hyperparameter of a built-in layer, as its `SETTINGS` declare it: the
    constructor argument `name`, read back from the layer's attribute of that name (or of
    the name `attribute`), and how torch's repr shows it (`shown`):

        "named"    name=value, always (a plain string in SETTINGS means this)
        "bare"     the value alone, always (torch's leading sizes: Conv2d(1, 16, ...))
        "changed"  name=value, only when the value differs from the constructor's default
        "hidden"   never (the setting is in hyperparameters() alone)

    `quoted`: a string value is shown as repr() writes it ('tanh'); False shows it as it
    is (torch's Conv2d prints padding=same)."""

    name: str
    shown: Literal["named", "bare", "changed", "hidden"] = "named"
    quoted: bool = True
    attribute: str | None = None

    def value(self, module: Module) -> Any:
        """The setting's value in `module`: the attribute's; for a parameter slot (a
        layer's `bias`), whether the parameter is there; for a tensor (a loss's weight),
        its numbers as nested lists (JSON holds no tensors)."""
        attribute = self.attribute or self.name
        parameters = module._parameters
        if attribute in parameters or attribute in getattr(parameters, "computed", ()):
            return parameters[attribute] is not None     # computed: nn.utils.parametrize
        value = getattr(module, attribute)
        return value.tolist() if isinstance(value, Tensor) else value

    def text(self, value: Any, default: Any) -> str:
        """The setting as torch's repr shows it, given its value and the constructor's
        default; "" when it is not shown."""
        if self.shown == "hidden" or (self.shown == "changed" and is_default(value, default)):
            return ""
        shown = repr(value) if self.quoted and isinstance(value, str) else str(value)
        return shown if self.shown == "bare" else f"{self.name}={shown}"


def bare(name: str) -> Setting:
    """A setting torch's repr shows as its value alone."""
    return Setting(name, "bare")


def changed(name: str, quoted: bool = True) -> Setting:
    """A setting torch's repr shows only when it differs from the constructor's default."""
    return Setting(name, "changed", quoted)


def hidden(name: str, attribute: str | None = None) -> Setting:
    """A setting torch's repr leaves out (read from `attribute` when it is stored under
    another name)."""
    return Setting(name, "hidden", attribute=attribute)


def is_default(value: Any, default: Any) -> bool:
    """Whether a stored value is the constructor's default: equal to it, or, for a size
    stored per dim, a tuple repeating it ((0, 0) for padding=0)."""
    if isinstance(value, tuple) and not isinstance(default, tuple):
        return len(value) > 0 and all(item == default for item in value)
    return value == default


@functools.cache
def constructor_defaults(cls: type[Module]) -> dict[str, Any]:
    """The defaults of the arguments of `cls`'s constructor, by name."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


class _LabelFormatter(string.Formatter):
    """str.format for scope labels, where a tuple of sizes reads as a shape: 5×5."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, tuple):
            return "×".join(str(item) for item in value)
        return super().format_field(value, format_spec)


_LABELS = _LabelFormatter()


PLAIN_DATA = (list, tuple, np.ndarray)
_MISSING = object()     # a name not set yet
"""Inputs that are data but not tensors: nn's layers refuse them (`refuse_plain_data`)."""

PASS_INPUT_ON = ("Sequential", "ModuleList", "Identity")
"""nn's modules that hand their input on unchanged, so any input is theirs to take."""


def refuse_plain_data(module: Module, value: Any) -> None:
    """Raise TypeError when one of nn's layers is called on a list or tuple of numbers or
    on a numpy array (torch refuses them too), naming the fix: ad.tensor(...).
    User-defined modules may take any input; the layers they call check theirs. A layer
    parametrized by nn.utils.parametrize (its class a Parametrized<Class> made for it,
    its parametrizations under `parametrizations`) is checked as its layer."""
    if not isinstance(value, PLAIN_DATA):
        return
    cls = type(module)
    if "parametrizations" in module._modules and BUILTIN_LAYERS.get(cls.__name__) is not cls:
        cls = cls.__bases__[0]
    if BUILTIN_LAYERS.get(cls.__name__) is not cls or cls.__name__ in PASS_INPUT_ON:
        return
    if isinstance(value, np.ndarray):
        float64 = (" (a float64 array gives a float64 tensor; ad.tensor(x, dtype=ad.float32) "
                   "matches the default float32 weights)" if value.dtype == np.float64 else "")
        raise TypeError(f"{cls.__name__}: the input is a numpy array of shape {value.shape} "
                        f"and dtype {value.dtype}, not a Tensor; make it one first: "
                        f"ad.tensor(x) copies it, ad.from_numpy(x) shares its memory"
                        f"{float64}")
    first = value
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, (numbers.Number, np.generic)):
        text = reprlib.repr(value)                  # shortened: "[0, 1, 2, ...]"
        shown = text if len(text) <= 40 and "..." not in text else "data"
        raise TypeError(f"{cls.__name__}: the input is a {type(value).__name__} of "
                        f"numbers, not a Tensor; make it one first: ad.tensor({shown})")


class StateDictError(AutodiffError, RuntimeError):
    """load_state_dict: the state dict does not fit the model (keys or shapes)."""


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module: assigning one to a module
    attribute registers it, so it appears in `parameters()` and `state_dict()`. Its class
    attribute `is_parameter = True` (which torch's has not) tells code that must not import
    nn, such as `ad.viz`, that the tensor is a weight.

    Args:
        data: the initial values (a Tensor, an ndarray or nested lists); they are copied.
        requires_grad: whether backward fills its `.grad` (default True).

    >>> import nn
    >>> nn.Parameter([1.0, 2.0])
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    __slots__ = ()
    is_parameter = True

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__(np.empty(0, dtype=np.float32) if data is None else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by the `register_*_hook` methods: `handle.remove()` unregisters the hook
    (and forgets its key in `extra`, the sets that mark how it is called)."""

    def __init__(self, hooks: dict[int, Any], key: int, extra: tuple[set[int], ...] = ()
                 ) -> None:
        self._hooks, self._key, self._extra = hooks, key, extra

    def remove(self) -> None:
        self._hooks.pop(self._key, None)
        for keys in self._extra:
            keys.discard(self._key)


class Module:
    """Base class of every layer and model. Subclasses assign parameters and submodules
    in `__init__` (after `super().__init__()`) and define `forward`.

    >>> import autodiff as ad, nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(2, 3)
    ...         self.fc2 = nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> net(ad.ones(4, 2)).shape
    (4, 1)
    """

    training: bool
    _library_forward = True     # forward is nn's own code (set for each subclass)
    SETTINGS: ClassVar[tuple[Setting | str, ...] | None] = None
    """A built-in layer's hyperparameters (None: not described, as a model of your own)."""
    LABEL: ClassVar[str] = ""
    """A built-in layer's scope label inside the parentheses after its class name, a
    str.format template over its hyperparameters ("{in_features}→{out_features}");
    "" for the class name alone."""
    HOLDS_LAYERS: ClassVar[bool] = False
    """True for the containers whose children the architecture JSON lists."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = getattr(cls.forward, "__code__", None)
        cls._library_forward = code is not None and is_library_file(code.co_filename)
        if cls.__dict__.get("SETTINGS") is not None:
            cls.SETTINGS = tuple(setting if isinstance(setting, Setting) else Setting(setting)
                                 for setting in cls.SETTINGS)

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_hooks", {})
        setattr_(self, "_forward_pre_hooks", {})
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_backward_hooks", {})
        setattr_(self, "_backward_pre_hooks", {})
        setattr_(self, "_name_in_parent", "")
        setattr_(self, "_scope_name", None)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: define forward(self, ...) to say "
                                  f"what the module computes")

    # ---------------------------------------------------------------- calling

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:
            args, kwargs = self._run_forward_pre_hooks(args, kwargs)
        if args and not isinstance(args[0], Tensor):     # one check on the common path
            refuse_plain_data(self, args[0])
        name = self._scope_name
        if name is None:        # made once; setting any attribute of the module resets it
            label, path = self._scope_label(), self._name_in_parent
            name = f"{path}: {label}" if path else label
            object.__setattr__(self, "_scope_name", name)
        events.module_called(self)
        if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks \
                or self._backward_pre_hooks:
            kinds = [kind for kind, hooks in (
                ("forward hooks", self._forward_hooks),
                ("forward pre-hooks", self._forward_pre_hooks),
                ("backward hooks", self._backward_hooks),
                ("backward pre-hooks", self._backward_pre_hooks)) if hooks]
            events.unsupported(f"calls {type(self).__name__}, which has {' and '.join(kinds)}: "
                               f"Python code that a recorded step would skip")
        backward_hooks = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hooks = BackwardHookCall(self)
            args = backward_hooks.wrap_inputs(args)
        with grad_mode.scope(name):        # which also puts back the call site set here
            enter_library_call(type(self)._library_forward)
            output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        if backward_hooks is not None:
            output = backward_hooks.wrap_outputs(output)
        return output

    def _run_forward_pre_hooks(self, args: tuple, kwargs: dict[str, Any]
                               ) -> tuple[tuple, dict[str, Any]]:
        """The arguments after every forward pre-hook, in the order they were added."""
        for key, hook in tuple(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is None:
                    continue
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{type(self).__name__}: a forward pre-hook registered "
                                       f"with with_kwargs=True must return None or a tuple "
                                       f"(new_args, new_kwargs), got {type(result).__name__}")
                args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def _scope_label(self) -> str:
        """How graph drawings name this module: its class, plus its LABEL filled in with
        its hyperparameters ("Linear(784→64)", "Conv2d(1→16, 5×5)")."""
        if not self.LABEL:
            return type(self).__name__
        return f"{type(self).__name__}({_LABELS.format(self.LABEL, **self.hyperparameters())})"

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call `hook(module, args, output)` after every forward; a non-None return value
        replaces the output. Returns a handle whose `remove()` unregisters the hook."""
        key = next(_hook_ids)
        self._forward_hooks[key] = hook
        self._edited()
        return RemovableHandle(self._forward_hooks, key)

    def register_forward_pre_hook(self, hook: ForwardPreHook, *, with_kwargs: bool = False
                                  ) -> RemovableHandle:
        """Call `hook(module, args)` before every forward, args being the positional
        arguments as a tuple. A non-None return value replaces them: a tuple as it is,
        anything else as a 1-tuple. With with_kwargs=True the call is
        `hook(module, args, kwargs)`, and a non-None return must be (new_args, new_kwargs).
        Returns a handle whose `remove()` unregisters the hook.

        >>> import autodiff as ad, nn
        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 2)
        >>> layer(ad.tensor([1.0, 2.0]))
        tensor([2., 4.])
        """
        key = next(_hook_ids)
        self._forward_pre_hooks[key] = hook
        self._edited()
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(key)
        return RemovableHandle(self._forward_pre_hooks, key,
                               (self._forward_pre_hooks_with_kwargs,))

    def register_full_backward_hook(self, hook: BackwardHook) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` when the gradients with respect to
        the module's inputs have been computed, before they flow further back.

        grad_output holds dL/d(output) for each element of the output (one for a tensor
        output, one per element of a tuple; None for an element that is not a tensor or
        got no gradient). grad_input holds dL/d(arg) for each positional argument: None
        for an argument that is not a tensor, zeros for a tensor that got no gradient (as
        torch). A non-None return value, a tuple as long as grad_input, replaces it: what
        it holds for an input is what flows back to that input (None: nothing). When no
        input requires grad the hook is called when grad_output is known, with
        grad_input all None, and must return None (as torch, with a warning).
        The module sees its tensor arguments through an identity op (a copy), and its
        caller receives its outputs through one: their backward calls the hooks.
        Returns a handle whose `remove()` unregisters the hook.

        >>> import autodiff as ad, nn
        >>> layer = nn.Linear(2, 1)
        >>> seen = []
        >>> handle = layer.register_full_backward_hook(
        ...     lambda module, grad_input, grad_output: seen.append(grad_output[0]))
        >>> layer(ad.ones(1, 2, requires_grad=True)).sum().backward()
        >>> seen
        [tensor([[1.]])]
        """
        key = next(_hook_ids)
        self._backward_hooks[key] = hook
        self._edited()
        return RemovableHandle(self._backward_hooks, key)

    def register_full_backward_pre_hook(self, hook: BackwardPreHook) -> RemovableHandle:
        """Call `hook(module, grad_output)` when the gradients with respect to the module's
        outputs are known (grad_output as in `register_full_backward_hook`), before they
        flow into the module. A non-None return value, a tuple as long as grad_output,
        replaces them. Returns a handle whose `remove()` unregisters the hook.

        >>> import autodiff as ad, nn
        >>> layer = nn.Identity()
        >>> handle = layer.register_full_backward_pre_hook(
        ...     lambda module, grad_output: (grad_output[0] * 10,))
        >>> x = ad.ones(2, requires_grad=True)
        >>> layer(x).sum().backward()
        >>> x.grad
        tensor([10., 10.])
        """
        key = next(_hook_ids)
        self._backward_pre_hooks[key] = hook
        self._edited()
        return RemovableHandle(self._backward_pre_hooks, key)

    # ---------------------------------------------------------------- registration

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, "_scope_name", None)      # its label may change
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif name in self.__dict__.get("_parameters", ()):
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a parameter: assign an "
                                f"nn.Parameter (or None), not {type(value).__name__}")
            self._replace(self._parameters, name, None)
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a submodule: assign a "
                                f"Module (or None), not {type(value).__name__}")
            self._replace(self._modules, name, None)
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a "
                                f"Tensor (or None), not {type(value).__name__}")
            self._replace(self._buffers, name, value)
        else:
            old = self.__dict__.get(name, _MISSING)
            object.__setattr__(self, name, value)
            if old is not value and not (isinstance(value, (bool, int, float, str))
                                         and type(old) is type(value) and old == value):
                self._edited()

    def _replace(self, store: dict[str, Any], name: str, value: Any) -> None:
        """store[name] = value, counted as an edit when it is another object."""
        if store.get(name, _MISSING) is not value:
            self._edited()
        store[name] = value

    def _edited(self) -> None:
        """Report a change of a member, a setting or a hook (`autodiff.events`): a step
        compiled with this module retraces instead of replaying what it read before."""
        events.object_changed(self)

    def __getattr__(self, name: str) -> Any:
        for store in ("_parameters", "_buffers", "_modules"):
            registered = self.__dict__.get(store)
            if registered is not None and name in registered:
                return registered[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        self._edited()
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _claim(self, kind: str, name: Any, store: str) -> None:
        """Check `name` can hold a parameter, buffer or submodule (kept in `store`) and
        forget any other role it had; in its own store it keeps its place."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: cannot assign a {kind} before "
                                 f"Module.__init__() ran; call super().__init__() first")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: a {kind} name must be a non-empty "
                           f"string without '.', got {name!r}")
        in_class = getattr(type(self), name, None)
        if name in MODULE_INTERNALS or callable(in_class) or isinstance(in_class, property):
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists (a "
                           f"Module's own state, method or property, such as a "
                           f"parametrized tensor); give the {kind} another name")
        for other in ("_parameters", "_buffers", "_modules"):
            if other != store:
                self.__dict__[other].pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (None keeps the name without a tensor, like a missing bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be an nn.Parameter or "
                            f"None, got {type(param).__name__}; wrap it: nn.Parameter(t)")
        self._claim("parameter", name, "_parameters")
        self._replace(self._parameters, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True
                        ) -> None:
        """Add a tensor that is part of the module's state but not learned (e.g. running
        statistics): it is in buffers(), converted by to(), not trained. A persistent
        buffer (the default) is saved in state_dict() and expected by load_state_dict; a
        non-persistent one (persistent=False: a causal mask, a cache that the
        constructor rebuilds) is not, as torch's. Registering the name again sets its
        persistence anew; assigning `self.<name> = tensor` keeps it.

        >>> import autodiff as ad, nn
        >>> layer = nn.Linear(2, 2)
        >>> layer.register_buffer("mask", ad.ones(2), persistent=False)
        >>> list(layer.state_dict()), [name for name, _ in layer.named_buffers()]
        (['weight', 'bias'], ['mask'])
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._claim("buffer", name, "_buffers")
        self._replace(self._buffers, name, tensor)
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule, reached as `self.<name>`. The first parent a module is added to
        names it: graph scopes call it "<name>: …" from then on (a slice of a container
        or a second owner does not rename it)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: submodule '{name}' must be a Module, "
                            f"got {type(module).__name__}")
        self._claim("submodule", name, "_modules")
        self._replace(self._modules, name, module)
        if module is not None and not module._name_in_parent:
            object.__setattr__(module, "_name_in_parent", name)
            object.__setattr__(module, "_scope_name", None)

    # ---------------------------------------------------------------- walking the tree

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """(dotted path, module) for this module and every submodule, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield path, module
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, submodule) for the direct submodules."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path ("encoder.layers.0"); "" gives the module itself.
        Raises AttributeError naming the first part of the path that is missing or is not
        a Module, in torch's words.

        >>> import nn
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU()))
        >>> model.get_submodule("1.0")
        ReLU()
        """
        if not isinstance(target, str):
            raise TypeError(f"get_submodule: target must be a dotted path as a str, e.g. "
                            f"'fc1' or 'block.0', got {type(target).__name__}")
        if target == "":
            return self
        module: Any = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def _named_members(self, store: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix, remove_duplicate) if recurse
                   else [(prefix, self)])
        for path, module in modules:
            for name, tensor in getattr(module, store).items():
                if tensor is None or (remove_duplicate and id(tensor) in seen):
                    continue
                seen.add(id(tensor))
                yield (f"{path}.{name}" if path else name), tensor

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), each parameter once, in PyTorch's order."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every submodule (children first) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- modes and grads

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on this
        module and every submodule; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be True or False, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode, the same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter; returns self. False freezes the module:
        backward gives its parameters no gradient, so optimizers leave them unchanged.

        >>> import nn
        >>> frozen = nn.Linear(2, 2).requires_grad_(False)
        >>> [p.requires_grad for p in frozen.parameters()]
        [False, False]
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    @events.library_call
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: p.grad ← None (default), or p.grad ← 0 in
        place (the same tensor, so a reference kept to it sees the zeros; one recorded
        with create_graph is detached first), as Optimizer.zero_grad does and torch's both
        do; a parameter without a gradient keeps None (see `autodiff.versions.zero_grads`)."""
        ad.versions.zero_grads(self.parameters(), set_to_none)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert every floating-point parameter, gradient and buffer to a dtype in place
        (`model.to(ad.float64)`), or move them to a device (`model.to(device)`: the CPU,
        where they are); returns self, as torch's."""
        dtype = target_dtype(ad.from_numpy(np.zeros(0)), args, kwargs)
        if dtype is None:
            return self
        for tensor in (*self.parameters(), *self.buffers()):
            if np.issubdtype(tensor.dtype, np.floating):
                tensor.data = tensor.numpy().astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = tensor.grad.numpy().astype(dtype)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def cpu(self) -> Module:
        """self: the parameters are on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused: there is no GPU here."""
        raise DeviceError("cuda: autodiff computes with numpy on the CPU only; keep the "
                          "model where it is (model.to(device) with device = 'cpu' works)")

    # ---------------------------------------------------------------- state

    def state_dict(self, *, prefix: str = "") -> collections.OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name ("0.weight",
        "1.running_mean"), in PyTorch's order: a module's parameters, then its buffers,
        then its submodules. The tensors share memory with the model's but are detached
        from the graph."""
        out: collections.OrderedDict[str, Tensor] = collections.OrderedDict()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            for name, tensor in module._parameters.items():
                if tensor is not None:
                    out[path + name] = tensor.detach()
            for name, tensor in module._buffers.items():
                if tensor is not None and name not in module._non_persistent_buffers:
                    out[path + name] = tensor.detach()
            stack.extend(reversed([(f"{path}{name}.", child)
                                   for name, child in module._modules.items()
                                   if child is not None]))
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy values (Tensors or ndarrays) into this model's parameters and buffers, in
        place and converted to the model's dtypes. Shapes must match; with strict=True
        the keys must match those of state_dict() exactly too (so a non-persistent
        buffer's key is unexpected, as in torch). Nothing is copied unless everything
        fits. Returns (missing_keys, unexpected_keys)."""
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "biuf":
                problems.append(f"{key}: value of dtype {array.dtype} is not numeric")
            elif array.shape != target.shape:
                problems.append(f"{key}: shape {array.shape} in the state dict, "
                                f"{target.shape} in the model")
            arrays[key] = array
        if problems:
            raise StateDictError(f"load_state_dict: the state dict does not fit "
                                 f"{type(self).__name__}:\n  " + "\n  ".join(problems))
        with grad_mode.no_grad():
            for key, array in arrays.items():
                own[key][...] = array
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- description

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer: `type(m)(**m.hyperparameters())`,
        read as its SETTINGS say. Only the library's layers declare theirs; a model class
        of your own cannot be rebuilt without its code."""
        if self.SETTINGS is None:
            raise TypeError(f"{type(self).__name__} is not one of nn's built-in layers, so "
                            f"its architecture cannot be described without its code; build "
                            f"it in code and load its weights with load_state_dict (or "
                            f"nn.load(path, model)), or compose it from built-in layers in "
                            f"nn.Sequential")
        return {setting.name: setting.value(self) for setting in self.SETTINGS}

    @staticmethod
    def state_shapes(**hyperparameters: Any) -> dict[str, tuple[int, ...]]:
        """The shapes of the parameters and buffers a layer built with `hyperparameters`
        holds, by `state_dict` key, worked out without building it (so a model file's
        architecture is checked against its tensors before any memory is allocated). A
        layer without tensors holds none; the layers with tensors say theirs."""
        return {}

    def to_json(self, indent: int | None = None) -> str:
        """The architecture alone as JSON: every layer's class and hyperparameters, no
        weights (document 001 saves it apart from them); `nn.from_json(text)` rebuilds
        the model. Only models made of built-in layers have one (see nn.serialization)."""
        return architecture_to_json(self, indent)

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr: for a built-in layer, its
        SETTINGS as torch's repr shows them. Override it to describe a module of your own."""
        if not self.SETTINGS:
            return ""
        defaults = constructor_defaults(type(self))
        texts = [setting.text(setting.value(self), defaults.get(setting.name, _MISSING))
                 for setting in self.SETTINGS]
        return ", ".join(text for text in texts if text)

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + _indent(repr(module))
                    for name, module in self._modules.items()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"


def _indent(text: str) -> str:
    """Indent every line but the first by two spaces (nested reprs)."""
    return text.replace("\n", "\n  ")


# ---------------------------------------------------------------- the architecture as JSON

def architecture_to_json(model: Module, indent: int | None = None) -> str:
    """The architecture of `model` as JSON: every layer's class and hyperparameters, and
    the children of containers in order. Only nn's own layers can be described this way.

    >>> import nn
    >>> architecture_to_json(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()))
    '{"format": "autodiff.nn", "version": 1, "model": {"class": "Sequential", ...'
    """
    foreign = foreign_layer(model)
    if foreign is not None:
        path, name = foreign
        where = f"layer {path!r} of the model" if path else "the model"
        raise TypeError(f"to_json: {where} is {name}, not one of nn's own layers, so it "
                        f"cannot be described without its code; build it from nn's layers "
                        f"and containers (e.g. nn.Sequential), or save its weights with "
                        f"nn.save(model, path) and load them into a new instance with "
                        f"nn.load(path, model)")
    return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "model": _describe(model)},
                      indent=indent)


def foreign_layer(module: Module, path: str = "") -> tuple[str, str] | None:
    """The path and class name of the first layer that is not one of nn's own, or None."""
    if BUILTIN_LAYERS.get(type(module).__name__) is not type(module):
        return path, type(module).__name__
    for name, child in module.named_children():
        found = foreign_layer(child, f"{path}.{name}".lstrip("."))
        if found is not None:
            return found
    return None


def _describe(module: Module) -> dict[str, Any]:
    """A module's entry in the architecture: its class and hyperparameters, and for a
    container its children (a layer's own submodules, such as MultiheadAttention's
    out_proj, are rebuilt by its constructor)."""
    node = {"class": type(module).__name__, "hyperparameters": module.hyperparameters()}
    if not module.HOLDS_LAYERS:
        return node
    children = [dict(name=name, **_describe(child)) for name, child in module.named_children()]
    if children:
        node["children"] = children
    return node


# ---------------------------------------------------------------- containers

MODULE_INTERNALS = frozenset(vars(Module()))   # the state every Module keeps for itself


@builtin_layer
class Sequential(Module):
    """Modules run one after another: the output of each is the input of the next.

    Children are named "0", "1", … (or by the keys of an ordered dict passed instead).

    Args:
        *modules: the layers in order, or one dict name -> module.

    Example:
    >>> import autodiff as ad, nn
    >>> model = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
    >>> model(ad.zeros(4, 2)).shape
    (4, 1)
    >>> len(model), model[1]
    (4, Tanh())
    """

    SETTINGS = ()
    HOLDS_LAYERS = True

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(collections.OrderedDict(items[index]))
        return items[_position("Sequential", index, len(items))][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end (named by its position); returns self."""
        self.add_module(str(len(self)), module)
        return self


@builtin_layer
class ModuleList(Module):
    """A list of modules whose parameters belong to the owner (a plain Python list would
    hide them from parameters() and state_dict()). It has no forward: iterate over it.

    >>> import nn
    >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    """

    SETTINGS = ()
    HOLDS_LAYERS = True

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        values = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(values[index])
        return values[_position("ModuleList", index, len(values))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_position("ModuleList", index, len(self))), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: loop over it in your "
                                  "module's forward (for layer in self.layers: x = layer(x))")

    def __repr__(self) -> str:
        """Like torch: runs of identical modules are shown once, as "(0-2): 3 x Linear(…)"."""
        reprs = [repr(module) for module in self._modules.values()]
        if not reprs:
            return f"{type(self).__name__}()"
        lines = []
        start = 0
        for end in range(1, len(reprs) + 1):
            if end < len(reprs) and reprs[end] == reprs[start]:
                continue
            if end - start == 1:
                lines.append(f"({start}): " + _indent(reprs[start]))
            else:
                lines.append(f"({start}-{end - 1}): {end - start} x " + _indent(reprs[start]))
            start = end
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def check_size(layer: str, name: str, value: Any) -> None:
    """Constructor check: a layer size must be an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a whole number >= 0, got {value!r}")


def _position(container: str, index: int, length: int) -> int:
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} modules")
    return index % length
