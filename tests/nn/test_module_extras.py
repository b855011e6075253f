"""Module.requires_grad_, get_submodule, non-persistent buffers, forward pre-hooks and full
backward (pre-)hooks (nn/module.py); nn.init.trunc_normal_ and orthogonal_ (nn/init.py);
nn.summary's input_data= and dtypes= (nn/summary.py); nn.utils.rnn.pad_sequence. Each
against torch where it is installed, and on numbers worked out by hand without it."""
import math
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import init
from nn.utils.rnn import pad_sequence

# ---------------------------------------------------------------- requires_grad_, get_submodule


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x))


def test_requires_grad_sets_every_parameter_and_returns_self():
    net = Net()
    assert net.requires_grad_(False) is net
    assert [p.requires_grad for p in net.parameters()] == [False] * 4
    net.head.requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    net(ad.ones(2, 3)).sum().backward()
    assert net.encoder[0].weight.grad is None and net.head.weight.grad is not None


def test_get_submodule_follows_dotted_paths_and_names_the_missing_part():
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("encoder") is net.encoder
    assert net.get_submodule("encoder.1") is net.encoder[1]
    with pytest.raises(AttributeError, match="^Sequential has no attribute `2`$"):
        net.get_submodule("encoder.2")
    with pytest.raises(AttributeError, match="^Net has no attribute `decoder`$"):
        net.get_submodule("decoder.0")
    with pytest.raises(AttributeError, match="^`weight` is not an nn.Module$"):
        net.get_submodule("head.weight")
    with pytest.raises(TypeError, match="dotted path"):
        net.get_submodule(0)


def test_get_submodule_errors_read_as_torchs(torch_oracle):
    torch = torch_oracle.torch
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    for target in ["2", "0.foo", "0.weight", "0.weight.x", "1.x"]:
        with pytest.raises(AttributeError) as expected:
            theirs.get_submodule(target)
        with pytest.raises(AttributeError) as actual:
            ours.get_submodule(target)
        assert str(actual.value) == str(expected.value)


# ---------------------------------------------------------------- non-persistent buffers

def masked():
    layer = nn.Linear(2, 2)
    layer.register_buffer("mask", ad.ones(2), persistent=False)
    layer.register_buffer("count", ad.tensor(0))
    return layer


def test_non_persistent_buffer_is_a_buffer_but_not_state():
    layer = masked()
    assert [n for n, _ in layer.named_buffers()] == ["mask", "count"]
    assert list(layer.state_dict()) == ["weight", "bias", "count"]
    layer.double()
    assert layer.mask.dtype == np.float64 and layer.count.dtype == np.int64
    model = nn.Sequential(masked())
    assert list(model.state_dict()) == ["0.weight", "0.bias", "0.count"]
    assert "0.mask" in dict(model.named_buffers())
    # assigning keeps the persistence; registering again sets it anew; deleting forgets it
    layer.mask = ad.zeros(2)
    assert "mask" not in layer.state_dict()
    layer.register_buffer("mask", ad.zeros(2))
    assert "mask" in layer.state_dict()
    layer.register_buffer("mask", ad.zeros(2), persistent=False)
    del layer.mask
    layer.register_buffer("mask", ad.zeros(2))
    assert "mask" in layer.state_dict()


def test_load_state_dict_neither_expects_nor_accepts_a_non_persistent_buffer():
    source, target = masked(), masked()
    assert target.load_state_dict(source.state_dict()) == ([], [])
    with_mask = {**source.state_dict(), "mask": ad.zeros(2)}
    with pytest.raises(nn.StateDictError, match="unexpected keys: mask"):
        target.load_state_dict(with_mask)
    assert target.load_state_dict(with_mask, strict=False) == ([], ["mask"])
    np.testing.assert_array_equal(target.mask.numpy(), [1, 1])      # not loaded


def test_model_files_leave_non_persistent_buffers_out(tmp_path):
    model = nn.Sequential(masked())
    model[0].mask[...] = 5.0
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    loaded = nn.load(path, nn.Sequential(masked()))
    np.testing.assert_array_equal(loaded[0].weight.numpy(), model[0].weight.numpy())
    np.testing.assert_array_equal(loaded[0].mask.numpy(), [1, 1])   # the constructor's
    assert "0.mask" not in nn.load(path, nn.Sequential(masked())).state_dict()


