"""Backpropagation by hand, layer by layer, beside autodiff's gradients (documents 000, 002).

The lecture notes (document 002, see docs/sources.md) treat a layer as a unit with a cache:
forward takes a^{l−1}, returns a^l = act(z^l) with z^l = W^l·a^{l−1} + b^l and caches z^l;
backward takes da^l = dL/da^l and returns

    dz^l = da^l ⊙ act'(z^l)         (document 000 calls dz the layer's "input error" δ)
    dW^l = dz^l · (a^{l−1})ᵀ
    db^l = dz^l
    da^{l−1} = (W^l)ᵀ · dz^l        (the note prints (W^l)ᵀ × z^l: a typo, shown below)

We apply these formulas with numpy, in the notes' column-vector notation, to

1. document 000's regression net 1 → 2 → 5 → 1 (Sigmoid after each hidden layer, no
   output activation, squared error on one sample x = 1.5, target the noise-free line
   2.3x + 4.7 = 8.15), built the document's way with `nn.Linear` and `nn.Sigmoid`
   (which compute in rows, z = a·Wᵀ + b, as PyTorch does);
2. note 002's one-output example z = W·x + b, ŷ = σ(z), L = (ŷ − y)², with its chain
   dL/dŷ = 2ŷ − 2y, dŷ/dz = ŷ(1 − ŷ), dz/dW = x, dz/db = 1.

and print each quantity beside autodiff's (`retain_grad()` keeps dL/dz and dL/da), in
float64 so that they must agree to rounding. `ad.trace_backward` then replays the same
backward pass node by node, printing each op's rule and the gradients it receives and
sends: the dz of the formulas arrives at each z^l. The graphs are drawn with their values
and gradients by `ad.viz`.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

import autodiff as ad
import nn
from demos.common import print_comparison, row, save_graph

X, TARGET = 1.5, 2.3 * 1.5 + 4.7       # one sample of document 000, noise-free target
LEARNING_RATE = 0.02                     # document 000's
TOLERANCE = 1e-9       # float64: hand and autodiff may differ by rounding only, 1e-9 of the size


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def regression_net() -> nn.Sequential:
    """Document 000's Activation_Net(1, 2, 5, 1): layer1 and layer2 Linear + Sigmoid,
    layer3 Linear alone; PyTorch's default initialisation; float64."""
    return nn.Sequential({
        "layer1": nn.Sequential(nn.Linear(1, 2), nn.Sigmoid()),
        "layer2": nn.Sequential(nn.Linear(2, 5), nn.Sigmoid()),
        "layer3": nn.Sequential(nn.Linear(5, 1)),
    }).double()


def keep(tensor: ad.Tensor, name: str) -> ad.Tensor:
    """Name `tensor` for the graph drawing and keep its gradient (an intermediate's .grad
    is dropped after backward unless retained)."""
    tensor.name = name
    if tensor.grad_fn is not None:
        tensor.retain_grad()
    return tensor


def autodiff_pass(model: nn.Sequential) -> dict[str, Any]:
    """Forward one sample layer by layer, keeping every z and a; backward; return the
    tensors (their .grad is autodiff's answer)."""
    a = keep(ad.tensor([[X]], dtype=ad.float64, requires_grad=True), "a0 = x")   # one row
    activations, pre_activations = [a], []
    for l, block in enumerate(model, start=1):
        with ad.viz.scope(f"layer{l}"):                           # one box per layer in the graph
            z = keep(block[0](a), f"z{l}")                        # z = a·Wᵀ + b, (1, n_l)
            a = keep(block[1](z), f"a{l}") if len(block) > 1 else keep(z, f"z{l} = ŷ")
        pre_activations.append(z)
        activations.append(a)
    error = keep(a - TARGET, "ŷ − y")
    loss = keep(keep(error ** 2, "(ŷ − y)²").sum(), "L")          # one sample: L = (ŷ − y)²
    loss.backward(retain_graph=True)                 # kept for the stepped replay below
    return {"a": activations, "z": pre_activations, "loss": loss}


def hand_pass(weights: list[np.ndarray], biases: list[np.ndarray]) -> dict[str, Any]:
    """The notes' formulas in column vectors: forward caches z and a; backward applies
    dz = da ⊙ act'(z), dW = dz·a_prevᵀ, db = dz, da_prev = Wᵀ·dz from the output down."""
    a = np.array([[X]])                                          # (1, 1) column
    activations, pre_activations = [a], []
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        z = W @ a + b                                             # (n_l, 1)
        a = sigmoid(z) if l < len(weights) else z
        pre_activations.append(z)
        activations.append(a)

    layers: list[dict[str, np.ndarray]] = []
    da = 2 * (a - TARGET)                                         # dL/dŷ = 2ŷ − 2y
    for l in range(len(weights), 0, -1):
        W, z, a = weights[l - 1], pre_activations[l - 1], activations[l]
        a_prev = activations[l - 1]
        act_grad = a * (1 - a) if l < len(weights) else np.ones_like(z)   # σ'(z) = a(1 − a)
        dz = da * act_grad
        layer = {"da": da, "dz": dz, "dW": dz @ a_prev.T, "db": dz, "da_prev": W.T @ dz,
                 "typo_da_prev": W.T @ z}                           # the note's (W^l)ᵀ × z^l
        layers.insert(0, layer)
        da = layer["da_prev"]
    return {"layers": layers, "loss": float(((activations[-1] - TARGET) ** 2).sum()),
            "prediction": float(activations[-1][0, 0])}


