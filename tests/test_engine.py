"""The Value API as the lecture uses it, built by hand in Python."""
import math

import pytest

from autodiff_cli import ops
from autodiff_cli.engine import NumericError, Value, backward, topological_order
from conftest import interior


def lecture_graph():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b; e.label = "e"
    d = e + c; d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f; L.label = "L"
    return a, b, c, d, e, f, L


def test_lecture_graph_by_hand():
    a, b, c, d, e, f, L = lecture_graph()
    L.backward()
    assert L.data == -8.0
    assert [x.grad for x in (a, b, c, d, e, f, L)] == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0, 1.0]


def test_backward_is_idempotent():
    *_, L = lecture_graph()
    L.backward()
    first = [n.grad for n in topological_order(L)]
    L.backward()
    assert [n.grad for n in topological_order(L)] == first


def test_a_plus_a_accumulates():
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    assert b.inputs == (a, a) and a.grad == 2.0


def test_neuron_and_tanh_from_exp():
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert math.isclose(o.data, 0.7071067811865476, abs_tol=1e-12)
    grads = [x1.grad, w1.grad, x2.grad, w2.grad]
    assert grads == pytest.approx([-1.5, 1.0, 0.5, 0.0], abs=1e-12)
    e = (2 * n).exp()
    o2 = (e - 1) / (e + 1)
    o2.backward()
    assert math.isclose(o2.data, o.data, abs_tol=1e-12)
    assert [x1.grad, w1.grad, x2.grad, w2.grad] == pytest.approx(grads, abs=1e-12)


def test_python_numbers_mix_with_values():
    x = Value(3.0)
    y = 2 * x + 1 - x / 2 + x ** 2 + 2 ** x
    y.backward()
    assert y.data == 2 * 3 + 1 - 1.5 + 9 + 8
    assert x.grad == pytest.approx(2 - 0.5 + 6 + 8 * math.log(2))


def test_topological_order_of_a_deep_chain_needs_no_recursion():
    x = Value(0.5, label="x")
    node = x
    for _ in range(50_000):
        node = -node
    order = topological_order(node)
    assert order[0] is x and order[-1] is node and len(order) == 50_001
    backward(order)
    assert x.grad == 1.0


def test_order_is_deterministic_and_inputs_come_before_users():
    *_, L = lecture_graph()
    order = topological_order(L)
    assert [n.label for n in order] == ["a", "b", "e", "c", "d", "f", "L"]
    seen = set()
    for node in order:
        assert all(id(x) in seen for x in node.inputs)
        seen.add(id(node))


def test_domain_error_names_the_node():
    with pytest.raises(NumericError) as info:
        Value(0.0, label="z").log()
    assert "log needs a positive number" in str(info.value)


def test_gradient_overflow_is_an_error():
    x = Value(1e-160, label="x")
    y = 1 / x          # 1e160 is finite, but d y / d x = -1e320 is not
    with pytest.raises(NumericError) as info:
        y.backward()
    assert "gradient is too large" in str(info.value)



def test_a_domain_error_built_in_python_names_the_op_and_its_operand():
    with pytest.raises(NumericError, match=r"log\(-1.0\): log needs a positive number"):
        Value(-1.0).log()


# The lecture's own names: _prev, _op, _backward(), grads set by hand.

def test_prev_is_the_set_of_operands_the_lecture_prints():
    a, b, c, d, e, f, L = lecture_graph()
    assert d._prev == {e, c} and L._prev == {d, f} and a._prev == set()
    twice = a + a
    assert twice._prev == {a} and twice.inputs == (a, a)     # a set: a + a has one operand, two edges
    (two,) = (a * 2)._prev - {a}
    assert two.data == 2.0 and two._prev == set()


def test_op_is_the_symbol_the_lecture_gives():
    a, b, c, d, e, f, L = lecture_graph()
    assert (d._op, e._op, a._op) == ("+", "*", "")
    assert (a.tanh()._op, a.exp()._op) == ("tanh", "exp")
    # micrograd's f'**{other}': the exponent written as the lecture's Python number was
    assert [(a ** k)._op for k in (2, -1, 0.5)] == ["**2", "**-1", "**0.5"]
    assert (a ** b)._op == "**" and (2 ** a)._op == "**"
    assert [x._op for x in (a * 2)._prev] == ["", ""]


def test_backward_step_is_this_nodes_chain_rule_only():
    a, b, c, d, e, f, L = lecture_graph()
    L.grad = 1.0
    L._backward()
    assert (d.grad, f.grad) == (-2.0, 4.0)               # dL/dd = f, dL/df = d
    assert (e.grad, c.grad, a.grad, b.grad) == (0.0, 0.0, 0.0, 0.0)
    d._backward()
    e._backward()
    assert [x.grad for x in (a, b, c, d, e, f, L)] == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0, 1.0]
    a._backward()                                        # a leaf's does nothing
    assert a.grad == 6.0


