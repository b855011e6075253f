"""Character-level language models of first names: unigram, bigram, MLP, causal transformer.

Not from a source document: a makemore / nanoGPT-style exercise that shows autograd,
`nn.Embedding`, `nn.LayerNorm`, causal `scaled_dot_product_attention` (nn/attention.py),
`optim.AdamW`, gradient clipping and `ad.multinomial` sampling working together. The corpus is the
~5,000 first names of the US census lists in the PyPI package `names` 0.3.0
(`nn.data.names.first_names`, checked by SHA-256), split 80/10/10 by a seeded shuffle.
Each name is read as characters between a '.' start token and a '.' end token; every
model predicts the next character, and each is scored by its validation loss in nats per
predicted character (the end token counts, so uniform guessing over the 27 symbols costs
ln 27 ≈ 3.30):

1. unigram: the training character frequencies, context ignored (its training loss is
   the entropy of the characters);
2. bigram: a (27, 27) table of logits, one row per previous character, trained with
   cross-entropy;
3. MLP (Bengio et al. 2003): embeddings of the previous 3 characters, concatenated,
   Linear → tanh → Linear;
4. a small causal transformer: token + position embeddings, 2 pre-LayerNorm blocks of
   causal self-attention and a GELU MLP with residuals, a final LayerNorm and a linear
   head, trained with AdamW and gradient clipping at norm 1 on whole names padded to a
   block, the padding ignored by the loss (`ignore_index`).

The claim checked: more context, used better, predicts better — validation loss
transformer < MLP < bigram < unigram, each gap at least a margin. Each trained model also
writes 10 names drawn with `ad.multinomial` from a seeded `ad.Generator`; the pictures are
the loss curves and the transformer's attention weights on one validation name.

The bigram's and the MLP's training steps run under `ad.compile`, which replays them bit
for bit and was faster per step (on a 2-vCPU AMD EPYC, 2026-12-06: 14.3 against 22.0 ms
for the full-batch bigram, 0.44 against 0.60 ms for the MLP); the transformer's step runs
eagerly, since compiled it was slower (32.9 against 30.1 ms).
"""
from __future__ import annotations

import math
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
import nn
import optim
from demos.common import fmt, plt, print_comparison, progress, row, save_figure, say
from nn import functional as F
from nn.data.names import first_names
from nn.functional import scaled_dot_product_attention

SYMBOLS = "." + "abcdefghijklmnopqrstuvwxyz"      # '.' (index 0) starts and ends every name
V = len(SYMBOLS)
IGNORE = -1                                        # target of padding, ignored by the loss
SPLIT = (0.8, 0.1, 0.1)
SAMPLES = 10
CONTEXT = 3                                        # the MLP's previous characters
# the gaps each claim needs, in nats per character; seed 0 measured 0.47, 0.28, 0.12, 0.40
# (full) and 0.47, 0.16, 0.07, 0.23 (quick)
MARGIN = {"bigram < unigram": 0.3, "MLP < bigram": 0.05, "transformer < MLP": 0.02,
          "transformer < bigram": 0.05}
QUICK_CLAIMS = ("bigram < unigram", "transformer < bigram")

FULL = {"bigram_steps": 300, "mlp_steps": 4000, "mlp_batch": 128, "tf_steps": 1200,
        "tf_batch": 64, "embd": 48, "heads": 4, "eval_every": 100}
QUICK = {"bigram_steps": 80, "mlp_steps": 500, "mlp_batch": 128, "tf_steps": 300,
         "tf_batch": 32, "embd": 32, "heads": 4, "eval_every": 50}


# ---- the data: names as index sequences, three ways of cutting them into examples

def encode(name: str) -> list[int]:
    return [SYMBOLS.index(c) for c in name]


def decode(indices: list[int]) -> str:
    return "".join(SYMBOLS[i] for i in indices)


def split(names: list[str], seed: int) -> dict[str, list[str]]:
    """80/10/10 of the names by a shuffle seeded with `seed`."""
    order = np.random.default_rng(seed).permutation(len(names))
    n_train, n_val = int(SPLIT[0] * len(names)), int(SPLIT[1] * len(names))
    shuffled = [names[i] for i in order]
    return {"train": shuffled[:n_train], "val": shuffled[n_train:n_train + n_val],
            "test": shuffled[n_train + n_val:]}


