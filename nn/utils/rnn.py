"""Variable-length sequences in one tensor (torch.nn.utils.rnn's names): pad_sequence
pads each sequence to the longest and stacks them, for the RNN layers' (T, B, *) or
batch_first (B, T, *) inputs. It is composed of `full`, `cat` and `stack`, so the gradient
of each sequence is the padded gradient's slice for it, and the padding gets none."""
from __future__ import annotations

from collections.abc import Iterable

import autodiff as ad
from autodiff.errors import ShapeError
from autodiff.tensor import Tensor


def pad_sequence(sequences: Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Pad sequences of shapes (L₁, *), …, (L_B, *) with `padding_value` to the longest
    length T = max Lᵢ, and stack them:

        out[t, i] = sequences[i][t]   for t < Lᵢ        (padding_side='right')
        out[t, i] = padding_value      for t >= Lᵢ

    giving shape (T, B, *), or (B, T, *) with batch_first=True; padding_side='left' puts
    the padding before each sequence instead. The trailing dims * must be equal; the
    result has the first sequence's dtype (as torch, the others are converted to it).
    A tensor given as `sequences` is taken as the sequences along its first dim.

    >>> import autodiff as ad
    >>> pad_sequence([ad.tensor([1.0, 2.0, 3.0]), ad.tensor([4.0])], batch_first=True)
    tensor([[1., 2., 3.],
            [4., 0., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences; pass at least "
                         "one tensor of shape (length, *)")
    first = sequences[0]
    for i, sequence in enumerate(sequences):
        if not isinstance(sequence, Tensor):
            raise TypeError(f"pad_sequence: sequences[{i}] is a {type(sequence).__name__}, "
                            f"not a Tensor; make it one first: ad.tensor(...)")
        if sequence.ndim == 0 or sequence.shape[1:] != first.shape[1:]:
            expected = "(length" + "".join(f", {n}" for n in first.shape[1:]) + ")"
            raise ShapeError(f"pad_sequence: every sequence must have shape {expected}, "
                             f"as sequences[0] of shape {first.shape}; sequences[{i}] has "
                             f"shape {sequence.shape}")
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        if sequence.dtype != first.dtype:
            sequence = sequence.to(first.dtype)
        padding = ad.full((longest - sequence.shape[0], *first.shape[1:]), padding_value,
                          dtype=first.dtype)
        parts = [sequence, padding] if padding_side == "right" else [padding, sequence]
        padded.append(ad.cat(parts, dim=0))
    return ad.stack(padded, dim=0 if batch_first else 1)
