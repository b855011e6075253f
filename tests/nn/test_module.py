"""Module, Parameter, Sequential and ModuleList (nn/module.py): registration, PyTorch's
names and order, state_dict round trips and errors, modes, hooks, graph scopes, repr and
hyperparameters."""
import collections
import timeit

import numpy as np
import pytest

import autodiff as ad
import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(ad.ones(1))
        self.register_buffer("steps", ad.tensor(0))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

    def forward(self, x):
        return self.head(self.bn(self.fc1(x))) * self.scale


def mixed_model():
    return nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2),
                         nn.Dropout(0.3), nn.Linear(4, 3, bias=False), nn.Softmax(dim=1))


# ---------------------------------------------------------------- registration and order

def test_named_parameters_buffers_and_modules_follow_torch_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "head.1.weight",
        "head.1.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "head", "head.0",
                                                   "head.1"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "head"]
    assert next(net.children()) is net.fc1
    assert len(list(net.modules())) == 6
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert next(net.named_parameters(prefix="model"))[0] == "model.scale"


def test_state_dict_keys_order_and_values_match_torch():
    torch = pytest.importorskip("torch")
    ours = mixed_model()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.LeakyReLU(0.2), torch.nn.Dropout(0.3),
                                 torch.nn.Linear(4, 3, bias=False), torch.nn.Softmax(dim=1))
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "4.weight"]
    steps = sd["1.num_batches_tracked"]
    assert steps.shape == () and steps.dtype == np.int64 and steps.item() == 0
    assert all(sd[k].dtype == np.float32 for k in sd if k != "1.num_batches_tracked")
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()})
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy())


def test_state_dict_shares_memory_but_not_the_graph():
    model = nn.Linear(2, 2)
    sd = model.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].numpy() is model.weight.numpy()
    assert isinstance(sd, collections.OrderedDict)


def test_load_state_dict_copies_into_the_existing_tensors_and_dtypes():
    source, target = mixed_model(), mixed_model()
    source.train()(ad.randn(6, 5))                 # moves the running statistics
    weight_array = target[0].weight.numpy()
    sd = {k: v.numpy().astype(np.float64) for k, v in source.state_dict().items()}
    result = target.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target[0].weight.numpy() is weight_array          # copied in place
    assert target[0].weight.dtype == np.float32           # the model's dtype is kept
    assert target[1].num_batches_tracked.dtype == np.int64
    assert target[1].num_batches_tracked.item() == 1
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), value.numpy())


def test_load_state_dict_lists_every_problem_and_copies_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    before = model[0].weight.numpy().copy()
    bad = {"0.weight": np.zeros((2, 4)), "0.bias": np.zeros(2), "1.weight": np.zeros((1, 2)),
           "2.bias": np.zeros(1)}
    with pytest.raises(nn.StateDictError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert "missing keys: 1.bias" in message
    assert "unexpected keys: 2.bias" in message
    assert "0.weight: shape (2, 4) in the state dict, (2, 3) in the model" in message
    np.testing.assert_array_equal(model[0].weight.numpy(), before)
    # strict=False tolerates missing and unexpected keys, never a wrong shape
    good = {"0.bias": np.ones(2), "extra": np.ones(1)}
    result = model.load_state_dict(good, strict=False)
    assert result.missing_keys == ["0.weight", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].bias.numpy(), [1, 1])
    with pytest.raises(nn.StateDictError, match="0.bias: shape"):
        model.load_state_dict({"0.bias": np.ones(3)}, strict=False)


def test_attribute_rules():
    net = Net()
    with pytest.raises(TypeError, match="is a parameter: assign an nn.Parameter"):
        net.scale = ad.ones(1)
    net.scale = None
    assert "scale" not in [n for n, _ in net.named_parameters()]
    net.fc1 = None
    assert [n for n, _ in net.named_children()] == ["bn", "head"]
    net.steps = ad.tensor(5)
    assert net.state_dict()["steps"].item() == 5
    del net.bn
    assert not hasattr(net, "bn")
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        _ = net.missing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ad.ones(1))

    with pytest.raises(AttributeError, match="call super"):
        Early()
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential(nn.Linear(1, 1), lambda x: x)


