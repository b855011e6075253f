"""Grad mode (autodiff/grad_mode.py) behaves as PyTorch's: `set_grad_enabled` works as a
plain call, a context manager and a decorator; `no_grad` and `enable_grad` decorating a
generator function cover its body while it runs and give the caller back its own mode
while it is suspended; the mode is per thread. The other switches of the same state live
here too: drawing scopes (`scope`, which is `ad.viz.scope`) and `detect_anomaly`."""
import threading

import pytest

import autodiff as ad
from autodiff import grad_mode


@pytest.fixture(autouse=True)
def grad_mode_restored():
    """Each test starts with recording on and leaves it on, even if it fails midway."""
    ad.set_grad_enabled(True)
    yield
    ad.set_grad_enabled(True)


def test_set_grad_enabled_called_as_a_function_switches_the_mode_until_switched_back():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    ad.set_grad_enabled(False)
    assert not ad.is_grad_enabled()
    assert not (w * 2).requires_grad
    ad.set_grad_enabled(True)
    assert ad.is_grad_enabled()
    assert (w * 2).requires_grad


def test_set_grad_enabled_as_a_context_manager_restores_the_previous_mode():
    with ad.set_grad_enabled(False):
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()
    ad.set_grad_enabled(False)
    with ad.set_grad_enabled(True):
        assert ad.is_grad_enabled()
    assert not ad.is_grad_enabled()


def test_set_grad_enabled_nested_restores_each_level_even_on_an_exception():
    with ad.set_grad_enabled(False):
        with ad.set_grad_enabled(True):
            assert ad.is_grad_enabled()
            with pytest.raises(ValueError), ad.set_grad_enabled(False):
                raise ValueError
            assert ad.is_grad_enabled()
        assert not ad.is_grad_enabled()
        with ad.no_grad(), ad.enable_grad():
            assert ad.is_grad_enabled()
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_applies_only_while_the_function_runs():
    @ad.set_grad_enabled(False)
    def inner() -> bool:
        return ad.is_grad_enabled()

    assert ad.is_grad_enabled()          # decorating alone changes nothing
    assert inner() is False
    assert ad.is_grad_enabled()


def test_set_grad_enabled_in_one_thread_leaves_another_thread_recording():
    switched, checked = threading.Event(), threading.Event()
    seen = {}

    def other_thread() -> None:
        switched.wait(timeout=10)
        seen["other"] = ad.is_grad_enabled()
        checked.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    ad.set_grad_enabled(False)
    switched.set()
    checked.wait(timeout=10)
    thread.join(timeout=10)
    assert seen == {"other": True}
    assert not ad.is_grad_enabled()


@pytest.mark.parametrize("make_decorator, inside", [
    (ad.no_grad, False), (ad.enable_grad, True), (lambda: ad.set_grad_enabled(False), False)])
def test_decorated_generator_runs_its_body_in_the_mode_and_the_caller_keeps_its_own(
        make_decorator, inside):
    outside = not inside
    ad.set_grad_enabled(outside)
    w = ad.tensor([1.0, 2.0], requires_grad=True)

    @make_decorator()
    def steps(n: int):
        for _ in range(n):
            yield ad.is_grad_enabled(), (w * 2).requires_grad
        return "done"

    generator = steps(3)
    for _ in range(3):
        assert next(generator) == (inside, inside)
        assert ad.is_grad_enabled() is outside
    with pytest.raises(StopIteration) as stop:
        next(generator)
    assert stop.value.value == "done"
    assert ad.is_grad_enabled() is outside


def test_decorated_generator_gets_sent_values_thrown_exceptions_and_close_in_its_mode():
    seen = []

    @ad.no_grad()
    def echo():
        try:
            while True:
                try:
                    received = yield
                    seen.append(("send", received, ad.is_grad_enabled()))
                except KeyError:  # noqa: PERF203 (a generator that takes throws)
                    seen.append(("throw", None, ad.is_grad_enabled()))
        finally:
            seen.append(("close", None, ad.is_grad_enabled()))

    generator = echo()
    next(generator)
    generator.send(7)
    generator.throw(KeyError("k"))
    generator.close()
    assert seen == [("send", 7, False), ("throw", None, False), ("close", None, False)]
    assert ad.is_grad_enabled()


def test_scopes_nest_and_each_exit_puts_back_the_enclosing_scope_and_call_site():
    assert ad.viz.scope is grad_mode.scope                  # one implementation
    x = ad.tensor([1.0], requires_grad=True)
    site = grad_mode.state.site
    with grad_mode.scope("net: MLP"):
        with pytest.raises(KeyError), grad_mode.scope("fc1: Linear(1→1)"):
            grad_mode.state.site = ("a layer's call site", 7)
            assert (x * 2).grad_fn.scope == ("net: MLP", "fc1: Linear(1→1)")
            raise KeyError("forward failed")
        assert grad_mode.state.site == site
        assert (x * 3).grad_fn.scope == ("net: MLP",)
    assert (x * 4).grad_fn.scope is None and grad_mode.state.scope is None


def test_detect_anomaly_is_grad_modes_and_restores_the_flag_it_found():
    assert ad.detect_anomaly is grad_mode.detect_anomaly
    with grad_mode.detect_anomaly():
        with grad_mode.detect_anomaly():
            assert grad_mode.state.detect_anomaly
        assert grad_mode.state.detect_anomaly
        with pytest.raises(ad.AnomalyError, match="log: forward produced inf"):
            ad.tensor([0.0], requires_grad=True).log()
    assert not grad_mode.state.detect_anomaly
    assert ad.tensor([0.0], requires_grad=True).log().item() == float("-inf")
