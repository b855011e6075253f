"""The losses' options (nn/functional.py, nn/losses.py): class weights, ignore_index,
label smoothing and probability targets for cross_entropy and nll_loss, weight and
pos_weight for the binary cross-entropies, and the losses smooth_l1_loss, huber_loss,
kl_div and cosine_embedding_loss. Each against PyTorch (values and gradients, float32 and
float64, every reduction), worked numbers by hand, gradcheck and gradgradcheck of the
composite paths, the modules' buffers and hyperparameters, ad.compile, and the errors."""
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn import losses

DTYPES = [np.float32, np.float64]
RNG = np.random.default_rng(0)
Q = RNG.dirichlet(np.ones(4), 3)
# every input the cases use, by name (drawn once: the tests read them, never change them)
DRAWN = dict(
    logits=RNG.standard_normal((5, 4)) * 2, image=RNG.standard_normal((2, 4, 3, 2)),
    single=RNG.standard_normal(4), zero_d_class=np.array(2),
    classes=np.array([0, -1, 3, 2, -1]), classes_with_2=np.array([0, 2, 3, 2, 1]),
    class_3_ignored=np.array([3, 0, 3, 1, 2]),
    image_classes=np.array([[[0, 3], [-100, 1], [2, 2]], [[1, -100], [3, 0], [0, 2]]]),
    class_weight=np.array([0.5, 2.0, 1.0, 1.5]),
    probabilities=RNG.dirichlet(np.ones(4), 5),
    image_probabilities=RNG.dirichlet(np.ones(4), (2, 3, 2)).transpose(0, 3, 1, 2).copy(),
    p=RNG.uniform(0.05, 0.95, (3, 4)), y=RNG.uniform(0, 1, (3, 4)),
    x=RNG.standard_normal((3, 4)) * 3, per_column=RNG.uniform(0.2, 3, 4),
    per_row=RNG.uniform(0.2, 2, (3, 1)), per_element=RNG.uniform(0.2, 2, (3, 4)),
    a=RNG.standard_normal((4, 3)), b=RNG.standard_normal((4, 3)),
    signs=np.array([1, -1, -1, 1]), minus=np.array(-1),
    log_p=np.log(RNG.dirichlet(np.ones(4), 3)), q=Q, log_q=np.log(Q), q_flat=Q.ravel(),
)
DRAWN |= dict(log_p_flat=DRAWN["log_p"].ravel(), a_row=DRAWN["a"][0], b_row=DRAWN["b"][0])


def arrays(*names: str) -> list[np.ndarray]:
    return [DRAWN[name] for name in names]


class Case:
    """One loss call: the functional's name, its positional inputs (names in DRAWN; the
    float ones are leaves that require grad when listed in `grads`), its keyword options
    (arrays are turned into tensors), and the module with its constructor arguments."""

    def __init__(self, function: str, inputs: list[str], grads: list[bool],
                 module: str, settings: dict[str, Any] | None = None,
                 reductions: tuple[str, ...] = ("mean", "sum", "none")) -> None:
        self.function, self.inputs, self.grads = function, inputs, grads
        self.module, self.settings, self.reductions = module, settings or {}, reductions


