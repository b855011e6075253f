"""The Transformer (Vaswani et al., 2017, "Attention Is All You Need", section 3.1):
`TransformerEncoderLayer`, self-attention and a feed-forward network, each added to its
input and layer-normalised (`_residual`), and `TransformerEncoder`, a stack of copies of
one layer; `TransformerDecoderLayer`, which adds attention over the encoder's output
between the two, and `TransformerDecoder`; `Transformer`, an encoder and a decoder. All
are torch.nn's, with its parameter names, built from MultiheadAttention, Linear, Dropout
and LayerNorm, so they need no derivative of their own. They are not built-in layers
(`@builtin_layer`): a layer's activation may be any callable, and a stack holds whatever
module it was given, neither of which the architecture JSON can describe.

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
import math
from collections.abc import Callable
from typing import Any

import autodiff as ad
from autodiff.errors import DomainError, ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList, check_size
from .normalization import LayerNorm

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}
"""The activations `TransformerEncoderLayer` takes by name, as torch's."""


class _TransformerLayer(Module):
    """What the encoder and decoder layers share, built in torch's order (so the
    state-dict keys are torch's): self-attention; the decoder's attention over the
    memory (`multihead_attn`, when `CROSS`); the feed-forward network Linear₁, Dropout,
    Linear₂; a LayerNorm and a dropout per residual branch (norm1…, dropout1…); and the
    self-attention and feed-forward branches themselves."""

    CROSS = False

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        activation = _check_layer_arguments(name, d_model, nhead, dim_feedforward, dropout,
                                            activation)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        if self.CROSS:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                     bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        branches = 3 if self.CROSS else 2
        for i in range(1, branches + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for i in range(1, branches + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = activation          # a module given is a submodule, as in torch

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None,
                  key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        """SA(x) = Dropout₁(MultiheadAttention(x, x, x))."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """FF(x) = Dropoutₙ(Linear₂(Dropout(activation(Linear₁(x))))), n the last branch."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return (self.dropout3 if self.CROSS else self.dropout2)(x)


class TransformerEncoderLayer(_TransformerLayer):
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

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        if is_causal and src_mask is None:
            raise DomainError("TransformerEncoderLayer: is_causal=True is a hint that "
                              "src_mask is the causal mask, so src_mask must be given: True "
                              "above the diagonal, e.g. ~ad.ones(S, S, dtype=ad.bool).tril()")
        x = _residual(src, self.norm1, lambda h: self._sa_block(             # SA branch
            h, src_mask, src_key_padding_mask, is_causal), self.norm_first)
        return _residual(x, self.norm2, self._ff_block, self.norm_first)    # FF branch


def _check_layer_arguments(layer: str, d_model: int, nhead: int, dim_feedforward: int,
                           dropout: float, activation: str | Callable[[Tensor], Tensor]
                           ) -> Callable[[Tensor], Tensor]:
    """Refuse bad sizes, dropout and activation of an encoder or decoder layer, by name;
    the activation as a callable ("relu" and "gelu" looked up in ACTIVATIONS)."""
    check_size(layer, "d_model", d_model)
    check_size(layer, "nhead", nhead)
    check_size(layer, "dim_feedforward", dim_feedforward)
    if d_model == 0 or nhead == 0 or d_model % nhead:
        raise ValueError(f"{layer}: d_model ({d_model}) must be positive and divisible by "
                         f"nhead ({nhead}): each head attends with d_model / nhead "
                         f"features; choose e.g. nhead={_a_divisor(d_model, nhead)}")
    F.check_probability(layer, dropout)
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise DomainError(f"{layer}: activation should be relu/gelu, not {activation!r}; "
                              f"pass another as a callable, e.g. activation=nn.SiLU()")
        return ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _residual(x: Tensor, norm: Module, branch: Callable[[Tensor], Tensor],
              norm_first: bool) -> Tensor:
    """One residual branch with its LayerNorm: x + branch(norm(x)) with norm_first
    (pre-norm), else norm(x + branch(x)) (post-norm, the paper's)."""
    if norm_first:
        return x + branch(norm(x))
    return norm(x + branch(x))


def _stack(stack: Module, argument: str, layer: Module, num_layers: int,
           norm: Module | None) -> None:
    """A TransformerEncoder's or TransformerDecoder's members, as torch's: `layers`,
    num_layers deep copies of `layer` (checked, by the argument's name), and `norm`, a
    submodule, or None as a plain attribute (not printed)."""
    name = type(stack).__name__
    if not isinstance(layer, Module):
        raise TypeError(f"{name}: {argument} must be a Module (e.g. nn.{name}Layer(d_model, "
                        f"nhead)), got {type(layer).__name__}")
    check_size(name, "num_layers", num_layers)
    if num_layers == 0:
        raise ValueError(f"{name}: num_layers must be at least 1, got 0")
    stack.layers = ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
    stack.num_layers = num_layers
    if norm is None:
        stack.norm = None
    else:
        stack.add_module("norm", norm)


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
        _stack(self, "encoder_layer", encoder_layer, num_layers, norm)
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


class TransformerDecoderLayer(_TransformerLayer):
    """One decoder layer: masked self-attention over the target, attention over the
    encoder's output (the memory), then a position-wise feed-forward network, each in a
    residual branch with layer normalisation (Vaswani et al., 2017, section 3.1):

        SA(x)    = Dropout₁(MultiheadAttention(x, x, x))            self_attn
        MHA(x,m) = Dropout₂(MultiheadAttention(x, m, m))            multihead_attn
        FF(x)    = Dropout₃(Linear₂(Dropout(activation(Linear₁(x)))))

        norm_first=False (post-norm):   x ← Norm₁(x + SA(x))
                                        x ← Norm₂(x + MHA(x, memory))
                                        x ← Norm₃(x + FF(x))
        norm_first=True (pre-norm):     x ← x + SA(Norm₁(x)), and so on

    Args: those of TransformerEncoderLayer (d_model, nhead, dim_feedforward=2048,
    dropout=0.1, activation=relu, layer_norm_eps=1e-5, batch_first=False,
    norm_first=False, bias=True).

    forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
            memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        tgt_mask: (T, T) or (N·nhead, T, T); memory_mask: (T, S) or (N·nhead, T, S);
            True (or -inf) where a target token may NOT attend.
        tgt_key_padding_mask (N, T), memory_key_padding_mask (N, S): True (or -inf) at
            padding tokens.
        tgt_is_causal, memory_is_causal: hints that the mask is the causal one; the mask
            must be given, and is used as given.

    Shape:
        tgt (T, N, E) and memory (S, N, E), or (N, T, E) and (N, S, E) with batch_first,
        or (T, E) and (S, E) unbatched; output as tgt.

    Attributes: self_attn and multihead_attn (MultiheadAttention(d_model, nhead)), linear1,
    linear2, norm1, norm2, norm3, dropout, dropout1, dropout2, dropout3, as torch's.

    Example:
    >>> import autodiff as ad
    >>> layer = TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(ad.randn(4, 3, 8), ad.randn(5, 3, 8)).shape        # (T, N, E), (S, N, E)
    (4, 3, 8)
    """

    CROSS = True

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        for hint, mask, name in ((tgt_is_causal, tgt_mask, "tgt"),
                                 (memory_is_causal, memory_mask, "memory")):
            if hint and mask is None:
                raise DomainError(f"TransformerDecoderLayer: {name}_is_causal=True is a hint "
                                  f"that {name}_mask is the causal mask, so {name}_mask must "
                                  f"be given: True (or -inf) above the diagonal, e.g. "
                                  f"Transformer.generate_square_subsequent_mask(T)")
        x = _residual(tgt, self.norm1, lambda h: self._sa_block(             # SA branch
            h, tgt_mask, tgt_key_padding_mask, tgt_is_causal), self.norm_first)
        x = _residual(x, self.norm2, lambda h: self._mha_block(              # MHA branch
            h, memory, memory_mask, memory_key_padding_mask, memory_is_causal), self.norm_first)
        return _residual(x, self.norm3, self._ff_block, self.norm_first)    # FF branch

    def _mha_block(self, x: Tensor, memory: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        """MHA(x, memory) = Dropout₂(MultiheadAttention(x, memory, memory))."""
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)


class TransformerDecoder(Module):
    """A stack of num_layers decoder layers, each a deep copy of `decoder_layer`, every one
    attending to the same memory, then an optional final normalisation:

        x ← layers[i](x, memory, tgt_mask, memory_mask, …)   for i = 0 … num_layers − 1
        x ← norm(x)                                          if norm is given

    Args:
        decoder_layer: the layer to copy (a TransformerDecoderLayer, or any module taking
            TransformerDecoderLayer's forward arguments).
        num_layers: how many copies, at least 1; they are `layers.0` … (torch's keys).
        norm: a module applied to the output (e.g. LayerNorm(d_model)). Default: None.

    forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False): the masks
    as TransformerDecoderLayer's; tgt_is_causal None is taken as False (the mask is used
    as given).

    Example:
    >>> import autodiff as ad
    >>> layer = TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> decoder = TransformerDecoder(layer, num_layers=2, norm=LayerNorm(8))
    >>> decoder(ad.randn(4, 3, 8), ad.randn(5, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, decoder_layer: Module, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        _stack(self, "decoder_layer", decoder_layer, num_layers, norm)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The whole encoder-decoder model of Vaswani et al. (2017), without embeddings or
    the output projection: the encoder reads the source, the decoder the target and the
    encoder's output (the memory):

        memory = encoder(src, src_mask, src_key_padding_mask)
        output = decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                         memory_key_padding_mask)

    The encoder is TransformerEncoder(TransformerEncoderLayer(...), num_encoder_layers,
    LayerNorm(d_model)), the decoder likewise, unless custom_encoder / custom_decoder
    are given. Then every parameter of two or more dims (the weight matrices, a custom
    module's too) is drawn again by xavier_uniform_, as in torch.

    Args:
        d_model: the features of each token. Default: 512.
        nhead: attention heads. Default: 8.
        num_encoder_layers, num_decoder_layers: Default: 6 each.
        dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
            bias: as TransformerEncoderLayer's (2048, 0.1, relu, 1e-5, False, False, True).
        custom_encoder, custom_decoder: modules to use instead. Default: None.

    forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False): the masks of
    TransformerEncoder and TransformerDecoder.

    Shape:
        src (S, N, E), tgt (T, N, E) (batch first with batch_first; unbatched (S, E) and
        (T, E)); output (T, N, E).

    Example:
    >>> import autodiff as ad
    >>> model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                     dim_feedforward=16)
    >>> mask = Transformer.generate_square_subsequent_mask(4)
    >>> model(ad.randn(5, 3, 8), ad.randn(4, 3, 8), tgt_mask=mask).shape
    (4, 3, 8)
    >>> Transformer.generate_square_subsequent_mask(3)
    tensor([[  0., -inf, -inf],
            [  0.,   0., -inf],
            [  0.,   0.,   0.]])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        super().__init__()
        layer_arguments = (d_model, nhead, dim_feedforward, dropout, activation,
                           layer_norm_eps, batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_arguments), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_arguments), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch] != tgt.shape[batch]):
            raise ShapeError(f"Transformer: the batch number of src and tgt must be equal, "
                             f"got src {src.shape} and tgt {tgt.shape} (batch_first="
                             f"{self.batch_first}, so the batch is dim {batch})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: the feature number of src and tgt must be equal "
                             f"to d_model ({self.d_model}), got src {src.shape} and tgt "
                             f"{tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
        """The causal mask of a sequence of sz tokens, (sz, sz): -inf above the diagonal
        (a token may not attend to later ones), 0 on and below it; of the default dtype
        (float32) unless dtype is given."""
        return ad.full((sz, sz), -math.inf, dtype=dtype or ad.get_default_dtype()).triu(1)
