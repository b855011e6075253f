"""Recurrent layers: RNN (Elman), LSTM (Hochreiter & Schmidhuber, 1997) and GRU (Cho et
al., 2014), with torch's parameters, initialisation and shapes; and their single steps,
the cells RNNCell, LSTMCell and GRUCell, for loops over time written by the user.

Each is a Python loop over the time steps of one cell, written with tensor ops (linear,
sigmoid, tanh, chunk, stack, cat), so backpropagation through time is the engine's
ordinary backward pass over the unrolled graph and the layers need no derivative of
their own. The cells, for an input xₜ and the previous hidden state h:

    RNN:  h' = tanh(W_ih xₜ + b_ih + W_hh h + b_hh)          (or relu)
    LSTM: i, f, g, o = chunks of W_ih xₜ + b_ih + W_hh h + b_hh
          c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c')
    GRU:  r = σ(W_ir xₜ + b_ir + W_hr h + b_hr),   z = σ(W_iz xₜ + b_iz + W_hz h + b_hz)
          n = tanh(W_in xₜ + b_in + r ⊙ (W_hn h + b_hn)),   h' = (1 - z) ⊙ n + z ⊙ h

>>> import autodiff as ad
>>> lstm = LSTM(input_size=3, hidden_size=5, num_layers=2)
>>> output, (h_n, c_n) = lstm(ad.randn(7, 4, 3))     # 7 time steps, batch of 4
>>> output.shape, h_n.shape, c_n.shape
((7, 4, 5), (2, 4, 5), (2, 4, 5))
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, bare, builtin_layer, changed, check_size, hidden

State = tuple[Tensor, ...]      # (h,) for RNN and GRU, (h, c) for LSTM


def rnn_step(x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
             b_hh: Tensor | None, nonlinearity: str = "tanh") -> State:
    """One Elman step: (h',) with h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""
    (h,) = state
    pre = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return (pre.tanh() if nonlinearity == "tanh" else pre.relu(),)


def lstm_step(x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None) -> State:
    """One LSTM step: (h', c') with i, f, g, o the four blocks of W_ih x + b_ih + W_hh h +
    b_hh, c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g) and h' = σ(o) ⊙ tanh(c')."""
    h, c = state
    i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_step(x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
             b_hh: Tensor | None) -> State:
    """One GRU step: (h',) with r, z the reset and update gates, n = tanh(W_in x + b_in +
    r ⊙ (W_hn h + b_hn)) and h' = (1 − z) ⊙ n + z ⊙ h."""
    (h,) = state
    x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return ((1 - z) * n + z * h,)


class RNNBase(Module):
    """What the three layers share: the parameters of every layer and direction, their
    initialisation, and the loop over layers, directions and time steps. A subclass says
    how many blocks of hidden_size rows its weights stack (`GATES`) and gives `cell`."""

    SETTINGS = (bare("input_size"), bare("hidden_size"), changed("num_layers"), changed("bias"),
                changed("batch_first"), changed("dropout"), changed("bidirectional"))
    """torch's repr: the sizes, then only the settings that differ from the defaults."""
    LABEL = "{input_size}→{hidden_size}"
    GATES = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        check_size(name, "input_size", input_size)
        check_size(name, "hidden_size", hidden_size)
        check_size(name, "num_layers", num_layers)
        if hidden_size == 0 or num_layers == 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be at least 1, got "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        F.check_probability(name, dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout is applied between stacked layers (to the "
                          f"outputs of all but the last), so dropout={dropout} does nothing "
                          f"with num_layers=1", UserWarning, stacklevel=2)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        self.bidirectional = bidirectional
        shapes = self.state_shapes(input_size, hidden_size, num_layers, bias, bidirectional)
        for key, shape in shapes.items():
            self.register_parameter(key, Parameter(ad.zeros(shape)))
        self.reset_parameters()

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """torch's: every weight and bias from U(-1/√hidden_size, 1/√hidden_size)."""
        bound = 1 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @classmethod
    def state_shapes(cls, input_size: int, hidden_size: int, num_layers: int = 1,
                     bias: bool = True, bidirectional: bool = False,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        """torch's keys, layer by layer, the forward direction before the backward one
        ("_reverse"): weight_ih_l{k} (GATES·H, inputs), weight_hh_l{k} (GATES·H, H),
        bias_ih_l{k} and bias_hh_l{k} (GATES·H,). Layer 0 reads the input's features,
        the others the previous layer's output (H, or 2H when bidirectional)."""
        rows = cls.GATES * hidden_size
        directions = 2 if bidirectional else 1
        shapes = {}
        for layer in range(num_layers):
            inputs = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes[f"weight_ih{suffix}"] = (rows, inputs)
                shapes[f"weight_hh{suffix}"] = (rows, hidden_size)
                if bias:
                    shapes[f"bias_ih{suffix}"] = (rows,)
                    shapes[f"bias_hh{suffix}"] = (rows,)
        return shapes

    def cell(self, x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None, b_hh: Tensor | None) -> State:
        """One time step: the new state from the input x (N, inputs) and the state."""
        raise NotImplementedError(f"{type(self).__name__}.cell: each recurrent layer (RNN, "
                                  f"LSTM, GRU) defines its own time step")

    def run(self, input: Tensor, hx: State | tuple[None, ...]) -> tuple[Tensor, State]:
        """(output, final states) for the input and the initial states `hx` (each
        (D·num_layers, N, H), or None for zeros). Each layer runs over the sequence in
        each direction; its outputs, concatenated over the directions, are the next
        layer's input (after dropout, in training)."""
        batched = self.check_input(input)
        x = input if batched else input.unsqueeze(1)           # (L, N, inputs)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        length, batch, _ = x.shape
        initial = [self.initial_state(h, batch, batched, x.dtype) for h in hx]
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                weights = [self._parameters.get(name + suffix)    # None: no bias
                           for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                index = layer * self.directions + direction
                state = tuple(t[index] for t in initial)
                hidden = [None] * length
                steps = range(length - 1, -1, -1) if direction else range(length)
                for t in steps:
                    state = self.cell(x[t], state, *weights)
                    hidden[t] = state[0]
                outputs.append(ad.stack(hidden))                 # (L, N, H)
                finals.append(state)
            x = ad.cat(outputs, dim=2) if self.bidirectional else outputs[0]
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        output = x                                               # (L, N, D·H)
        last = tuple(ad.stack(parts) for parts in zip(*finals))  # each (D·num_layers, N, H)
        if not batched:
            return output.squeeze(1), tuple(t.squeeze(1) for t in last)
        return (output.transpose(0, 1) if self.batch_first else output), last

    def check_input(self, input: Tensor) -> bool:
        """Whether the input is batched: (L, N, input_size) ((N, L, ...) with batch_first)
        or unbatched (L, input_size), with L >= 1."""
        name = type(self).__name__
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: the input must be {layout} or unbatched "
                             f"(L, input_size), with input_size={self.input_size}, got "
                             f"shape {input.shape}")
        time_dim = 1 if self.batch_first and input.ndim == 3 else 0
        if input.shape[time_dim] == 0:
            raise ShapeError(f"{name}: the input sequence is empty (shape {input.shape}); "
                             f"it needs at least one time step")
        return input.ndim == 3

    def initial_state(self, h: Tensor | None, batch: int, batched: bool,
                      dtype: Any) -> Tensor:
        """An initial state as (D·num_layers, N, H): zeros when not given."""
        shape = (self.directions * self.num_layers, batch, self.hidden_size)
        if h is None:
            return ad.zeros(shape, dtype=dtype)
        expected = shape if batched else (shape[0], shape[2])
        if not isinstance(h, Tensor) or h.shape != expected:
            got = h.shape if isinstance(h, Tensor) else type(h).__name__
            raise ShapeError(f"{type(self).__name__}: an initial state must be "
                             f"(D·num_layers, N, H) = {expected} for this "
                             f"{'batched' if batched else 'unbatched'} input, got {got}")
        return h if batched else h.unsqueeze(1)


@builtin_layer
class RNN(RNNBase):
    """The Elman RNN, layer after layer: h' = tanh(W_ih xₜ + b_ih + W_hh h + b_hh) (or relu).

    Args:
        input_size: the features of each input step.
        hidden_size: H, the features of the hidden state.
        num_layers: stacked layers, each reading the previous one's output sequence.
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh.
        batch_first: input and output are (N, L, features) instead of (L, N, features)
            (the hidden states keep (D·num_layers, N, H)).
        dropout: the probability of zeroing an element of each layer's output but the
            last, in training mode.
        bidirectional: each layer also runs from the last step to the first; the two
            directions' outputs are concatenated (D = 2).

    forward(input, hx=None) returns (output, h_n).

    Shape:
        input (L, N, input_size), or (L, input_size) unbatched; hx (D·num_layers, N, H),
        zeros if not given (the state of layer k, direction d at index k·D + d); output
        (L, N, D·H): the last layer's hidden state at every step; h_n like hx: the final
        state of every layer and direction (the backward direction's is at step 0).

    Attributes:
        weight_ih_l{k}, weight_hh_l{k}: (H, inputs), (H, H); bias_ih_l{k}, bias_hh_l{k}:
        (H,); "_reverse" for the backward direction; all from U(-1/√H, 1/√H).

    Example:
    >>> import autodiff as ad, nn
    >>> rnn = nn.rnn.RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(ad.randn(5, 3, 10), ad.zeros(2, 3, 20))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    >>> rnn
    RNN(10, 20, num_layers=2)
    """

    SETTINGS = (*RNNBase.SETTINGS, hidden("nonlinearity"))

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)
        self.nonlinearity = nonlinearity

    def cell(self, x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None, b_hh: Tensor | None) -> State:
        return rnn_step(x, state, w_ih, w_hh, b_ih, b_hh, self.nonlinearity)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self.run(input, (hx,))
        return output, h_n