CASES = {
    "ce-ignore_index": Case("cross_entropy", ["logits", "classes"], [True, False],
                            "CrossEntropyLoss", {"ignore_index": -1}),
    "ce-weight": Case("cross_entropy", ["logits", "classes"], [True, False],
                      "CrossEntropyLoss", {"weight": "class_weight", "ignore_index": -1}),
    "ce-label_smoothing": Case("cross_entropy", ["logits", "classes"], [True, False],
                               "CrossEntropyLoss",
                               {"label_smoothing": 0.2, "ignore_index": -1}),
    "ce-all-options": Case("cross_entropy", ["logits", "classes_with_2"], [True, False],
                           "CrossEntropyLoss", {"weight": "class_weight", "ignore_index": 2,
                                                "label_smoothing": 0.3}),
    "ce-images": Case("cross_entropy", ["image", "image_classes"], [True, False],
                      "CrossEntropyLoss", {"weight": "class_weight", "label_smoothing": 0.1}),
    "ce-images-ignore": Case("cross_entropy", ["image", "image_classes"], [True, False],
                             "CrossEntropyLoss"),
    "ce-one-sample": Case("cross_entropy", ["single", "zero_d_class"], [True, False],
                          "CrossEntropyLoss", {"weight": "class_weight",
                                               "label_smoothing": 0.25}),
    "ce-probabilities": Case("cross_entropy", ["logits", "probabilities"], [True, True],
                             "CrossEntropyLoss"),
    "ce-probabilities-options": Case("cross_entropy", ["image", "image_probabilities"],
                                     [True, True], "CrossEntropyLoss",
                                     {"weight": "class_weight", "label_smoothing": 0.25}),
    "nll-weight-ignore": Case("nll_loss", ["logits", "classes"], [True, False], "NLLLoss",
                              {"weight": "class_weight", "ignore_index": -1}),
    "nll-images": Case("nll_loss", ["image", "image_classes"], [True, False], "NLLLoss",
                       {"weight": "class_weight"}),
    "nll-ignore-a-class": Case("nll_loss", ["logits", "class_3_ignored"], [True, False],
                               "NLLLoss", {"ignore_index": 3}),
    "bce-weight": Case("binary_cross_entropy", ["p", "y"], [True, True], "BCELoss",
                       {"weight": "per_column"}),
    "bce-logits-weight": Case("binary_cross_entropy_with_logits", ["x", "y"], [True, True],
                              "BCEWithLogitsLoss", {"weight": "per_row"}),
    "bce-logits-pos_weight": Case("binary_cross_entropy_with_logits", ["x", "y"],
                                  [True, True], "BCEWithLogitsLoss",
                                  {"pos_weight": "per_column"}),
    "bce-logits-both": Case("binary_cross_entropy_with_logits", ["x", "y"], [True, True],
                            "BCEWithLogitsLoss",
                            {"pos_weight": "per_column", "weight": "per_element"}),
    "smooth_l1": Case("smooth_l1_loss", ["a", "b"], [True, True], "SmoothL1Loss"),
    "smooth_l1-beta": Case("smooth_l1_loss", ["a", "b"], [True, True], "SmoothL1Loss",
                           {"beta": 0.5}),
    "smooth_l1-beta-0": Case("smooth_l1_loss", ["a", "b"], [True, True], "SmoothL1Loss",
                             {"beta": 0.0}),
    "huber": Case("huber_loss", ["a", "b"], [True, True], "HuberLoss", {"delta": 0.7}),
    "kl_div": Case("kl_div", ["log_p", "q"], [True, True], "KLDivLoss",
                   reductions=("mean", "batchmean", "sum", "none")),
    "kl_div-log_target": Case("kl_div", ["log_p", "log_q"], [True, True], "KLDivLoss",
                              {"log_target": True},
                              reductions=("mean", "batchmean", "sum", "none")),
    "kl_div-1d": Case("kl_div", ["log_p_flat", "q_flat"], [True, False], "KLDivLoss",
                      reductions=("batchmean", "sum")),
    "cosine_embedding": Case("cosine_embedding_loss", ["a", "b", "signs"],
                             [True, True, False], "CosineEmbeddingLoss", {"margin": 0.1}),
    "cosine_embedding-one-pair": Case("cosine_embedding_loss", ["a_row", "b_row", "minus"],
                                      [True, True, False], "CosineEmbeddingLoss",
                                      {"margin": -0.5}),
}
def make(lib: Any, array: np.ndarray, dtype: type, requires_grad: bool = False) -> Any:
    """`array` as a tensor of `lib` (autodiff or torch): floats in `dtype`, ints as int64."""
    array = np.asarray(array, dtype=dtype if array.dtype.kind == "f" else np.int64)
    return lib.tensor(array, requires_grad=requires_grad)


