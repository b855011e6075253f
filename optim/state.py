"""An optimizer's per-parameter state that reports every change made to it from outside.

`optimizer.state` is torch's `defaultdict(dict)`: `state[p]` is a dict of parameter p's
entries (a momentum buffer, a step count), made empty on first access. Here both levels
are dict subclasses that call one function, `report`, after every change (an entry set,
deleted or updated; a parameter's entries replaced or removed), so code that prepared a
step once (`Optimizer.prepared_step`) learns of a state loaded or edited by hand through
one change count (`autodiff.events.change_count`) instead of comparing every entry on
every step. The optimizer's own writes during its step are not reported (it keeps its
flat buffers and the entries consistent itself): `report` is the optimizer's to decide.

A dict stored as a parameter's entries (`state[p] = {...}`) is kept as it is, the
same object, and so are the writes into it: they are not reported, so a prepared step
no longer applies (see `counts_changes`). Copies and pickles are plain dicts (a copy of
the whole state a `defaultdict(dict)`), as torch's.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

Report = Callable[[], None]


class _Reporting(dict):
    """A dict whose mutating methods each call `self._report` after the change."""

    __slots__ = ()
    _report: Report

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._report()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._report()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._report()

    def __ior__(self, other: Any) -> Any:
        self.update(other)
        return self

    def pop(self, *args: Any) -> Any:
        value = super().pop(*args)
        self._report()
        return value

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._report()
        return item

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        super().clear()
        self._report()


class ParamState(_Reporting):
    """One parameter's state entries, `optimizer.state[p]`: a dict that calls `report`
    after each change."""

    __slots__ = ("_report",)

    def __init__(self, report: Report, entries: Any = ()) -> None:
        dict.__init__(self, entries)
        self._report = report

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self),)

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return copy.deepcopy(dict(self), memo)


class OptimizerState(_Reporting, defaultdict):
    """`optimizer.state`: parameter -> its `ParamState`, made empty on first access (a
    first access is not a change); every other change calls `report`."""

    def __init__(self, report: Report, entries: Any = ()) -> None:
        defaultdict.__init__(self, dict)
        self._report = report
        for param, values in dict(entries).items():
            dict.__setitem__(self, param, ParamState(report, values))

    def __missing__(self, param: Any) -> ParamState:
        entries = ParamState(self._report)
        dict.__setitem__(self, param, entries)
        return entries

    def counts_changes(self, params: Any) -> bool:
        """True when every change to the entries of `params` is reported: each is a
        ParamState of this state (not a dict stored by hand)."""
        for param in params:
            entries = dict.get(self, param)
            if type(entries) is not ParamState or entries._report is not self._report:
                return False
        return True

    def copy(self) -> defaultdict[Any, Any]:
        return defaultdict(dict, self)

    def __reduce__(self) -> tuple[Any, ...]:
        return defaultdict, (dict, dict(self))

    def __copy__(self) -> defaultdict[Any, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> defaultdict[Any, Any]:
        return copy.deepcopy(self.copy(), memo)