@builtin_layer
class LSTM(RNNBase):
    """Long short-term memory, layer after layer: a cell state c carried along the
    sequence, changed only by gated additions, so gradients pass through many steps:

        i, f, g, o = the four H-row blocks of W_ih xₜ + b_ih + W_hh h + b_hh
        c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)      (forget some of c, add some of the new g)
        h' = σ(o) ⊙ tanh(c')

    Args, Shape and Attributes as RNN's (without nonlinearity), with four gates: the
    weights are (4H, inputs) and (4H, H), the gates stacked in torch's order i, f, g, o.

    forward(input, hx=None) returns (output, (h_n, c_n)); hx is a pair (h_0, c_0), each
    (D·num_layers, N, H) (zeros if not given), and c_n is the final cell state.

    Example:
    >>> import autodiff as ad, nn
    >>> lstm = nn.rnn.LSTM(10, 20, batch_first=True, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(ad.randn(3, 5, 10))      # 3 sequences of 5 steps
    >>> output.shape, h_n.shape, c_n.shape
    ((3, 5, 40), (2, 3, 20), (2, 3, 20))
    """

    GATES = 4

    def cell(self, x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None, b_hh: Tensor | None) -> State:
        return lstm_step(x, state, w_ih, w_hh, b_ih, b_hh)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: hx must be a pair (h_0, c_0) of initial hidden and cell "
                            f"states, got {type(hx).__name__}")
        output, (h_n, c_n) = self.run(input, (None, None) if hx is None else tuple(hx))
        return output, (h_n, c_n)