def windows(names: list[str], context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (previous `context` characters, next character) pair, the start padded
    with '.': "emma" gives ... → e, ..e → m, .em → m, emm → a, mma → '.'."""
    xs, ys = [], []
    for name in names:
        window = [0] * context
        for target in encode(name) + [0]:
            xs.append(window)
            ys.append(target)
            window = window[1:] + [target]
    return np.array(xs, np.int64), np.array(ys, np.int64)


def padded(names: list[str], block: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole names as (N, block) inputs '.' + name and targets name + '.'; positions past
    the end hold '.' as input and IGNORE as target."""
    xs = np.zeros((len(names), block), np.int64)
    ys = np.full((len(names), block), IGNORE, np.int64)
    for i, name in enumerate(names):
        codes = encode(name)
        xs[i, 1:len(codes) + 1] = codes
        ys[i, :len(codes) + 1] = codes + [0]
    return xs, ys


# ---- the models

class MLP(nn.Module):
    """Bengio et al. (2003): the embeddings of the previous CONTEXT characters,
    concatenated, through Linear → tanh → Linear to the next character's logits."""

    def __init__(self, embd: int = 10, hidden: int = 200) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Embedding(V, embd), nn.Flatten(),
                                 nn.Linear(CONTEXT * embd, hidden), nn.Tanh(),
                                 nn.Linear(hidden, V))

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        return self.net(x)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t only. With
    `keep_weights` set it also keeps each forward's attention weights (numpy, (B, H, T, T))
    in `weights`, for the picture."""

    def __init__(self, embd: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(embd, 3 * embd)
        self.proj = nn.Linear(embd, embd)
        self.keep_weights = False
        self.weights: np.ndarray | None = None

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, t, self.heads, c // self.heads).transpose(1, 2)
                   for z in (q, k, v))                          # (B, H, T, D)
        if self.keep_weights:
            scores = q.numpy() @ np.swapaxes(k.numpy(), -1, -2) / math.sqrt(c // self.heads)
            scores = np.where(np.tril(np.ones((t, t), bool)), scores, -np.inf)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            self.weights = scores / scores.sum(-1, keepdims=True)
        y = scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)) (pre-norm, as GPT-2)."""

    def __init__(self, embd: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(embd)
        self.attn = CausalSelfAttention(embd, heads)
        self.ln2 = nn.LayerNorm(embd)
        self.mlp = nn.Sequential(nn.Linear(embd, 4 * embd), nn.GELU(), nn.Linear(4 * embd, embd))

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """Token and position embeddings, `layers` blocks, LayerNorm, a linear head: the
    logits (B, T, V) of the character after each position."""

    def __init__(self, block: int, embd: int, heads: int, layers: int = 2) -> None:
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(V, embd)
        self.pos = nn.Embedding(block, embd)
        self.blocks = nn.Sequential(*(Block(embd, heads) for _ in range(layers)))
        self.ln = nn.LayerNorm(embd)
        self.head = nn.Linear(embd, V)
        with ad.no_grad():                  # small embeddings, as GPT-2's N(0, 0.02²)
            self.tok.weight.mul_(0.02)
            self.pos.weight.mul_(0.02)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        t = x.shape[1]
        h = self.tok(x) + self.pos(ad.arange(t))
        return self.head(self.ln(self.blocks(h)))


def sequence_loss(logits: ad.Tensor, targets: ad.Tensor) -> ad.Tensor:
    """Mean cross-entropy over the positions whose target is not IGNORE."""
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=IGNORE)


# ---- training, evaluation, sampling

def train(name: str, model: nn.Module, data: dict[str, tuple[np.ndarray, np.ndarray]],
          loss_fn: Callable[[ad.Tensor, ad.Tensor], ad.Tensor], *, steps: int,
          batch: int | None, lr: float, eval_every: int, quick: bool,
          weight_decay: float = 0.01, clip: float | None = None,
          compiled: bool = False) -> dict[str, Any]:
    """AdamW on minibatches drawn with replacement (the whole training set when `batch` is
    None), the learning rate decayed by 10× linearly over the run; the validation loss
    every `eval_every` steps and at the end. With `compiled` the step (forward, backward,
    clipping, update) runs under ad.compile, which replays it bit for bit."""
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def train_step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return loss

    run_step = ad.compile(train_step) if compiled else train_step
    x_train, y_train = data["train"]
    x_val, y_val = ad.tensor(data["val"][0]), ad.tensor(data["val"][1])
    history: dict[str, Any] = {"steps": [], "train": [], "val": []}

    def validation() -> float:
        model.eval()
        with ad.no_grad():
            value = loss_fn(model(x_val), y_val).item()
        model.train()
        return value

    rows = np.arange(len(x_train))
    for step in progress(range(steps), quick=quick, desc=name):
        if batch is not None:
            rows = ad.randint(0, len(x_train), (batch,)).numpy()
        for group in optimizer.param_groups:
            group["lr"] = lr * (1 - 0.9 * step / steps)
        loss = run_step(ad.tensor(x_train[rows]), ad.tensor(y_train[rows]))
        if step % eval_every == 0 or step == steps - 1:
            history["steps"].append(step + 1)
            history["train"].append(loss.item())
            history["val"].append(validation())
    if compiled:
        history["replays"] = run_step.cache_info().replays
    say(f"{name}: validation loss {history['val'][-1]:.4f} after {steps} steps")
    return history


