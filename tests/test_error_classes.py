"""Error classes that code written for PyTorch catches. For each error case of the error
tests (tests/autodiff/test_errors.py, the nn and optim argument checks, the first-day
mistakes) PyTorch raises too, and our error is an instance of the builtin class torch's
is (RuntimeError, IndexError, TypeError, ValueError, ...), so `except RuntimeError:` written
around torch code still catches it, while it keeps our own class (ad.ShapeError,
ad.DtypeError, ...), so `except ad.ShapeError:` keeps working too.

Each row of CASES is (id, call, expected_builtin, ours):

    call              a function of `lib`, a namespace of the names both libraries spell
                      alike (ones, tensor, cat, conv2d, nn, optim, F = nn.functional,
                      autograd.grad, autograd.Function, data.DataLoader, ...), or a pair of
                      functions (ours, torch's) where the spellings differ;
    expected_builtin  the most specific builtin class in the MRO of the error torch raises,
                      pinned here so that without torch the table still checks our classes
                      (and the torch test checks the pin against torch);
    ours              the class of ours the error must be as well: an autodiff class (so an
                      ad.AutodiffError), or, where nn, optim or the Python protocols raise a
                      plain builtin as torch does, that builtin itself.

Cases left out on purpose, because torch raises nothing or raises for another reason:
    x.clip(2.0, 1.0)                      torch clamps to max, no error
    x.max(dim=(0, 1)), x.softmax()        torch's argument parser: TypeError for the call's
                                          signature, not for the shapes
    mse_loss((4, 1), (4,))                torch warns and broadcasts to (4, 4)
    nn.CrossEntropyLoss on (N, C) float   torch reads them as class probabilities
    nn.Conv2d on a 3-D input, adaptive pooling of a 3-D input, Dropout2d of a 2-D
    input, nn.Softmax() without dim       torch treats them as unbatched / guesses a dim
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.data
import nn.functional
import optim
from autodiff.ops.shape import TensorIndexError


class Lib:
    """A library seen through the names both spell alike; `names` adds or overrides."""

    def __init__(self, name: str, module: Any, **names: Any) -> None:
        self.name, self._module = name, module
        self.__dict__.update(names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def __repr__(self) -> str:
        return f"<{self.name}>"


OURS = Lib("autodiff", ad, nn=nn, F=nn.functional, optim=optim, data=nn.data,
           autograd=ad.autograd)


@pytest.fixture(scope="module")
def torch_lib() -> Lib:
    torch = pytest.importorskip("torch")
    data = pytest.importorskip("torch.utils.data")
    return Lib("torch", torch, F=torch.nn.functional, data=data)


# ------------------------------------------------------------------ cases needing statements

def plus_equals_statement(lib):
    x = lib.ones(3, requires_grad=True)
    x += 1


def setitem_on_leaf(lib):
    x = lib.ones(3, requires_grad=True)
    x[0] = 5.0


def backward_with_gradient_of_wrong_shape(lib):
    y = lib.ones(3, requires_grad=True) * 2
    y.backward(lib.ones(2))


def backward_returning_wrong_shape(lib):
    class BadGradient(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x + 0

        @staticmethod
        def backward(ctx, grad):
            return grad[:1]

    BadGradient.apply(lib.ones(2, 3, requires_grad=True)).sum().backward()


def backward_twice(lib):
    x = lib.ones(3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    y.backward()


def grad_twice(lib):
    x = lib.ones(3, requires_grad=True)
    y = (x * x).sum()
    lib.autograd.grad(y, [x])
    lib.autograd.grad(y, [x])


def backward_made_under_no_grad(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        y = (x * 2).sum()
    y.backward()


def grad_of_input_not_requiring_grad(lib):
    x = lib.ones(2, requires_grad=True)
    lib.autograd.grad((x * 2).sum(), [x, lib.ones(2)])


def grad_of_unused_input(lib):
    x, unused = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    lib.autograd.grad((x * 2).sum(), [x, unused])


def hook_returning_wrong_shape(lib):
    x = lib.ones(3, requires_grad=True)
    x.register_hook(lambda g: lib.ones(2))
    (x * 2).sum().backward()


def saved_value_modified_in_place(lib):
    x = lib.ones(3, requires_grad=True)
    y = x.exp()
    w = y * y                                   # saves y
    y *= 2                                      # y is not a leaf: allowed, bumps its version
    w.sum().backward()


def int_attribute_requires_grad(lib):
    t = lib.tensor([1, 2])
    t.requires_grad = True


def int_data_on_tensor_requiring_grad(lib):
    t = lib.ones(2, requires_grad=True)
    t.data = lib.tensor([1, 2])


def grad_of_wrong_shape_assigned(lib):
    t = lib.ones(2, requires_grad=True)
    t.grad = lib.tensor([1.0, 2.0, 3.0])


def nan_under_detect_anomaly(lib):
    x = lib.tensor([-1.0, 1.0], requires_grad=True)
    with lib.autograd.detect_anomaly():              # ours: in forward; torch: in backward
        x.sqrt().sum().backward()


def gradcheck_of_a_wrong_backward(lib):
    class Tripled(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    lib.autograd.gradcheck(Tripled.apply, (lib.ones(3, dtype=lib.float64,
                                                    requires_grad=True),))


def load_state_dict(state: dict[str, tuple[int, ...]], strict: bool = True):
    def call(lib):
        lib.nn.Linear(3, 2).load_state_dict({key: lib.zeros(*shape)
                                             for key, shape in state.items()}, strict=strict)
    return call


def optimizer_state_of_another_model(lib):
    saved = lib.optim.SGD(lib.nn.Linear(2, 1).parameters(), lr=0.1).state_dict()
    other = lib.nn.Sequential(lib.nn.Linear(2, 1), lib.nn.Linear(1, 1))
    lib.optim.SGD(other.parameters(), lr=0.1).load_state_dict(saved)


def scheduler_resumed_without_initial_lr(lib):
    opt = lib.optim.SGD(lib.nn.Linear(2, 1).parameters(), lr=0.1)
    lib.optim.lr_scheduler.StepLR(opt, step_size=1, last_epoch=5)


def assign_tensor_to_parameter(lib):
    model = lib.nn.Linear(2, 1)
    model.weight = lib.ones(1, 2)


def linear(lib):
    return lib.nn.Linear(2, 1)


def leaf(lib):
    return lib.ones(2, requires_grad=True)


def dims_3x4(lib):
    return lib.ones(3, 4, requires_grad=True)


# ------------------------------------------------------------------ the table

Call = Callable[[Lib], Any] | tuple[Callable[[Lib], Any], Callable[[Lib], Any]]

CASES: list[tuple[str, Call, type[BaseException], type[BaseException]]] = [
    # shapes that do not broadcast (test_errors)
    *[(f"{name}-broadcast", op, RuntimeError, ad.ShapeError) for name, op in [
        ("add", lambda lib: lib.ones(2, 3, requires_grad=True) + lib.ones(4)),
        ("sub", lambda lib: lib.ones(2, 3, requires_grad=True) - lib.ones(4)),
        ("mul", lambda lib: lib.ones(2, 3, requires_grad=True) * lib.ones(4)),
        ("div", lambda lib: lib.ones(2, 3, requires_grad=True) / lib.ones(4)),
        ("pow", lambda lib: lib.ones(2, 3, requires_grad=True) ** lib.ones(4)),
        ("maximum", lambda lib: lib.maximum(lib.ones(2, 3), lib.ones(4))),
        ("minimum", lambda lib: lib.minimum(lib.ones(2, 3), lib.ones(4))),
        ("where", lambda lib: lib.where(lib.ones(2, 3) > 0, lib.ones(2, 3), lib.ones(4))),
    ]],
    # matmul (test_errors)
    ("matmul-inner-sizes", lambda lib: lib.ones(3, 4) @ lib.ones(5, 2),
     RuntimeError, ad.ShapeError),
    ("matmul-needs-transpose", lambda lib: lib.zeros(64, 784) @ lib.zeros(10, 784),
     RuntimeError, ad.ShapeError),
    ("matmul-batch-dims", lambda lib: lib.ones(2, 3, 4) @ lib.ones(3, 4, 2),
     RuntimeError, ad.ShapeError),
    ("matmul-0d", lambda lib: lib.tensor(2.0) @ lib.ones(3), RuntimeError, ad.ShapeError),
    ("matmul-1d", lambda lib: lib.ones(3) @ lib.ones(4), RuntimeError, ad.ShapeError),
    # backward and grad (test_errors, test_graph)
    ("backward-non-scalar", lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(),
     RuntimeError, ad.BackwardError),
    ("backward-gradient-shape", backward_with_gradient_of_wrong_shape,
     RuntimeError, ad.ShapeError),
    ("function-backward-shape", backward_returning_wrong_shape,
     RuntimeError, ad.BackwardError),
    ("backward-twice", backward_twice, RuntimeError, ad.BackwardError),
    ("grad-twice", grad_twice, RuntimeError, ad.BackwardError),
    ("backward-no-requires-grad", lambda lib: lib.ones(3).sum().backward(),
     RuntimeError, ad.BackwardError),
    ("backward-under-no-grad", backward_made_under_no_grad, RuntimeError, ad.BackwardError),
    ("grad-input-no-requires-grad", grad_of_input_not_requiring_grad,
     RuntimeError, ad.BackwardError),
    ("grad-output-no-requires-grad",
     lambda lib: lib.autograd.grad(lib.ones(2).sum(), [leaf(lib)]),
     RuntimeError, ad.BackwardError),
    ("grad-unused-input", grad_of_unused_input, RuntimeError, ad.BackwardError),
    ("hook-wrong-shape", hook_returning_wrong_shape, RuntimeError, ad.ShapeError),
    ("register-hook-no-grad", lambda lib: lib.ones(2).register_hook(print),
     RuntimeError, ad.DtypeError),
    ("retain-grad-no-grad", lambda lib: lib.ones(2).retain_grad(),
     RuntimeError, ad.DtypeError),
    ("requires-grad-off-computed",
     lambda lib: (lib.ones(2, requires_grad=True) * 2).requires_grad_(False),
     RuntimeError, ad.DtypeError),
    ("grad-assigned-wrong-shape", grad_of_wrong_shape_assigned, RuntimeError, ad.ShapeError),
    ("detect-anomaly-nan", nan_under_detect_anomaly, RuntimeError, ad.AnomalyError),
    ("gradcheck-wrong-backward", gradcheck_of_a_wrong_backward,
     RuntimeError, ad.GradcheckError),
    # dtypes (test_errors, test_dtypes, test_losses)
    ("int-tensor-requires-grad", lambda lib: lib.tensor([1, 2, 3], requires_grad=True),
     RuntimeError, ad.DtypeError),
    ("int-requires-grad_", lambda lib: lib.tensor([1, 2]).requires_grad_(),
     RuntimeError, ad.DtypeError),
    ("int-requires-grad-attribute", int_attribute_requires_grad, RuntimeError, ad.DtypeError),
    ("int-parameter", lambda lib: lib.nn.Parameter(lib.tensor([1, 2])),
     RuntimeError, ad.DtypeError),
    ("int-data-requires-grad", int_data_on_tensor_requiring_grad,
     RuntimeError, ad.DtypeError),
    ("tensor-from-dict", lambda lib: lib.tensor({"a": 1}), RuntimeError, ad.DtypeError),
    ("int-plus-equals-float", lambda lib: lib.ones(3, dtype=lib.int64).__iadd__(1.5),
     RuntimeError, ad.DtypeError),
    ("int-times-equals-float", lambda lib: lib.ones(3, dtype=lib.int64).__imul__(1.5),
     RuntimeError, ad.DtypeError),
    ("int-divide-equals", lambda lib: lib.ones(3, dtype=lib.int64).__itruediv__(2),
     RuntimeError, ad.DtypeError),
    ("cross-entropy-float-class-targets",
     lambda lib: lib.F.cross_entropy(lib.zeros(2, 3), lib.tensor([0.0, 1.0])),
     RuntimeError, ad.DtypeError),
    # dim out of range (test_errors): torch raises IndexError
    *[(f"{name}-dim-out-of-range", call, IndexError, ad.ShapeError) for name, call in [
        ("sum", lambda lib: dims_3x4(lib).sum(dim=2)),
        ("sum-tuple", lambda lib: dims_3x4(lib).sum(dim=(0, -3))),
        ("mean", lambda lib: dims_3x4(lib).mean(dim=-3)),
        ("var", lambda lib: dims_3x4(lib).var(dim=5)),
        ("max", lambda lib: dims_3x4(lib).max(dim=2)),
        ("min", lambda lib: dims_3x4(lib).min(dim=-3)),
        ("argmax", lambda lib: dims_3x4(lib).argmax(dim=2)),
        ("argmin", lambda lib: dims_3x4(lib).argmin(dim=2)),
        ("logsumexp", lambda lib: dims_3x4(lib).logsumexp(dim=2)),
        ("softmax", lambda lib: dims_3x4(lib).softmax(dim=2)),
        ("log-softmax", lambda lib: dims_3x4(lib).log_softmax(dim=-3)),
        ("squeeze", lambda lib: dims_3x4(lib).squeeze(2)),
        ("transpose", lambda lib: dims_3x4(lib).transpose(0, 2)),
        ("permute", lambda lib: dims_3x4(lib).permute(0, 2)),
        ("flatten", lambda lib: dims_3x4(lib).flatten(0, 2)),
        ("cat", lambda lib: lib.cat([dims_3x4(lib)] * 2, dim=2)),
        ("unsqueeze", lambda lib: lib.ones(3, 4).unsqueeze(3)),
        ("stack", lambda lib: lib.stack([lib.ones(3, 4)] * 2, dim=-4)),
        ("softmax-functional", lambda lib: lib.F.softmax(lib.ones(3, 4), dim=2)),
    ]],
    ("sum-same-dim-twice", lambda lib: lib.ones(3, 4).sum(dim=(1, -1)),
     RuntimeError, ad.ShapeError),
    # indexing (test_errors)
    *[(f"index-{name}", call, IndexError, TensorIndexError) for name, call in [
        ("5", lambda lib: lib.ones(3, 2, requires_grad=True)[5]),
        ("-4", lambda lib: lib.ones(3, 2, requires_grad=True)[-4]),
        ("(0, 2)", lambda lib: lib.ones(3, 2, requires_grad=True)[0, 2]),
        ("[0, 3]", lambda lib: lib.ones(3, 2, requires_grad=True)[[0, 3]]),
        ("too-many", lambda lib: lib.ones(3, 2, requires_grad=True)[0, 0, 0]),
        ("int-tensor", lambda lib: lib.ones(3)[lib.tensor([0, 7])]),
        ("float-tensor", lambda lib: lib.ones(3)[lib.tensor([0.0, 1.0])]),
        ("float-number", lambda lib: lib.ones(3)[1.5]),
        ("mask-shape", lambda lib: lib.ones(3, 2)[lib.tensor([True, False])]),
    ]],
    # in place (test_errors, test_graph)
    *[(f"in-place-{name}-leaf", call, RuntimeError, ad.InPlaceError) for name, call in [
        ("+=", lambda lib: leaf(lib).__iadd__(1)),
        ("-=", lambda lib: leaf(lib).__isub__(1)),
        ("*=", lambda lib: leaf(lib).__imul__(2)),
        ("/=", lambda lib: leaf(lib).__itruediv__(2)),
        ("statement", plus_equals_statement),
        ("setitem", setitem_on_leaf),
    ]],
    ("saved-value-modified-in-place", saved_value_modified_in_place,
     RuntimeError, ad.InPlaceError),
    # shape mistakes (test_errors)
    *[(name, call, RuntimeError, ad.ShapeError) for name, call in [
        ("reshape", lambda lib: lib.ones(2, 3).reshape(4, 2)),
        ("reshape-inferred", lambda lib: lib.ones(2, 3).reshape(-1, 4)),
        ("view", lambda lib: lib.ones(2, 3).view(4, 2)),
        ("expand-size", lambda lib: lib.ones(2, 3).expand(4, 3, 3)),
        ("expand-fewer-dims", lambda lib: lib.ones(2, 3).expand(3)),
        ("broadcast-to", lambda lib: lib.broadcast_to(lib.ones(3), (2,))),
        ("cat-shapes", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(3, 2)])),
        ("stack-shapes", lambda lib: lib.stack([lib.ones(2), lib.ones(3)])),
        ("permute-too-many-dims", lambda lib: lib.ones(2, 3).permute(1, 0, 2)),
        ("permute-too-few-dims", lambda lib: lib.ones(2, 3).permute(1)),
        ("flatten-start-after-end", lambda lib: lib.ones(2, 3).flatten(1, 0)),
        ("item-of-3-elements", lambda lib: lib.ones(3).item()),
        ("bool-of-3-elements", lambda lib: bool(lib.ones(3))),
        ("max-of-empty", lambda lib: lib.ones(0).max()),
    ]],
    ("float-of-3-elements", lambda lib: float(lib.ones(3)), ValueError, ad.ShapeError),
    ("argmax-of-empty", lambda lib: lib.ones(0).argmax(), IndexError, ad.ShapeError),
    # layers and functional ops given the wrong input (test_layers, test_conv*, test_losses)
    *[(name, call, RuntimeError, ad.ShapeError) for name, call in [
        ("linear-input-shape", lambda lib: lib.nn.Linear(3, 2)(lib.ones(4, 5))),
        ("conv2d-channels", lambda lib: lib.conv2d(lib.zeros(2, 3, 8, 8),
                                                   lib.zeros(32, 1, 3, 3))),
        ("Conv2d-channels", lambda lib: lib.nn.Conv2d(1, 32, 5)(lib.zeros(2, 3, 28, 28))),
        ("Conv2d-2d-input", lambda lib: lib.nn.Conv2d(1, 32, 5)(lib.zeros(28, 28))),
        ("conv2d-kernel-too-large", lambda lib: lib.conv2d(lib.zeros(1, 1, 3, 3),
                                                           lib.zeros(2, 1, 5, 5))),
        ("conv2d-dilated-too-large", lambda lib: lib.conv2d(
            lib.zeros(1, 1, 4, 4), lib.zeros(32, 1, 3, 3), dilation=2)),
        ("conv2d-groups-out-channels", lambda lib: lib.conv2d(
            lib.zeros(2, 4, 8, 8), lib.zeros(6, 1, 3, 3), groups=4)),
        ("conv2d-bias-shape", lambda lib: lib.conv2d(
            lib.zeros(1, 1, 8, 8), lib.zeros(32, 1, 3, 3), lib.zeros(3))),
        ("conv2d-2d-weight", lambda lib: lib.conv2d(lib.zeros(1, 1, 8, 8), lib.zeros(3, 3))),
        ("unfold-kernel-too-large", lambda lib: lib.F.unfold(lib.zeros(1, 1, 2, 2), 3)),
        ("fold-columns", lambda lib: lib.F.fold(lib.zeros(1, 4, 5), 3, 2)),
        ("MaxPool2d-too-small", lambda lib: lib.nn.MaxPool2d(2, 2)(lib.zeros(1, 1, 1, 1))),
        ("AvgPool2d-too-small", lambda lib: lib.nn.AvgPool2d(5)(lib.zeros(1, 1, 3, 3))),
        ("MaxPool2d-2d-input", lambda lib: lib.nn.MaxPool2d(2)(lib.zeros(4, 4))),
        ("BatchNorm1d-features", lambda lib: lib.nn.BatchNorm1d(3)(lib.zeros(4, 2))),
        ("BatchNorm2d-features", lambda lib: lib.nn.BatchNorm2d(2)(lib.zeros(4, 3, 2, 2))),
        ("mse-loss-shapes", lambda lib: lib.F.mse_loss(lib.zeros(4, 2), lib.zeros(3))),
        ("l1-loss-shapes", lambda lib: lib.F.l1_loss(lib.zeros(4, 2), lib.zeros(3))),
    ]],
    *[(name, call, ValueError, ad.ShapeError) for name, call in [
        ("BatchNorm1d-one-sample", lambda lib: lib.nn.BatchNorm1d(3)(lib.zeros(1, 3))),
        ("BatchNorm2d-2d-input", lambda lib: lib.nn.BatchNorm2d(2)(lib.zeros(4, 2))),
        ("cross-entropy-batch-sizes",
         lambda lib: lib.F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1, 2]))),
        ("bce-shapes", lambda lib: lib.F.binary_cross_entropy(lib.zeros(4, 1) + 0.5,
                                                              lib.zeros(4))),
        ("bce-with-logits-shapes",
         lambda lib: lib.F.binary_cross_entropy_with_logits(lib.zeros(4, 1), lib.zeros(4))),
    ]],
    *[(name, call, IndexError, TensorIndexError) for name, call in [
        ("cross-entropy-class-5-of-3",
         lambda lib: lib.F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 5]))),
        ("cross-entropy-class-negative",
         lambda lib: lib.nn.CrossEntropyLoss()(lib.zeros(2, 3), lib.tensor([0, -2]))),
        ("nll-loss-class-3-of-3",
         lambda lib: lib.F.nll_loss(lib.zeros(2, 3), lib.tensor([0, 3]))),
    ]],
    ("bce-input-outside-0-1",
     lambda lib: lib.F.binary_cross_entropy(lib.tensor([1.5]), lib.tensor([1.0])),
     RuntimeError, ad.DomainError),
    # load_state_dict (test_module): torch raises RuntimeError
    ("load-state-dict-wrong-shape", load_state_dict({"weight": (2, 4), "bias": (2,)}),
     RuntimeError, nn.StateDictError),
    ("load-state-dict-missing-key", load_state_dict({"weight": (2, 3)}),
     RuntimeError, nn.StateDictError),
    ("load-state-dict-unexpected-key",
     load_state_dict({"weight": (2, 3), "bias": (2,), "extra": (1,)}),
     RuntimeError, nn.StateDictError),
    ("load-state-dict-non-strict-shape", load_state_dict({"bias": (3,)}, strict=False),
     RuntimeError, nn.StateDictError),
    # optimizers (test_optimizer_base, test_first_day_mistakes): plain builtins, as torch
    *[(name, call, ValueError, ValueError) for name, call in [
        ("sgd-negative-lr", lambda lib: lib.optim.SGD(linear(lib).parameters(), lr=-0.1)),
        ("adam-negative-lr", lambda lib: lib.optim.Adam(linear(lib).parameters(), lr=-1.0)),
        ("adam-beta-1", lambda lib: lib.optim.Adam(linear(lib).parameters(),
                                                   betas=(1.0, 0.999))),
        ("adam-negative-eps", lambda lib: lib.optim.Adam(linear(lib).parameters(), eps=-1.0)),
        ("sgd-negative-momentum",
         lambda lib: lib.optim.SGD(linear(lib).parameters(), lr=0.1, momentum=-1)),
        ("sgd-negative-weight-decay",
         lambda lib: lib.optim.SGD(linear(lib).parameters(), lr=0.1, weight_decay=-1)),
        ("sgd-nesterov-without-momentum",
         lambda lib: lib.optim.SGD(linear(lib).parameters(), lr=0.1, nesterov=True)),
        ("rmsprop-negative-alpha",
         lambda lib: lib.optim.RMSprop(linear(lib).parameters(), alpha=-0.5)),
        ("adagrad-negative-lr",
         lambda lib: lib.optim.Adagrad(linear(lib).parameters(), lr=-0.5)),
        ("optimizer-empty-params", lambda lib: lib.optim.SGD([], lr=0.1)),
        ("optimizer-non-leaf", lambda lib: lib.optim.SGD([leaf(lib) * 2], lr=0.1)),
        ("optimizer-param-in-two-groups", lambda lib: (lambda x: lib.optim.SGD(
            [{"params": [x]}, {"params": [x]}], lr=0.1))(leaf(lib))),
        ("optimizer-state-of-another-model", optimizer_state_of_another_model),
    ]],
    *[(name, call, TypeError, TypeError) for name, call in [
        ("optimizer-over-the-model", lambda lib: lib.optim.SGD(linear(lib), lr=0.1)),
        ("optimizer-over-parameters-method",
         lambda lib: lib.optim.SGD(linear(lib).parameters, lr=0.1)),
        ("optimizer-over-one-tensor", lambda lib: lib.optim.SGD(leaf(lib), lr=0.1)),
        ("optimizer-over-numbers", lambda lib: lib.optim.SGD([1.0], lr=0.1)),
        ("scheduler-without-optimizer",
         lambda lib: lib.optim.lr_scheduler.StepLR("sgd", step_size=1)),
    ]],
    ("scheduler-resumed-without-initial-lr", scheduler_resumed_without_initial_lr,
     KeyError, KeyError),
    # modules and data (test_module, test_layers, test_init, test_data, first-day
    # mistakes): plain builtins, as torch
    *[(name, call, TypeError, TypeError) for name, call in [
        ("linear-on-a-list", lambda lib: linear(lib)([[1.0, 2.0]])),
        ("linear-on-an-array", lambda lib: linear(lib)(np.zeros((1, 2), np.float32))),
        ("assign-tensor-to-parameter", assign_tensor_to_parameter),
        ("add-module-not-a-module", lambda lib: linear(lib).add_module("x", 3)),
        ("register-parameter-tensor",
         lambda lib: linear(lib).register_parameter("x", lib.ones(2))),
        ("register-buffer-number", lambda lib: linear(lib).register_buffer("x", 3)),
        ("default-collate-objects",
         lambda lib: lib.data.default_collate([object(), object()])),
        ("len-of-0d", lambda lib: len(lib.tensor(1.0))),
        ("iter-of-0d", lambda lib: iter(lib.tensor(1.0))),
    ]],
    *[(name, call, IndexError, IndexError) for name, call in [
        ("sequential-index", lambda lib: lib.nn.Sequential(
            linear(lib), lib.nn.ReLU(), lib.nn.Linear(1, 1))[3]),
        ("module-list-index", lambda lib: lib.nn.ModuleList([linear(lib)] * 3)[3]),
    ]],
    *[(name, call, ValueError, ValueError) for name, call in [
        ("Dropout-p", lambda lib: lib.nn.Dropout(1.5)),
        ("Dropout2d-p", lambda lib: lib.nn.Dropout2d(1.5)),
        ("dropout-p", lambda lib: lib.F.dropout(lib.ones(2), p=1.5)),
        ("loss-reduction", lambda lib: lib.F.mse_loss(lib.zeros(2), lib.zeros(2),
                                                      reduction="avg")),
        ("Conv2d-in-channels-groups", lambda lib: lib.nn.Conv2d(3, 6, 3, groups=2)),
        ("Conv2d-out-channels-groups", lambda lib: lib.nn.Conv2d(4, 6, 3, groups=4)),
        ("Conv2d-same-padding-strided",
         lambda lib: lib.nn.Conv2d(1, 2, 3, stride=2, padding="same")),
        ("init-fan-of-1d", lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(3))),
        ("init-mode", lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(3, 2), mode="fan")),
        ("calculate-gain-unknown", lambda lib: lib.nn.init.calculate_gain("foo")),
        ("dataloader-batch-size-0",
         lambda lib: lib.data.DataLoader(lib.data.TensorDataset(lib.ones(4, 2)),
                                         batch_size=0)),
    ]],
]

IDS = [case[0] for case in CASES]


def ours_and_torchs(call: Call) -> tuple[Callable[[Lib], Any], Callable[[Lib], Any]]:
    return call if isinstance(call, tuple) else (call, call)


def raised(call: Callable[[Lib], Any], lib: Lib) -> BaseException | None:
    """The exception call(lib) raises (warnings silenced: torch warns on some), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib)
        except Exception as error:
            return error
    return None


