"""The graph and the backward pass (autodiff/backward.py, function.py, grad_mode.py):
diamonds, reuse, random DAGs, accumulation, retain_graph, hooks, no_grad/enable_grad,
detach, retain_grad, ad.grad with higher-order derivatives, a user-defined Function, and
a chain of a million ops."""
import sys
import threading

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import autodiff as ad
from autodiff.ops.matmul import linear


def leaf(*values):
    return ad.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- shapes of graphs


def test_diamond():
    x = leaf(1.5, -2.0)
    a, b = x * 2, x * 3            # two paths from x ...
    y = (a * b).sum()              # ... meeting again: y = 6x², dy/dx = 12x
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [18.0, -24.0])


def test_a_tensor_reused_in_several_places():
    x = leaf(2.0)
    y = x * x * x + x * 4 - x / x          # x³ + 4x - 1;  dy/dx = 3x² + 4
    y.backward()
    assert y.item() == 15.0
    assert x.grad.item() == 16.0


def test_intermediate_used_twice_sends_the_summed_gradient_once():
    x = leaf(3.0)
    h = x.exp()
    calls = []
    h.register_hook(lambda g: calls.append(g.item()))
    (h * 2 + h * 5).sum().backward()
    assert calls == [7.0]                                  # once, with 2 + 5
    np.testing.assert_allclose(x.grad.numpy(), [7 * np.exp(3.0)])


# One step of a random DAG: an op and the positions of its inputs among earlier nodes.
UNARY_STEPS = {"tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(),
               "half": lambda a: a * 0.5, "square": lambda a: a * a,
               "sum": lambda a: a.sum(), "flip": lambda a: a.reshape(-1)[::-1]}
BINARY_STEPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                "mul": lambda a, b: a * b, "div": lambda a, b: a / (b * b + 1)}


@st.composite
def dags(draw):
    """(number of leaves, steps, which nodes feed the output) for build_dag."""
    n_leaves = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = st.integers(0, n_leaves + k - 1)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY_STEPS))), draw(available)))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY_STEPS))), draw(available),
                          draw(available)))
    total = n_leaves + len(steps)
    outputs = sorted(set(draw(st.lists(st.integers(0, total - 1), max_size=3))) | {total - 1})
    return n_leaves, steps, outputs


def build_dag(steps, outputs, *leaves):
    nodes = list(leaves)
    for op, *inputs in steps:
        fn = UNARY_STEPS.get(op) or BINARY_STEPS[op]
        nodes.append(fn(*(nodes[i] for i in inputs)))
    return sum((nodes[i] * (i + 1)).sum() for i in outputs)


@given(dag=dags(), data=st.data())
def test_random_dags(dag, data, strategies, check_grads):
    n_leaves, steps, outputs = dag
    values = [data.draw(strategies.distinct((3,), bound=1)) for _ in range(n_leaves)]

    def fn(*xs):
        return build_dag(steps, outputs, *xs)

    check_grads(fn, *values)
    xs = [ad.tensor(v, requires_grad=True) for v in values]
    expected = ad.grad(fn(*xs), xs, allow_unused=True)
    assert all(x.grad is None for x in xs)                   # grad() leaves .grad alone
    fn(*xs).backward()
    for x, g in zip(xs, expected):
        if g is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.numpy(), g.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- accumulation and retain_graph


