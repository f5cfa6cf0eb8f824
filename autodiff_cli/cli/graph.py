"""`autodiff graph`: the lecture's draw_dot picture (DOT, SVG, PNG, PDF), or the live page (HTML)."""
from __future__ import annotations

import sys

import click

from ..errors import AutodiffError
from .options import (PROGRAM_HELP, AutodiffCommand, data_columns, lecture_bug_option, load_program, needs, one_of,
                      parse_assignments, precision_option, program_options, without)

RULES = [
    without(("no_grad",), ("upto", "lecture_bug"), why="they show gradients"),
    without(("upto",), ("lecture_bug",), why="--upto shows the right gradients filling in"),
    one_of("as_json", "fmt", why="what is written"),
    needs(("ignore_extra",), ("data_file",)),
]


def hints(exc: AutodiffError) -> None:
    from ..drawing import GraphTooLargeError, RenderError

    if isinstance(exc, GraphTooLargeError):
        exc.hint = "raise --max-nodes, or write DOT text with -o graph.dot"
    elif isinstance(exc, RenderError) and "not installed" in exc.message:
        exc.hint += "; or write DOT text with -o graph.dot"


@click.command("graph", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
@program_options
@click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write the picture here; the format follows the extension (.svg .png .pdf .dot .gv, "
                   "or .html: the live page). Without -o (or with -o -), DOT text goes to standard output.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot", "gv", "html"]), default=None,
              help="The format, whatever the file's name.")
@click.option("--json", "as_json", is_flag=True,
              help="The graph as eval's strict JSON (every node, its inputs, data and grad) instead of a picture.")
@precision_option(4, "Decimals shown.")
@click.option("--rankdir", type=click.Choice(["LR", "TB"]), default="LR", show_default=True,
              help="Left to right, or top to bottom.")
@click.option("--no-grad", is_flag=True, help="Draw the forward pass only.")
@click.option("--max-nodes", type=click.IntRange(1, None), default=None,
              help="Refuse to lay out a larger graph (default 20,000: Graphviz would take minutes); "
                   "DOT text is always written.")
@click.option("--backend", type=click.Choice(["auto", "dot", "pygraphviz"]), default="auto", show_default=True,
              help="The renderer: auto uses Graphviz's dot when on PATH, else pygraphviz.")
@click.option("--upto", type=click.IntRange(0, None), default=None, metavar="K",
              help="The gradients after the first K chain-rule steps of explain (one per edge, from the "
                   "output back): the ones not reached yet are empty.")
@lecture_bug_option
@click.option("--data", "data_file", metavar="FILE", type=click.Path(allow_dash=True),
              help="With -o page.html: rows to train on in the page, as fit --data reads them (CSV with a header "
                   "of input names, or JSON Lines; at most 10,000 rows, all held in the page). The page then "
                   "trains as fit does; the graph shows one row at a time.")