def test_non_persistent_buffers_match_torch(torch_oracle):
    torch = torch_oracle.torch
    theirs = torch.nn.Linear(2, 2)
    theirs.register_buffer("mask", torch.ones(2), persistent=False)
    theirs.register_buffer("count", torch.tensor(0))
    ours = masked()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    with_mask = {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    with_mask["mask"] = torch.zeros(2)
    result = theirs.load_state_dict(with_mask, strict=False)
    assert tuple(ours.load_state_dict(with_mask, strict=False)) == tuple(result)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        theirs.load_state_dict(with_mask)


# ---------------------------------------------------------------- forward pre-hooks

def test_forward_pre_hooks_replace_the_arguments_in_order():
    layer = nn.Linear(2, 1)
    with ad.no_grad():
        layer.weight[...] = ad.tensor([[1.0, 10.0]])
        layer.bias[...] = 0.0
    calls = []
    first = layer.register_forward_pre_hook(lambda m, args: calls.append(args) or None)
    double = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)      # not a tuple
    seen_by_forward_hook = []
    layer.register_forward_hook(lambda m, args, out: seen_by_forward_hook.append(args))
    x = ad.tensor([[1.0, 1.0]])
    assert layer(x).item() == 22.0
    assert calls[0][0] is x and len(calls[0]) == 1
    assert seen_by_forward_hook[0][0].tolist() == [[2.0, 2.0]]     # the replaced args
    double.remove()
    assert layer(x).item() == 11.0
    first.remove()
    assert len(calls) == 2 and layer(x).item() == 11.0


def test_forward_pre_hook_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    module = Scale()
    module.register_forward_pre_hook(lambda m, args, kwargs: (args, {"factor": 3.0}),
                                     with_kwargs=True)
    assert module(ad.tensor([2.0])).tolist() == [6.0]
    bad = Scale()
    bad.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"\(new_args, new_kwargs\)"):
        bad(ad.tensor([2.0]))


def test_forward_pre_hook_matches_torch(torch_oracle):
    torch = torch_oracle.torch
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    theirs = torch_oracle.copy(ours, theirs, np.float32)
    ours.register_forward_pre_hook(lambda m, args: (args[0].tanh(),))
    theirs.register_forward_pre_hook(lambda m, args: (args[0].tanh(),))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    torch_oracle.assert_close(ours(ad.tensor(x)).numpy(),
                              theirs(torch.from_numpy(x)).detach().numpy(), np.float32)


# ---------------------------------------------------------------- full backward hooks, by hand

class Scale3(nn.Module):
    """y = 3x: dL/dx = 3 dL/dy."""

    def forward(self, x):
        return x * 3


def test_backward_hooks_see_the_gradients_and_may_replace_them():
    module = Scale3()
    events = []
    module.register_full_backward_pre_hook(lambda m, go: events.append(("pre", go)))
    module.register_full_backward_hook(lambda m, gi, go: events.append(("hook", gi, go)))
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (module(x) * ad.tensor([1.0, -1.0])).sum().backward()
    assert [e[0] for e in events] == ["pre", "hook"]           # outputs first, then inputs
    assert events[0][1][0].tolist() == [1.0, -1.0]
    assert events[1][1][0].tolist() == [3.0, -3.0] and events[1][2][0].tolist() == [1.0, -1.0]
    assert x.grad.tolist() == [3.0, -3.0]
    # the pre-hook's grad_output flows into the module; the hook's grad_input on to x
    replacing = Scale3()
    replacing.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
    replacing.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    replacing(x).sum().backward()
    assert x.grad.tolist() == [31.0, 31.0]                       # 3 · 10 · 1 + 1
    blocked = Scale3()
    blocked.register_full_backward_hook(lambda m, gi, go: (None,))
    x = ad.tensor([1.0], requires_grad=True)
    y = blocked(x) + x                                           # dL/dx = 1 only
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_backward_hook_handles_and_errors():
    module = Scale3()
    calls = []
    handle = module.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    x = ad.ones(2, requires_grad=True)
    module(x).sum().backward()
    handle.remove()
    module(x).sum().backward()
    assert calls == [1] and x.grad.tolist() == [6.0, 6.0]
    assert not module._backward_hooks
    module.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="returned 2 entries; it must return None or a "
                                           "tuple of 1"):
        module(x).sum().backward()
    shaped = Scale3()
    shaped.register_full_backward_pre_hook(lambda m, go: (ad.ones(3),))
    with pytest.raises(ad.ShapeError, match=r"grad_output\[0\] of shape \(3,\); it replaces "
                                            r"a gradient of shape \(2,\)"):
        shaped(x).sum().backward()


