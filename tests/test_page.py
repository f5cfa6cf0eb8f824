"""The live page, driven in a real headless Chromium with the network blocked: its numbers against
eval, step and explain; backprop replayed edge by edge; training; the controls' robustness; the
keyboard; phone and desktop sizes (screenshots saved: AUTODIFF_SCREENSHOTS=DIR, docs/ holds the
README's).  Locally a missing browser, Playwright or Graphviz skips these tests; with CI=true
they fail."""
import json
import os
from pathlib import Path

import pytest

from autodiff_cli import ops
from autodiff_cli.engine import Value
from autodiff_cli.explaining import chain_rule_lines, gradients_after, legend_lines
from autodiff_cli.page import annotate, live, live_page
from autodiff_cli.parsing import evaluate, parse
from autodiff_cli.program import Program
from autodiff_cli.numbers import format_number
from conftest import interior, LECTURE, LECTURE_SET, NEURON, have_dot, mlp_program, require_in_ci

DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture
def open_page(browser, run, tmp_path):
    """Write the page with `autodiff graph ... -o page.html` and open it from disk, offline."""
    require_in_ci(have_dot(), "Graphviz's dot")
    opened = []

    def open_(*args, viewport=DESKTOP, name="page.html"):
        path = tmp_path / name
        result = run("graph", *args, "-o", path)
        assert result.exit_code == 0, result.stderr
        context = browser.new_context(offline=True, viewport=viewport)
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
    return dict(zip(map(int, cells.evaluate_all("els => els.map(e => e.dataset.node)")),
                    cells.evaluate_all("els => els.map(e => e.textContent)")))


def screenshot(page, name):
    directory = os.environ.get("AUTODIFF_SCREENSHOTS")
    target = Path(directory) if directory else Path(__file__).resolve().parent / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name))


def expected(run, *args):
    result = run("eval", *args, "--json")
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_moving_a_from_2_to_3_updates_every_value_and_gradient_as_eval_does(open_page, run):
    page = open_page(LECTURE, *LECTURE_SET)
    assert page.text_content("[data-output]") == "-8.0000"
    move(page, "a", 3)
    document = expected(run, LECTURE, "--set", "a=3", *LECTURE_SET[2:])
    assert page.text_content("[data-output]") == format_number(document["value"])
    data, grad = shown(page, "data"), shown(page, "grad")
    assert len(grad) == len(document["nodes"]) == 7
    for node in document["nodes"]:
        assert data[node["id"]] == format_number(node["data"])
        assert grad[node["id"]] == format_number(node["grad"])
    assert page.input_value('[data-input-box="a"]') == "3.0"
    screenshot(page, "live-page.png")


def test_the_heading_is_the_outputs_name_as_eval_says_it(open_page):
    page = open_page("a = 2; b = 3; L = a*b")
    assert page.text_content("h1") == "L = 6.0000"


def test_step_does_what_autodiff_step_does(open_page, run):
    page = open_page(NEURON)
    page.fill("#lr", "0.1")
    page.click('[data-action="step"]')
    stepped = json.loads(run("step", NEURON, "--lr", "0.1", "--json").stdout)
    for name, values in stepped["inputs"].items():
        assert float(page.input_value(f'[data-input-box="{name}"]')) == pytest.approx(values["end"], rel=1e-12)
        assert shown(page, "grad")[values_id(page, name)] == format_number(values["end_grad"])
    assert page.text_content("[data-output]") == format_number(stepped["value"])
    page.check("#minimize")
    page.check('[data-freeze="x1"]')
    page.click('[data-action="step"]')
    assert float(page.input_value('[data-input-box="x1"]')) == stepped["inputs"]["x1"]["end"]
    assert float(page.input_value('[data-input-box="w1"]')) == pytest.approx(
        stepped["inputs"]["w1"]["end"] - 0.1 * stepped["inputs"]["w1"]["end_grad"], rel=1e-12)


def values_id(page, name):
    return page.evaluate(f"() => MODEL.inputs[{json.dumps(name)}]")


