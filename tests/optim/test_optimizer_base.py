"""The Optimizer base class: parameter groups, zero_grad, skipping, closures, state_dict
and state files, state that follows the parameters' dtype."""
import copy
import inspect

import numpy as np
import pytest

import autodiff as ad
import nn
import optim
from autodiff.errors import InPlaceError, ModelFileError

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, dict(lr=0.05)),
    (optim.Adadelta, dict(lr=1.0, weight_decay=0.01)),
    (optim.Adamax, dict(lr=0.05)),
    (optim.NAdam, dict(lr=0.05)),
    (optim.RAdam, dict(lr=0.05)),
    (optim.Rprop, dict(lr=0.05)),
    (optim.ASGD, dict(lr=0.05, t0=1)),
]


def quadratic_params(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [ad.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in [(3, 4), (4,), (2, 3)]]


def backward(params):
    """Gradients of L = Σ_i Σ (p_i − i)² · (1 + i) + Σ p_0³ / 10 (coordinates coupled by
    nothing but still non-linear)."""
    total = (params[0] ** 3).sum() / 10
    for i, p in enumerate(params):
        total = total + ((p - i) ** 2).sum() * (1 + i)
    total.backward()
    return total


def train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        backward(params)
        opt.step()


# ------------------------------------------------------------------ construction, groups

def test_params_may_be_any_iterable_of_tensors_or_of_group_dicts():
    a, b = ad.zeros(2, requires_grad=True), ad.zeros(3, requires_grad=True)
    opt = optim.SGD((p for p in [a, b]), lr=0.1)
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"][1] is b
    opt = optim.SGD([{"params": a}, {"params": (p for p in [b]), "lr": 0.5}], lr=0.1,
                    momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert opt.defaults["lr"] == 0.1


def test_param_groups_step_with_their_own_learning_rates():
    a, b = ad.tensor([1.0, 2.0], requires_grad=True), ad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    (a * a).sum().backward()                          # da = 2a
    (b * b).sum().backward()                          # db = 2b
    opt.step()
    np.testing.assert_allclose(a.numpy(), [1 - 0.1 * 2, 2 - 0.1 * 4], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [3 - 0.01 * 6], rtol=1e-6)


def test_add_param_group_trains_the_new_group_with_defaults_filled_in():
    a, b = ad.tensor([1.0], requires_grad=True), ad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    ((a + b) ** 2).sum().backward()
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.8], rtol=1e-6)


@pytest.mark.parametrize("params, error, message", [
    (ad.zeros(2, requires_grad=True), TypeError, "got a single tensor; wrap it in a list"),
    ([], ValueError, "empty parameter list"),
    ([np.zeros(2)], TypeError, "can only optimize tensors, got ndarray"),
    ([{"lr": 0.1}], ValueError, "needs a 'params' entry"),
])
def test_bad_params_are_rejected(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)


def test_add_param_group_wants_a_dict():
    opt = optim.SGD([ad.zeros(2, requires_grad=True)])
    with pytest.raises(TypeError, match="a parameter group must be a dict, got list"):
        opt.add_param_group([ad.zeros(2, requires_grad=True)])


def test_a_parameter_may_appear_only_once():
    a = ad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="lists the same tensor twice"):
        optim.SGD([a, a])
    opt = optim.SGD([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_non_leaf_tensors_are_rejected():
    a = ad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2])


