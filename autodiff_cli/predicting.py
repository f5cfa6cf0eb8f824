"""What a fitted or trained program predicts, row by row: the model's value beside the data.

The model is found by the program's shape, as people write it: a residual `model - y` whose `y`
is a column of the data (least squares) has the model on the left; a trained program with a
node named `out` (`autodiff net`'s) predicts `out`.  Each row gets its columns, the prediction
and the program's output (the residual, or the row's loss), computed on the array engine.
"""
from __future__ import annotations

from typing import BinaryIO, Iterator, TextIO

from . import ops
from .arrays import ArrayProgram
from .data import Data
from .engine import Value
from .points import numpy
from .program import Program
from .reports import Report, Style

PREDICTED = ("out", "prediction", "model")      # names a trained program's prediction goes by


def model_of(program: Program, data: Data) -> tuple[Value | None, str | None]:
    """The node that predicts, and the column it predicts (None where the program does not say)."""
    output = program.output
    if output.op is ops.SUB and output.inputs[1].op is ops.INPUT:
        response = program.input_name(output.inputs[1])
        if response in data.names:
            return output.inputs[0], response
    for name in PREDICTED:
        node = program.names.get(name)
        if node is not None and node is not output:
            return node, None
    return None, None


def predicted_rows(program: Program, data: Data) -> Iterator[dict]:
    """Each chunk of rows: its columns, `prediction` (where the program has a model) and the output."""
    model, _ = model_of(program, data)
    whole = ArrayProgram(program)
    predicting = ArrayProgram(_with_output(program, model)) if model is not None else None
    label = program.output_label
    for _, lines, columns in data.chunks(whole.chunk):
        n = len(lines)
        inputs = {name: values for name, values in columns.items() if name in program.inputs}
        row = dict(columns)
        if predicting is not None:
            row["prediction"] = _values(predicting.rows(inputs, n, []))
        row[label] = _values(whole.rows(inputs, n, []))
        yield row


def _values(rows):
    np = numpy()
    values = np.array(rows.value, dtype=float)
    values[list(rows.errors)] = np.nan
    return values


def _with_output(program: Program, node: Value) -> Program:
    """The same graph with `node` as its output."""
    return Program(program.text, program.nodes, program.inputs, program.names, node, None)


class PredictionReport(Report):
    """Each row's columns, the prediction and the output: CSV (a failed row's numbers empty) or a
    table of the first rows."""

    formats = ("csv", "text")

    def __init__(self, program: Program, data: Data, limit: int | None = 20):
        self.program = program
        self.data = data
        self.limit = limit

    def write_csv(self, out: BinaryIO, style: Style) -> None:
        header = None
        for chunk in predicted_rows(self.program, self.data):
            if header is None:
                header = list(chunk)
                out.write((",".join(header) + "\n").encode())
            columns = [chunk[name].tolist() for name in header]
            out.write("".join(",".join("" if v != v else repr(v) for v in row) + "\n"
                              for row in zip(*columns)).encode())

    def write_text(self, out: TextIO, style: Style) -> None:
        from .numbers import format_column
        from .tables import write_grid

        rows, header, total = [], None, 0
        for chunk in predicted_rows(self.program, self.data):
            header = header or list(chunk)
            n = len(next(iter(chunk.values())))
            take = n if self.limit is None else max(0, min(n, self.limit - len(rows)))
            rows += [[chunk[name][i] for name in header] for i in range(take)]
            total += n
        cells = [format_column([None if row[j] != row[j] else float(row[j]) for row in rows])
                 for j in range(len(header))]
        shown: list = [tuple(cells[j][i] for j in range(len(header))) for i in range(len(rows))]
        if total > len(rows):
            shown.append(f"… {total - len(rows):,} more rows")
        write_grid(out, header, shown, numeric=set(header), rich=style.rich,
                   title="the predictions at the end, row by row")