def test_run_for_n_steps_is_autodiff_step_with_n_steps(open_page, run):
    page = open_page(NEURON)
    page.fill("#lr", "0.05")
    page.check("#minimize")
    page.fill("#steps", "40")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    stepped = json.loads(run("step", NEURON, "--lr", "0.05", "--minimize", "--steps", "40", "--json").stdout)
    for name, values in stepped["inputs"].items():
        assert float(page.input_value(f'[data-input-box="{name}"]')) == pytest.approx(values["end"], rel=1e-9)
    assert page.text_content("[data-loss]") == format_number(stepped["value"])
    assert page.text_content("#loss-step") == "40"
    assert page.evaluate("() => document.getElementById('loss-line').getAttribute('points').split(' ').length") == 41
    page.click('[data-action="reset"]')
    assert page.input_value('[data-input-box="w1"]') == "-3.0" and page.text_content("#loss-step") == "0"


def test_a_domain_error_shows_a_message_on_the_node_and_keeps_the_last_good_values(open_page, run):
    page = open_page("y = log(x) * 2", "--set", "x=1")
    before = shown(page, "data")
    top = page.locator('[data-input="x"]').bounding_box()["y"]
    move(page, "x", -1)
    refusal = run("eval", "y = log(x) * 2", "--set", "x=-1")
    assert refusal.exit_code == 2
    message = page.text_content("#message")
    assert message == "error: line 1, column 5: log (x = -1.0): log needs a positive number (showing the last good values)"
    assert message.removeprefix("error: ").split(" (showing")[0] in refusal.stderr
    assert page.locator("g.failed").count() == 1
    assert shown(page, "data") == before and page.input_value('[data-input-box="x"]') == "1.0"
    assert page.locator('[data-input="x"]').bounding_box()["y"] == top      # the message does not move them
    assert "NaN" not in page.inner_text("body") and "Infinity" not in page.inner_text("body")
    screenshot(page, "live-page-domain-error.png")
    move(page, "x", 2)
    assert page.text_content("#message") == "" and page.locator("g.failed").count() == 0


@pytest.mark.parametrize("typed", ["-", "", "1e", "abc", "nan", "inf", "1e999"])
def test_a_half_typed_or_non_finite_box_never_reaches_the_computation(open_page, typed):
    page = open_page(LECTURE, *LECTURE_SET)
    page.fill('[data-input-box="a"]', typed)
    assert page.get_attribute('[data-input-box="a"]', "aria-invalid") == "true"
    assert "is not a finite number" in page.text_content("#message")
    assert page.text_content("[data-output]") == "-8.0000" and shown(page, "data")[0] == "2.0000"
    page.fill("#lr", typed)
    page.click('[data-action="step"]')
    assert page.text_content("[data-output]") == "-8.0000"
    page.fill('[data-input-box="a"]', "3")
    assert page.get_attribute('[data-input-box="a"]', "aria-invalid") is None
    assert page.text_content("[data-output]") == "-2.0000"


def test_from_above_to_is_refused_and_the_slider_never_contradicts_the_value(open_page):
    page = open_page(LECTURE, *LECTURE_SET)
    box = page.locator('[data-range="a"][data-end="min"]')
    box.fill("9")
    box.dispatch_event("change")
    assert '"from" must be below "to"' in page.text_content("#message")
    assert page.get_attribute('[data-input="a"]', "min") == "-2.0" and box.input_value() == "-2.0"
    low = page.locator('[data-range="a"][data-end="max"]')
    low.fill("1")
    low.dispatch_event("change")
    assert float(page.input_value('[data-input="a"]')) == float(page.input_value('[data-input-box="a"]')) == 1


def test_clicking_a_value_shows_its_chain_rule_as_explain_writes_it_and_its_path(open_page, run):
    page = open_page(LECTURE, *LECTURE_SET)
    page.click('[data-group="v0"]')
    explained = run("explain", LECTURE, *LECTURE_SET).stdout.splitlines()
    lines = page.text_content("#chain").splitlines()
    assert lines[:-1] == [line for line in explained if line.startswith(("#", "t1 =", "t2 =", "out ="))]
    assert lines[-1] == next(line for line in explained if line.startswith("dout/da ="))
    assert "(" not in lines[-1] or lines[-1].count("(") == lines[-1].count(")")
    on_path = sorted(page.locator("g.node.onpath").evaluate_all("els => els.map(e => e.dataset.group)"))
    assert on_path == sorted(["v0", "op4", "v4", "op5", "v5", "op6", "v6"])


def test_the_whole_record_box_is_the_click_target(open_page):
    page = open_page("t = tanh(x*w + b)", "-s", "x=0.5", "-s", "w=2", "-s", "b=0.1")
    box = page.locator('[data-group="v4"] polygon').first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)     # far from any text
    assert page.text_content("#chain").strip() != ""