def test_backward_hook_without_input_grads_runs_from_the_outputs():
    layer = nn.Linear(2, 1)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    with pytest.warns(UserWarning, match="none of its inputs requires grad"):
        layer(ad.ones(1, 2)).sum().backward()
    assert seen[0][0] == (None,) and seen[0][1][0].tolist() == [[1.0]]
    assert layer.weight.grad.tolist() == [[1.0, 1.0]]
    refusing = nn.Linear(2, 1)
    refusing.register_full_backward_hook(lambda m, gi, go: (ad.ones(1, 2),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="no input of the module requires grad"):
            refusing(ad.ones(1, 2)).sum().backward()


def test_backward_hooks_under_no_grad_and_create_graph():
    module = Scale3()
    seen = []
    module.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    with ad.no_grad():
        assert module(ad.ones(1, requires_grad=True)).grad_fn is None

    class Cube(nn.Module):
        def forward(self, x):
            return x ** 3

    cube = Cube()
    cube.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    x = ad.tensor([2.0], requires_grad=True)
    dy, = ad.grad(cube(x).sum(), [x], create_graph=True)        # 3x² = 12
    d2y, = ad.grad(dy.sum(), [x])                                # 6x = 12
    assert dy.item() == 12.0 and d2y.item() == 12.0
    assert len(seen) == 1 and seen[0][0].item() == 12.0


def test_backward_hooks_refuse_compilation():
    module = Scale3()
    module.register_full_backward_hook(lambda m, gi, go: None)
    step = ad.compile(lambda x: module(x).sum(), fullgraph=True)
    with pytest.raises(ad.CompileError, match="backward hooks"):
        step(ad.ones(2, requires_grad=True))


# ---------------------------------------------------------------- full backward hooks vs torch

class TwoInputs:
    """out = (a · w) * b + 2a: a module of two tensor inputs and a non-tensor one."""

    @staticmethod
    def ours():
        class Ours(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(ad.tensor([0.5, -1.0, 2.0]))

            def forward(self, a, b, note):
                return (a * self.w) * b + 2 * a, a.sum()

        return Ours()

    @staticmethod
    def theirs(torch, ours):
        class Theirs(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.nn.Parameter(torch.from_numpy(ours.w.numpy().copy()))

            def forward(self, a, b, note):
                return (a * self.w) * b + 2 * a, a.sum()

        return Theirs()


def run_with_hooks(module, inputs, upstream, replace):
    """Call module(*inputs) with a backward pre-hook and a backward hook that record what
    they see (and, with replace, change it); backward from sum(output · upstream)."""
    seen = {}

    def pre_hook(m, grad_output):
        seen["pre"] = [None if g is None else g.numpy().copy() for g in grad_output]
        return tuple(None if g is None else g * 2 for g in grad_output) if replace else None

    def hook(m, grad_input, grad_output):
        seen["input"] = [None if g is None else g.numpy().copy() for g in grad_input]
        seen["output"] = [None if g is None else g.numpy().copy() for g in grad_output]
        return (grad_input[0] - 1,) + grad_input[1:] if replace else None

    module.register_full_backward_pre_hook(pre_hook)
    module.register_full_backward_hook(hook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch's "no inputs require gradients"
        out = module(*inputs)
        first = out[0] if isinstance(out, tuple) else out
        (first * upstream).sum().backward()
    return seen


def assert_same(ours, theirs, torch_oracle):
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert len(ours[key]) == len(theirs[key]), key
        for a, b in zip(ours[key], theirs[key]):
            assert (a is None) == (b is None), key
            if a is not None:
                torch_oracle.assert_close(a, b, np.float32, err_msg=key)


@pytest.mark.parametrize("replace, input_grad", [(False, True), (True, True), (False, False)])
def test_linear_backward_hooks_match_torch(torch_oracle, replace, input_grad):
    """Without an input that requires grad the hook runs from the outputs, grad_input all
    None (and may not replace it)."""
    torch = torch_oracle.torch
    ours = nn.Linear(3, 2)
    theirs = torch_oracle.copy(ours, torch.nn.Linear(3, 2), np.float32)
    rng = np.random.default_rng(1)
    x, upstream = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    xa = ad.tensor(x, dtype=ad.float32, requires_grad=input_grad)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=input_grad)
    seen_ours = run_with_hooks(ours, (xa,), ad.tensor(upstream, dtype=ad.float32), replace)
    seen_theirs = run_with_hooks(theirs, (xt,), torch.tensor(upstream).float(), replace)
    assert_same(seen_ours, seen_theirs, torch_oracle)
    if input_grad:
        torch_oracle.assert_close(xa.grad.numpy(), xt.grad.numpy(), np.float32)
    torch_oracle.assert_close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), np.float32)
    torch_oracle.assert_close(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), np.float32)