def test_repr_lists_each_groups_options():
    opt = optim.SGD([ad.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text


# ------------------------------------------------------------------ zero_grad, skipping

def test_zero_grad_sets_gradients_to_none_by_default():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    opt.zero_grad()
    assert a.grad is None


def test_zero_grad_set_to_none_false_zeros_the_same_array():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    grad_array = a.grad.numpy()
    opt.zero_grad(set_to_none=False)
    assert a.grad.numpy() is grad_array
    np.testing.assert_array_equal(grad_array, [0, 0])
    (a * 3).sum().backward()                            # accumulates onto the zeros
    np.testing.assert_array_equal(a.grad.numpy(), [3, 3])


def zeroed_gradients(lib, owner, create_graph, set_to_none=False):
    """Two linear layers, the second unused (its parameters get no gradient); backward
    through the first (recorded with create_graph or not), then `owner` ("model" or
    "optimizer") calls zero_grad. What a user sees of the first layer's weight gradient,
    kept as `kept = weight.grad` before: whether .grad is still that tensor, its values,
    whether it requires grad and how many in-place changes it saw; and the unused
    parameters' .grad (None before and after)."""
    if lib == "torch":
        torch = pytest.importorskip("torch")
        Sequential, Linear, SGD, ones = torch.nn.Sequential, torch.nn.Linear, torch.optim.SGD, \
            torch.ones
    else:
        Sequential, Linear, SGD, ones = nn.Sequential, nn.Linear, optim.SGD, ad.ones
    model = Sequential(Linear(2, 1), Linear(1, 1))
    opt = SGD(model.parameters(), lr=0.1)
    (model[0](ones(3, 2)) ** 3).sum().backward(create_graph=create_graph)
    kept = model[0].weight.grad
    before = kept._version
    (model if owner == "model" else opt).zero_grad(set_to_none=set_to_none)
    unused = [p.grad for p in model[1].parameters()]
    if set_to_none:
        return model[0].weight.grad, unused
    return (model[0].weight.grad is kept, kept.tolist(), kept.requires_grad,
            kept._version - before, unused)


@pytest.mark.parametrize("owner", ["model", "optimizer"])
def test_zero_grad_sets_every_gradient_to_none(owner):
    assert zeroed_gradients("autodiff", owner, False, set_to_none=True) == (None, [None, None])


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("owner", ["model", "optimizer"])
def test_zero_grad_set_to_none_false_zeros_the_kept_gradient_in_place(owner, create_graph):
    """The same tensor, zeros, out of any graph, one in-place change; None stays None."""
    assert zeroed_gradients("autodiff", owner, create_graph) == \
        (True, [[0.0, 0.0]], False, 1, [None, None])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")   # torch's
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("owner", ["model", "optimizer"])
def test_zero_grad_set_to_none_false_as_in_torch(owner, create_graph):
    assert zeroed_gradients("autodiff", owner, create_graph) == \
        zeroed_gradients("torch", owner, create_graph)


@pytest.mark.parametrize("owner", ["model", "optimizer"])
def test_a_graph_that_saved_a_zeroed_gradient_refuses_backward(owner):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    (model.weight ** 3).sum().backward(create_graph=True)    # weight.grad = 3·weight²
    penalty = (model.weight.grad ** 2).sum()                   # saves weight.grad
    (model if owner == "model" else opt).zero_grad(set_to_none=False)
    with pytest.raises(InPlaceError, match="modified by an inplace operation"):
        penalty.backward()


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
@pytest.mark.parametrize("foreach", [None, False])
def test_a_parameter_without_gradient_is_skipped_entirely(cls, kwargs, foreach):
    a, b = ad.tensor([1.0, -2.0], requires_grad=True), ad.tensor([3.0], requires_grad=True)
    decay = {"weight_decay": 0.5} if "weight_decay" in inspect.signature(cls).parameters else {}
    opt = cls([a, b], **{**kwargs, **decay}, foreach=foreach)
    for _ in range(3):
        opt.zero_grad()
        (a * a).sum().backward()                        # b gets no gradient
        opt.step()
    assert b.numpy().tolist() == [3.0]                     # no weight decay either
    assert b not in opt.state
    assert a.numpy().tolist() != [1.0, -2.0]


@pytest.mark.parametrize("foreach", [None, False], ids=["flat", "per parameter"])
def test_a_step_counts_as_an_in_place_change_of_the_parameters_it_updates(foreach):
    a, b = ad.tensor([1.0, 2.0], requires_grad=True), ad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, foreach=foreach)
    saved_a, saved_b = (a * a).sum(), (b * b).sum()      # each saves its parameter
    (a * 3).sum().backward()                             # only a gets a gradient
    opt.step()
    with pytest.raises(InPlaceError, match="modified by an inplace operation"):
        saved_a.backward()
    saved_b.backward()                                   # b was left alone
    assert a.tolist() == pytest.approx([0.7, 1.7]) and b.grad.tolist() == [6.0]


def test_step_returns_the_closures_loss_with_gradients_recorded():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with ad.no_grad():                                  # step() enables grad for the closure
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_array_equal(a.numpy(), [0.5, 1.0])
    assert opt.step() is None


# ------------------------------------------------------------------ state_dict

def test_state_dict_has_torchs_structure_and_is_a_snapshot():
    a, b, c = (ad.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    (a * a + c * c).sum().backward()                    # b has no gradient: no state
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"] == 1
    np.testing.assert_allclose(sd["state"][0]["exp_avg"], [0.2, 0.4], rtol=1e-6)
    saved = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
@pytest.mark.parametrize("foreach", [None, False])
def test_state_dict_round_trip_resumes_identically(cls, kwargs, foreach):
    params = quadratic_params()
    opt = cls(params, **kwargs, foreach=foreach)
    train(opt, params, 10)
    saved_params = [p.numpy().copy() for p in params]
    saved = copy.deepcopy(opt.state_dict())
    train(opt, params, 5)
    expected = [p.numpy().copy() for p in params]

    resumed = [ad.tensor(data, requires_grad=True) for data in saved_params]
    fresh = cls(resumed, lr=123.0, foreach=foreach)     # the saved lr replaces this one
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    train(fresh, resumed, 5)
    for p, q in zip(resumed, expected):
        np.testing.assert_array_equal(p.numpy(), q)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_state_file_round_trip_resumes_identically(cls, kwargs, tmp_path):
    params = quadratic_params(np.float32)
    opt = cls(params, **kwargs)
    train(opt, params, 10)
    path = tmp_path / "optimizer.safetensors"
    optim.save_state(opt, path)
    resumed = [ad.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    train(opt, params, 5)

    fresh = cls(resumed)
    optim.load_state(fresh, path)
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    train(fresh, resumed, 5)
    for p, q in zip(resumed, params):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_file_is_safetensors_without_pickle(tmp_path):
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    path = tmp_path / "sgd.safetensors"
    optim.save_state(opt, path)
    from safetensors.numpy import load_file
    arrays = load_file(str(path))
    assert list(arrays) == ["state.0.momentum_buffer"]
    np.testing.assert_array_equal(arrays["state.0.momentum_buffer"], [2.0, 4.0])


def test_state_file_of_another_optimizer_is_refused(tmp_path):
    a = ad.tensor([1.0], requires_grad=True)
    path = tmp_path / "adam.safetensors"
    optim.save_state(optim.Adam([a]), path)
    with pytest.raises(ModelFileError, match="state of an optimizer of class Adam, not SGD"):
        optim.load_state(optim.SGD([a]), path)
    with pytest.raises(ModelFileError,
                       match="does not fit this Adam: .*1 parameters in the saved state, 2 here"):
        optim.load_state(optim.Adam([a, ad.tensor([1.0], requires_grad=True)]), path)


def test_model_files_and_damaged_files_are_refused(tmp_path):
    from autodiff.io import save_tensors
    a = ad.tensor([1.0], requires_grad=True)
    path = tmp_path / "model.safetensors"
    save_tensors(path, {"weight": np.zeros(1)}, {"format": "autodiff.nn"})
    with pytest.raises(ModelFileError, match="not an optimizer state file"):
        optim.load_state(optim.SGD([a]), path)
    optim.save_state(optim.SGD([a]), path)
    path.write_bytes(path.read_bytes()[:-3])            # truncated
    with pytest.raises(ModelFileError):
        optim.load_state(optim.SGD([a]), path)


@pytest.mark.parametrize("change, message", [
    (lambda sd: sd["param_groups"].append({"params": []}), "2 parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "group 0 has 1 parameters"),
    (lambda sd: sd["state"][0].update(exp_avg=np.zeros(5)),
     r"'exp_avg' of parameter 0 has shape \(5,\), the parameter \(2,\)"),
])
def test_load_state_dict_rejects_a_state_that_does_not_fit(change, message):
    a, b = ad.tensor([1.0, 2.0], requires_grad=True), ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([a, b])
    (a * b).sum().backward()
    opt.step()
    sd = opt.state_dict()
    change(sd)
    with pytest.raises(ValueError, match=message):
        optim.Adam([a, b]).load_state_dict(sd)


def _tampered_adam_file(tmp_path, change_groups=None, change_arrays=None):
    """An Adam state file after one step, with its param_groups metadata or its tensors
    changed as a tamperer would."""
    import json

    from autodiff.io import load_tensors, save_tensors
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([a])
    (a * a).sum().backward()
    opt.step()
    path = tmp_path / "adam.safetensors"
    optim.save_state(opt, path)
    arrays, metadata = load_tensors(path)
    groups = json.loads(metadata["param_groups"])
    if change_groups:
        groups = change_groups(groups)
    if change_arrays:
        change_arrays(arrays)
    save_tensors(path, arrays, {**metadata, "param_groups": json.dumps(groups)})
    return path, a


def _set_group(key, value):
    def change(groups):
        groups[0][key] = value
        return groups
    return change


@pytest.mark.parametrize("change_groups, change_arrays, message", [
    (_set_group("lr", -1), None, "parameter group 0: Adam: lr must be >= 0, got -1"),
    (_set_group("eps", float("inf")), None, "Adam: eps must be finite and >= 0, got inf"),
    (_set_group("betas", [0.9, 1.5]), None, r"Adam: betas\[1\] must be in \[0, 1\)"),
    (_set_group("betas", "fast"), None, "group 0 has a malformed hyperparameter"),
    (lambda groups: [5], None, "each parameter group must be an object, got \\[5\\]"),
    (None, lambda arrays: arrays.update({"state.0.exp_avg_sq": np.array([-1.0, 0.0],
                                                                         np.float32)}),
     "'exp_avg_sq' of parameter 0 holds negative or NaN values"),

    (None, lambda arrays: arrays.update({"state.0.dirs.0": np.zeros(2, np.float32),
                                         "state.0.dirs.2": np.zeros(2, np.float32)}),
     r"the list 'state.0.dirs' has positions \[0, 2\], expected 0 to 1"),
    (None, lambda arrays: arrays.update({"state.0.dirs.first": np.zeros(2, np.float32)}),
     r"unexpected tensor 'state.0.dirs.first'"),
])
def test_a_tampered_state_file_is_refused_as_the_constructor_refuses_arguments(
        change_groups, change_arrays, message, tmp_path):
    path, a = _tampered_adam_file(tmp_path, change_groups, change_arrays)
    fresh = optim.Adam([a], lr=0.5)
    with pytest.raises(ModelFileError, match=message):
        optim.load_state(fresh, path)
    assert fresh.param_groups[0]["lr"] == 0.5                            # nothing half-loaded
    assert not any(fresh.state.values())


def test_load_state_dict_casts_state_to_the_parameters_dtype():
    a = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    b = ad.tensor([1.0, 2.0], dtype=ad.float32, requires_grad=True)
    other = optim.SGD([b], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    assert other.state[b]["momentum_buffer"].dtype == np.float32


# ------------------------------------------------------------------ the state's dtype

def small_model():
    ad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def train_model(model, opt, x, steps):
    for _ in range(steps):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()


def state_dtypes(opt):
    return {value.dtype for entries in opt.state.values() for value in entries.values()
            if isinstance(value, np.ndarray)}


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
@pytest.mark.parametrize("foreach", [None, False])
def test_model_double_converts_the_state_and_training_goes_on_in_float64(cls, kwargs,
                                                                        foreach):
    model = small_model()
    opt = cls(model.parameters(), foreach=foreach, **kwargs)
    x = ad.randn(5, 3)
    train_model(model, opt, x, 2)
    assert state_dtypes(opt) == {np.dtype(np.float32)}
    model.double()
    # the reference: a float64 twin whose optimizer loaded the state (converted on load)
    twin = small_model().double()
    twin.load_state_dict(model.state_dict())
    reference = cls(twin.parameters(), foreach=foreach, **kwargs)
    reference.load_state_dict(opt.state_dict())
    train_model(model, opt, x.double(), 3)
    train_model(twin, reference, x.double(), 3)
    assert state_dtypes(opt) == {np.dtype(np.float64)}
    for p, q in zip(model.parameters(), twin.parameters()):
        assert p.dtype == np.float64
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    model.float()                                           # and back
    train_model(model, opt, x, 1)
    assert state_dtypes(opt) == {np.dtype(np.float32)}
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
