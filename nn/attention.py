"""Attention: the layer `MultiheadAttention` (torch.nn's, with its parameter names), built
on `F.scaled_dot_product_attention`'s pieces (nn/functional.py) from matmul, softmax and
masking, so it needs no derivative of its own (Vaswani et al., 2017, "Attention
Is All You Need", section 3.2).

The two spell a boolean mask in opposite ways, as torch does:
- `scaled_dot_product_attention(..., attn_mask=m)`: True = the key TAKES PART;
- `MultiheadAttention(...)(..., key_padding_mask=m, attn_mask=m)`: True = MASKED OUT.
A float mask means the same to both: it is added to the scores (-inf masks out).

>>> import autodiff as ad
>>> q = k = v = ad.randn(2, 5, 8)                     # (batch, sequence, features)
>>> import nn.functional as F
>>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
(2, 5, 8)
"""
from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor

from . import functional as F
from . import init
from .linear import Linear
from .module import Module, Parameter, builtin_layer, check_size, hidden

# ---------------------------------------------------------------- the layer


@builtin_layer
class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name torch gives MultiheadAttention's output projection (torch
    uses the name to keep quantization tools off it); here it is a plain Linear, named so
    that the layer prints as torch's does."""


@builtin_layer
class MultiheadAttention(Module):
    """Attention with num_heads heads, each looking at its own embed_dim/num_heads
    features of projected queries, keys and values (Vaswani et al., 2017, section 3.2.2):

        Q = query W_qᵀ + b_q,   K = key W_kᵀ + b_k,   V = value W_vᵀ + b_v
        headᵢ = scaled_dot_product_attention(Qᵢ, Kᵢ, Vᵢ), Qᵢ the i-th slice of the features
        output = concat(head₁, …, head_h) W_oᵀ + b_o

    W_q, W_k, W_v are the three (E, E) blocks of one packed `in_proj_weight` (3E, E)
    (separate q/k/v_proj_weight when kdim or vdim differ from embed_dim) and W_o, b_o are
    `out_proj`, all under torch's state-dict keys.

    Args:
        embed_dim: E, the features of a query and of the output.
        num_heads: the number of heads; must divide embed_dim.
        dropout: the probability of zeroing an attention weight, in training mode.
        bias: learn b_q, b_k, b_v (`in_proj_bias`) and b_o.
        add_bias_kv, add_zero_attn: torch's extra learned/zero key; not supported here.
        kdim, vdim: the features of a key and of a value (default embed_dim).
        batch_first: inputs and output are (N, L, E) instead of the default (L, N, E).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) returns (output, weights):
        key_padding_mask: (N, S); True marks a padding key, which no query sees (a float
            mask is added to the scores).
        attn_mask: (L, S) for all, or (N·num_heads, L, S) per sample and head (row
            n·num_heads + h); True marks a pair that may NOT attend: the opposite of
            scaled_dot_product_attention's boolean mask.
        need_weights: also return the attention weights (after dropout, as torch's).
        average_attn_weights: the weights averaged over the heads, (N, L, S); else
            (N, num_heads, L, S).
        is_causal: a hint that attn_mask is the causal mask; attn_mask must be given, and
            is used as given.

    Shape:
        query (L, N, E), key (S, N, kdim), value (S, N, vdim), output (L, N, E) (with
        batch_first (N, L, E) and so on); unbatched: (L, E), (S, kdim), (S, vdim) → (L, E),
        the masks (S,) and (L, S) or (num_heads, L, S), the weights (L, S).

    A query whose every key is masked gets zero weights and a zero attention output (then
    out_proj adds b_o); torch gives that with need_weights=False and NaN otherwise.

    Attributes (torch's initialisation):
        in_proj_weight: (3E, E), xavier_uniform_: U(-a, a), a = √(6 / (E + 3E)).
        in_proj_bias: (3E,), zeros.
        out_proj: a Linear(E, E): weight from U(-1/√E, 1/√E), bias zeros.

    Example:
    >>> import autodiff as ad, nn
    >>> mha = nn.attention.MultiheadAttention(8, num_heads=2, batch_first=True)
    >>> x = ad.randn(3, 5, 8)                           # 3 sequences of 5 tokens
    >>> output, weights = mha(x, x, x)                  # self-attention
    >>> output.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    >>> mha
    MultiheadAttention(
      (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)
    )
    """

    SETTINGS = (hidden("embed_dim"), hidden("num_heads"), hidden("dropout"),
                hidden("bias", attribute="in_proj_bias"), hidden("kdim"), hidden("vdim"),
                hidden("batch_first"))
    """torch's repr shows none of them (only out_proj, the submodule)."""
    LABEL = "{embed_dim}, heads={num_heads}"

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None,
                 batch_first: bool = False) -> None:
        super().__init__()
        check_size("MultiheadAttention", "embed_dim", embed_dim)
        check_size("MultiheadAttention", "num_heads", num_heads)
        if embed_dim == 0 or num_heads == 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be positive "
                             f"and divisible by num_heads ({num_heads}): each head takes "
                             f"embed_dim / num_heads features")
        F.check_probability("MultiheadAttention", dropout)
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not supported; to let a query attend to 'nothing', "
                                      "append a learned or zero key and value yourself")
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        check_size("MultiheadAttention", "kdim", self.kdim)
        check_size("MultiheadAttention", "vdim", self.vdim)
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        packed = self.kdim == self.vdim == embed_dim       # torch's _qkv_same_embed_dim
        self.register_parameter("in_proj_weight", Parameter(ad.zeros(3 * embed_dim, embed_dim))
                                if packed else None)
        for name, features in (("q", embed_dim), ("k", self.kdim), ("v", self.vdim)):
            self.register_parameter(f"{name}_proj_weight", None if packed else
                                    Parameter(ad.zeros(embed_dim, features)))
        self.register_parameter("in_proj_bias", Parameter(ad.zeros(3 * embed_dim))
                                if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's: xavier_uniform_ on the input projections, zeros for their bias and for
        out_proj's bias (out_proj's weight keeps Linear's U(-1/√E, 1/√E))."""
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                       self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def projection_weights(self) -> tuple[Tensor, Tensor, Tensor]:
        """W_q, W_k, W_v: the three blocks of in_proj_weight, or the separate weights."""
        if self.in_proj_weight is not None:
            return self.in_proj_weight.chunk(3)
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = self.check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is "
                             "the causal mask, so attn_mask must be given: True above the "
                             "diagonal, e.g. ~ad.ones(L, L, dtype=ad.bool).tril()")
        if not batched:                                   # a batch of one
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:                            # work in (L, N, E), as torch
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, _ = query.shape
        source_length = key.shape[0]
        mask = self.merged_mask(attn_mask, key_padding_mask, batch, length, source_length,
                                query.dtype)

        w_q, w_k, w_v = self.projection_weights()
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self.split_heads(F.linear(query, w_q, b_q))                # (N, H, L, E/H)
        k = self.split_heads(F.linear(key, w_k, b_k))                  # (N, H, S, E/H)
        v = self.split_heads(F.linear(value, w_v, b_v))                # (N, H, S, E/H)
        dropout_p = self.dropout if self.training else 0.0
        heads, weights = F.attend(q, k, v, mask, dropout_p, scale=None)  # (N, H, L, E/H)
        joined = heads.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        output = self.out_proj(joined)                                 # (L, N, E)

        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(1)                                  # (N, L, S)
        return output, (weights if batched else weights.squeeze(0))

    def split_heads(self, x: Tensor) -> Tensor:
        """(L, N, E) → (N, H, L, E/H): head h takes features h·E/H to (h+1)·E/H - 1."""
        length, batch, _ = x.shape
        return x.reshape(length, batch, self.num_heads, self.head_dim).permute(1, 2, 0, 3)

    def merged_mask(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    batch: int, length: int, source_length: int,
                    dtype: Any) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive mask that broadcasts to the
        scores (N, H, L, S); booleans mean True = masked out."""
        heads = self.num_heads
        mask = F.additive_mask(attn_mask, attend_where=False, dtype=dtype)
        if mask is not None:
            if mask.shape == (length, source_length):
                mask = mask.reshape(1, 1, length, source_length)
            elif mask.shape == (batch * heads, length, source_length):
                mask = mask.reshape(batch, heads, length, source_length)
            else:
                per_head = "num_heads" if batch == 1 else "N·num_heads"
                raise ShapeError(f"MultiheadAttention: attn_mask must be (L, S) = "
                                 f"{(length, source_length)} or ({per_head}, L, S) = "
                                 f"{(batch * heads, length, source_length)}, got "
                                 f"{tuple(attn_mask.shape)}")
        padding = F.additive_mask(key_padding_mask, attend_where=False, dtype=dtype)
        if padding is not None:
            if padding.shape != (batch, source_length):
                raise ShapeError(f"MultiheadAttention: key_padding_mask must be (N, S) = "
                                 f"{(batch, source_length)} (or (S,) for an unbatched "
                                 f"input), one flag per key, got "
                                 f"{tuple(key_padding_mask.shape)}")
            padding = padding.reshape(batch, 1, 1, source_length)
            mask = padding if mask is None else mask + padding
        return mask

    def check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the input is batched: query (L, N, E) (or (N, L, E)) with key
        (S, N, kdim) and value (S, N, vdim), or all three unbatched, one dim fewer."""
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"MultiheadAttention: query, key and value must all be 3-D "
                             f"(batched) or all 2-D (unbatched), got shapes {query.shape}, "
                             f"{key.shape}, {value.shape}")
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise ShapeError(f"MultiheadAttention: {name} must have {size} features "
                                 f"(its last dim), got shape {t.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(f"MultiheadAttention: key {key.shape} and value {value.shape} "
                             f"must agree in all but their last dim: one value per key")
        batch_dim = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_dim] != key.shape[batch_dim]:
            raise ShapeError(f"MultiheadAttention: query {query.shape} and key {key.shape} "
                             f"must have the same batch size (dim {batch_dim}, "
                             f"batch_first={self.batch_first})")
        return query.ndim == 3

    @staticmethod
    def state_shapes(embed_dim: int, bias: bool = True, kdim: int | None = None,
                     vdim: int | None = None, **_: Any) -> dict[str, tuple[int, ...]]:
        """torch's keys: one packed in_proj_weight when keys and values have embed_dim
        features, else q_proj_weight, k_proj_weight and v_proj_weight; out_proj's too."""
        kdim = embed_dim if kdim is None else kdim
        vdim = embed_dim if vdim is None else vdim
        if kdim == vdim == embed_dim:
            shapes = {"in_proj_weight": (3 * embed_dim, embed_dim)}
        else:
            shapes = {"q_proj_weight": (embed_dim, embed_dim),
                      "k_proj_weight": (embed_dim, kdim), "v_proj_weight": (embed_dim, vdim)}
        if bias:
            shapes["in_proj_bias"] = (3 * embed_dim,)
        out_proj = Linear.state_shapes(embed_dim, embed_dim, bias)
        return shapes | {f"out_proj.{key}": shape for key, shape in out_proj.items()}