def nearest_builtin(cls: type[BaseException]) -> type[BaseException]:
    """The most specific builtin class in cls's MRO (torch's own classes, such as
    torch.autograd.gradcheck.GradcheckError or torch.OutOfMemoryError, subclass one)."""
    return next(c for c in cls.__mro__ if c.__module__ == "builtins")


def describe(error: BaseException | None) -> str:
    if error is None:
        return "no error"
    mro = ", ".join(c.__name__ for c in type(error).__mro__[1:-2])
    return f"{type(error).__module__}.{type(error).__qualname__} ({mro}): {error}"


def check_ours(call: Callable[[Lib], Any], builtin: type[BaseException],
               ours: type[BaseException]) -> None:
    error = raised(call, OURS)
    assert error is not None, "autodiff raised nothing"
    assert isinstance(error, builtin), (f"torch raises {builtin.__name__}; autodiff raised "
                                        f"{describe(error)}")
    assert isinstance(error, ours), (f"expected our {ours.__qualname__} kept as well; "
                                     f"autodiff raised {describe(error)}")


def test_the_table_is_well_formed():
    assert len(set(IDS)) == len(IDS), [i for i in IDS if IDS.count(i) > 1]
    for case_id, _, builtin, ours in CASES:
        assert builtin.__module__ == "builtins", case_id
        # our own class, or the very builtin where nn/optim raise a plain one as torch does
        assert issubclass(ours, ad.AutodiffError) or ours is builtin, case_id


