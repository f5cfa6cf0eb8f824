"""The Value API as the lecture uses it, built by hand in Python."""
import math

import pytest

from autodiff_cli.engine import NumericError, Value, backward, topological_order


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