@pytest.mark.parametrize("replace", [False, True])
def test_sequential_backward_hooks_match_torch(torch_oracle, replace):
    """Hooks on the container and on a layer inside it; the input feeds a leaf upstream."""
    torch = torch_oracle.torch
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch_oracle.copy(ours, torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)), np.float32)
    rng = np.random.default_rng(2)
    x, scale, upstream = (rng.standard_normal(s) for s in [(5, 3), (3,), (5, 2)])
    sa = ad.tensor(scale, dtype=ad.float32, requires_grad=True)
    st = torch.tensor(scale, dtype=torch.float32, requires_grad=True)
    inner_ours, inner_theirs = {}, {}
    ours[1].register_full_backward_hook(
        lambda m, gi, go: inner_ours.update(gi=gi[0].numpy().copy()))
    theirs[1].register_full_backward_hook(
        lambda m, gi, go: inner_theirs.update(gi=gi[0].numpy().copy()))
    seen_ours = run_with_hooks(ours, (ad.tensor(x, dtype=ad.float32) * sa,),
                               ad.tensor(upstream, dtype=ad.float32), replace)
    seen_theirs = run_with_hooks(theirs, (torch.tensor(x).float() * st,),
                                 torch.tensor(upstream).float(), replace)
    assert_same(seen_ours, seen_theirs, torch_oracle)
    torch_oracle.assert_close(inner_ours["gi"], inner_theirs["gi"], np.float32)
    torch_oracle.assert_close(sa.grad.numpy(), st.grad.numpy(), np.float32)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        torch_oracle.assert_close(p.grad.numpy(), q.grad.numpy(), np.float32, err_msg=name)


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("b_grad", [True, False])
def test_two_input_backward_hooks_match_torch(torch_oracle, replace, b_grad):
    """grad_input has one entry per argument: None for the non-tensor one, zeros for b
    when it does not require grad; grad_output None for the unused second output."""
    torch = torch_oracle.torch
    ours = TwoInputs.ours()
    theirs = TwoInputs.theirs(torch, ours)
    rng = np.random.default_rng(3)
    a, b, upstream = (rng.standard_normal((2, 3)) for _ in range(3))
    aa = ad.tensor(a, dtype=ad.float32, requires_grad=True)
    ba = ad.tensor(b, dtype=ad.float32, requires_grad=b_grad)
    at = torch.tensor(a, dtype=torch.float32, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float32, requires_grad=b_grad)
    seen_ours = run_with_hooks(ours, (aa, ba, "note"),
                               ad.tensor(upstream, dtype=ad.float32), replace)
    seen_theirs = run_with_hooks(theirs, (at, bt, "note"),
                                 torch.tensor(upstream).float(), replace)
    assert_same(seen_ours, seen_theirs, torch_oracle)
    assert seen_ours["output"][1] is None and seen_ours["input"][2] is None
    torch_oracle.assert_close(aa.grad.numpy(), at.grad.numpy(), np.float32)
    if b_grad:
        torch_oracle.assert_close(ba.grad.numpy(), bt.grad.numpy(), np.float32)
    torch_oracle.assert_close(ours.w.grad.numpy(), theirs.w.grad.numpy(), np.float32)