def test_gradients_accumulate_across_backward_calls_until_set_to_none():
    x = leaf(1.0, 2.0)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    (x * 10).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [14.0, 18.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_gradients_accumulate_into_a_0d_leaf():
    x = ad.tensor(np.array(2.0), requires_grad=True)
    x.exp().backward()
    x.exp().backward()
    assert isinstance(x.grad.numpy(), np.ndarray)
    assert x.grad.item() == pytest.approx(2 * np.exp(2.0))


def test_a_second_backward_through_a_freed_graph_says_retain_graph():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(ad.BackwardError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_lets_backward_run_twice_and_doubles_the_grads():
    x = leaf(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


# op: (expression of x, y (both require grad) and c (a constant), a second backward works)
SECOND_BACKWARD = {
    "x + y": (lambda x, y, c: x + y, True), "2 - x": (lambda x, y, c: 2 - x, True),
    "-x": (lambda x, y, c: -x, True), "x * 2": (lambda x, y, c: x * 2, True),
    "2.5 * x": (lambda x, y, c: 2.5 * x, True), "x / 2": (lambda x, y, c: x / 2, True),
    "x * np.float64(2)": (lambda x, y, c: x * np.float64(2), True),
    "sum": (lambda x, y, c: x.sum(dim=0), True), "mean": (lambda x, y, c: x.mean(), True),
    "reshape": (lambda x, y, c: x.reshape(6), True), "slice": (lambda x, y, c: x[1:], True),
    "transpose": (lambda x, y, c: x.T, True), "cat": (lambda x, y, c: ad.cat([x, y]), True),
    "x * c": (lambda x, y, c: x * c, False), "x * y": (lambda x, y, c: x * y, False),
    "x * x": (lambda x, y, c: x * x, False), "x / c": (lambda x, y, c: x / c, False),
    "2 / x": (lambda x, y, c: 2 / x, False), "x ** 2": (lambda x, y, c: x ** 2, False),
    "2 ** x": (lambda x, y, c: 2 ** x, False), "exp": (lambda x, y, c: x.exp(), False),
    "tanh": (lambda x, y, c: x.tanh(), False), "var": (lambda x, y, c: x.var(), False),
    "x @ c.T": (lambda x, y, c: x @ c.T, False),
}


@pytest.mark.parametrize("name", SECOND_BACKWARD)
def test_a_second_backward_works_through_ops_that_saved_no_array(name):
    fn, twice = SECOND_BACKWARD[name]
    rng = np.random.default_rng(0)
    x, y = (ad.tensor(rng.uniform(0.5, 1.5, (3, 2)), requires_grad=True) for _ in range(2))
    out = fn(x, y, ad.tensor(rng.uniform(0.5, 1.5, (3, 2)))).sum()
    out.backward()
    first = x.grad.numpy().copy()
    if twice:
        out.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    else:
        with pytest.raises(ad.BackwardError, match="retain_graph=True"):
            out.backward()


def saved_inputs(t):
    """Which values t's op saved for backward, by name: the names of the inputs (leaves
    named by the test), "y" for the output, the number itself, or None."""
    node = t.grad_fn
    names = {id(x.numpy()): x.name for x in node.inputs if isinstance(x, ad.Tensor)}
    names[id(t.numpy())] = "y"
    return tuple(None if v is None else v if isinstance(v, (int, float)) else names[id(v)]
                 for v in node.saved_tensors)


def named(name, requires_grad=True, shape=(2, 2)):
    t = ad.tensor(np.full(shape, 0.5), requires_grad=requires_grad)
    t.name = name
    return t


@pytest.mark.parametrize("expression, saved", [
    (lambda: named("a") * named("b"), ("a", "b")),
    (lambda: named("a") * named("c", False), (None, "c")),
    (lambda: named("c", False) * named("b"), ("c", None)),
    (lambda: named("a") * 3.0, (None, 3.0)),
    (lambda: named("a") / 2, (2, None)),                      # y only for dL/db
    (lambda: named("a") / named("b"), ("b", "y")),
    (lambda: named("a") ** 2, ("a", 2, None)),                # y only for dL/db
    (lambda: 2.0 ** named("b"), (2.0, "b", "y")),             # b for dL/db's mask at a = 0
    (lambda: named("a") @ named("c", False), (None, "c")),   # dL/da = g @ cᵀ
    (lambda: named("c", False) @ named("b"), ("c", None)),
    (lambda: linear(named("x", False, (3, 2)), named("w")), ("x", None)),
    (lambda: linear(named("x", True, (3, 2)), named("w", False)),
     (None, "w")),
    (lambda: ad.conv2d(named("x", False, (1, 1, 3, 3)), named("w", True, (1, 1, 2, 2))),
     ("x", None)),                                            # dL/dW = Σ dL/dy · unfold(x)ᵀ
    (lambda: ad.conv2d(named("x", True, (1, 1, 3, 3)), named("w", False, (1, 1, 2, 2))),
     (None, "w")),                                            # dL/dx = fold(Wᵀ · dL/dy)
])
def test_ops_save_only_what_their_backward_needs(expression, saved):
    assert saved_inputs(expression()) == saved


@pytest.mark.parametrize("fn", [lambda t: t * 2, lambda t: 3 / t, lambda t: t / 4,
                                lambda t: 2.0 ** t, lambda t: t ** 3])
def test_numbers_saved_as_constants_serve_create_graph(fn, check_grads):
    check_grads(fn, np.array([0.5, 1.5]))


def test_two_leaves_given_the_same_gradient_array_do_not_share_it():
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (a + b).sum().backward()                 # add sends one array to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])
    a.grad.numpy()[0] = 100.0
    assert b.grad.numpy()[0] == 2.0


def test_leaf_gradient_does_not_alias_the_gradient_passed_in():
    x = leaf(1.0, 2.0)
    g = np.array([1.0, 1.0])
    x.reshape(2).backward(g)
    g[0] = 50.0
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    x.expand(3, 2).backward(np.ones((3, 2)))           # a broadcast view comes back
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_backward_with_an_explicit_gradient():
    x = leaf(1.0, 2.0, 3.0)
    (x * x).backward(ad.tensor(np.array([1.0, 0.0, -1.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, -6.0])


# ---------------------------------------------------------------- hooks


def test_hook_return_value_replaces_the_gradient():
    x = leaf(1.0, 2.0)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_hook_returning_none_keeps_the_gradient():
    x = leaf(1.0, 2.0)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_leaf_hook_runs_before_accumulation():
    x = leaf(1.0)
    (x * 5).sum().backward()
    seen = []

    def hook(g):
        seen.append((g.item(), x.grad.item()))
        return g * 2

    x.register_hook(hook)
    (x * 7).sum().backward()
    assert seen == [(7.0, 5.0)]               # the new gradient alone; .grad not yet updated
    assert x.grad.item() == 5.0 + 14.0


def test_hook_can_be_removed():
    x = leaf(1.0)
    remove = x.register_hook(lambda g: g * 0)
    remove()
    (x * 3).sum().backward()
    assert x.grad.item() == 3.0


# ---------------------------------------------------------------- grad modes


def test_no_grad_as_context_manager_and_decorator():
    x = leaf(1.0)
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            assert ad.is_grad_enabled()
            z = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @ad.no_grad()
    def predict(t):
        return t * 2

    @ad.enable_grad()
    def train(t):
        return t * 2

    assert not predict(x).requires_grad
    with ad.no_grad():
        assert train(x).requires_grad
    with ad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError, match="inside"), ad.no_grad():
        raise ValueError("inside no_grad")
    assert ad.is_grad_enabled()


def test_grad_mode_is_per_thread():
    x = leaf(1.0)
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def worker():
        inside.wait()
        seen["enabled"] = ad.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with ad.no_grad():
        inside.set()
        done.wait(timeout=10)
        assert not (x * 2).requires_grad
    thread.join()
    assert seen == {"enabled": True, "records": True}


def test_detach_shares_the_numbers_but_not_the_graph():
    x = leaf(1.0, 2.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = (x * d).sum()                      # d is a constant here
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    e = x.detach()
    assert np.shares_memory(e.numpy(), x.numpy())


def test_requires_grad_and_leaves():
    x = ad.tensor([1.0, 2.0])
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    x.requires_grad = False
    assert not (x * 2).requires_grad


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf(1.0, 2.0)
    h = x * 3
    k = x * 4
    h.retain_grad()
    (h * k).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])      # dL/dh = k
    assert k.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [24.0, 48.0])    # 24x


# ---------------------------------------------------------------- ad.grad and higher order


def test_grad_does_not_touch_dot_grad():
    x = leaf(1.0, 2.0)
    x.grad = ad.tensor(np.array([7.0, 7.0]))
    g, = ad.grad((x * x).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])


def test_grad_allow_unused():
    x, unused = leaf(1.0), leaf(2.0)
    with pytest.raises(ad.BackwardError, match="allow_unused=True"):
        ad.grad((x * 2).sum(), [x, unused])
    gx, gu = ad.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_outputs_weights_a_non_scalar_output():
    x = leaf(1.0, 2.0, 3.0)
    g, = ad.grad(x * x, [x], grad_outputs=ad.tensor(np.array([1.0, 10.0, 100.0])))
    np.testing.assert_array_equal(g.numpy(), [2.0, 40.0, 600.0])


def test_grad_of_several_outputs_adds_them():
    x = leaf(2.0)
    g, = ad.grad([x * x, x * 3], [x], grad_outputs=[ad.tensor(np.array([1.0])),
                                                     ad.tensor(np.array([2.0]))])
    assert g.item() == 4.0 + 6.0


def test_grad_with_respect_to_an_intermediate():
    x = leaf(1.0, 2.0)
    h = x * 3
    g, = ad.grad((h * h).sum(), [h])
    np.testing.assert_array_equal(g.numpy(), [6.0, 12.0])


def test_hessian_vector_product():
    a = np.array([[1.0, 2.0], [0.5, -1.0]])
    x = leaf(0.3, -0.7)
    f = (x @ ad.tensor(a) @ x) + (x ** 3).sum()       # H = A + Aᵀ + diag(6x)
    g, = ad.grad(f, [x], create_graph=True)
    v = ad.tensor(np.array([1.0, 2.0]))
    hv, = ad.grad((g * v).sum(), [x])
    expected = (a + a.T + np.diag(6 * x.numpy())) @ v.numpy()
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-12)


