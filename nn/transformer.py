"""The Transformer's encoder (Vaswani et al., 2017, "Attention Is All You Need", section
3.1): `TransformerEncoderLayer`, self-attention and a feed-forward network, each added to
its input and layer-normalised, and `TransformerEncoder`, a stack of copies of one layer.
Both are torch.nn's, with its parameter names, built from MultiheadAttention, Linear,
Dropout and LayerNorm, so they need no derivative of their own.

>>> import autodiff as ad, nn
>>> from nn.transformer import TransformerEncoder, TransformerEncoderLayer
>>> layer = TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
>>> encoder = TransformerEncoder(layer, num_layers=3)
>>> encoder(ad.randn(4, 5, 8)).shape                   # 4 sequences of 5 tokens
(4, 5, 8)
>>> len(encoder.layers), sorted(encoder.state_dict())[:2]
(3, ['layers.0.linear1.bias', 'layers.0.linear1.weight'])
"""
from __future__ import annotations

import copy
from collections.abc import Callable

from autodiff.errors import DomainError
from autodiff.tensor import Tensor

from . import functional as F
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList, check_size
from .normalization import LayerNorm

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}
"""The activations `TransformerEncoderLayer` takes by name, as torch's."""


class TransformerEncoderLayer(Module):
    """One encoder layer: self-attention, then a position-wise feed-forward network, each
    in a residual branch with layer normalisation (Vaswani et al., 2017, section 3.1):

        SA(x) = Dropout₁(MultiheadAttention(x, x, x))
        FF(x) = Dropout₂(Linear₂(Dropout(activation(Linear₁(x)))))

        norm_first=False (post-norm, the paper's):   x ← Norm₁(x + SA(x))
                                                     x ← Norm₂(x + FF(x))
        norm_first=True (pre-norm, Xiong et al.):    x ← x + SA(Norm₁(x))
                                                     x ← x + FF(Norm₂(x))

    Args:
        d_model: the features of each token (input and output).
        nhead: attention heads; must divide d_model.
        dim_feedforward: the features between Linear₁ and Linear₂. Default: 2048.
        dropout: the probability of each dropout (the attention weights' too). Default: 0.1.
        activation: "relu", "gelu" or a callable (a function or a module). Default: relu.
        layer_norm_eps: the eps of both LayerNorms. Default: 1e-5.
        batch_first: input and output are (N, S, E) instead of (S, N, E). Default: False.
        norm_first: normalise before each branch instead of after it. Default: False.
        bias: Linear, attention and LayerNorm biases. Default: True.

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_mask: (S, S) or (N·nhead, S, S); True (or -inf) where a token may NOT attend.
        src_key_padding_mask: (N, S); True (or -inf) at padding tokens, which no token
            attends to.
        is_causal: a hint that src_mask is the causal mask; src_mask must be given, and
            is used as given.

    Shape:
        src (S, N, E), or (N, S, E) with batch_first, or (S, E) unbatched; output the same.

    Attributes (initialised as their layers are, as torch's):
        self_attn: MultiheadAttention(d_model, nhead): self_attn.in_proj_weight (3E, E),
            self_attn.in_proj_bias, self_attn.out_proj.weight and .bias.
        linear1: Linear(d_model, dim_feedforward); linear2: Linear(dim_feedforward, d_model).
        norm1, norm2: LayerNorm(d_model); dropout, dropout1, dropout2: Dropout(dropout).

    A token whose every key is masked gets a zero attention output (then out_proj's bias),
    as in torch.

    Example:
    >>> import autodiff as ad
    >>> layer = TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(ad.randn(5, 3, 8)).shape                  # (S, N, E)
    (5, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        check_size("TransformerEncoderLayer", "d_model", d_model)
        check_size("TransformerEncoderLayer", "nhead", nhead)
        check_size("TransformerEncoderLayer", "dim_feedforward", dim_feedforward)
        if d_model == 0 or nhead == 0 or d_model % nhead:
            raise ValueError(f"TransformerEncoderLayer: d_model ({d_model}) must be positive "
                             f"and divisible by nhead ({nhead}): each head attends with "
                             f"d_model / nhead features; choose e.g. nhead="
                             f"{_a_divisor(d_model, nhead)}")
        F.check_probability("TransformerEncoderLayer", dropout)
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise DomainError(f"TransformerEncoderLayer: activation should be relu/gelu, "
                                  f"not {activation!r}; pass another as a callable, e.g. "
                                  f"activation=nn.SiLU()")
            activation = ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or "
                            f"a callable, got {type(activation).__name__}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation          # a module given is a submodule, as in torch

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        if is_causal and src_mask is None:
            raise DomainError("TransformerEncoderLayer: is_causal=True is a hint that "
                              "src_mask is the causal mask, so src_mask must be given: True "
                              "above the diagonal, e.g. ~ad.ones(S, S, dtype=ad.bool).tril()")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))               # x ← x + FF(Norm₂(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))               # x ← Norm₂(x + FF(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None,
                  key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        """SA(x) = Dropout₁(MultiheadAttention(x, x, x))."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """FF(x) = Dropout₂(Linear₂(Dropout(activation(Linear₁(x)))))."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _a_divisor(d_model: int, nhead: int) -> int:
    """The divisor of d_model nearest nhead (1 when d_model is 0)."""
    divisors = [n for n in range(1, d_model + 1) if d_model % n == 0] or [1]
    return min(divisors, key=lambda n: (abs(n - nhead), n))


class TransformerEncoder(Module):
    """A stack of num_layers encoder layers, each a deep copy of `encoder_layer` (same
    starting weights, trained apart), then an optional final normalisation:

        x ← layers[i](x, mask, src_key_padding_mask)   for i = 0 … num_layers − 1
        x ← norm(x)                                    if norm is given

    Args:
        encoder_layer: the layer to copy (a TransformerEncoderLayer, or any module taking
            (src, src_mask=, src_key_padding_mask=, is_causal=)).
        num_layers: how many copies, at least 1; they are `layers.0` … (torch's keys).
        norm: a module applied to the output (e.g. LayerNorm(d_model)). Default: None.
        enable_nested_tensor: accepted for torch's signature, and ignored. (With it, torch
            in eval mode under no_grad, given a src_key_padding_mask, may run the batch as
            nested tensors without the padding, and returns zeros at padded positions;
            here they hold what the layers compute there, as torch's do otherwise. The
            other positions agree.)
        mask_check: accepted and kept, as torch's (it only guards that nested path).

    forward(src, mask=None, src_key_padding_mask=None, is_causal=None): the masks as
    TransformerEncoderLayer's; is_causal=True says that mask is the causal mask (which
    must be given), None or False pass the mask to each layer as it is.

    Example:
    >>> import autodiff as ad
    >>> layer = TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> encoder = TransformerEncoder(layer, num_layers=2, norm=LayerNorm(8))
    >>> encoder(ad.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module (e.g. "
                            f"nn.TransformerEncoderLayer(d_model, nhead)), got "
                            f"{type(encoder_layer).__name__}")
        check_size("TransformerEncoder", "num_layers", num_layers)
        if num_layers == 0:
            raise ValueError("TransformerEncoder: num_layers must be at least 1, got 0")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        if norm is None:
            self.norm = None                  # a plain attribute, as torch's (not printed)
        else:
            self.add_module("norm", norm)
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        if self.norm is not None:
            output = self.norm(output)
        return output