@click.option("--ignore-extra", is_flag=True, help="Drop the columns of --data that name no input.")
def command(program, source_file, assignments, output_name, path, fmt, as_json, precision, rankdir, no_grad,
            max_nodes, backend, upto, lecture_bug, data_file, ignore_extra):
    """Draw the graph as the lecture's draw_dot does: a record { label | data | grad } per value
    and an ellipse per operation, after the backward pass.

    Rendering SVG, PNG or PDF needs Graphviz's `dot` or pygraphviz
    (pip install 'autodiff-cli[render]'); without either the command exits 1 and
    writes nothing.

    -o graph.html writes the live page: the graph in one self-contained HTML
    file (no network), a slider and a number box per input (over value ±
    2·max(1, |value|), adjustable in the page), and every node's data and grad
    recomputed as you move them; click a value for its chain-rule lines and
    its paths to the output; "step" nudges the inputs along the gradient, or
    with --data rows.csv trains on the rows as fit does (same losses).
    """
    from ..drawing import BINARY, SLOW_LAYOUT_SECONDS, PictureReport, check_layout_size, output_format
    from ..output import check_writable, is_stdout
    from ..reports import emit

    if as_json:
        from ..tables import NodeReport

        check_writable(path)
        emit(NodeReport(load_program(program, source_file, assignments, output_name).run()), "json", path)
        return
    fmt = output_format(None if is_stdout(path) else path, fmt)
    if is_stdout(path) and fmt in BINARY and sys.stdout.isatty():
        raise AutodiffError(f"{fmt.upper()} is binary: it would garble the terminal",
                            hint=f"write it to a file with -o graph.{fmt}, or redirect: ... > graph.{fmt}")
    if fmt == "html" and (no_grad or upto is not None or lecture_bug):
        raise AutodiffError("the live page shows the gradients and replays the backward pass itself: "
                            "leave out --no-grad, --upto and --lecture-bug")
    if data_file is not None and fmt != "html":
        raise AutodiffError("--data is for the live page: write it with -o page.html")
    check_writable(path)
    if fmt == "html":
        page_command(program, source_file, assignments, output_name, path, precision, rankdir, backend, max_nodes,
                     data_file, ignore_extra)
        return
    prog = load_program(program, source_file, assignments, output_name).run()
    if fmt != "dot":
        seconds = check_layout_size(prog, max_nodes)
        if seconds > SLOW_LAYOUT_SECONDS:
            click.echo(f"warning: laying out {len(prog.nodes):,} nodes will take about {seconds:.0f} s; "
                       "-o graph.dot writes the DOT text at once, --max-nodes refuses graphs this large", err=True)
    grads = title = lit = None
    if upto is not None:
        from ..explaining import gradients_after

        grads = gradients_after(prog, upto)
        lit = step_edge(prog, upto)
    if lecture_bug:
        from ..lecture_bugs import backward_with_bug, warning

        backward_with_bug(prog, lecture_bug)
        title = warning(lecture_bug)
    emit(PictureReport(prog, backend=backend, precision=precision, rankdir=rankdir, grad=not no_grad, grads=grads,
                       title=title, lit=lit), fmt, path)


def step_edge(prog, k: int) -> tuple[int, int, int] | None:
    """The edge of the backward pass's step k (1, 2, ...), as (node, op's node, operand position);
    None for step 0 or past the last."""
    from ..explaining import Step, backward_steps

    done = 0
    for item in backward_steps(prog):
        if isinstance(item, Step):
            done += 1
            if done == k:
                return item.node.index, item.parent.index, item.position
    return None


def page_command(program, source_file, assignments, output_name, path, precision, rankdir, backend, max_nodes,
                 data_file, ignore_extra):
    """The live page: the program's inputs without a value in its text (net's data) are told to
    the page, and --data's rows are read and checked before any layout."""
    from ..drawing import SLOW_LAYOUT_SECONDS, check_layout_size, page_layout_seconds
    from ..page import LivePage, PageData, live_page
    from ..reports import emit

    prog = load_program(program, source_file, (), output_name, stdin_for_points=data_file == "-")
    data_like = [name for name, node in prog.inputs.items() if node.data is None]
    values = parse_assignments(assignments)
    prog.set(values)
    data = None
    if data_file is not None:
        from ..points import open_points

        data = PageData.from_points(data_columns(prog, open_points(data_file), ignore_extra, "--data"))
        both = [name for name in data.columns if name in values]
        if both:
            raise AutodiffError(f"{both[0]} is a column of the data and also given by --set",
                                hint=f"drop --set {both[0]}=...")
        prog.set({name: column[0] for name, column in data.columns.items()})      # the page opens on the first row
    prog.run()
    check_layout_size(prog, max_nodes)
    seconds = page_layout_seconds(prog)
    if seconds > SLOW_LAYOUT_SECONDS:
        click.echo(f"warning: laying out {len(prog.nodes):,} nodes will take about {seconds:.0f} s; "
                   "--max-nodes refuses graphs this large", err=True)
    emit(LivePage(live_page(prog, precision=precision, rankdir=rankdir, backend=backend, data=data,
                            data_like=data_like)), "html", path)