def call(lib: Any, case: Case, reduction: str, dtype: type) -> tuple[Any, list[Any]]:
    """Run the case's functional in `lib`: (loss, the leaves that require grad)."""
    inputs = [make(lib, DRAWN[name], dtype, grad) for name, grad in zip(case.inputs, case.grads)]
    options = {key: make(lib, DRAWN[value], dtype) if isinstance(value, str) else value
               for key, value in case.settings.items()}
    functional = F if lib is ad else lib.nn.functional
    loss = getattr(functional, case.function)(*inputs, reduction=reduction, **options)
    return loss, [x for x, grad in zip(inputs, case.grads) if grad]


def cases_with_reductions() -> list[tuple[str, str]]:
    return [(name, reduction) for name, case in CASES.items() for reduction in case.reductions]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")      # torch's kl_div 'mean'
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "reduction"), cases_with_reductions())
def test_loss_options_match_torch(torch_oracle, name, reduction, dtype):
    torch, assert_close = torch_oracle.torch, torch_oracle.assert_close
    case = CASES[name]
    ours, our_leaves = call(ad, case, reduction, dtype)
    theirs, their_leaves = call(torch, case, reduction, dtype)
    assert ours.dtype == dtype and ours.shape == tuple(theirs.shape)
    assert_close(ours.numpy(), theirs.detach().numpy(), dtype)
    upstream = np.random.default_rng(1).standard_normal(ours.shape).astype(dtype)
    ours.backward(ad.tensor(upstream))
    theirs.backward(torch.from_numpy(upstream))
    for a, b in zip(our_leaves, their_leaves):
        assert a.grad.dtype == dtype
        assert_close(a.grad.numpy(), b.grad.numpy(), dtype)


@pytest.mark.parametrize("name", list(CASES))
def test_the_module_computes_what_the_functional_does(name):
    """nn.<Loss>(options, reduction) gives the functional's numbers, and its
    hyperparameters rebuild it."""
    case = CASES[name]
    reduction = case.reductions[-1]
    expected, _ = call(ad, case, reduction, np.float64)
    options = {key: make(ad, DRAWN[value], np.float64) if isinstance(value, str) else value
               for key, value in case.settings.items()}
    module = getattr(losses, case.module)(reduction=reduction, **options)
    inputs = [make(ad, DRAWN[name], np.float64) for name in case.inputs]
    np.testing.assert_array_equal(module(*inputs).numpy(), expected.numpy())
    settings = module.hyperparameters()
    rebuilt = type(module)(**settings).hyperparameters()    # weights come back as float32
    assert rebuilt.keys() == settings.keys()
    for key, value in settings.items():
        if key in ("weight", "pos_weight") and value is not None:
            np.testing.assert_allclose(rebuilt[key], value, rtol=1e-7)
        else:
            assert rebuilt[key] == value
    assert type(module).state_shapes(**module.hyperparameters()) == {
        key: tensor.shape for key, tensor in module.state_dict().items()}


def test_nanogpt_call_ignores_minus_one(torch_oracle):
    """nanoGPT's F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)."""
    torch = torch_oracle.torch
    logits = np.random.default_rng(2).standard_normal((2, 3, 5))
    targets = np.array([[1, 4, -1], [0, -1, 2]])
    ours_x = ad.tensor(logits, requires_grad=True)
    ours = F.cross_entropy(ours_x.view(-1, 5), ad.tensor(targets).view(-1), ignore_index=-1)
    theirs_x = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(theirs_x.view(-1, 5),
                                               torch.tensor(targets).view(-1), ignore_index=-1)
    ours.backward()
    theirs.backward()
    torch_oracle.assert_close(ours.item(), theirs.item(), np.float64)
    torch_oracle.assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), np.float64)


