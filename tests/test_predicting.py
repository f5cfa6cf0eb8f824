"""What a fitted or trained program predicts, row by row."""
import io

import pytest

from autodiff_cli.data import read_data
from autodiff_cli.parsing import parse
from autodiff_cli.points import points_from_text
from autodiff_cli.predicting import PredictionReport, model_of, predicted_rows
from autodiff_cli.reports import PLAIN

DATA = "x,y\n1,2\n2,4.5\n-1,0\n"


def test_a_residual_model_minus_y_predicts_its_model():
    program = parse("a = 2; a*x - y")
    data = read_data(points_from_text(DATA))
    model, response = model_of(program, data)
    assert response == "y" and model is program.output.inputs[0]
    (chunk,) = predicted_rows(program, data)
    assert chunk["prediction"].tolist() == [2.0, 4.0, -2.0] and chunk["a*x - y"].tolist() == [0.0, -0.5, -2.0]


def test_a_trained_net_predicts_its_out_node_and_a_failed_row_is_empty():
    program = parse("w = 1\nout = log(w*x)\nloss = (out - y)**2")
    data = read_data(points_from_text(DATA))
    assert model_of(program, data) == (program.names["out"], None)
    out = io.BytesIO()
    PredictionReport(program, data).write_csv(out, PLAIN)
    lines = out.getvalue().decode().splitlines()
    assert lines[0] == "x,y,prediction,loss" and lines[3] == "-1.0,0.0,,"


def test_the_table_shows_the_first_rows_and_counts_the_rest():
    program = parse("a = 2; a*x - y")
    data = read_data(points_from_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(30))))
    out = io.StringIO()
    PredictionReport(program, data, limit=5).write_text(out, PLAIN)
    assert out.getvalue().splitlines()[-1] == "… 25 more rows" and len(out.getvalue().splitlines()) == 7
    with pytest.raises(StopIteration):
        next(iter(predicted_rows(program, read_data(points_from_text("x,y\n1,2\n")))))
        raise StopIteration