def test_third_derivative_of_x_to_the_fourth():
    x = ad.tensor(np.array(1.5), requires_grad=True)
    d1, = ad.grad(x ** 4, [x], create_graph=True)          # 4x³
    d2, = ad.grad(d1, [x], create_graph=True)              # 12x²
    d3, = ad.grad(d2, [x], create_graph=True)              # 24x
    d4, = ad.grad(d3, [x])                                 # 24
    assert (d1.item(), d2.item(), d3.item(), d4.item()) == pytest.approx(
        (4 * 1.5 ** 3, 12 * 1.5 ** 2, 24 * 1.5, 24.0))


def test_third_derivative_of_tanh():
    x = leaf(-0.8, 0.3, 1.2)
    d1, = ad.grad(x.tanh().sum(), [x], create_graph=True)
    d2, = ad.grad(d1.sum(), [x], create_graph=True)
    d3, = ad.grad(d2.sum(), [x])
    t = np.tanh(x.numpy())
    s = 1 - t ** 2
    np.testing.assert_allclose(d1.numpy(), s, rtol=1e-12)
    np.testing.assert_allclose(d2.numpy(), -2 * t * s, rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), -2 * s * (1 - 3 * t ** 2), rtol=1e-12)


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf(2.0)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.item() == 12.0 and x.grad.requires_grad
    d2, = ad.grad(x.grad.sum(), [x])
    assert d2.item() == 12.0                               # 6x