# ---------------------------------------------------------------- numbers by hand

def log_softmax_rows(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def test_ignored_targets_give_zero_loss_and_zero_gradient_rows():
    x = ad.tensor(DRAWN["logits"], requires_grad=True)
    target = DRAWN["classes"]                                   # [0, -1, 3, 2, -1]
    loss = F.cross_entropy(x, ad.tensor(target), ignore_index=-1)
    kept = target != -1
    log_p = log_softmax_rows(DRAWN["logits"])
    expected = -log_p[kept, target[kept]].mean()                # the mean over 3 targets
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert np.all(x.grad.numpy()[~kept] == 0) and np.all(x.grad.numpy()[kept] != 0)
    each = F.nll_loss(ad.tensor(log_p), ad.tensor(target), ignore_index=-1, reduction="none")
    np.testing.assert_allclose(each.numpy(), np.where(kept, -log_p[np.arange(5), target], 0))


def test_weighted_mean_divides_by_the_weights_of_the_targets_kept():
    """'mean' with weights is Σ w[tₙ] ℓₙ / Σ w[tₙ] over the targets kept."""
    log_p = log_softmax_rows(DRAWN["logits"])
    target, w = DRAWN["classes"], DRAWN["class_weight"]
    kept = np.flatnonzero(target != -1)
    w_t, each = w[target[kept]], -log_p[kept, target[kept]]
    for loss in (F.cross_entropy(ad.tensor(DRAWN["logits"]), ad.tensor(target),
                                 weight=ad.tensor(w), ignore_index=-1),
                 F.nll_loss(ad.tensor(log_p), ad.tensor(target), weight=ad.tensor(w),
                            ignore_index=-1)):
        assert loss.item() == pytest.approx((w_t * each).sum() / w_t.sum(), rel=1e-12)
    summed = F.nll_loss(ad.tensor(log_p), ad.tensor(target), ad.tensor(w), -1, "sum")
    assert summed.item() == pytest.approx((w_t * each).sum(), rel=1e-12)


def test_label_smoothing_on_two_classes_by_hand():
    """Logits (0, log 3) give p = (1/4, 3/4). For class 1 and ε = 0.2 the target is
    (1 - ε) onehot + ε/2 = (0.1, 0.9), so the loss is -(0.1 log 1/4 + 0.9 log 3/4); with
    weights w = (2, 1) it is (1 - ε) w₁ (-log 3/4) + ε/2 (w₀ (-log 1/4) + w₁ (-log 3/4)),
    divided by w₁ = 1 for the mean."""
    logits = ad.tensor([[0.0, math.log(3.0)]], dtype=ad.float64)
    loss = F.cross_entropy(logits, ad.tensor([1]), label_smoothing=0.2)
    assert loss.item() == pytest.approx(-(0.1 * math.log(0.25) + 0.9 * math.log(0.75)))
    weighted = F.cross_entropy(logits, ad.tensor([1]), weight=ad.tensor([2.0, 1.0]),
                               label_smoothing=0.2)
    assert weighted.item() == pytest.approx(
        0.8 * -math.log(0.75) + 0.1 * (2 * -math.log(0.25) - math.log(0.75)))
    soft = F.cross_entropy(logits, ad.tensor([[0.0, 1.0]], dtype=ad.float64),
                           label_smoothing=0.2)
    assert soft.item() == pytest.approx(loss.item())    # the same target, given as q


def test_kl_div_batchmean_divides_by_the_batch_and_mean_by_every_element():
    x, y = ad.tensor(DRAWN["log_p"]), ad.tensor(DRAWN["q"])           # (3, 4)
    total = (DRAWN["q"] * (np.log(DRAWN["q"]) - DRAWN["log_p"])).sum()
    assert F.kl_div(x, y, reduction="sum").item() == pytest.approx(total, rel=1e-12)
    assert F.kl_div(x, y, reduction="batchmean").item() == pytest.approx(total / 3)
    assert F.kl_div(x, y).item() == pytest.approx(total / 12)
    assert F.kl_div(x, y.log(), reduction="sum", log_target=True).item() == pytest.approx(
        total, rel=1e-12)
    zero = F.kl_div(ad.tensor([-1.0, -2.0]), ad.tensor([0.0, 1.0]), reduction="none")
    assert zero.tolist() == [0.0, 2.0]                       # 0 log 0 = 0; 1 (log 1 + 2)


def test_torch_kl_div_takes_the_reduction_as_an_int():
    x, y = ad.tensor(DRAWN["log_p"]), ad.tensor(DRAWN["q"])
    each = DRAWN["q"] * (np.log(DRAWN["q"]) - DRAWN["log_p"])
    np.testing.assert_allclose(ad.kl_div(x, y).numpy(), each, rtol=1e-12)
    assert ad.kl_div(x, y, 1).item() == pytest.approx(each.mean(), rel=1e-12)
    assert ad.kl_div(x, y, reduction=2).item() == pytest.approx(each.sum(), rel=1e-12)
    with pytest.raises(ValueError, match=r"kl_div: reduction must be 0 \(none\), 1 \(mean\) "
                                         r"or 2 \(sum\).*got 'sum'.*nn.functional.kl_div"):
        ad.kl_div(x, y, reduction="sum")


def test_binary_and_regression_options_by_hand():
    zero = ad.zeros(1, 2)
    pos = F.binary_cross_entropy_with_logits(zero, ad.tensor([[1.0, 0.0]]),
                                             pos_weight=ad.tensor([3.0, 3.0]), reduction="none")
    np.testing.assert_allclose(pos.numpy(), [[3 * math.log(2), math.log(2)]], rtol=1e-6)
    weighted = F.binary_cross_entropy(ad.tensor([0.5, 0.5]), ad.tensor([1.0, 0.0]),
                                      weight=ad.tensor([1.0, 3.0]))
    assert weighted.item() == pytest.approx(2 * math.log(2), rel=1e-6)   # (1 + 3) log 2 / 2
    d = ad.tensor([-3.0, -0.5, 0.0, 0.25, 2.0])
    np.testing.assert_allclose(F.smooth_l1_loss(d, ad.zeros(5), "none", beta=0.5).numpy(),
                               [2.75, 0.25, 0.0, 0.0625, 1.75])
    np.testing.assert_allclose(F.huber_loss(d, ad.zeros(5), "none", delta=0.5).numpy(),
                               [1.375, 0.125, 0.0, 0.03125, 0.875])
    assert F.smooth_l1_loss(d, ad.zeros(5), beta=0.0).item() == F.l1_loss(d, ad.zeros(5)).item()
    a, b = ad.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]), ad.tensor([[3.0, 4.0]] * 3)
    each = F.cosine_embedding_loss(a, b, ad.tensor([1, -1, 0]), margin=0.5, reduction="none")
    np.testing.assert_allclose(each.numpy(), [1 - 0.6, 0.6 - 0.5, 0.0], rtol=1e-6)


