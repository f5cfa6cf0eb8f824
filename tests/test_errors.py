"""Errors a user can cause: one message, the place with a caret, and user text clipped."""
from autodiff_cli.errors import AutodiffError, MissingInputsError, SourceError, clip, line_and_column, source_excerpt


def test_a_source_error_points_at_its_place_with_a_caret():
    error = SourceError("unexpected ')'", "a = 1\nb = (a))", 14, hint="this ')' closes no '('")
    assert error.render().splitlines() == ["error: line 2, column 9: unexpected ')'", "   |", " 2 | b = (a))",
                                           "   |         ^", "hint: this ')' closes no '('"]
    assert error.one_line() == "line 2, column 9: unexpected ')'" and error.exit_code == 2


def test_a_long_line_is_cut_around_the_culprit():
    text = "x + " * 100 + "?" + " + y" * 100
    excerpt, caret = source_excerpt(text, 400, 401)
    assert len(excerpt) <= 80 and excerpt.startswith("...") and excerpt.endswith("...")
    assert excerpt[caret.index("^")] == "?"


def test_user_text_is_clipped_in_messages():
    assert clip("x" * 1000) == "x" * 59 + "…" and clip("short") == "short"
    assert AutodiffError("m", hint="h").render() == "error: m\nhint: h"


def test_missing_inputs_are_named_together_and_e_gets_a_note():
    error = MissingInputsError(["e", "x"], "e*x", 0)
    assert error.message == "the inputs e, x have no value" and "exp(1)" in error.hint
    assert line_and_column("a\nbc", 3) == (2, 2)