def one_output_example() -> dict[str, Any]:
    """Note 002: z = W·x + b, ŷ = σ(z), L = (ŷ − y)², three inputs, by hand and by autodiff."""
    rng = ad.random.generator()
    x = rng.normal(size=(3, 1))
    W0, b0, y = rng.normal(size=(1, 3)), rng.normal(size=(1, 1)), 1.0

    W = keep(ad.tensor(W0, requires_grad=True), "W")
    b = keep(ad.tensor(b0, requires_grad=True), "b")
    z = keep(keep(W @ keep(ad.tensor(x), "x"), "W·x") + b, "z")
    y_hat = keep(z.sigmoid(), "ŷ")
    loss = keep(keep(keep(y_hat - y, "ŷ − y") ** 2, "(ŷ − y)²").sum(), "L")
    loss.backward()

    p = sigmoid(W0 @ x + b0)                                     # ŷ by hand
    dL_dyhat = 2 * p - 2 * y                                      # dL/dŷ = 2ŷ − 2y
    dyhat_dz = p * (1 - p)                                        # dŷ/dz = ŷ(1 − ŷ)
    hand = {"dL/dŷ": dL_dyhat, "dL/dz": dL_dyhat * dyhat_dz,
            "dL/dW": dL_dyhat * dyhat_dz * x.T,                   # dz/dW = xᵀ
            "dL/db": dL_dyhat * dyhat_dz}                         # dz/db = 1
    ours = {"dL/dŷ": y_hat.grad.numpy(), "dL/dz": z.grad.numpy(), "dL/dW": W.grad.numpy(),
            "dL/db": b.grad.numpy()}
    return {"hand": hand, "autodiff": ours, "loss": loss}