@builtin_layer
class GRU(RNNBase):
    """Gated recurrent unit, layer after layer: a reset gate r and an update gate z
    (torch's form: r multiplies W_hn h + b_hn, bias included):

        r = σ(W_ir xₜ + b_ir + W_hr h + b_hr)
        z = σ(W_iz xₜ + b_iz + W_hz h + b_hz)
        n = tanh(W_in xₜ + b_in + r ⊙ (W_hn h + b_hn))
        h' = (1 - z) ⊙ n + z ⊙ h

    Args, Shape and Attributes as RNN's (without nonlinearity), with three gates: the
    weights are (3H, inputs) and (3H, H), the blocks in the order r, z, n.

    forward(input, hx=None) returns (output, h_n).

    Example:
    >>> import autodiff as ad, nn
    >>> gru = nn.rnn.GRU(10, 20, num_layers=2)
    >>> output, h_n = gru(ad.randn(6, 10))                  # unbatched: 6 steps
    >>> output.shape, h_n.shape
    ((6, 20), (2, 20))
    """

    GATES = 3

    def cell(self, x: Tensor, state: State, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None, b_hh: Tensor | None) -> State:
        return gru_step(x, state, w_ih, w_hh, b_ih, b_hh)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self.run(input, (hx,))
        return output, h_n


# ---------------------------------------------------------------- one step: the cells