def test_hooks_of_a_module_called_twice_on_a_branching_graph_match_torch(torch_oracle):
    """Each call has its own hook state; the input also reaches the loss another way, and
    the replaced gradients reach the weights and the input."""
    torch = torch_oracle.torch
    ours = nn.Linear(2, 2)
    theirs = torch_oracle.copy(ours, torch.nn.Linear(2, 2), np.float32)
    x = np.random.default_rng(5).standard_normal((3, 2)).astype(np.float32)
    results = []
    for layer, leaf in ((ours, ad.tensor(x, requires_grad=True)),
                        (theirs, torch.tensor(x, requires_grad=True))):
        seen = []
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] + 1,))
        layer.register_full_backward_hook(
            lambda m, gi, go, seen=seen: seen.append(gi[0].numpy().copy()) or (gi[0] * 2,))
        h = layer(leaf)
        out = layer(h.tanh())
        ((out * out).sum() + (leaf * leaf).sum() + h.sum()).backward()
        results.append((seen, leaf.grad.numpy(), layer.weight.grad.numpy()))
    (seen_ours, *grads_ours), (seen_theirs, *grads_theirs) = results
    assert len(seen_ours) == len(seen_theirs) == 2
    for a, b in zip(seen_ours + grads_ours, seen_theirs + grads_theirs):
        torch_oracle.assert_close(a, b, np.float32)


# ---------------------------------------------------------------- init: trunc_normal_, orthogonal_