def show(name: str, hand: np.ndarray, autodiff: np.ndarray) -> float:
    """Print one quantity both ways (flattened) and return the largest absolute difference.
    Raises if that exceeds TOLERANCE times the quantity's size (its largest |value|, at
    least 1): then the hand formula is wrong, not the rounding."""
    def text(array: np.ndarray) -> str:
        return np.array2string(array.ravel(), precision=6, max_line_width=200)

    difference = float(np.max(np.abs(hand - autodiff)))
    print(f"  {name:<9} hand     {text(hand)}")
    print(f"  {'':<9} autodiff {text(autodiff)}   max |diff| {difference:.1e}")
    allowed = TOLERANCE * max(1.0, float(np.max(np.abs(hand))))
    if difference > allowed:
        raise RuntimeError(f"backprop: {name} by hand and by autodiff differ by "
                           f"{difference:.3g}, more than {allowed:.3g} ({TOLERANCE:g} of its "
                           f"size): see the values printed above")
    return difference


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    # ---- document 000's net: hand formulas vs autodiff, layer by layer
    model = regression_net()
    blocks = list(model)
    weights = [block[0].weight.numpy() for block in blocks]        # (out, in), as the notes
    biases = [block[0].bias.numpy().reshape(-1, 1) for block in blocks]
    traced = autodiff_pass(model)
    hand = hand_pass(weights, biases)
    print(f"document 000's net 1 → 2 → 5 → 1 on x = {X}, target {TARGET}: "
          f"ŷ = {hand['prediction']:.6f}, L = {hand['loss']:.6f} "
          f"(autodiff: L = {traced['loss'].item():.6f})")

    # autodiff works in rows (z = a·Wᵀ + b, shape (1, n)): its dz is the notes' dzᵀ
    differences: dict[str, float] = {}
    for l in range(len(blocks), 0, -1):
        layer, linear = hand["layers"][l - 1], blocks[l - 1][0]
        activation = "σ" if l < len(blocks) else "none"
        print(f"layer{l}: Linear({linear.in_features} → {linear.out_features}), "
              f"activation {activation}")
        pairs = {"da": (layer["da"], traced["a"][l].grad.numpy().T),
                 "dz = δ": (layer["dz"], traced["z"][l - 1].grad.numpy().T),
                 "dW": (layer["dW"], linear.weight.grad.numpy()),
                 "db": (layer["db"], linear.bias.grad.numpy().reshape(-1, 1)),
                 "da_prev": (layer["da_prev"], traced["a"][l - 1].grad.numpy().T)}
        for name, (by_hand, by_autodiff) in pairs.items():
            differences[f"layer{l}.{name.split()[0]}"] = show(name, by_hand, by_autodiff)
    worst = max(differences.values())

    # the note's literal last line, da_prev = Wᵀ·z, against autodiff's da_prev
    typo = {f"layer{l}": float(np.max(np.abs(hand["layers"][l - 1]["typo_da_prev"]
                                             - traced["a"][l - 1].grad.numpy().T)))
            for l in range(1, len(blocks) + 1)}
    print("the note's literal (W^l)ᵀ × z^l instead of (W^l)ᵀ · dz^l is off by "
          + ", ".join(f"{k}: {v:.3g}" for k, v in typo.items()))

    # ---- the same backward pass, one node at a time, with each node's rule
    trace = ad.trace_backward(traced["loss"], params=model)
    print(trace)
    stepped_dz = {f"layer{l}": float(np.max(np.abs(
        next(step for step in trace if step.output is traced["z"][l - 1]).output_grad.T
        - hand["layers"][l - 1]["dz"]))) for l in range(1, len(blocks) + 1)}
    trace_equals_backward = all(np.array_equal(trace.grads[p].numpy(), p.grad.numpy())
                                for p in model.parameters())
    print(f"the steps reach each layer's z with the hand dz (largest difference "
          f"{max(stepped_dz.values()):.1e}); their leaf gradients equal .grad: "
          f"{trace_equals_backward}")

    # ---- note 002's one-output example
    print("note 002: z = W·x + b, ŷ = σ(z), L = (ŷ − y)², three inputs")
    single = one_output_example()
    single_differences = {name: show(name, single["hand"][name], single["autodiff"][name])
                          for name in single["hand"]}
    single_worst = max(single_differences.values())

    # ---- document 000's update w ← w − α·∂E/∂w with the hand gradients lowers the error
    stepped = hand_pass([W - LEARNING_RATE * layer["dW"]
                         for W, layer in zip(weights, hand["layers"])],
                        [b - LEARNING_RATE * layer["db"]
                         for b, layer in zip(biases, hand["layers"])])
    print(f"one step w ← w − {LEARNING_RATE}·∂E/∂w: L = {hand['loss']:.6f} → "
          f"{stepped['loss']:.6f}")

    # ---- the graphs, with every value and gradient
    graphs = [save_graph(traced["loss"], path=out / "graph.png", params=model, rankdir="TB"),
              save_graph(single["loss"], path=out / "graph_one_output.png")]
    if all(graphs):
        print(f"graphs: {', '.join(map(str, graphs))}")

    # `show` raised above unless every hand formula matched autodiff to rounding, so the
    # first two rows agree whenever we get here
    lowers = stepped["loss"] < hand["loss"]
    rows = [
        row("000 net 1→2→5→1: dz, dW, db, da_prev per layer",
            "formulas (δ, chain rule through σ')",
            f"hand = autodiff to {worst:.1e} (float64)", "agrees", agrees=True),
        row("002 one output: dL/dŷ, dL/dz, dL/dW, dL/db", "2ŷ − 2y, then × ŷ(1 − ŷ), × x, × 1",
            f"hand = autodiff to {single_worst:.1e}", "agrees", agrees=True),
        # the corrected formula matched autodiff in `show`; the typo is shown and named
        row("002 last line of backward", "da^{l−1} = (W^l)ᵀ × z^l",
            f"(W^l)ᵀ · dz^l matches autodiff; (W^l)ᵀ · z^l is off by up to "
            f"{max(typo.values()):.2g}", "document typo: z^l should be dz^l", agrees=True),
        row("000 net, backward stepped node by node (ad.trace_backward)",
            "dz arrives at each z^l; the leaves get dW, db",
            f"{len(trace)} steps; dz as by hand to {max(stepped_dz.values()):.1e}; "
            f"leaf gradients = .grad: {trace_equals_backward}",
            "agrees" if trace_equals_backward else "differs",
            agrees=trace_equals_backward and max(stepped_dz.values()) <= TOLERANCE),
        row(f"000 update w ← w − α·∂E/∂w, α = {LEARNING_RATE}", "lowers the error E",
            f"E = {hand['loss']:.4f} → {stepped['loss']:.4f} after one step",
            "agrees" if lowers else "not reproduced", agrees=lowers),
    ]
    print_comparison(rows, "backprop: documents 000 + 002 (docs/sources.md) vs autodiff")
    return {
        "comparison": rows,
        "sample": {"x": X, "target": TARGET, "prediction": hand["prediction"],
                   "loss": hand["loss"], "autodiff_loss": traced["loss"].item(),
                   "loss_after_one_step": stepped["loss"]},
        "layers": [{name: value.ravel() for name, value in layer.items()}
                   for layer in hand["layers"]],
        "max_abs_difference": differences,
        "max_abs_difference_overall": worst,
        "typo_formula_max_abs_difference": typo,
        "stepped": {"ops": [step.op for step in trace], "dz_max_abs_difference": stepped_dz,
                    "leaf_gradients_equal_backward": trace_equals_backward},
        "one_output": {"hand": single["hand"], "autodiff": single["autodiff"],
                       "max_abs_difference": single_differences,
                       "max_abs_difference_overall": single_worst},
    }