def sample(next_probabilities: Callable[[list[int]], np.ndarray], generator: ad.Generator,
           count: int = SAMPLES, longest: int = 20) -> list[str]:
    """`count` names drawn one character at a time until '.' (or `longest` letters)."""
    names = []
    for _ in range(count):
        codes: list[int] = []
        while len(codes) < longest:
            p = ad.tensor(next_probabilities(codes))
            code = int(ad.multinomial(p, 1, generator=generator).item())
            if code == 0:
                break
            codes.append(code)
        names.append(decode(codes))
    return names


def probabilities(logits: ad.Tensor) -> np.ndarray:
    return F.softmax(logits, dim=-1).numpy().astype(np.float64)


# ---- pictures

def plot_losses(curves: dict[str, dict[str, list[float]]], unigram: float,
                path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    ax.axhline(math.log(V), color="0.6", ls=":", label=f"uniform, ln {V}")
    ax.axhline(unigram, color="k", ls="--", label="unigram (validation)")
    colours = {"bigram": "tab:blue", "MLP": "tab:orange", "transformer": "tab:green"}
    for name, h in curves.items():
        ax.plot(h["steps"], h["train"], color=colours[name], alpha=0.35, lw=1)
        ax.plot(h["steps"], h["val"], color=colours[name], lw=2,
                label=f"{name}: validation (faint: training batch)")
    ax.set(xscale="log", xlabel="training step (log scale)",
           ylabel="loss, nats per character", title="next-character loss on first names")
    ax.legend(fontsize=9)
    save_figure(fig, path)


def plot_attention(weights: list[np.ndarray], name: str, path: pathlib.Path) -> None:
    """One panel per (layer, head): row t is what position t attends to."""
    layers, heads = len(weights), weights[0].shape[0]
    labels = list("." + name)
    fig, axes = plt.subplots(layers, heads, figsize=(2.6 * heads, 2.8 * layers),
                             squeeze=False, layout="constrained")
    for layer, w in enumerate(weights):
        for head in range(heads):
            ax = axes[layer][head]
            image = ax.imshow(w[head], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks(range(len(labels)), labels)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=9)
    fig.colorbar(image, ax=axes.ravel().tolist(), label="attention weight (query row → key)")
    fig.suptitle(f"transformer attention on the validation name '{name}'")
    save_figure(fig, path)


# ---- the experiment

def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    settings = QUICK if quick else FULL
    names = first_names()
    parts = split(names, seed)
    block = max(len(n) for n in names) + 1           # '.' + the longest name
    say(f"{len(names)} names ({', '.join(f'{k} {len(v)}' for k, v in parts.items())}), "
        f"block {block}")
    generator = ad.Generator().manual_seed(seed)
    losses: dict[str, float] = {}
    samples: dict[str, list[str]] = {}
    curves: dict[str, dict[str, list[float]]] = {}

    # 1. unigram: character frequencies (add-one smoothed), context ignored
    _, y_train = windows(parts["train"], 1)
    _, y_val = windows(parts["val"], 1)
    counts = np.bincount(y_train, minlength=V) + 1.0
    p_unigram = counts / counts.sum()
    entropy = float(-(p_unigram * np.log(p_unigram)).sum())
    losses["unigram"] = float(-np.log(p_unigram[y_val]).mean())
    samples["unigram"] = sample(lambda codes: p_unigram, generator)
    say(f"unigram: entropy {entropy:.4f}, validation loss {losses['unigram']:.4f}")

    # 2. bigram: one row of logits per previous character, full-batch
    bigram = nn.Embedding(V, V)
    nn.init.zeros_(bigram.weight)
    data = {k: windows(parts[k], 1) for k in ("train", "val")}
    data = {k: (x[:, 0], y) for k, (x, y) in data.items()}
    curves["bigram"] = train("bigram", bigram, data, F.cross_entropy,
                             steps=settings["bigram_steps"], batch=None, lr=0.5,
                             weight_decay=0.0, eval_every=settings["eval_every"] // 5,
                             quick=quick, compiled=True)
    losses["bigram"] = curves["bigram"]["val"][-1]
    with ad.no_grad():
        table = probabilities(bigram.weight)
    samples["bigram"] = sample(lambda codes: table[codes[-1] if codes else 0], generator)

    # 3. MLP on the previous CONTEXT characters
    mlp = MLP()
    data = {k: windows(parts[k], CONTEXT) for k in ("train", "val")}
    curves["MLP"] = train("MLP", mlp, data, F.cross_entropy, steps=settings["mlp_steps"],
                          batch=settings["mlp_batch"], lr=1e-2, weight_decay=0.1,
                          eval_every=settings["eval_every"], quick=quick, compiled=True)
    losses["MLP"] = curves["MLP"]["val"][-1]
    mlp.eval()

    def mlp_next(codes: list[int]) -> np.ndarray:
        context = ([0] * CONTEXT + codes)[-CONTEXT:]
        with ad.no_grad():
            return probabilities(mlp(ad.tensor([context])))[0]
    samples["MLP"] = sample(mlp_next, generator)

    # 4. the causal transformer on whole names
    transformer = Transformer(block, settings["embd"], settings["heads"])
    data = {k: padded(parts[k], block) for k in ("train", "val")}
    curves["transformer"] = train("transformer", transformer, data, sequence_loss,
                                  steps=settings["tf_steps"], batch=settings["tf_batch"],
                                  lr=3e-3, weight_decay=0.1, clip=1.0,
                                  eval_every=settings["eval_every"], quick=quick)
    losses["transformer"] = curves["transformer"]["val"][-1]
    transformer.eval()

    def transformer_next(codes: list[int]) -> np.ndarray:
        with ad.no_grad():
            return probabilities(transformer(ad.tensor([[0] + codes])))[0, -1]
    samples["transformer"] = sample(transformer_next, generator, longest=block - 1)

    parameters = {"bigram": bigram.weight.numel(),
                  "MLP": sum(p.numel() for p in mlp.parameters()),
                  "transformer": sum(p.numel() for p in transformer.parameters())}
    for model, drawn in samples.items():
        say(f"{model} samples: {' '.join(drawn)}")

    # ---- pictures: the loss curves, the attention on one validation name
    plot_losses(curves, losses["unigram"], out / "losses.png")
    shown = max(parts["val"][:20], key=len)
    attentions = [b.attn for b in transformer.blocks]
    for a in attentions:
        a.keep_weights = True
    with ad.no_grad():
        transformer(ad.tensor([[0] + encode(shown)]))
    plot_attention([a.weights[0] for a in attentions], shown, out / "attention.png")
    for a in attentions:
        a.keep_weights, a.weights = False, None

    # ---- the claims
    order = ("unigram", "bigram", "MLP", "transformer")
    rows = [row(f"{m}: validation loss (nats/char)", "—",
                fmt(losses[m]) + ("" if m == "unigram" else f" ({parameters[m]:,} params)"),
                "informs", agrees=None) for m in order]
    gaps = {}
    for claim, margin in MARGIN.items():
        better, worse = claim.split(" < ")
        gap = losses[worse] - losses[better]
        gaps[claim] = gap
        holds = gap >= margin
        checked = not quick or claim in QUICK_CLAIMS
        verdict = ("agrees" if holds else f"differs: gap below {margin}") if checked \
            else ("holds" if holds else "not reached") + " (not claimed in quick mode)"
        rows.append(row(f"{claim}", f"gap ≥ {margin}", f"gap {gap:.3f}", verdict,
                        agrees=holds if checked else None))
    rows.append(row("transformer samples", "—", ", ".join(samples["transformer"][:5]),
                    "informs", agrees=None))
    print_comparison(rows, "char_lm: validation loss of four next-character models")
    return {"comparison": rows, "losses": losses, "gaps": gaps, "margins": MARGIN,
            "unigram_entropy": entropy, "samples": samples, "curves": curves,
            "parameters": parameters, "settings": settings, "block": block,
            "split_sizes": {k: len(v) for k, v in parts.items()}, "attention_name": shown}