class RNNCellBase(Module):
    """What the three cells share: weight_ih (GATES·H, input_size), weight_hh (GATES·H, H)
    and, with bias, bias_ih and bias_hh (GATES·H,), all from U(-1/√H, 1/√H) as torch's;
    and the check of the input (N, input_size) or unbatched (input_size,) and of the
    states (N, H) or (H,), zeros when not given. A subclass gives `GATES` and `step`."""

    SETTINGS = (bare("input_size"), bare("hidden_size"), changed("bias"))
    LABEL = "{input_size}→{hidden_size}"
    GATES = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        check_size(name, "input_size", input_size)
        check_size(name, "hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        for key, shape in self.state_shapes(input_size, hidden_size, bias).items():
            self.register_parameter(key, Parameter(ad.zeros(shape)))
        self.reset_parameters()

    @classmethod
    def state_shapes(cls, input_size: int, hidden_size: int, bias: bool = True,
                     **_: Any) -> dict[str, tuple[int, ...]]:
        """torch's keys: weight_ih (GATES·H, input_size), weight_hh (GATES·H, H), and with
        bias, bias_ih and bias_hh (GATES·H,)."""
        rows = cls.GATES * hidden_size
        shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size)}
        if bias:
            shapes.update(bias_ih=(rows,), bias_hh=(rows,))
        return shapes

    def weights(self) -> tuple[Tensor | None, ...]:
        """(weight_ih, weight_hh, bias_ih, bias_hh), the biases None without bias."""
        return tuple(self._parameters.get(name)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def reset_parameters(self) -> None:
        """torch's: every weight and bias from U(-1/√hidden_size, 1/√hidden_size)."""
        bound = 1 / math.sqrt(self.hidden_size) if self.hidden_size else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def step(self, x: Tensor, state: State) -> State:
        """The new state from the input x (N, input_size) and the state, each (N, H)."""
        raise NotImplementedError(f"{type(self).__name__}.step: each cell (RNNCell, "
                                  f"LSTMCell, GRUCell) defines its own step")

    def run(self, input: Tensor, states: tuple[Tensor | None, ...]) -> State:
        """The step on a batched or unbatched input, missing states as zeros."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) \
                or input.shape[-1] != self.input_size:
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ShapeError(f"{name}: the input must be (N, input_size) or unbatched "
                             f"(input_size,), with input_size={self.input_size}, got {got}")
        batched = input.ndim == 2
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        full = []
        for h in states:
            if h is None:
                h = ad.zeros(expected, dtype=input.dtype)
            elif not isinstance(h, Tensor) or h.shape != expected:
                got = h.shape if isinstance(h, Tensor) else type(h).__name__
                raise ShapeError(f"{name}: a state must be (N, hidden_size) = {expected} for "
                                 f"this {'batched' if batched else 'unbatched'} input of "
                                 f"shape {input.shape}, got {got}")
            full.append(h if batched else h.unsqueeze(0))
        x = input if batched else input.unsqueeze(0)
        new = self.step(x, tuple(full))
        return new if batched else tuple(t.squeeze(0) for t in new)


@builtin_layer
class RNNCell(RNNCellBase):
    """One step of the Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); the
    loop over time is the caller's.

    forward(input, hx=None) returns h'. Shapes: input (N, input_size) or (input_size,);
    hx and h' (N, hidden_size) or (hidden_size,); hx zeros if not given.

    Example:
    >>> import autodiff as ad, nn
    >>> cell = nn.rnn.RNNCell(10, 20)
    >>> h = None
    >>> for x in ad.randn(6, 3, 10):          # 6 steps of a batch of 3
    ...     h = cell(x, h)
    >>> h.shape
    (3, 20)
    >>> nn.rnn.RNNCell(10, 20, nonlinearity="relu")
    RNNCell(10, 20, nonlinearity=relu)
    """

    SETTINGS = (*RNNCellBase.SETTINGS, changed("nonlinearity", quoted=False))

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def step(self, x: Tensor, state: State) -> State:
        return rnn_step(x, state, *self.weights(), self.nonlinearity)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        (h,) = self.run(input, (hx,))
        return h


@builtin_layer
class LSTMCell(RNNCellBase):
    """One LSTM step (see `LSTM`): the gates i, f, g, o from W_ih x + b_ih + W_hh h + b_hh,
    c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c').

    forward(input, hx=None) returns (h', c'); hx is a pair (h, c), zeros if not given,
    each (N, hidden_size) or unbatched (hidden_size,).
    """

    GATES = 4

    def step(self, x: Tensor, state: State) -> State:
        return lstm_step(x, state, *self.weights())

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a pair (h, c) of hidden and cell states, "
                            f"got {type(hx).__name__}")
        h, c = self.run(input, (None, None) if hx is None else tuple(hx))
        return h, c


@builtin_layer
class GRUCell(RNNCellBase):
    """One GRU step (see `GRU`): h' = (1 − z) ⊙ n + z ⊙ h.

    forward(input, hx=None) returns h'; shapes as `RNNCell`'s.
    """

    GATES = 3

    def step(self, x: Tensor, state: State) -> State:
        return gru_step(x, state, *self.weights())

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        (h,) = self.run(input, (hx,))
        return h