def test_backprop_edge_by_edge_is_explains_order_with_its_gradients(open_page, run):
    text = "a = 3; b = -2; c = a*b + a; L = tanh(c)*a"
    page = open_page(text)
    explained = run("explain", text).stdout.splitlines()
    chain = [line for line in explained if line.startswith("dL/")]
    program = parse(text).run()
    edges = sum(1 for line in chain if " * d" in line)
    for k in range(edges + 1):
        page.click('[data-action="backward-next"]' if k else '[data-action="backward-start"]')
        lines = json.loads(page.get_attribute("#step-line", "data-lines"))
        assert lines == chain[:len(lines)] and sum(1 for line in lines if " * d" in line) == k
        grads = gradients_after(program, k)
        assert shown(page, "grad") == {i: "" if g is False else format_number(g) for i, g in enumerate(grads)}
    assert shown(page, "grad") == {node.index: format_number(node.grad) for node in program.nodes}
    page.click('[data-action="backward-prev"]')
    assert sum(1 for line in json.loads(page.get_attribute("#step-line", "data-lines")) if " * d" in line) == edges - 1
    page.click('[data-action="backward-start"]')
    assert set(shown(page, "grad").values()) == {"", "1.0000"}
    page.click('[data-action="backward-play"]')
    page.wait_for_function(f"() => document.getElementById('step-line').textContent.startsWith('edge {edges} ')")
    page.click('[data-action="backward-end"]')
    assert shown(page, "grad") == {node.index: format_number(node.grad) for node in program.nodes}


def test_graph_upto_draws_the_gradients_after_k_steps(run):
    result = run("graph", LECTURE, *LECTURE_SET, "--upto", "2")
    assert result.exit_code == 0
    assert "{ a | data 2.0000 | grad  }" in result.stdout and "{ a*b+c | data 4.0000 | grad -2.0000 }" in result.stdout
    assert "{ f | data -2.0000 | grad 4.0000 }" in result.stdout


def test_keyboard_alone_reaches_a_value_and_explains_it(open_page):
    page = open_page(LECTURE, *LECTURE_SET)
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.group === 'v4'"):
            break
    else:
        pytest.fail("Tab never reached the node a*b")
    page.keyboard.press("Enter")
    assert page.text_content("#chain").splitlines()[-1].startswith("dout/dt1 = dout/dt2 * dt2/dt1 = ")