def test_backward_step_accumulates_with_plus_equals_as_the_lectures_closure():
    a = Value(3.0, label="a")
    b = a + a
    b.grad = 1.0
    b._backward()
    assert a.grad == 2.0                                 # both edges, each += 1.0 * b.grad
    b._backward()
    assert a.grad == 4.0                                 # called again, it adds again


def test_backward_resets_the_gradients_the_lecture_would_add_onto():
    a, b, c, d, e, f, L = lecture_graph()
    d.grad, a.grad = 100.0, 7.0                          # hand-set, as the lecture does
    L.backward()
    assert [x.grad for x in (a, b, c, d, e, f, L)] == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0, 1.0]
    L.backward()                                         # the lecture's would now give a 12.0
    assert a.grad == 6.0


def test_draw_dot_shows_the_gradients_set_by_hand_and_changes_none():
    from autodiff_cli import draw_dot

    a, b, c, d, e, f, L = lecture_graph()
    L.grad = 1.0
    e.grad = -2.0
    source = draw_dot(L).source
    assert "{ e | data -6.0000 | grad -2.0000 }" in source and "{ L | data -8.0000 | grad 1.0000 }" in source
    assert "{ a | data 2.0000 | grad 0.0000 }" in source     # not yet set: nothing was run
    assert [x.grad for x in (a, b, c, d, e, f, L)] == [0.0, 0.0, 0.0, 0.0, -2.0, 0.0, 1.0]
    a.grad = 6
    assert "{ a | data 2.0000 | grad 6.0000 }" in draw_dot(L).source


STEPPED = [op for op in ops.all_ops() if op.method]


@pytest.mark.parametrize("op", STEPPED, ids=[op.name for op in STEPPED])
def test_every_op_of_the_table_steps_with_its_own_local_derivative(op):
    point = interior(op)
    x, y = Value(point["x"], label="x"), Value(point["y"], label="y")
    node = getattr(x, op.method)(*(y,)[:op.arity - 1])
    x.grad, y.grad, node.grad = 0.25, -0.5, -2.0
    local = (op.derivative(x.data, y.data, node.data) if op.arity == 2 else (op.derivative(x.data, node.data),))
    node._backward()
    assert x.grad == 0.25 + -2.0 * local[0]
    assert y.grad == (-0.5 + -2.0 * local[1] if op.arity == 2 else -0.5)


def test_a_registered_op_steps_with_its_derivative_compiled_from_its_rule(registry):
    from scratch_ops import scratch_cube

    registry.register(scratch_cube())
    x = Value(0.3)
    node = x.scratch_cube()
    node.grad = 2.0
    node._backward()
    assert node._op == "scratch_cube" and x.grad == 2.0 * (3 * 0.3 ** 2)


def test_a_step_whose_derivative_does_not_exist_leaves_none_or_refuses_an_input():
    base = Value(-3.0, label="x")
    square = base ** 2
    square.grad = 1.0
    square._backward()
    (exponent,) = square._prev - {base}
    assert base.grad == -6.0 and exponent.grad is None   # a negative base: none towards the exponent
    root = Value(0.0, label="z") ** 0.5
    root.grad = 1.0
    with pytest.raises(NumericError, match="0 to a power below 1 has an infinite derivative"):
        root._backward()


def test_a_step_whose_gradient_overflows_is_an_error():
    x = Value(1e-160, label="x")
    y = 1 / x
    y.grad = 1.0
    with pytest.raises(NumericError, match="gradient is too large"):
        y._backward()


def test_the_lectures_own_op_with_a_backward_closure_set_by_hand():
    """Value(t, (x,), 'sigmoid') and out._backward = fn, as the lecture adds an op; what needs the
    op's rule (explain, diff, sweeps, the page) says so instead of failing."""
    from autodiff_cli.errors import AutodiffError
    from autodiff_cli.explaining import explain_lines
    from autodiff_cli.program import Program

    x = Value(0.5, label="x")
    t = 1 / (1 + math.exp(-x.data))
    out = Value(t, (x,), "sigmoid")

    def _backward():
        x.grad += t * (1 - t) * out.grad
    out._backward = _backward
    y = out * 3
    y.backward()
    assert x.grad == pytest.approx(3 * t * (1 - t)) and out._op == "sigmoid" and out._prev == {x}
    with pytest.raises(AutodiffError, match="sigmoid was made in Python with its own _backward"):
        list(explain_lines(Program.from_value(y)))
    unset = Value(1.0, (x,), "mystery") * 2
    with pytest.raises(NumericError, match="set its _backward"):
        unset.backward()


def test_backward_can_accumulate_as_micrographs_does():
    """The lecture's loop without zero_grad: gradients compound (24, -16, -6, 8 for L)."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    L = (a * b + c) * f
    L.backward()
    L.backward(accumulate=True)
    assert [a.grad, b.grad, c.grad, f.grad] == [24.0, -16.0, -6.0, 8.0]
    L.backward()
    assert [a.grad, b.grad, c.grad, f.grad] == [6.0, -4.0, -2.0, 4.0]
    assert Value(2.0).label == ""
