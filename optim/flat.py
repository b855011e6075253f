"""The fast path: one parameter group's parameters, gradients and state in flat buffers.

Every update rule in `optim` is elementwise, so it gives the same numbers whether it runs
once per parameter or once over all of a group's parameters laid end to end in one 1-D
array (PyTorch's `_multi_tensor_*` / foreach idea, with numpy's whole-array ops as the
"foreach"). A `FlatGroup` owns those arrays:

    data   [ W1 ........ | b1 | W2 ..... | b2 | ... ]   each p.data is a view into it
    grad   [ dW1 ....... | db1| dW2 .... | db2| ... ]   the gradients, copied in per step
    state  {"exp_avg": [ ... ], "step": 7, ...}        each state[p][key] a view into it

Users may replace `p.data` (`load_state_dict`, `t.data = ...`, `model.double()`) or an
optimizer's state at any time, so before each step `is_current` checks that every
parameter and state entry is still the view made here (an identity test per array); when
one is not, the optimizer builds a new FlatGroup from the current arrays, copying their
values, the state converted to the parameters' dtype. When the parameters' arrays still
lie in one buffer as a FlatGroup laid them out (only the state is new, as after
`opt.load_state_dict`), the new group keeps that buffer and the parameters their arrays.
Otherwise each parameter's numbers move to a view of the new buffer, a move
`autodiff.versions.moved` is told of: a graph that saved the old array still refuses
backward once the step has changed the parameter, as it would without the move.

A FlatGroup uses the public Tensor API only: it reads `p.numpy()` and assigns
`p.data = view` (the parameter's array becomes the view itself, not a copy). During a
step it works on the arrays `autodiff.versions.InPlaceUpdate` hands the optimizer.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autodiff import Tensor, versions

State = dict[Tensor, dict[str, Any]]


class FlatGroup:
    """Flat buffers for `params` (all of one floating dtype, all with a gradient)."""

    def __init__(self, params: list[Tensor], state: State) -> None:
        self.params = list(params)
        self.shapes = [p.shape for p in params]
        self.offsets = np.cumsum([0] + [p.numel() for p in params])
        arrays = [p.numpy() for p in params]
        buffer = laid_out(arrays, self.offsets)
        if buffer is not None:          # only the state is new (opt.load_state_dict)
            self.data, self.data_views = buffer, arrays
        else:
            self.data = np.concatenate([array.reshape(-1) for array in arrays])
            self.data_views = self._split(self.data)
            for p, view, array in zip(params, self.data_views, arrays):
                p.data = view
                versions.moved(p, array)
        self.grad = np.empty_like(self.data)
        self.grad_views = self._split(self.grad)
        self.state: dict[str, Any] = {}
        self._state_views: dict[str, list[np.ndarray]] = {}
        # for is_current, kept by scatter_state as keys appear: per parameter, (the
        # parameter, its data view, ((key, its state view), ...)); the scalars' keys
        self._checks: list[tuple[Tensor, np.ndarray, tuple[tuple[str, np.ndarray], ...]]] = []
        self._scalar_keys: list[str] = []
        for key, value in state[params[0]].items():
            if isinstance(value, np.ndarray):       # in the parameters' dtype (model.double())
                self.state[key] = np.concatenate([state[p][key].reshape(-1) for p in params],
                                                 dtype=self.data.dtype)
            else:
                self.state[key] = value
        self.scatter_state(state)

    @staticmethod
    def can_hold(params: list[Tensor], state: State) -> bool:
        """True when `params` share one floating dtype and their states agree: the same
        keys, equal scalars (such as the step count), arrays of the parameter's shape."""
        if not params:
            return False
        dtype = params[0].dtype
        first = state.get(params[0], {})
        for p in params:
            if p.dtype != dtype or not np.issubdtype(dtype, np.floating):
                return False
            entries = state.get(p, {})
            if entries.keys() != first.keys():
                return False
            for key, value in entries.items():
                if isinstance(value, np.ndarray):
                    if value.shape != p.shape:
                        return False
                elif value != first[key]:
                    return False
        return True

    def is_current(self, params: list[Tensor], values: list[np.ndarray], state: State
                   ) -> bool:
        """True when `params` are this group's tensors, `values` their arrays (as
        InPlaceUpdate gives them), and none of those or of their state arrays has been
        replaced since the last step."""
        if len(params) != len(self._checks):
            return False
        size = len(self.state)
        scalars = [(key, self.state[key]) for key in self._scalar_keys]
        for p, value, (mine, view, arrays) in zip(params, values, self._checks):
            if p is not mine or value is not view:
                return False
            entries = state[p]
            if len(entries) != size:
                return False
            for key, array in arrays:
                if entries.get(key) is not array:
                    return False
            for key, scalar in scalars:
                if entries.get(key) != scalar:
                    return False
        return True

    def gather_grads(self, grads: list[np.ndarray]) -> None:
        """Copy this step's gradients (the parameters', in order) into `self.grad`, each
        into its parameter's slice (for a small net twice as fast as np.concatenate)."""
        for view, grad in zip(self.grad_views, grads):
            view[...] = grad

    def scatter_state(self, state: State, entries: list[dict[str, Any]] | None = None
                      ) -> None:
        """After the update ran on the flat buffers: copy the scalars (such as the step
        count) into each parameter's state, and point it at its slice of any new flat
        state array. (Updates create a state array once, then change it in place.) These
        writes keep the entries what this group holds, so they are not reported as
        changes (`optim.state`). `entries`: the parameters' state dicts in order, when the
        caller knows them still current (a prepared step)."""
        if not self._checks or \
                len(self._state_views) + len(self._scalar_keys) != len(self.state):
            self._take_new_keys(state)
            entries = None
        if entries is None and self._scalar_keys:
            entries = [state[p] for p in self.params]
        for key in self._scalar_keys:
            value = self.state[key]
            for entry in entries:
                dict.__setitem__(entry, key, value)

    def _take_new_keys(self, state: State) -> None:
        """Split each new flat state array into the parameters' slices (their state
        entries), note the scalars' keys, and remake is_current's checks."""
        for key, value in self.state.items():
            if isinstance(value, np.ndarray) and key not in self._state_views:
                self._state_views[key] = self._split(value)
                for p, view in zip(self.params, self._state_views[key]):
                    dict.__setitem__(state[p], key, view)
        self._scalar_keys = [key for key in self.state if key not in self._state_views]
        self._checks = [(p, view, tuple((key, views[i])
                                        for key, views in self._state_views.items()))
                        for i, (p, view) in enumerate(zip(self.params, self.data_views))]

    def _split(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[start:end].reshape(shape)
                for shape, start, end in zip(self.shapes, self.offsets, self.offsets[1:])]


def laid_out(arrays: list[np.ndarray], offsets: np.ndarray) -> np.ndarray | None:
    """The one 1-D buffer `arrays` already lie in, in C order, end to end and in order
    (each at its offset), as a FlatGroup's views do; None when they do not. A group
    rebuilt because only its state is new (after `opt.load_state_dict`) keeps that
    buffer, so the parameters keep their arrays."""
    buffer = arrays[0].base
    if type(buffer) is not np.ndarray or buffer.ndim != 1 or buffer.size != offsets[-1] \
            or not buffer.flags.c_contiguous or not buffer.flags.writeable:
        return None
    start, itemsize = buffer.__array_interface__["data"][0], buffer.itemsize
    for array, offset in zip(arrays, offsets):
        if array.base is not buffer or array.dtype != buffer.dtype \
                or not array.flags.c_contiguous \
                or array.__array_interface__["data"][0] != start + int(offset) * itemsize:
            return None
    return buffer
