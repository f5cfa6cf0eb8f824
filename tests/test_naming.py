"""One naming scheme for what a program leaves unnamed, shared by explain, diff and the page."""
from autodiff_cli.naming import free_name, legend, output_symbol, symbols
from autodiff_cli.parsing import parse


def test_unnamed_nodes_get_t1_t2_and_the_output_out():
    program = parse("(a*b + c)*f")
    names = symbols(program)
    assert names == ["a", "b", "c", "f", "t1", "t2", "out"] and output_symbol(program) == "out"
    assert list(legend(program, names)) == ["t1 = a*b", "t2 = t1 + c   # a*b + c",
                                           "out = t2*f   # (a*b + c)*f"]


def test_generated_names_never_take_a_programs_own():
    program = parse("t1 = x*2; out = t1 + 1; out*(x + 1)")
    names = symbols(program)
    assert "t1" in names and names.count("t1") == 1 and names[-1] == "out_1"
    assert free_name("out", {"out", "out_1"}) == "out_2"


def test_a_named_output_keeps_its_name_and_an_input_output_gets_one():
    assert output_symbol(parse("L = a*b")) == "L"
    assert output_symbol(parse("y = x; y")) == "y" and output_symbol(parse("x")) == "out"