# ---------------------------------------------------------------- a user's own op


class SoftPlus(ad.Function):
    """y = log(1 + eˣ);  dy/dx = σ(x) = 1 - e^(-y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.logaddexp(0, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - ad.ops.array_or_tensor.exp(-y))


class ScaledProduct(ad.Function):
    """y = scale · a · b;  dy/da = scale · b, dy/db = scale · a (scale is an option)"""

    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.scale = scale
        ctx.save_for_backward(a, b)
        return scale * a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.scale, grad * a * ctx.scale


@given(data=st.data())
def test_a_user_defined_function(data, strategies, check_grads):
    x = data.draw(strategies.floats(strategies.shapes()))
    y = SoftPlus.apply(ad.tensor(x))
    np.testing.assert_allclose(y.numpy(), np.log1p(np.exp(x)), rtol=1e-12)
    check_grads(SoftPlus.apply, x)
    (shape_a, shape_b), _ = data.draw(strategies.broadcastable())
    a, b = data.draw(strategies.floats(shape_a)), data.draw(strategies.floats(shape_b))
    check_grads(lambda s, t: ScaledProduct.apply(s, t, scale=2.5), a, b)


def test_a_user_defined_function_in_a_graph():
    x = leaf(0.0, 1.0)
    y = SoftPlus.apply(x * 2).sum()
    y.backward()
    assert type(SoftPlus.apply(x).grad_fn) is SoftPlus
    np.testing.assert_allclose(x.grad.numpy(), 2 / (1 + np.exp(-2 * x.numpy())), rtol=1e-12)


def test_a_function_without_backward_is_rejected_when_defined():
    with pytest.raises(TypeError, match="backward"):
        class Broken(ad.Function):
            @staticmethod
            def forward(ctx, x):
                return x


# ---------------------------------------------------------------- depth


def test_a_chain_of_a_million_ops_at_the_default_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)                 # Python's default
    try:
        x = ad.tensor(np.array(1.0), requires_grad=True)
        y = x
        for _ in range(1_000_000):
            y = y * 1.000001
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad.item() == pytest.approx(1.000001 ** 1_000_000, rel=1e-9)   # ≈ e


# ---------------------------------------------------------------- accumulation corner cases

def test_a_0d_leaf_used_twice_keeps_an_array_gradient():
    """Two contributions to a 0-d leaf sum to a numpy scalar; .grad must stay an array
    so later backward calls and zero_grad(set_to_none=False) work in place."""
    x = ad.tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad.numpy(), np.ndarray)
    (x * x).backward()
    assert x.grad.item() == 12.0
    x.grad.numpy().fill(0)
    assert x.grad.item() == 0.0


def test_create_graph_gives_each_leaf_its_own_gradient():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0], requires_grad=True)
    v = ad.ones(2)
    (a + b).backward(v, create_graph=True)
    assert a.grad is not b.grad and a.grad is not v
    (a * 3).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])


def test_create_graph_gradient_of_a_sum_is_writable():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    w.sum().backward(create_graph=True)
    w.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_a_read_only_gradient_set_by_the_user_is_replaced_not_written():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    x.grad = ad.ones(2).expand(2)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ---------------------------------------------------------------- one walk for backward and viz


def test_backward_and_drawings_walk_the_graph_the_same_way():
    import re

    from autodiff.backward import topological_order
    x, w = leaf(1.0, 2.0), leaf(0.5, -1.0)
    data = ad.tensor(np.array([3.0, 4.0]))           # a constant tensor: a leaf, no grad
    h = (x * w).tanh()
    y = (h * data + h.exp()).sum()
    order = topological_order([y], leaves=True)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order) == 9 and position[id(y)] == 8
    for i, t in enumerate(order):                    # every tensor after its inputs
        if t.grad_fn is not None:
            assert all(position[id(u)] < i for u in t.grad_fn.inputs if isinstance(u, ad.Tensor))
    assert {id(x), id(w), id(data), id(h)} <= set(position)
    made_by_ops = [t for t in order if t.grad_fn is not None]
    assert [id(t) for t in made_by_ops] == [id(t) for t in topological_order([y])]
    visited = []
    for t in made_by_ops:
        t.register_hook(lambda g, t=t: visited.append(id(t)))
    y.backward()
    assert visited == [id(t) for t in reversed(made_by_ops)]   # backward: outputs first
    for i, t in enumerate(order):
        t.name = f"tensor_number_{i}"
    source = ad.viz.draw(y).source                   # the drawing: the same tensors, in order
    assert len(re.findall(r"^\tt\d+ \[label=", source, flags=re.M)) == len(order)
    drawn = [int(n) for n in re.findall(r"tensor_number_(\d+)", source)]
    assert sorted(set(drawn)) == list(range(len(order)))
    assert drawn == sorted(drawn)


# ---------------------------------------------------------------- backward(inputs=...)

def backward_into_inputs(lib):
    x = lib.tensor([1.0], requires_grad=True)
    w = lib.tensor([3.0], requires_grad=True)
    unused = lib.tensor([5.0], requires_grad=True)
    h = x * w
    (h * 2).sum().backward(inputs=[x, h, unused])
    (x * w).sum().backward(inputs=x)
    return x.grad.tolist(), w.grad, h.grad.tolist(), unused.grad


def test_backward_accumulates_only_into_the_inputs_given():
    # dL/dx = 2w = 6, then + w = 9; w gets nothing; h, not a leaf, gets its .grad = 2
    assert backward_into_inputs(ad) == ([9.0], None, [2.0], None)
    with pytest.raises(ad.BackwardError, match="backward: inputs.0. .*does not require grad"):
        (ad.ones(1, requires_grad=True) * 2).sum().backward(inputs=[ad.ones(1)])
    with pytest.raises(ad.BackwardError, match="backward: `inputs` cannot be empty"):
        (ad.ones(1, requires_grad=True) * 2).sum().backward(inputs=[])


def test_torch_accumulates_into_the_inputs_the_same():
    torch = pytest.importorskip("torch")
    assert backward_into_inputs(torch) == ([9.0], None, [2.0], None)