def test_parameter():
    p = nn.Parameter(np.array([1.0, 2.0]))
    assert isinstance(p, ad.Tensor) and p.requires_grad and p.dtype == np.float64
    assert repr(nn.Parameter([1.0])) == "Parameter containing:\ntensor([1.], requires_grad=True)"
    y = p * 2
    assert type(y) is ad.Tensor                   # results of ops are plain tensors
    assert not nn.Parameter(ad.ones(2), requires_grad=False).requires_grad


# ---------------------------------------------------------------- modes and gradients

def test_train_eval_zero_grad_apply_and_to():
    net = Net()
    assert net.training and net.head[1].training
    assert net.eval() is net and not net.training and not net.head[0].training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="True or False"):
        net.train("no")
    loss = net(ad.randn(5, 4)).sum()
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    assert all(p.grad is g for p, g in zip(net.parameters(), grads))    # in place, as torch
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_var.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64
    assert net(ad.randn(3, 4, dtype=ad.float64)).dtype == np.float64


# ---------------------------------------------------------------- containers

def test_sequential_indexing_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    assert len(model) == 2 and isinstance(model[-1], nn.Tanh)
    model.append(nn.Linear(3, 1))
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and [n for n, _ in head.named_children()] == ["1", "2"]
    assert list(model) == [model[0], model[1], model[2]]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        model[3]
    named = nn.Sequential(collections.OrderedDict(fc1=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["fc1.weight", "fc1.bias"]
    assert named(ad.ones(1, 2)).shape == (1, 2)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers[1] = nn.Tanh()
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU"]
    assert list(layers.state_dict()) == ["0.weight", "0.bias"]
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    with pytest.raises(NotImplementedError, match="loop over it"):
        layers(ad.ones(2))


# ---------------------------------------------------------------- hyperparameters

def test_hyperparameters_rebuild_every_builtin_layer():
    layers = [nn.Linear(784, 64, bias=False), nn.Identity(), nn.Flatten(0, 2), nn.ReLU(),
              nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=0),
              nn.LogSoftmax(dim=1), nn.Dropout(0.1, inplace=True),
              nn.BatchNorm1d(8, eps=1e-3, momentum=None, affine=False,
                             track_running_stats=False),
              nn.MSELoss(reduction="sum"), nn.L1Loss(), nn.BCELoss(), nn.BCEWithLogitsLoss(),
              nn.NLLLoss(reduction="none"), nn.CrossEntropyLoss(), nn.Sequential(),
              nn.ModuleList(),
              nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=1, dilation=2, groups=2,
                        bias=False),
              nn.Conv1d(4, 8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                        padding_mode="reflect"),
              nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2,
                                 bias=False, dilation=(1, 2)),
              nn.Upsample(scale_factor=(2, 1.5), mode="bilinear", align_corners=True),
              nn.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True, return_indices=True),
              nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False,
                           divisor_override=2),
              nn.AdaptiveAvgPool2d((None, 2)), nn.BatchNorm2d(3, momentum=None),
              nn.Dropout2d(0.2), nn.CELU(0.5, inplace=True), nn.ELU(2.0),
              nn.Embedding(7, 3, padding_idx=0),
              nn.GELU(approximate="tanh"), nn.GroupNorm(2, 4, eps=1e-3, affine=False),
              nn.Hardsigmoid(), nn.Hardswish(), nn.Hardtanh(-2.0, 3.0),
              nn.LayerNorm((2, 3), eps=1e-3, bias=False), nn.LogSigmoid(), nn.Mish(),
              nn.ModuleDict(), nn.ReLU6(inplace=True), nn.SELU(), nn.SiLU(), nn.Softmin(dim=1),
              nn.Softplus(beta=2.0, threshold=10.0), nn.Softsign(), nn.Unflatten(1, (2, 3)),
              nn.MultiheadAttention(6, 3, dropout=0.1, bias=False, kdim=4, vdim=5,
                                    batch_first=True),
              nn.attention.NonDynamicallyQuantizableLinear(3, 4, bias=False),
              nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bias=False, batch_first=True,
                     dropout=0.5, bidirectional=True),
              nn.LSTM(3, 4, num_layers=2, bidirectional=True),
              nn.GRU(3, 4, num_layers=3, batch_first=True, dropout=0.2),
              nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), nn.LSTMCell(2, 5),
              nn.GRUCell(4, 3, bias=False),
              nn.Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2, bias=False,
                        padding_mode="replicate"),
              nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                 dilation=2),
              nn.AdaptiveMaxPool2d((None, 3), return_indices=True), nn.AdaptiveMaxPool1d(4),
              nn.Bilinear(3, 4, 5, bias=False),
              nn.MaxPool3d((2, 3, 1), stride=1, padding=1, ceil_mode=True, return_indices=True),
              nn.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False,
                           divisor_override=2),
              nn.AdaptiveAvgPool3d((2, None, 3)),
              nn.EmbeddingBag(7, 3, mode="max", include_last_offset=True, padding_idx=-1),
              nn.SmoothL1Loss(reduction="sum", beta=0.5), nn.HuberLoss(reduction="none", delta=2.0),
              nn.KLDivLoss(reduction="batchmean", log_target=True),
              nn.CosineEmbeddingLoss(margin=0.2, reduction="sum"),
              nn.PReLU(3, init=0.1), nn.Threshold(0.5, -1.0, inplace=True), nn.Hardshrink(0.3),
              nn.Softshrink(0.2), nn.Tanhshrink(), nn.GLU(1), nn.Softmax2d(),
              nn.RMSNorm((2, 3), eps=1e-4, elementwise_affine=False),
              nn.LocalResponseNorm(3, alpha=1e-3, beta=0.5, k=2.0),
              nn.InstanceNorm1d(4, affine=True, track_running_stats=True, bias=False),
              nn.InstanceNorm2d(3, eps=1e-3, momentum=None), nn.InstanceNorm3d(2),
              nn.Dropout1d(0.2, inplace=True), nn.AlphaDropout(0.1),
              nn.BatchNorm3d(3, eps=1e-3, affine=False), nn.Dropout3d(0.2, inplace=True),
              nn.RReLU(0.1, 0.3, inplace=True), nn.FeatureAlphaDropout(0.3),
              nn.MaxPool1d(3, 2, 1, 2, return_indices=True, ceil_mode=True),
              nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False),
              nn.AdaptiveAvgPool1d(3), nn.LPPool1d(1.5, 3, 2, ceil_mode=True),
              nn.LPPool2d(2, (3, 2), (2, 1)),
              nn.UpsamplingNearest2d(size=(3, 4)), nn.UpsamplingBilinear2d(scale_factor=2),
              nn.PixelShuffle(2), nn.PixelUnshuffle(3), nn.ChannelShuffle(2),
              nn.Fold(4, (2, 3), 2, 1, 2), nn.Unfold((2, 3), padding=1),
              nn.CosineSimilarity(0, 1e-6), nn.PairwiseDistance(1.0, 0.0, True),
              nn.ZeroPad1d((1, 2)), nn.ZeroPad2d(2), nn.ZeroPad3d(1),
              nn.ConstantPad1d(2, 3.5), nn.ConstantPad2d((1, 2, 3, 4), 1.0),
              nn.ConstantPad3d(1, -1.0), nn.ReflectionPad1d(2), nn.ReflectionPad2d((1, 0, 2, 1)),
              nn.ReflectionPad3d(1), nn.ReplicationPad1d((0, 3)), nn.ReplicationPad2d(2),
              nn.ReplicationPad3d(1), nn.CircularPad1d(1), nn.CircularPad2d((1, 1, 2, 0)),
              nn.CircularPad3d(2),
              nn.MarginRankingLoss(0.5, reduction="sum"),
              nn.TripletMarginLoss(2.0, p=1.0, eps=0.0, swap=True, reduction="none"),
              nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum"),
              nn.SoftMarginLoss(reduction="none"),
              nn.MultiLabelSoftMarginLoss(weight=ad.tensor([1.0, 2.0]), reduction="sum"),
              nn.HingeEmbeddingLoss(2.0), nn.PoissonNLLLoss(False, True, 1e-6, "sum"),
              nn.MultiMarginLoss(2, 0.5, [1.0, 0.5, 2.0]),
              nn.ConvTranspose3d(4, 6, (3, 2, 1), stride=2, padding=1, output_padding=1,
                                 groups=2, dilation=(1, 2, 1)),
              nn.AdaptiveMaxPool3d((2, None, 3), return_indices=True),
              nn.MaxUnpool1d(3, 2, 1), nn.MaxUnpool2d((2, 3), stride=1, padding=(1, 0)),
              nn.MaxUnpool3d(2, padding=(1, 0, 1)), nn.MultiLabelMarginLoss(reduction="sum"),
              nn.TripletMarginWithDistanceLoss(margin=2.0, swap=True, reduction="none"),
              nn.CTCLoss(blank=2, reduction="sum", zero_infinity=True),
              nn.AdaptiveLogSoftmaxWithLoss(16, 20, (3, 9, 15), div_value=2.0, head_bias=True),
              nn.LazyLinear(5, bias=False),
              nn.LazyConv1d(8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                            padding_mode="circular"),
              nn.LazyConv2d(8, 3, padding="same", padding_mode="reflect"),
              nn.LazyConv3d(8, (3, 2, 1), stride=2, padding=1, groups=2, bias=False),
              nn.LazyConvTranspose1d(33, 3, stride=2, output_padding=1),
              nn.LazyConvTranspose2d(6, (3, 2), stride=2, padding=1, output_padding=1,
                                     groups=2, bias=False, dilation=(1, 2)),
              nn.LazyConvTranspose3d(8, (3, 4, 4), stride=2, padding=1),
              nn.LazyBatchNorm1d(eps=1e-3, momentum=None, affine=False,
                                 track_running_stats=False),
              nn.LazyBatchNorm2d(bias=False), nn.LazyBatchNorm3d(momentum=0.01),
              nn.LazyInstanceNorm1d(affine=False), nn.LazyInstanceNorm2d(eps=1e-3, bias=False),
              nn.LazyInstanceNorm3d(momentum=None, track_running_stats=False)]
    assert {type(m).__name__ for m in layers} == set(nn.BUILTIN_LAYERS)
    for layer in layers:
        assert nn.BUILTIN_LAYERS[type(layer).__name__] is type(layer)
        rebuilt = type(layer)(**layer.hyperparameters())
        assert repr(rebuilt) == repr(layer)
        assert rebuilt.hyperparameters() == layer.hyperparameters()
    assert nn.Linear(784, 64).hyperparameters() == {"in_features": 784, "out_features": 64,
                                                    "bias": True}
    assert nn.Dropout().hyperparameters() == {"p": 0.5, "inplace": False}
    assert nn.LeakyReLU().hyperparameters() == {"negative_slope": 0.01, "inplace": False}
    assert nn.Softmax(dim=1).hyperparameters() == {"dim": 1}
    assert nn.BatchNorm1d(4).hyperparameters() == {
        "num_features": 4, "eps": 1e-5, "momentum": 0.1, "affine": True, "bias": True,
        "track_running_stats": True}
    assert nn.BatchNorm1d(4, bias=False).hyperparameters()["bias"] is False


