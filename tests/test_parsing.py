"""The language: precedence, names, labels, and error messages with line, column and caret."""
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest

from autodiff_cli import ops
from autodiff_cli.errors import SourceError
from autodiff_cli.parsing import parse
from autodiff_cli.parsing import evaluate

ROOT = Path(__file__).resolve().parent.parent

OPERATORS = ' '.join(ops.operator_symbols())     # from the table: a new operator changes no test


@pytest.mark.parametrize("text, value", [
    ("-2**2", -4.0), ("2**3**2", 512.0), ("2^3^2", 512.0), ("2**-1", 0.5), ("2*-3", -6.0),
    ("- -3", 3.0), ("tanh (0)", 0.0), ("2.5E1", 25.0), (".5 + 1e-3", 0.501), ("1 - 2 - 3", -4.0),
    ("8 / 4 / 2", 1.0), ("2 + 3 * 4", 14.0), ("(2 + 3) * 4", 20.0), ("+3", 3.0), ("-(2)**2", -4.0),
    ("6.8813735870195432", 6.8813735870195432),
])
def test_arithmetic_follows_python(text, value):
    assert evaluate(text).value == value


def test_statements_separators_comments_and_crlf():
    text = "a = 2; b = -3   # inputs\r\n\r\n;; c = 10\r\nf = -2;\ne = a*b\nd = e + c\nL = d * f;\n"
    prog = evaluate(text)
    assert prog.value == -8.0
    assert list(prog.grad) == ["a", "b", "c", "f"]
    assert [prog.label(n) for n in prog.nodes] == ["a", "b", "c", "f", "e", "d", "L"]


def test_a_new_line_inside_parentheses_continues_the_statement():
    text = "x1 = 2; w1 = -3; x2 = 0; w2 = 1\nn = (x1*w1 +   # the first input\n     x2*w2)\nn + 1"
    prog = evaluate(text)
    assert prog.value == -5.0
    assert prog.grad == {"x1": -3.0, "w1": 2.0, "x2": 1.0, "w2": 0.0}
    assert prog.label(prog.names["n"].inputs[0]) == "x1*w1"
    assert prog.label(prog.output) == "n + 1"
    assert prog.position(prog.output) == (4, 1)       # positions still count the joined lines


def test_a_label_spanning_lines_drops_comments_and_folds_whitespace():
    prog = evaluate("a = 1\n(a +  # one\n   2)*3")
    assert prog.label(prog.output) == "(a + 2)*3"


def test_only_a_bare_signed_literal_declares_an_input():
    prog = parse("a = -3; b = +2; c = (3); d = 2*3; a*b*c*d")
    assert list(prog.inputs) == ["a", "b"]
    assert prog.names["c"].op is ops.CONST and prog.names["d"].op is ops.MUL
    prog.run()
    assert prog.names["c"].grad == -3.0 * 2 * 6     # constants get their true gradient


def test_alias_gives_a_node_a_second_name_without_a_new_node():
    prog = evaluate("x = 3; y = x; y * y")
    assert len(prog.nodes) == 2 and prog.grad == {"x": 6.0}
    assert prog.names["y"] is prog.names["x"]


def test_unnamed_nodes_are_labelled_by_their_source_text():
    prog = evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)
    assert [prog.label(n) for n in prog.nodes] == ["a", "b", "c", "f", "a*b", "a*b+c", "(a*b+c)*f"]


def test_labels_fold_whitespace_and_are_shortened():
    prog = evaluate("x = 1\n" + "  +  ".join(["x"] * 30))
    assert prog.label(prog.output) == ("x + " * 10)[:39] + "…"
    assert prog.label(prog.nodes[1]) == "x + x"


def test_grad_lists_inputs_in_order_of_first_appearance_and_unused_inputs_get_zero():
    prog = evaluate("z = 1; y = 2; unused = 5; y * x + z", x=4)
    assert list(prog.grad.items()) == [("z", 1.0), ("y", 4.0), ("unused", 0.0), ("x", 2.0)]


def test_a_name_used_many_times_is_one_node():
    prog = evaluate("x*x*x*x", x=2)
    assert len(prog.nodes) == 4 and prog.grad["x"] == 32.0


def test_unicode_and_underscore_names():
    assert evaluate("α = 2; _x1 = 3; α * _x1").grad == {"α": 3.0, "_x1": 2.0}


def test_exponent_gets_a_gradient_only_where_it_depends_on_an_input():
    prog = evaluate("x**2", x=-3)
    assert prog.value == 9.0 and prog.grad == {"x": -6.0}
    prog = evaluate("x**y", x=2, y=3)
    assert prog.grad["y"] == pytest.approx(8 * 0.6931471805599453)
    assert evaluate("x**y", x=0, y=2).grad == {"x": 0.0, "y": 0.0}


def error_of(text):
    with pytest.raises(SourceError) as info:
        parse(text)
    return info.value


