"""Optimizer step hooks (register_step_pre_hook, register_step_post_hook) against torch's:
the order of calls, the arguments hooks see, arguments replaced by a pre-hook, removal;
and under ad.compile, hooks that run on every replayed step."""
from types import SimpleNamespace

import numpy as np
import pytest

import autodiff as ad
import optim

AUTODIFF = SimpleNamespace(tensor=lambda v: ad.tensor(v, dtype=ad.float64, requires_grad=True),
                           SGD=optim.SGD)


def torch_lib():
    torch = pytest.importorskip("torch")
    return SimpleNamespace(tensor=lambda v: torch.tensor(v, dtype=torch.float64,
                                                         requires_grad=True),
                           SGD=torch.optim.SGD)


def hooked_run(lib):
    """Two pre-hooks and two post-hooks, added interleaved; steps called as step(),
    step(closure) and step(closure=closure); one pre-hook removed half way. Returns what
    the hooks saw, in order, the losses and the final weights."""
    w = lib.tensor([1.0, -2.0, 0.5])
    opt = lib.SGD([w], lr=0.1, momentum=0.9)
    log = []

    def hook(name):
        def seen(optimizer, args, kwargs):
            log.append((name, optimizer is opt, len(args), args[0] is opt, sorted(kwargs)))
        return seen

    def closure():
        log.append("closure")
        opt.zero_grad()
        loss = (w * w * w).sum()
        loss.backward()
        return loss

    first = opt.register_step_pre_hook(hook("pre 1"))
    opt.register_step_post_hook(hook("post 1"))
    opt.register_step_pre_hook(hook("pre 2"))
    opt.register_step_post_hook(hook("post 2"))
    losses = [opt.step(closure).item(), opt.step(closure=closure).item()]
    (w * w).sum().backward()
    losses.append(opt.step())
    first.remove()
    first.remove()                              # a second remove() does nothing
    losses.append(opt.step(closure).item())
    return log, losses, w.detach().numpy().copy()


def test_hooks_run_in_torchs_order_with_torchs_arguments():
    log, losses, weights = hooked_run(AUTODIFF)
    torch_log, torch_losses, torch_weights = hooked_run(torch_lib())
    assert log == torch_log
    assert log[:4] == [("pre 1", True, 2, True, []), ("pre 2", True, 2, True, []), "closure",
                       ("post 1", True, 2, True, [])]
    assert ("pre 1", True, 1, True, ["closure"]) in log      # step(closure=closure)
    assert losses[2] is None and torch_losses[2] is None
    np.testing.assert_allclose(losses[:2] + losses[3:], torch_losses[:2] + torch_losses[3:],
                               rtol=1e-12)
    np.testing.assert_allclose(weights, torch_weights, rtol=1e-12)


def replaced_run(lib):
    """A pre-hook that replaces step()'s arguments with (optimizer, closure): the step
    evaluates the closure and returns its loss, and the post-hook sees the new arguments."""
    w = lib.tensor([3.0, -1.0])
    opt = lib.SGD([w], lr=0.25)
    seen = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.register_step_pre_hook(lambda optimizer, args, kwargs: ((args[0], closure), {}))
    opt.register_step_post_hook(lambda optimizer, args, kwargs: seen.append(
        (len(args), args[1] is closure, kwargs)))
    losses = [opt.step().item() for _ in range(3)]
    return losses, seen, w.detach().numpy().copy()


def test_a_pre_hook_replaces_the_arguments_as_in_torch():
    losses, seen, weights = replaced_run(AUTODIFF)
    torch_losses, torch_seen, torch_weights = replaced_run(torch_lib())
    assert seen == torch_seen == [(2, True, {})] * 3
    assert losses == [10.0, 2.5, 0.625] and losses == torch_losses      # w halves each step
    np.testing.assert_array_equal(weights, torch_weights)


def test_a_pre_hook_that_returns_something_else_is_refused():
    w = ad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([w])
    opt.register_step_pre_hook(lambda optimizer, args, kwargs: 5)
    w.grad = ad.tensor([1.0])
    with pytest.raises(RuntimeError, match=r"Adam.step: a step pre-hook must return None or "
                                           r"a tuple \(new_args, new_kwargs\), got 5"):
        opt.step()


def test_removed_hooks_are_not_called_and_the_step_is_unchanged():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    calls = []
    handles = [opt.register_step_pre_hook(lambda *a: calls.append("pre")),
               opt.register_step_post_hook(lambda *a: calls.append("post"))]
    for handle in handles:
        handle.remove()
    w.grad = ad.tensor([1.0, 1.0])
    opt.step()
    assert calls == [] and w.tolist() == [0.5, 1.5]


def hooked_training(compiled: bool):
    """Four steps of SGD on a fixed batch, compiled or not, with a pre-hook and a post-hook
    that note the weights they see, and a post-hook added after the third step."""
    x = ad.tensor(np.random.default_rng(0).standard_normal((8, 3)))
    w = ad.tensor([1.0, -0.5, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", w.tolist())))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", w.tolist())))

    def train_step(x):
        opt.zero_grad()
        loss = ((x * w).sum(dim=1) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    step = ad.compile(train_step, fullgraph=True) if compiled else train_step
    losses = [step(x).item() for _ in range(3)]
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("late"))
    losses.append(step(x).item())
    return losses, calls, step


def test_hooks_run_on_every_compiled_step_traced_or_replayed():
    """step() is replayed as a call of the whole method, so its hooks run on every call;
    a hook added after tracing runs from the next call on."""
    eager_losses, eager_calls, _ = hooked_training(compiled=False)
    losses, calls, step = hooked_training(compiled=True)
    assert step.cache_info().traces == 1 and step.cache_info().replays == 3
    assert losses == eager_losses
    assert calls == eager_calls
    assert [c if isinstance(c, str) else c[0] for c in calls] == \
        ["pre", "post"] * 3 + ["pre", "post", "late"]