def test_all_targets_ignored_gives_nan_mean_and_zero_gradient_as_torch():
    x = ad.tensor(DRAWN["logits"], requires_grad=True)
    target = ad.full((5,), -100, dtype=ad.int64)
    loss = F.cross_entropy(x, target)
    assert math.isnan(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy() == 0)
    assert F.cross_entropy(x, target, reduction="sum").item() == 0.0


def test_the_plain_loss_stays_one_fused_node():
    x = ad.tensor(DRAWN["logits"], requires_grad=True)
    plain = F.cross_entropy(x, ad.tensor([0, 1, 3, 2, 1]), ignore_index=-1)
    assert type(plain.grad_fn).__name__ == "CrossEntropy"
    ignoring = F.cross_entropy(x, ad.tensor(DRAWN["classes"]), ignore_index=-1)
    assert type(ignoring.grad_fn).__name__ != "CrossEntropy"
    assert type(F.nll_loss(x, ad.tensor([0, 1, 3, 2, 1])).grad_fn).__name__ == "NLLLoss"


def test_weights_are_constants_cast_to_the_input_dtype():
    w = ad.tensor([1.0, 2.0, 0.5, 1.0], requires_grad=True)       # float32, requires grad
    x = ad.tensor(DRAWN["logits"], requires_grad=True)            # float64
    loss = F.cross_entropy(x, ad.tensor(DRAWN["classes"]), weight=w, ignore_index=-1)
    assert loss.dtype == np.float64
    loss.backward()
    assert w.grad is None and x.grad is not None