def test_user_modules_have_no_hyperparameters():
    with pytest.raises(TypeError, match="Net is not one of nn's built-in layers"):
        Net().hyperparameters()


# ---------------------------------------------------------------- calling: hooks and scopes

def test_forward_hooks_see_and_may_replace_the_output():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
    x = ad.ones(1, 2)
    y = layer(x)
    assert seen[0][0] is layer and seen[0][1][0] is x and seen[0][2] is y
    replace = layer.register_forward_hook(lambda m, args, out: out * 0)
    assert np.all(layer(x).numpy() == 0)
    replace.remove()
    handle.remove()
    layer(x)
    assert len(seen) == 2 and np.any(layer(x).numpy() != 0)


def test_scopes_name_each_module_by_path_and_class():
    xor = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
    x = ad.ones(4, 2)
    y = xor(x)
    assert y.grad_fn.scope == ("Sequential", "3: Sigmoid")
    hidden = xor[0](x)
    assert hidden.grad_fn.scope == ("0: Linear(2→10)",)

    class Mnist(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 64)
            self.block = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(64))

        def forward(self, x):
            return self.block(self.fc1(x))

    out = Mnist()(ad.randn(3, 784))
    assert out.grad_fn.scope == ("Mnist", "block: Sequential", "1: BatchNorm1d(64)")
    assert Mnist().fc1(ad.ones(1, 784)).grad_fn.scope == ("fc1: Linear(784→64)",)
    drop = Mnist().block[0](ad.ones(2, 2, requires_grad=True))
    assert drop.grad_fn.scope == ("0: Dropout(p=0.5)",)
    assert ad.ones(1, requires_grad=True).exp().grad_fn.scope is None    # outside any module