def truncated_normal_moments(mean, std, a, b):
    """Mean and variance of N(mean, std²) truncated to [a, b]: with α, β the bounds in
    standard units, φ the density, Z = Φ(β) - Φ(α),
    mean + std (φ(α) - φ(β)) / Z  and  std² [1 + (αφ(α) - βφ(β)) / Z - ((φ(α) - φ(β)) / Z)²]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = [math.exp(-t * t / 2) / math.sqrt(2 * math.pi) for t in (alpha, beta)]
    z = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
    shift = (pdf[0] - pdf[1]) / z
    return (mean + std * shift,
            std ** 2 * (1 + (alpha * pdf[0] - beta * pdf[1]) / z - shift ** 2))


def test_truncated_normal_moments_by_hand():
    """The standard normal cut at ±2 (torch's default): mean 0, variance
    1 - 4φ(2) / (2Φ(2) - 1) = 1 - 4 · 0.053991 / 0.954500 = 0.773741."""
    mean, variance = truncated_normal_moments(0.0, 1.0, -2.0, 2.0)
    assert mean == 0.0 and variance == pytest.approx(0.773741, abs=1e-6)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 4.0),
                                             (0.0, 0.02, -0.04, 0.04), (1.0, 1.0, 1.5, 3.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    ad.manual_seed(5)
    t = ad.zeros(300, 200)
    version = t._version
    assert init.trunc_normal_(t, mean, std, a, b) is t
    assert t.dtype == np.float32 and t._version == version + 1
    values = t.numpy().astype(np.float64)
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_variance = truncated_normal_moments(mean, std, a, b)
    assert abs(values.mean() - expected_mean) < 4 * math.sqrt(expected_variance / values.size)
    assert values.var() == pytest.approx(expected_variance, rel=0.03)


def test_trunc_normal_defaults_generator_and_checks():
    ad.manual_seed(0)
    values = init.trunc_normal_(ad.zeros(10000)).numpy()
    assert values.min() >= -2 and values.max() <= 2 and values.min() < -1.9
    g = ad.Generator().manual_seed(7)
    ad.manual_seed(1)
    expected_next = ad.rand(1).item()
    ad.manual_seed(1)
    first = init.trunc_normal_(ad.zeros(50), generator=g).numpy().copy()
    assert ad.rand(1).item() == expected_next          # the default stream untouched
    g.manual_seed(7)
    np.testing.assert_array_equal(init.trunc_normal_(ad.zeros(50), generator=g).numpy(), first)
    weight = nn.Linear(3, 3).weight
    init.trunc_normal_(weight, std=0.02)                # under no_grad: a leaf stays a leaf
    assert weight.grad_fn is None and weight.requires_grad
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(ad.zeros(10), mean=10.0, a=-1.0, b=1.0)
    with pytest.raises(ValueError, match="std must be > 0"):
        init.trunc_normal_(ad.zeros(3), std=0.0)
    with pytest.raises(ValueError, match="pass a <= b"):
        init.trunc_normal_(ad.zeros(3), a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 3, 2, 2), (16, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    t = ad.zeros(*shape, dtype=ad.float64)
    version = t._version
    assert init.orthogonal_(t, gain=gain) is t and t._version == version + 1
    w = t.numpy().reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(len(gram)), atol=1e-6)


def test_orthogonal_float32_generator_and_checks():
    t = init.orthogonal_(ad.zeros(64, 32))
    w = t.numpy().astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-5)
    assert t.dtype == np.float32
    g = ad.Generator()
    first = init.orthogonal_(ad.zeros(4, 4), generator=g.manual_seed(3)).numpy().copy()
    again = init.orthogonal_(ad.zeros(4, 4), generator=g.manual_seed(3)).numpy()
    np.testing.assert_array_equal(first, again)
    assert init.orthogonal_(ad.zeros(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ad.zeros(5))


def test_init_functions_take_a_generator():
    g = ad.Generator()
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_):
        first = fn(ad.zeros(5, 4), generator=g.manual_seed(11)).numpy().copy()
        np.testing.assert_array_equal(fn(ad.zeros(5, 4), generator=g.manual_seed(11)).numpy(),
                                      first, err_msg=fn.__name__)


def test_orthogonal_and_trunc_normal_match_torch_statistics(torch_oracle):
    """torch draws from its own generator, so the values differ; the properties agree."""
    torch = torch_oracle.torch
    theirs = torch.nn.init.orthogonal_(torch.empty(5, 2, 3, dtype=torch.float64), gain=2.0)
    ours = init.orthogonal_(ad.zeros(5, 2, 3, dtype=ad.float64), gain=2.0).numpy()
    for w in (theirs.numpy().reshape(5, 6), ours.reshape(5, 6)):
        np.testing.assert_allclose(w @ w.T, 4 * np.eye(5), atol=1e-6)
    theirs = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64), 0.5, 2.0,
                                         -1.0, 4.0).numpy()
    ad.manual_seed(0)
    ours = init.trunc_normal_(ad.zeros(200_000, dtype=ad.float64), 0.5, 2.0, -1.0, 4.0).numpy()
    assert abs(ours.mean() - theirs.mean()) < 0.02 and abs(ours.var() - theirs.var()) < 0.03


# ---------------------------------------------------------------- summary: input_data, dtypes

class Tagger(nn.Module):
    """Embedding(10, 8) -> LSTM(8, 16) -> Linear(16, 3) on the last step."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, tokens):
        output, _ = self.lstm(self.embed(tokens))
        return self.fc(output[:, -1])


TAGGER_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
embed (Embedding)            (None, 5, 8)              80
_________________________________________________________________
lstm (LSTM)                  [(None, 5, 16),           1,664
                              (1, 2, 16),
                              (1, 2, 16)]
_________________________________________________________________
fc (Linear)                  (None, 3)                 51
=================================================================
Total params: 1,795
Trainable params: 1,795
Non-trainable params: 0
_________________________________________________________________"""


def test_summary_of_an_embedding_lstm_model_with_integer_inputs(capsys):
    """Embedding: 10 · 8 = 80; LSTM: 4 gates · 16 · (8 + 16) weights + 2 · 4 · 16 biases
    = 1,664, output (batch, 5, 16) and h, c of shape (layers, batch, 16); Linear: 51."""
    assert nn.summary(Tagger(), (5,), dtypes=[ad.long]) == TAGGER_TABLE
    assert capsys.readouterr().out == TAGGER_TABLE + "\n"
    with pytest.raises(ad.DtypeError, match="indices must be a tensor of integers"):
        nn.summary(Tagger(), (5,))


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.left = nn.Linear(3, 4)
        self.right = nn.Linear(2, 4)

    def forward(self, x, y):
        return self.left(x) + self.right(y)


PAIR_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
left (Linear)                (None, 4)                 16
_________________________________________________________________
right (Linear)               (None, 4)                 12
=================================================================
Total params: 28
Trainable params: 28
Non-trainable params: 0
_________________________________________________________________"""


def test_summary_of_a_two_input_model(capsys):
    """input_data is used as given (shapes shown as they are); a list of input shapes
    gives zeros of (2, *shape) each (the batch shown as None)."""
    text = nn.summary(Pair(), input_data=(ad.ones(7, 3), ad.ones(7, 2)))
    assert text == PAIR_TABLE.replace("(None, 4)", "(7, 4)   ")
    assert nn.summary(Pair(), input_data=[ad.ones(7, 3), ad.ones(7, 2)]) == text
    assert nn.summary(Pair(), [(3,), (2,)]) == PAIR_TABLE
    assert nn.summary(Pair(), [[3], [2]], dtypes=[ad.float64, ad.float64]) == \
        PAIR_TABLE
    assert "(5, 4)" in nn.summary(nn.Linear(3, 4), input_data=ad.ones(5, 3))


def test_summary_needs_something_to_run_the_model_on():
    with pytest.raises(ValueError, match="say what to run the model on: input_shape"):
        nn.summary(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="not both"):
        nn.summary(nn.Linear(2, 2), (2,), input_data=ad.ones(1, 2))
    with pytest.raises(ValueError, match="one dtype per input shape"):
        nn.summary(Pair(), [(3,), (2,)], dtypes=[ad.float32])
    with pytest.raises(ValueError, match="one dtype per input shape"):
        nn.summary(nn.Linear(2, 2), (2,), dtypes=ad.float32)


# ---------------------------------------------------------------- pad_sequence

def test_pad_sequence_by_hand():
    a = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ad.tensor([4.0], requires_grad=True)
    out = pad_sequence([a, b])
    assert out.tolist() == [[1.0, 4.0], [2.0, 0.0], [3.0, 0.0]]        # (T, B)
    (out * ad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 3.0, 5.0] and b.grad.tolist() == [2.0]
    left = nn.utils.rnn.pad_sequence([a, b], batch_first=True, padding_value=-1.0,
                                     padding_side="left")
    assert left.tolist() == [[1.0, 2.0, 3.0], [-1.0, -1.0, 4.0]]
    assert pad_sequence(ad.ones(2, 3)).shape == (3, 2)                  # rows as sequences
    mixed = pad_sequence([ad.ones(2, dtype=ad.long), ad.ones(1, dtype=ad.float64)])
    assert mixed.dtype == np.int64 and mixed.tolist() == [[1, 1], [1, 0]]


def test_pad_sequence_errors():
    with pytest.raises(ValueError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ad.ShapeError, match=r"shape \(length, 3\), as sequences\[0\] of shape "
                                            r"\(2, 3\); sequences\[1\] has shape \(2, 4\)"):
        pad_sequence([ad.ones(2, 3), ad.ones(2, 4)])
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right'"):
        pad_sequence([ad.ones(2)], padding_side="middle")
    with pytest.raises(TypeError, match="ad.tensor"):
        pad_sequence([[1.0, 2.0]])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch_oracle, batch_first, padding_side):
    torch = torch_oracle.torch
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (4, 1, 6, 6)]
    ours = [ad.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out = pad_sequence(ours, batch_first, -0.5, padding_side)
    expected = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -0.5, padding_side)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for x, y in zip(ours, theirs):
        np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