# ---------------------------------------------------------------- gradients to second order

def check_grads(fn: Callable[..., ad.Tensor], *arrays: np.ndarray) -> None:
    inputs = [ad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert ad.gradcheck(fn, inputs)
    assert ad.gradgradcheck(fn, inputs)


W = ad.tensor(DRAWN["class_weight"])
GRADCHECKS = {
    "ce-weight-ignore-smoothing": (
        lambda x: F.cross_entropy(x, ad.tensor(DRAWN["classes"]), W, -1, "mean", 0.3),
        ["logits"]),
    "ce-images-ignore-weight": (
        lambda x: F.cross_entropy(x, ad.tensor(DRAWN["image_classes"]), W,
                                  reduction="none"),
        ["image"]),
    "ce-probabilities": (
        lambda x, q: F.cross_entropy(x, q, W, reduction="sum", label_smoothing=0.1),
        ["logits", "probabilities"]),
    "nll-weight-ignore": (
        lambda x: F.nll_loss(x, ad.tensor(DRAWN["classes"]), W, ignore_index=-1),
        ["logits"]),
    "bce-weight": (
        lambda p, y: F.binary_cross_entropy(p, y, ad.tensor(DRAWN["per_column"])),
        ["p", "y"]),
    "bce-logits-pos_weight": (
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, ad.tensor(DRAWN["per_row"]), "sum", ad.tensor(DRAWN["per_column"])),
        ["x", "y"]),
    "smooth_l1": (lambda a, b: F.smooth_l1_loss(a, b, "sum", beta=0.5), ["a", "b"]),
    "huber": (lambda a, b: F.huber_loss(a, b, "none", delta=0.7,
                                        weight=ad.tensor(np.full((4, 3), 2.0))), ["a", "b"]),
    "kl_div": (lambda x, y: F.kl_div(x, y, "batchmean"), ["log_p", "q"]),
    "kl_div-log_target": (lambda x, y: F.kl_div(x, y, "sum", log_target=True),
                          ["log_p", "log_q"]),
    "cosine_embedding": (
        lambda a, b: F.cosine_embedding_loss(a, b, ad.tensor(DRAWN["signs"]), margin=-0.9),
        ["a", "b"]),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_composite_paths_are_twice_differentiable(name):
    fn, names = GRADCHECKS[name]
    check_grads(fn, *arrays(*names))


def test_regression_kinks_are_away_from_the_drawn_points():
    """The gradchecks above need |a - b| away from beta, delta and 0, and the cosines away
    from the margin, where the losses change formula."""
    gaps = np.abs(DRAWN["a"] - DRAWN["b"])
    assert np.min(np.abs(gaps - 0.5)) > 1e-3 and np.min(np.abs(gaps - 0.7)) > 1e-3
    a, b = DRAWN["a"], DRAWN["b"]
    cos = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    assert np.min(np.abs(cos + 0.9)) > 1e-3 and np.min(np.abs(cos - 0.1)) > 1e-3


# ---------------------------------------------------------------- modules

def test_a_weight_is_a_buffer_saved_converted_and_rebuilt(tmp_path):
    loss = losses.CrossEntropyLoss(weight=ad.tensor([1.0, 2.0, 0.5]), ignore_index=-1,
                                   label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"] and not list(loss.parameters())
    assert repr(loss) == "CrossEntropyLoss()"                      # as torch prints it
    assert loss.hyperparameters() == {"reduction": "mean", "weight": [1.0, 2.0, 0.5],
                                      "ignore_index": -1, "label_smoothing": 0.1}
    assert loss.to(ad.float64).weight.dtype == np.float64
    path = tmp_path / "loss.safetensors"
    nn.save(loss, path)
    again = nn.load(path)
    assert type(again) is losses.CrossEntropyLoss and again.weight.dtype == np.float64
    assert again.hyperparameters() == loss.hyperparameters()
    both = losses.BCEWithLogitsLoss(weight=[[1.0], [2.0]], pos_weight=[3.0, 1.0])
    assert list(both.state_dict()) == ["weight", "pos_weight"]
    assert type(both).state_shapes(**both.hyperparameters()) == {"weight": (2, 1),
                                                                 "pos_weight": (2,)}


def test_hyperparameters_give_every_setting_defaults_included():
    assert losses.NLLLoss(reduction="sum").hyperparameters() == {
        "weight": None, "ignore_index": -100, "reduction": "sum"}
    assert losses.KLDivLoss("batchmean").hyperparameters() == {"reduction": "batchmean",
                                                               "log_target": False}
    assert losses.HuberLoss(delta=2.0).hyperparameters() == {"reduction": "mean",
                                                             "delta": 2.0}
    assert losses.CosineEmbeddingLoss(0.5).hyperparameters() == {"margin": 0.5,
                                                                 "reduction": "mean"}
    for name in ("SmoothL1Loss", "HuberLoss", "KLDivLoss", "CosineEmbeddingLoss"):
        assert nn.BUILTIN_LAYERS[name] is getattr(losses, name)


# ---------------------------------------------------------------- ad.compile

def training_step(ignore_index: int) -> tuple[nn.Module, Callable[..., ad.Tensor]]:
    ad.manual_seed(0)
    model = nn.Linear(4, 3)

    def step(x: ad.Tensor, y: ad.Tensor) -> ad.Tensor:
        model.zero_grad()
        loss = F.cross_entropy(model(x), y, ignore_index=ignore_index)
        loss.backward()
        with ad.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        return loss.detach()

    return model, step


@pytest.mark.parametrize("ignore_index", [-1, 0])
def test_compiled_steps_give_eager_numbers(ignore_index):
    """Traced on a batch holding ignore_index, the replays drop it as eager does, and
    give eager's numbers on batches without it too."""
    x = ad.tensor(np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32))
    batches = [ad.tensor([0, ignore_index, 2, 1, ignore_index, 2]), ad.tensor([0, 1, 2, 1, 1, 2]),
               ad.tensor([ignore_index] * 6)]
    runs = []
    for compiled in (False, True):
        model, step = training_step(ignore_index)
        step = ad.compile(step, fullgraph=True) if compiled else step
        runs.append(([step(x, y).item() for y in batches], model.weight.numpy().copy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_compiled_without_ignored_targets_refuses_them_later():
    """Traced on a batch without ignored targets, the replay is the fused kernel: a later
    batch holding ignore_index raises (never a silently wrong loss)."""
    _, step = training_step(-1)
    step = ad.compile(step, fullgraph=True)
    x = ad.ones(2, 4)
    step(x, ad.tensor([0, 1]))
    with pytest.raises(IndexError, match="target holds class -1"):
        step(x, ad.tensor([0, -1]))


# ---------------------------------------------------------------- errors

ERRORS = [
    (lambda: F.cross_entropy(ad.zeros(2, 3), ad.tensor([0, 1]), weight=ad.ones(4)),
     ad.ShapeError, r"cross_entropy: weight must hold one number per class, shape \(3,\)"),
    (lambda: F.nll_loss(ad.zeros(2, 3), ad.tensor([0, 1]), weight=ad.ones(2, 3)),
     ad.ShapeError, "nll_loss: weight must hold one number per class"),
    (lambda: F.cross_entropy(ad.zeros(2, 3), ad.tensor([0, 1]), label_smoothing=1.5),
     ad.DomainError, "label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda: losses.CrossEntropyLoss(label_smoothing=-0.1),
     ad.DomainError, "CrossEntropyLoss: label_smoothing must be between"),
    (lambda: F.cross_entropy(ad.zeros(2, 3), ad.tensor([0.0, 1.0])),
     ad.DtypeError, r"holds class probabilities and must have the input's shape \(2, 3\)"),
    (lambda: F.cross_entropy(ad.zeros(2, 3), ad.zeros(2, 3), ignore_index=0),
     ad.DtypeError, "ignore_index=0 applies to class-index targets"),
    (lambda: F.cross_entropy(ad.zeros(2, 3), ad.tensor([0, 5]), ignore_index=-1),
     IndexError, "target holds class 5, but the input has 3 classes"),
    (lambda: F.nll_loss(ad.zeros(2, 3), ad.tensor([-2, 1]), ad.ones(3)),
     IndexError, "target holds class -2"),
    (lambda: F.binary_cross_entropy(ad.full((3, 4), 0.5), ad.zeros(3, 4), ad.ones(3)),
     ad.ShapeError, r"weight of shape \(3,\) does not broadcast to the input's shape \(3, 4\)"),
    (lambda: F.binary_cross_entropy_with_logits(ad.zeros(3, 4), ad.zeros(3, 4),
                                                pos_weight=ad.ones(2, 3, 4)),
     ad.ShapeError, "pos_weight of shape"),
    (lambda: F.smooth_l1_loss(ad.zeros(2), ad.zeros(2), beta=-1.0),
     ad.DomainError, "smooth_l1_loss: beta must be >= 0"),
    (lambda: losses.HuberLoss(delta=0.0), ad.DomainError, "HuberLoss: delta must be > 0"),
    (lambda: F.huber_loss(ad.zeros(2, 3), ad.zeros(2, 3), weight=ad.ones(3)),
     ad.ShapeError, r"weight must have the input's shape \(2, 3\)"),
    (lambda: F.kl_div(ad.zeros(2), ad.zeros(2), reduction="avg"),
     ValueError, "'mean', 'batchmean', 'sum' or 'none', got 'avg'"),
    (lambda: losses.SmoothL1Loss(reduction="batchmean"),
     ValueError, "SmoothL1Loss: reduction must be 'mean', 'sum' or 'none'"),
    (lambda: F.kl_div(ad.zeros(2, 3), ad.zeros(3)), ad.ShapeError, "kl_div: input of shape"),
    (lambda: F.cosine_embedding_loss(ad.zeros(2, 3), ad.zeros(2, 3), ad.tensor([1, 1, 1])),
     ad.ShapeError, r"cosine_embedding_loss: .* target \(3,\)"),
    (lambda: losses.BCELoss("sum"), TypeError, "pass reduction='sum' by name"),
    (lambda: F.nll_loss(ad.zeros(2, 3), ad.tensor([0, 1]), "sum"),
     TypeError, "nll_loss: weight must be a tensor, got the string 'sum'"),
    (lambda: F.cosine_embedding_loss(ad.zeros(3), ad.zeros(3), ad.tensor([1])),
     ad.ShapeError, "or \\(D,\\) with a 0-d target"),
]


@pytest.mark.parametrize(("call_", "error", "message"), ERRORS)
def test_bad_options_are_refused_by_name(call_, error, message):
    with pytest.raises(error, match=message):
        call_()
