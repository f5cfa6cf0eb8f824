"""The live page, driven in a real headless Chromium with the network blocked.

Locally a missing browser (or Playwright) skips these tests; with CI=true they fail.
Set AUTODIFF_SCREENSHOTS=DIR to keep the screenshots (docs/ holds the README's).
"""
import json
import os
from pathlib import Path

import pytest

from autodiff_cli.page import annotate, live, live_page
from autodiff_cli.parsing import evaluate
from autodiff_cli.tables import format_number
from conftest import LECTURE, LECTURE_SET, NEURON, have_dot, require_in_ci


@pytest.fixture
def open_page(browser, run, tmp_path):
    """Write the page with `autodiff graph ... -o page.html` and open it from disk, offline."""
    require_in_ci(have_dot(), "Graphviz's dot")
    opened = []

    def open_(*args):
        path = tmp_path / "page.html"
        result = run("graph", *args, "-o", path)
        assert result.exit_code == 0, result.stderr
        context = browser.new_context(offline=True)
        requests = []
        context.route("**/*", lambda route: (requests.append(route.request.url),
                                             route.continue_() if route.request.url.startswith("file:")
                                             else route.abort()))
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path.as_uri())
        opened.append((page, errors, requests))
        return page

    yield open_
    for page, errors, requests in opened:
        assert errors == []
        assert all(url.startswith("file:") for url in requests), requests


def move(page, name, value):
    page.locator(f'[data-input="{name}"]').evaluate(
        f"el => {{ el.value = '{value}'; el.dispatchEvent(new Event('input', {{bubbles: true}})); }}")


def shown(page, field):
    cells = page.locator(f'[data-field="{field}"]')
    return {int(cells.nth(i).get_attribute("data-node")): cells.nth(i).text_content() for i in range(cells.count())}


def screenshot(page, name):
    directory = os.environ.get("AUTODIFF_SCREENSHOTS")
    target = Path(directory) if directory else Path(__file__).resolve().parent / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name), full_page=True)


def expected(run, *args):
    result = run("eval", *args, "--json")
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_moving_a_from_2_to_3_updates_every_value_and_gradient_as_eval_does(open_page, run):
    page = open_page(LECTURE, *LECTURE_SET)
    assert page.text_content("[data-output]") == "-8.0000"
    move(page, "a", 3)
    document = expected(run, LECTURE, "--set", "a=3", *LECTURE_SET[2:])
    assert page.text_content("[data-output]") == f"{document['value']:.4f}"
    data, grad = shown(page, "data"), shown(page, "grad")
    assert len(grad) == len(document["nodes"]) == 7
    for node in document["nodes"]:
        assert data[node["id"]] == f"{node['data']:.4f}"
        assert grad[node["id"]] == f"{node['grad']:.4f}"
    assert page.input_value('[data-input-box="a"]') == "3"
    screenshot(page, "live-page.png")


def test_step_does_what_autodiff_step_does(open_page, run):
    page = open_page(NEURON)
    page.fill("#lr", "0.1")
    page.click("#step")
    stepped = json.loads(run("step", NEURON, "--lr", "0.1", "--json").stdout)
    for name, values in stepped["inputs"].items():
        assert float(page.input_value(f'[data-input-box="{name}"]')) == pytest.approx(values["end"], rel=1e-12)
        assert shown(page, "grad")[values_id(page, name)] == format_number(values["end_grad"])
    assert page.text_content("[data-output]") == format_number(stepped["value"])
    page.check("#minimize")
    page.check('[data-freeze="x1"]')
    page.click("#step")
    assert float(page.input_value('[data-input-box="x1"]')) == stepped["inputs"]["x1"]["end"]
    assert float(page.input_value('[data-input-box="w1"]')) == pytest.approx(
        stepped["inputs"]["w1"]["end"] - 0.1 * stepped["inputs"]["w1"]["end_grad"], rel=1e-12)


def values_id(page, name):
    return page.evaluate(f"() => MODEL.inputs[{json.dumps(name)}]")