@pytest.mark.parametrize("text, line, column, words", [
    ("2x + 1", 1, 2, "did you mean 2*x?"),
    ("a = 1\nb = (a + 1\n", 2, 5, "'(' is never closed"),
    ("a = 1\nb = (a +\n", 2, 9, "the '(' at line 2, column 5 is still open"),
    ("a = (2 +\nb = 3", 2, 3, "the '(' at line 1, column 5 is still open"),
    ("a = (2 +\n\n", 1, 9, "the '(' at line 1, column 5 is still open"),
    ("a +", 1, 4, "expected a number, a name, a function call or '('"),
    ("tanhh(x)", 1, 1, "tanh"),
    ("a = 1; a = 2", 1, 8, "already assigned"),
    ("b = a; a = 2", 1, 8, "assigned after it is used"),
    ("x $ y", 1, 3, "unexpected character '$'"),
    ("a ) b", 1, 3, "closes no '('"),
    ("", 1, 1, "empty"),
    ("1e999", 1, 1, "too large"),
    ("a*b = 3", 1, 5, "only a plain name can be assigned"),
])
def test_syntax_errors_point_at_the_culprit(text, line, column, words):
    error = error_of(text)
    rendered = error.render()
    assert f"line {line}, column {column}" in rendered
    assert words in rendered
    caret_line = rendered.splitlines()[3]
    assert caret_line.index("^") - caret_line.index("|") - 2 == column - 1


@pytest.mark.parametrize("text, expected", [
    ("2x + 1", f"expected an operator ({OPERATORS}) or the end of the statement"),
    ("(2x + 1)", f"expected an operator ({OPERATORS}) or ')'"),
])
def test_expected_tokens_fit_where_the_error_is(text, expected):
    assert error_of(text).message.endswith(expected)


def test_unknown_function_lists_the_known_ones():
    rendered = error_of("tanhh(x)").render()
    for name in ops.FUNCTIONS:
        assert name in rendered


def test_error_excerpt_of_a_long_line_is_cut_around_the_column():
    text = "x + " * 5000 + "$"
    rendered = error_of(text).render()
    assert max(len(line) for line in rendered.splitlines()) < 120
    assert "^" in rendered


@pytest.mark.parametrize("junk, message, where", [
    ("(", "'(' is never closed", -1), ("a(", "'(' is never closed", -1), (")", "unexpected ')'", 0),
    ("+", "unexpected end of the program", None), ("-(", "'(' is never closed", -1),
    (";", "the program is empty", 0), ("\n", "the program is empty", 0),
    ("a+", "unexpected end of the program", None), ("x*\n", "unexpected end of the line", -1),
    ("(()", "'(' is never closed", -3), ("# ( comment\n", "the program is empty", 0),
])
def test_a_megabyte_of_garbage_is_refused_with_the_usual_message(junk, message, where):
    """Cheap checks before the parser: Lark alone took 6 s for 1 MB of '(' and minutes for 10 MB."""
    text = junk * (1_000_000 // len(junk))
    with pytest.raises(SourceError) as info:
        with time_limit(30):
            parse(text)
    assert info.value.message.startswith(message)
    assert info.value.start == (len(text) if where is None else where % len(text))
    assert info.value.render().startswith("error: line ")


@pytest.mark.slow
def test_ten_megabytes_of_parentheses_are_refused():
    with pytest.raises(SourceError, match="'\\(' is never closed"):
        with time_limit(60):
            parse("(" * 10_000_000)


def test_large_valid_programs_still_parse():
    text = "x = 2\n" + "+".join(["(x*x)"] * 30_000)
    assert parse(text).run().value == 4.0 * 30_000


@contextmanager
def time_limit(seconds):
    """A guard against a parser that runs away, not a measurement: fails the test at `seconds`."""
    def stop(signum, frame):
        raise TimeoutError(f"still parsing after {seconds} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("text, hint", [
    ("sin x", "did you mean sin(x)?"), ("log 2.5", "did you mean log(2.5)?"),
    ("3(x+1)", "did you mean 3*(x+1)?"), ("ln(x)", "did you mean log?"),
    ("x²", "did you mean x**2?"), ("3x²", "did you mean 3*x**2?"), ("2 pi", "did you mean 2*pi?"),
])
def test_hints_for_what_people_type(text, hint):
    with pytest.raises(SourceError) as info:
        parse(text)
    assert hint in info.value.hint


def test_an_unbound_e_suggests_exp_1():
    with pytest.raises(SourceError) as info:
        evaluate("e**x", x=1)
    assert "for Euler's number write exp(1)" in info.value.render()


def test_pi_is_a_constant_unless_the_program_assigns_it():
    prog = evaluate("r = 2; pi*r**2")
    assert prog.value == pytest.approx(3.141592653589793 * 4, rel=1e-15) and list(prog.inputs) == ["r"]
    assert prog.nodes[1].op is ops.CONST and prog.label(prog.nodes[1]) == "pi"
    assert evaluate("pi = 3; pi*2").value == 6.0
    with pytest.raises(SourceError, match="pi is assigned after it is used"):
        parse("x = pi; pi = 3")