def test_every_control_has_an_accessible_name_and_live_regions_speak(open_page):
    page = open_page(mlp_program(), viewport=PHONE)
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, button, select, [tabindex]')].filter(el =>
        !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim())).map(el => el.outerHTML)""")
    assert unnamed == []
    assert page.get_attribute("#message", "aria-live") and page.get_attribute("[data-output]", "aria-live")


@pytest.mark.parametrize("viewport, size", [(DESKTOP, "1280x800"), (PHONE, "390x844")])
def test_the_lecture_and_the_mlp_fit_desktop_and_phone(open_page, viewport, size):
    for name, args in (("lecture", [LECTURE, *LECTURE_SET]), ("mlp", [mlp_program()])):
        page = open_page(*args, viewport=viewport, name=f"{name}.html")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        graph = page.locator("#viewport").bounding_box()
        assert graph["width"] >= viewport["width"] * 0.6 and graph["height"] >= 300
        screenshot(page, f"{name}-{size}.png")


def test_the_mlp_groups_its_inputs_and_the_filter_finds_one(open_page):
    page = open_page(mlp_program())
    groups = page.locator("details.group summary").all_text_contents()
    assert groups == ["w0_* (12)", "b0_* (4)", "w1_* (16)", "b1_* (4)", "w2_* (4)"]
    page.fill("#filter", "w1_3_2")
    visible = page.locator("#inputs .input:not([hidden])").evaluate_all("els => els.map(e => e.dataset.row)")
    assert visible == ["w1_3_2"] and page.is_visible('[data-input="w1_3_2"]')


def test_zoom_and_pan_change_the_view_and_fit_brings_it_back(open_page):
    page = open_page(mlp_program())
    home = page.get_attribute("#viewport svg", "viewBox")
    page.hover("#viewport")
    page.mouse.wheel(0, -400)
    zoomed = page.get_attribute("#viewport svg", "viewBox")
    assert float(zoomed.split()[2]) < float(home.split()[2])
    page.focus("#viewport")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#viewport svg", "viewBox").split()[0] != zoomed.split()[0]
    page.click('[data-action="fit"]')
    assert page.get_attribute("#viewport svg", "viewBox") == home


def test_every_op_runs_in_the_page_as_in_eval(open_page, run):
    """A program using every op of the registry, written from the table's templates, each inside its
    domain as x and y move."""
    terms = [op.applied_to({"x": f"({interior(op)['x']} + (x - 1)/10)", "y": f"({interior(op)['y']} + (y + 0.4)/10)"})
             for op in ops.all_ops()]
    text = "\n".join(f"t{i} = {term}" for i, term in enumerate(terms)) + "\nout = " + " + ".join(
        f"t{i}" for i in range(len(terms)))
    page = open_page(text, "--set", "x=0.7", "--set", "y=-0.4", "--precision", "10")
    move(page, "x", 1.3)
    document = expected(run, text, "--set", "x=1.3", "--set", "y=-0.4")
    state = page.evaluate("() => ({data: window.autodiffState.data, grad: window.autodiffState.grad})")
    for node in document["nodes"]:         # (a page this large repaints only what is in view: the state has all)
        assert format_number(state["data"][node["id"]], 10) == format_number(node["data"], 10), node
        assert format_number(state["grad"][node["id"]], 10) == format_number(node["grad"], 10), node


def test_a_slider_on_300_nodes_repaints_quickly(open_page):
    """The page times itself (window.autodiffLastUpdateMs, and to the painted frame here); the
    figures are bench/page.py's; this only guards against a blow-up."""
    text = "s0 = (0.5)\n" + "\n".join(f"s{i + 1} = tanh(s{i} * w{i} + 0.1)" for i in range(60))     # 301 nodes
    page = open_page(text, *[arg for i in range(60) for arg in ("--set", f"w{i}=0.5")])
    painted = page.evaluate("""() => new Promise((done) => {
        const slider = document.querySelector('[data-input="w0"]');
        const started = performance.now();
        slider.value = '0.7';
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - started)));
    })""")
    assert shown(page, "grad")[0] != "0.0000"
    assert painted < 2000


def test_the_page_is_self_contained():
    program = evaluate(LECTURE, a=2, b=-3, c=10, f=-2)
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    page = live_page(program)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    assert page.count('data-input="') == 4 and page.count('data-field="grad"') == 7


def test_two_values_labelled_alike_get_a_control_each():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    x, other = Value(2.0, label="x"), Value(3.0, label="x")
    page = live(x * other).page
    assert 'data-input="x"' in page and 'data-input="x_1"' in page
    assert set(Program.from_value(x * other).inputs) == {"x", "x_1"}


def test_the_legend_of_short_names_is_in_the_page():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    program = evaluate("tanh(x*w + b)", x=1, w=2, b=0.5)
    model = json.loads(live_page(program).split("const MODEL = ")[1].split(";\n")[0])
    assert model["legend"] == legend_lines(program) and model["outputName"] == "tanh(x*w + b)"
    assert [line for line in chain_rule_lines(program)][0] == "dout/dout = 1"


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


def test_a_large_graph_keeps_the_values_in_view_up_to_date(open_page):
    """Past 300 nodes the page repaints only readable values in view; zooming in brings the rest
    up to date, and window.autodiffState holds every number all along."""
    page = open_page(mlp_program())
    page.locator('[data-input="w0_0_0"]').evaluate("el => { el.value = '0.3'; el.dispatchEvent(new Event('input')); }")
    program = parse(mlp_program())
    program.set({"w0_0_0": 0.3})
    program.run()
    state = page.evaluate("() => window.autodiffState.data")
    assert state == pytest.approx([node.data for node in program.nodes], rel=1e-12)
    page.hover("#viewport")
    for _ in range(3):
        page.mouse.wheel(0, -300)
    checked = page.evaluate("""() => {
        const view = document.getElementById('viewport').getBoundingClientRect();
        return [...document.querySelectorAll('[data-field]')].filter((el) => {
            const r = el.getBoundingClientRect();
            return r.right > view.left && r.left < view.right && r.bottom > view.top && r.top < view.bottom;
        }).map((el) => [Number(el.dataset.node), el.dataset.field, el.textContent]);
    }""")
    assert len(checked) > 20
    for node, field, text in checked:
        assert text == format_number(getattr(program.nodes[node], field)), (node, field)