def test_slicing_a_container_does_not_rename_its_modules():
    layers = nn.ModuleList([nn.Tanh(), nn.Sigmoid()])
    tail = layers[1:]
    y = tail[0](ad.ones(1, requires_grad=True))
    assert y.grad_fn.scope == ("1: Sigmoid",)


def test_module_call_overhead_is_small():
    """The scope and hook handling around forward cost about a microsecond per call."""
    layer = nn.Tanh()
    x = ad.ones(2)
    call = min(timeit.repeat(lambda: layer(x), number=2000, repeat=5))
    forward = min(timeit.repeat(lambda: layer.forward(x), number=2000, repeat=5))
    assert (call - forward) / 2000 < 10e-6


def test_scope_name_follows_changes_to_the_module():
    dropout = nn.Dropout(0.5)
    model = nn.Sequential(nn.Linear(2, 3), dropout)
    x = ad.ones(4, 2, requires_grad=True)
    assert model(x).grad_fn.scope == ("Sequential", "1: Dropout(p=0.5)")
    dropout.p = 0.2
    assert model(x).grad_fn.scope == ("Sequential", "1: Dropout(p=0.2)")


def test_scope_labels_fill_each_layers_label_with_its_settings():
    """A layer's LABEL is a template over its hyperparameters; sizes given per dim read as
    a shape (5×5); a layer without a LABEL is named by its class alone."""
    labels = [(nn.Linear(784, 64), "Linear(784→64)"),
              (nn.Conv2d(1, 16, 5, padding=2), "Conv2d(1→16, 5×5)"),
              (nn.Conv1d(4, 8, 3), "Conv1d(4→8, 3)"),
              (nn.ConvTranspose2d(16, 8, (4, 2)), "ConvTranspose2d(16→8, 4×2)"),
              (nn.LSTM(3, 5), "LSTM(3→5)"), (nn.BatchNorm1d(64), "BatchNorm1d(64)"),
              (nn.LayerNorm((2, 3)), "LayerNorm(2×3)"), (nn.GroupNorm(2, 4), "GroupNorm(2, 4)"),
              (nn.Embedding(10, 3), "Embedding(10, 3)"), (nn.MaxPool2d(2), "MaxPool2d(2)"),
              (nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(1×1)"),
              (nn.Dropout(0.5, inplace=True), "Dropout(p=0.5)"),
              (nn.LeakyReLU(0.2), "LeakyReLU(0.2)"), (nn.ELU(), "ELU(alpha=1.0)"),
              (nn.GELU("tanh"), "GELU(approximate='tanh')"), (nn.Softmax(dim=1), "Softmax(dim=1)"),
              (nn.MultiheadAttention(8, 2), "MultiheadAttention(8, heads=2)"),
              (nn.ReLU(inplace=True), "ReLU"), (nn.Flatten(), "Flatten"),
              (nn.CrossEntropyLoss(label_smoothing=0.1), "CrossEntropyLoss"),
              (nn.Sequential(), "Sequential")]
    for layer, label in labels:
        assert layer._scope_label() == label
    assert nn.Linear(2, 3)(ad.ones(1, 2)).grad_fn.scope == ("Linear(2→3)",)


def test_a_module_of_your_own_describes_itself_with_extra_repr():
    class Scaled(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def extra_repr(self):
            return f"factor={self.factor}"

        def forward(self, x):
            return x * self.factor

    class Wide(nn.Linear):
        """A subclass of a built-in layer keeps its description (not its registration)."""

    assert repr(Scaled(2.0)) == "Scaled(factor=2.0)" and repr(Net()).startswith("Net(\n")
    assert Scaled(2.0)(ad.ones(1, requires_grad=True)).grad_fn.scope == ("Scaled",)
    with pytest.raises(TypeError, match="Scaled is not one of nn's built-in layers"):
        Scaled(2.0).hyperparameters()
    assert repr(Wide(2, 3)) == "Wide(in_features=2, out_features=3, bias=True)"
    assert Wide(2, 3)._scope_label() == "Wide(2→3)"
    with pytest.raises(TypeError, match="layer '0' of the model is Wide"):
        nn.Sequential(Wide(2, 3)).to_json()


def test_a_setting_left_at_its_default_per_dim_is_not_shown_where_torch_hides_it():
    assert nn.module.is_default((0, 0), 0) and nn.module.is_default((1,), 1)
    assert not nn.module.is_default((0, 1), 0) and not nn.module.is_default("same", 0)
    assert not nn.module.is_default((), 0) and not nn.module.is_default((4, 6), None)
    assert repr(nn.Conv2d(1, 2, 3, padding=(0, 0), dilation=(1, 1))) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))"
