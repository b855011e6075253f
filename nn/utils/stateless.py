"""`nn.utils.stateless.functional_call`: run a module with some of its parameters and
buffers replaced by given tensors (torch.func.functional_call), so that the module is a
function of them: `functional_call(model, params, (x,))` = model(x) with `params` in
place. The swap is undone afterwards, also when the forward raises.

It lives in nn, not in `ad.func` as in torch: the swap writes a Module's registries, and
autodiff does not import nn.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autodiff.tensor import Tensor

from ..module import Module

_MISSING = object()


def _merged(dicts: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One dict of name → tensor from one or several dicts, refusing a name given twice."""
    dicts = [dicts] if isinstance(dicts, Mapping) else list(dicts)
    merged: dict[str, Any] = {}
    for d in dicts:
        repeated = sorted(set(d) & set(merged))
        if repeated:
            raise ValueError(f"functional_call: {repeated} appear in more than one of the "
                             f"dicts, so which value to use is ambiguous; give each name once")
        merged.update(d)
    return merged


def _tie(module: Module, values: dict[str, Any]) -> dict[str, Any]:
    """values with every tied name (one tensor registered under several names, like a
    shared embedding and output weight) set to the value given for one of them."""
    names_of: dict[int, list[str]] = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False),
                         *module.named_buffers(remove_duplicate=False)]:
        names_of.setdefault(id(tensor), []).append(name)
    values = dict(values)
    for names in names_of.values():
        given = [n for n in names if n in values]
        if len(names) < 2 or not given:
            continue
        if any(values[n] is not values[given[0]] for n in given):
            raise ValueError(f"functional_call: {given} are tied (one tensor) but got "
                             f"different values; give one of them, or pass "
                             f"tie_weights=False")
        for n in names:
            values[n] = values[given[0]]
    return values


def _check_strict(module: Module, values: dict[str, Any]) -> None:
    expected = {name for name, _ in module.named_parameters(remove_duplicate=False)} | \
        {name for name, _ in module.named_buffers(remove_duplicate=False)}
    missing = sorted(expected - set(values))
    unexpected = sorted(set(values) - expected)
    if missing or unexpected:
        parts = ([f"unexpected key(s): {unexpected}"] if unexpected else []) + \
            ([f"missing key(s): {missing}"] if missing else [])
        raise RuntimeError(f"functional_call(strict=True) for {type(module).__name__}: "
                           f"{'; '.join(parts)}")


def functional_call(module: Module, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """module(*args, **kwargs) with the parameters and buffers named in the dict(s)
    (dotted names, as `named_parameters` gives them) replaced by the given tensors,
    restored afterwards. With tie_weights, a value given for one of several names of one
    tensor is used for all of them; with strict, every parameter and buffer must be
    given, and no other name. A name that is neither is set as a plain attribute for
    the call, as in torch.

    >>> import autodiff as ad, nn
    >>> model = nn.Linear(2, 1)
    >>> params = {"weight": ad.ones(1, 2), "bias": ad.zeros(1)}
    >>> nn.utils.stateless.functional_call(model, params, (ad.tensor([1.0, 2.0]),))
    tensor([3.])
    """
    values = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        values = _tie(module, values)
    if strict:
        _check_strict(module, values)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    undo: list[tuple[Module, str, str | None, Any]] = []
    try:
        for name, value in values.items():
            path, _, key = name.rpartition(".")
            owner = module.get_submodule(path)
            store = next((s for s in ("_parameters", "_buffers") if key in getattr(owner, s)),
                         None)
            if store is None:
                undo.append((owner, key, None, owner.__dict__.get(key, _MISSING)))
                setattr(owner, key, value)
            else:
                registry = getattr(owner, store)
                undo.append((owner, key, store, registry[key]))
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(f"functional_call: {name} must be given a Tensor, not "
                                    f"{type(value).__name__}")
                owner._replace(registry, key, value)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, key, store, old in reversed(undo):
            if store is not None:
                owner._replace(getattr(owner, store), key, old)
            elif old is _MISSING:
                delattr(owner, key)
            else:
                setattr(owner, key, old)