@pytest.mark.parametrize("call, builtin, ours", [case[1:] for case in CASES], ids=IDS)
def test_ours_is_the_pinned_builtin_and_our_own_class(call, builtin, ours):
    """Without torch: the builtin pinned in the table."""
    check_ours(ours_and_torchs(call)[0], builtin, ours)


@pytest.mark.parametrize("call, builtin, ours", [case[1:] for case in CASES], ids=IDS)
def test_ours_is_what_torch_raises(call, builtin, ours, torch_lib):
    """With torch: run the case in torch, take the builtin class of its error, and check
    ours against it (and the table's pin against torch)."""
    ours_call, torch_call = ours_and_torchs(call)
    torch_error = raised(torch_call, torch_lib)
    assert torch_error is not None, "torch raised nothing: the case does not belong here"
    torchs = nearest_builtin(type(torch_error))
    check_ours(ours_call, torchs, ours)
    assert torchs is builtin, (f"the table pins {builtin.__name__}, torch raised "
                               f"{describe(torch_error)}")


def test_our_classes_are_the_builtins_torch_raises():
    assert issubclass(ad.ShapeError, ValueError) and issubclass(ad.ShapeError, RuntimeError)
    assert issubclass(ad.DtypeError, TypeError) and issubclass(ad.DtypeError, RuntimeError)
    assert issubclass(ad.InPlaceError, RuntimeError)
    assert issubclass(ad.BackwardError, RuntimeError)
    assert issubclass(nn.StateDictError, RuntimeError)
    assert issubclass(TensorIndexError, IndexError)
    for cls in (ad.ShapeError, ad.DtypeError, ad.InPlaceError, ad.BackwardError,
                nn.StateDictError, TensorIndexError):
        assert issubclass(cls, ad.AutodiffError), cls