def test_a_domain_error_shows_a_message_on_the_node_and_keeps_the_last_good_values(open_page):
    page = open_page("y = log(x) * 2", "--set", "x=1")
    before = shown(page, "data")
    move(page, "x", -1)
    message = page.text_content("#message")
    assert page.is_visible("#message")
    assert message == "error: line 1, column 5: log (x = -1.0): log needs a positive number (showing the last good values)"
    assert page.locator("g.failed").count() == 1
    assert shown(page, "data") == before
    assert "NaN" not in page.inner_text("body") and "Infinity" not in page.inner_text("body")
    screenshot(page, "live-page-domain-error.png")
    move(page, "x", 2)
    assert not page.is_visible("#message") and page.locator("g.failed").count() == 0


def test_clicking_a_node_shows_its_chain_rule_and_its_path_to_the_output(open_page):
    page = open_page(LECTURE, *LECTURE_SET)
    page.click('[data-group="v0"]')
    assert page.text_content("#chain") == "dout/da = dout/dt1 * dt1/da = -2.0000 * b = -2.0000 * -3.0000 = 6.0000"
    on_path = sorted(page.locator("g.node.onpath").evaluate_all("els => els.map(e => e.dataset.group)"))
    assert on_path == sorted(["v0", "op4", "v4", "op5", "v5", "op6", "v6"])


def test_every_op_runs_in_the_page_as_in_eval(open_page, run):
    text = ("u = x**3 + 2**x - x/(y + 3) + sqrt(y + 2) * log(y + 4)\n"
            "v = tanh(u) + exp(-x) * sigmoid(y) + relu(x - y) + sin(x) * cos(y) + abs(x - 2*y) + sign(x) + step(y)\n"
            "w = -v / 2")
    page = open_page(text, "--set", "x=0.7", "--set", "y=-0.4", "--precision", "10")
    move(page, "x", 1.3)
    document = expected(run, text, "--set", "x=1.3", "--set", "y=-0.4")
    data, grad = shown(page, "data"), shown(page, "grad")
    for node in document["nodes"]:
        assert float(data[node["id"]]) == pytest.approx(node["data"], rel=1e-9, abs=1e-10), node
        assert float(grad[node["id"]]) == pytest.approx(node["grad"], rel=1e-9, abs=1e-10), node


def test_a_few_hundred_nodes_update_quickly(open_page):
    text = "s0 = (0.5)\n" + "\n".join(f"s{i + 1} = tanh(s{i} * w{i} + 0.1)" for i in range(60))     # 301 nodes
    page = open_page(text, *[arg for i in range(60) for arg in ("--set", f"w{i}=0.5")])
    move(page, "w0", 0.7)
    assert shown(page, "grad")[0] != "0.0000"
    assert page.evaluate("() => window.autodiffLastUpdateMs") < 1000      # a sanity bound; timing is for bench/


def test_the_page_is_self_contained():
    program = evaluate(LECTURE, a=2, b=-3, c=10, f=-2)
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    page = live_page(program)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    assert page.count('data-input="') == 4 and page.count('data-field="grad"') == 7


def test_annotate_adds_hooks_to_graphviz_svg():
    svg = ('<?xml version="1.0"?>\n<svg>\n<g id="node1" class="node">\n<title>v0</title>\n'
           '<text x="1">a</text>\n<text x="2">data 2.0000</text>\n<text x="3">grad 6.0000</text>\n</g>\n</svg>')
    assert annotate(svg) == ('<svg>\n<g class="node" data-group="v0"><title>v0</title>\n<text x="1">a</text>\n'
                             '<text x="2">data <tspan data-node="0" data-field="data">2.0000</tspan></text>\n'
                             '<text x="3">grad <tspan data-node="0" data-field="grad">6.0000</tspan></text>\n'
                             '</g>\n</svg>')


def test_live_in_a_notebook_is_a_frame_holding_the_page():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    shown_page = live(evaluate("x*y", x=2, y=3))
    frame = shown_page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "data-input=&quot;x&quot;" in frame


def test_graph_html_is_refused_over_the_node_limit(run, tmp_path):
    result = run("graph", "x = 1\n" + " + ".join(["x"] * 30), "--max-nodes", "10", "-o", tmp_path / "p.html")
    assert result.exit_code == 2 and not (tmp_path / "p.html").exists()
