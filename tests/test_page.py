"""The live page, driven in a real headless Chromium with the network blocked: its numbers against
eval, step, fit and explain; backprop replayed edge by edge; training on rows as fit trains; the
boxes that never rewrite what is typed; user text that never becomes markup; the keyboard and
screen readers; large graphs; phone and desktop sizes (screenshots saved: AUTODIFF_SCREENSHOTS=DIR,
docs/ holds the README's).  Locally a missing browser, Playwright or Graphviz skips these tests;
with CI=true they fail."""
import json
import os
import re
from pathlib import Path

import pytest

from autodiff_cli import ops
from autodiff_cli.engine import Value
from autodiff_cli.explaining import chain_rule_lines, gradients_after, legend_lines
from autodiff_cli.numbers import format_number
from autodiff_cli.page import PAGE_ROWS, fill, live, live_page, script_json
from autodiff_cli.parsing import evaluate, parse
from autodiff_cli.program import Program
from conftest import LECTURE, LECTURE_ROWS, LECTURE_SET, LECTURE_TARGETS, NEURON, have_dot, interior, mlp_program, \
    require_in_ci
from test_drawing import shape

DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
NET = "net 3 4 4 1 --seed 1"


@pytest.fixture
def open_page(browser, run, tmp_path):
    """Write the page with `autodiff graph ... -o page.html` and open it from disk, offline; no
    script error and no request off the disk, ever."""
    require_in_ci(have_dot(), "Graphviz's dot")
    opened = []

    def open_(*args, viewport=DESKTOP, name="page.html", reduced_motion=None, clock=False):
        path = tmp_path / name
        result = run("graph", *args, "-o", path)
        assert result.exit_code == 0, result.stderr
        return visit(path, viewport=viewport, reduced_motion=reduced_motion, clock=clock)

    def visit(path, viewport=DESKTOP, reduced_motion=None, clock=False, ready=True):
        context = browser.new_context(offline=True, viewport=viewport, reduced_motion=reduced_motion)
        requests = []
        context.route("**/*", lambda route: (requests.append(route.request.url),
                                             route.continue_() if route.request.url.startswith("file:")
                                             else route.abort()))
        page = context.new_page()
        errors, dialogs = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        if clock:
            page.clock.install()
        page.goto(Path(path).as_uri())
        if clock:
            page.clock.run_for(100)
        if ready:
            page.wait_for_function("() => window.autodiffReady === true")
        opened.append((page, errors, requests, dialogs))
        return page

    open_.visit = visit
    yield open_
    for page, errors, requests, dialogs in opened:
        assert errors == [] and dialogs == []
        assert all(url.startswith("file:") for url in requests), requests


@pytest.fixture
def net_files(run, tmp_path):
    """net 3 4 4 1 --seed 1 and the lecture's four rows, as files."""
    net = tmp_path / "net.ad"
    net.write_text(run(*NET.split()).stdout)
    rows = tmp_path / "rows.csv"
    rows.write_text("x0,x1,x2,y\n" + "".join(f"{x[0]!r},{x[1]!r},{x[2]!r},{y!r}\n"
                                             for x, y in zip(LECTURE_ROWS, LECTURE_TARGETS)))
    return net, rows


def move(page, name, value):
    page.locator(f'[data-input="{name}"]').evaluate(
        f"el => {{ el.value = '{value}'; el.dispatchEvent(new Event('input', {{bubbles: true}})); "
        "el.dispatchEvent(new Event('change', {bubbles: true})); }")


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
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def view(page):
    return page.evaluate("() => window.autodiffView")


def settle(page):
    """Two frames: the view's drawing is done once a frame."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


# ---- the numbers

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


def test_the_heading_and_the_values_carry_their_numbers_for_screen_readers(open_page):
    from playwright.sync_api import expect

    page = open_page(LECTURE, *LECTURE_SET)
    expect(page.locator("h1")).to_have_accessible_name("(a*b+c)*f = -8.0000")
    assert page.get_attribute("[data-output]", "aria-label") is None
    expect(page.locator('[data-group="v0"]')).to_have_accessible_name("a: data 2.0000, grad 6.0000")
    move(page, "a", 3)
    expect(page.locator('[data-group="v0"]')).to_have_accessible_name("a: data 3.0000, grad 6.0000")
    expect(page.locator("h1")).to_have_accessible_name("(a*b+c)*f = -2.0000")


def test_step_does_what_autodiff_step_does(open_page, run):
    page = open_page(NEURON)
    page.fill("#lr", "0.1")
    page.click('[data-action="step"]')
    stepped = json.loads(run("step", NEURON, "--lr", "0.1", "--json").stdout)
    for name, values in stepped["inputs"].items():
        assert float(page.input_value(f'[data-input-box="{name}"]')) == values["end"]
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
    assert page.evaluate("() => window.autodiffLosses()") == stepped["trajectory"]
    for name, values in stepped["inputs"].items():
        assert float(page.input_value(f'[data-input-box="{name}"]')) == values["end"]
    assert page.text_content("[data-loss]") == format_number(stepped["value"])
    assert page.text_content("#loss-step") == "40"
    page.click('[data-action="reset"]')
    assert page.input_value('[data-input-box="w1"]') == "-3.0" and page.text_content("#loss-step") == "0"
    assert page.evaluate("() => window.autodiffLosses()") == []


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
    assert page.input_value('[data-input="x"]') == "1"                  # the thumb back at the good value
    assert page.locator('[data-input="x"]').bounding_box()["y"] == top      # the message does not move them
    assert "NaN" not in page.inner_text("body") and "Infinity" not in page.inner_text("body")
    screenshot(page, "live-page-domain-error.png")
    move(page, "x", 2)
    assert page.text_content("#message") == "" and page.locator("g.failed").count() == 0


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
    for node in document["nodes"]:         # (a page this large has only what is in view: the state has all)
        assert format_number(state["data"][node["id"]], 10) == format_number(node["data"], 10), node
        assert format_number(state["grad"][node["id"]], 10) == format_number(node["grad"], 10), node


def test_numbers_that_are_not_finite_are_never_shown(browser):
    page = browser.new_page()
    page.set_content("<script>" + (Path(__file__).resolve().parent.parent / "autodiff_cli" / "web" /
                                   "numbers.js").read_text() + "</script>")
    assert page.evaluate("() => [Infinity, -Infinity, NaN, null].map((x) => formatNumber(x, 4))") == ["-"] * 4
    assert page.evaluate("() => formatNumber(1e308, 4)") == format_number(1e308)
    page.close()


# ---- boxes that never rewrite what is typed

def type_keys(page, selector, text):
    """Key by key into an emptied box, checking after each key that the box holds what was typed."""
    box = page.locator(selector)
    box.click()
    box.press("Control+a")
    box.press("Backspace")
    for k, key in enumerate(text):
        page.keyboard.press(key)
        assert box.input_value() == text[:k + 1]


def test_typing_into_a_restricted_box_leaves_the_box_as_typed_and_the_numbers_at_the_last_good_point(open_page,
                                                                                                       run):
    """y = log(x)*w: no prefix is ever applied (parsed on Enter, on leaving the box, or after a
    pause); a refused value is shown beside the box, its text untouched, the slider's range where
    it was; the numbers always those of the last good point.  The page's clock is Playwright's, so
    no pause happens between keys however slow the machine."""
    program = "y = log(x)*w"
    page = open_page(program, "--set", "x=2", "--set", "w=3", clock=True)
    box, slider = '[data-input-box="x"]', '[data-input="x"]'

    def at(x):
        document = expected(run, program, "--set", f"x={x!r}", "--set", "w=3")
        assert page.text_content("[data-output]") == format_number(document["value"])
        assert shown(page, "data")[0] == format_number(x)
        assert shown(page, "grad")[0] == format_number(document["nodes"][0]["grad"])

    slider_range = page.evaluate(f"() => [document.querySelector('{slider}').min, document.querySelector('{slider}').max]")
    type_keys(page, box, "0.5")                 # "0" alone would be refused; it is never tried
    at(2.0)
    page.clock.run_for(2000)                    # a pause commits it
    assert page.input_value(box) == "0.5"
    at(0.5)
    type_keys(page, box, "1e308")               # never 1e30, never 1e3
    at(0.5)
    page.keyboard.press("Enter")
    assert page.input_value(box) == "1e308"
    at(1e308)
    assert page.get_attribute(slider, "max") == "1e+308"        # a value that passed widens the range
    slider_range = page.evaluate(f"() => [document.querySelector('{slider}').min, document.querySelector('{slider}').max]")
    for refused, how in (("-0", "Enter"), ("zzz", "Tab"), ("-5", "Tab")):
        type_keys(page, box, refused)
        page.keyboard.press(how) if how == "Enter" else page.locator(box).press(how)
        page.clock.run_for(2000)
        assert page.input_value(box) == refused
        assert page.get_attribute(box, "aria-invalid") == "true"
        note = page.text_content(f"#{page.get_attribute(box, 'aria-describedby')}")
        assert ("log needs a positive number" if refused != "zzz" else "is not a finite number") in note
        assert "x stays 1e+308" in note
        at(1e308)
        assert page.evaluate(f"() => [document.querySelector('{slider}').min, "
                             f"document.querySelector('{slider}').max]") == slider_range
    type_keys(page, box, "3")
    page.keyboard.press("Enter")
    assert page.get_attribute(box, "aria-invalid") is None
    at(3.0)


@pytest.mark.slow
@pytest.mark.parametrize("typed", ["-", "", "1e", "abc", "nan", "inf", "1e999", "1__0", "0x10"])
def test_a_half_typed_or_non_finite_box_never_reaches_the_computation(open_page, typed):
    page = open_page(LECTURE, *LECTURE_SET)
    page.fill('[data-input-box="a"]', typed)
    page.press('[data-input-box="a"]', "Enter")
    assert page.get_attribute('[data-input-box="a"]', "aria-invalid") == "true"
    assert page.input_value('[data-input-box="a"]') == typed
    assert page.text_content("[data-output]") == "-8.0000" and shown(page, "data")[0] == "2.0000"
    page.fill("#lr", typed)
    page.click('[data-action="step"]')
    assert page.text_content("[data-output]") == "-8.0000" and page.get_attribute("#lr", "aria-invalid") == "true"
    page.fill('[data-input-box="a"]', "3")
    page.press('[data-input-box="a"]', "Enter")
    assert page.get_attribute('[data-input-box="a"]', "aria-invalid") is None
    assert page.text_content("[data-output]") == "-2.0000"


def test_from_above_to_is_refused_beside_the_box_and_the_slider_never_contradicts_the_value(open_page):
    page = open_page(LECTURE, *LECTURE_SET)
    box = page.locator('[data-range="a"][data-end="min"]')
    box.fill("9")
    box.press("Enter")
    note = page.text_content(f"#{box.get_attribute('aria-describedby')}")
    assert '"from" must be below "to"' in note and box.input_value() == "9"
    assert page.get_attribute('[data-input="a"]', "min") == "-2"
    high = page.locator('[data-range="a"][data-end="max"]')
    high.fill("1")
    high.press("Enter")
    assert float(page.input_value('[data-input="a"]')) == float(page.input_value('[data-input-box="a"]')) == 1


@pytest.mark.parametrize("data", [False, True])
def test_the_learning_rate_is_refused_where_step_or_fit_refuses_it(open_page, run, net_files, data):
    net, rows = net_files
    args = ["-f", net, "--data", rows] if data else [NEURON]
    page = open_page(*args)
    refused = ["-0.1", "inf", "1e999", "x"] + (["0"] if data else [])
    for lr in refused:
        page.fill("#lr", lr)
        page.click('[data-action="step"]')
        assert page.get_attribute("#lr", "aria-invalid") == "true" and page.text_content("#loss-step") == "0"
        assert "lr:" in page.text_content("#lr-note")
        cli = run(*(["fit", "-f", net, "--data", rows] if data else ["step", NEURON]), "--lr", lr)
        assert cli.exit_code == 2
    page.fill("#lr", "1e308")                   # a rate both take: the step overflows, and says so
    page.click('[data-action="step"]')
    text = page.inner_text("body")
    assert "NaN" not in text and "Infinity" not in text and "I.nf" not in text
    assert "beyond the largest float" in page.text_content("#message") or "left the domain" in page.text_content(
        "#message")


# ---- training on rows, as fit trains

def test_training_the_lecture_rows_on_nets_page_gives_fits_losses_bit_for_bit(open_page, run, net_files):
    net, rows = net_files
    page = open_page("-f", net, "--data", rows)
    assert page.is_checked("#minimize") and page.is_disabled("#minimize")
    assert page.locator('[data-input="x0"]').count() == 0 and page.locator('[data-input="y"]').count() == 0
    assert not page.is_visible("#exactness")                # +, *, tanh and **: the browser's are the C library's
    page.fill("#steps", "20")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    fitted = json.loads(run("fit", "-f", net, "--data", rows, "--steps", "20", "--lr", "0.05", "--json").stdout)
    assert page.evaluate("() => window.autodiffLosses()") == fitted["loss"]
    values = page.evaluate("() => window.autodiffValues()")
    assert all(values[name] == p["value"] for name, p in fitted["parameters"].items())
    page.click('[data-action="step"]')          # the same session goes on: fit's 21st step
    more = json.loads(run("fit", "-f", net, "--data", rows, "--steps", "21", "--lr", "0.05", "--json").stdout)
    assert page.evaluate("() => window.autodiffLosses()") == more["loss"]
    screenshot(page, "net-trained-1280x800.png")


@pytest.mark.slow
@pytest.mark.parametrize("settings", [
    {"batch": "3", "seed": "7"},
    {"optimizer": "momentum", "momentum": "0.5", "reduce": "mean"},
    {"optimizer": "adam", "beta1": "0.8", "beta2": "0.99", "eps": "1e-6", "batch": "5", "seed": "123"},
])
def test_training_with_batches_and_each_optimizer_gives_fits_losses_bit_for_bit(open_page, run, tmp_path,
                                                                                 settings):
    import random

    rng = random.Random(3)
    net = tmp_path / "net.ad"
    net.write_text(run(*NET.split()).stdout)
    rows = tmp_path / "rows.csv"
    rows.write_text("x0,x1,x2,y\n" + "".join(f"{rng.uniform(-2, 2)!r},{rng.uniform(-2, 2)!r},{rng.uniform(-2, 2)!r},"
                                             f"{rng.choice([-1.0, 1.0])!r}\n" for _ in range(23)))
    page = open_page("-f", net, "--data", rows)
    page.click("#fit-settings summary")
    for name, value in settings.items():
        if name in ("optimizer", "reduce"):
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    page.fill("#lr", "0.01")
    page.fill("#steps", "12")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    options = [arg for name, value in settings.items() for arg in (f"--{name}", value)]
    fitted = json.loads(run("fit", "-f", net, "--data", rows, "--steps", "12", "--lr", "0.01", *options, "--json").stdout)
    assert page.evaluate("() => window.autodiffLosses()") == fitted["loss"]


def test_rows_that_leave_the_domain_are_left_out_as_fit_leaves_them_out(open_page, run, tmp_path):
    program = "w = 0.5; b = 0.1\nloss = (log(x*w + b) - y)**2"
    rows = tmp_path / "rows.csv"
    rows.write_text("x,y\n1,0.2\n-3,0.1\n2,0.4\n0.5,-0.3\n")
    page = open_page(program, "--data", rows)
    page.fill("#steps", "5")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    fitted = json.loads(run("fit", program, "--data", rows, "--steps", "5", "--json").stdout)
    assert page.evaluate("() => window.autodiffLosses()") == fitted["loss"]     # (log happens to agree here)
    assert page.is_visible("#exactness") and "uses log" in page.text_content("#exactness")


def test_the_page_refuses_data_it_cannot_hold_or_use(run, tmp_path, monkeypatch):
    from autodiff_cli import page as page_module

    rows = tmp_path / "rows.csv"
    rows.write_text("x,z\n1,2\n")
    result = run("graph", "w = 1; loss = (w*x)**2", "--data", rows, "-o", tmp_path / "p.html")
    assert result.exit_code == 2 and "z" in result.stderr and "--ignore-extra" in result.stderr
    assert run("graph", "w = 1; loss = (w*x)**2", "--data", rows, "-o", tmp_path / "p.svg").exit_code == 2
    rows.write_text("x\n" + "1\n" * 5)
    monkeypatch.setattr(page_module, "PAGE_ROWS", 4)
    result = run("graph", "w = 1; loss = (w*x)**2", "--data", rows, "-o", tmp_path / "p.html")
    assert result.exit_code == 2 and "more than the 4 a page holds" in result.stderr
    assert not (tmp_path / "p.html").exists()
    assert PAGE_ROWS == 10_000


def test_without_data_a_loss_opens_minimising_with_its_data_inputs_fixed(open_page, net_files):
    net, _ = net_files
    page = open_page("-f", net, "-s", "x0=2", "-s", "x1=3", "-s", "x2=-1", "-s", "y=1")
    assert page.is_checked("#minimize")
    assert [page.is_checked(f'[data-freeze="{name}"]') for name in ("x0", "x1", "x2", "y", "W0[0][0]")] == \
        [True, True, True, True, False]
    before = page.evaluate("() => window.autodiffValues()")
    page.fill("#steps", "30")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    losses = page.evaluate("() => window.autodiffLosses()")
    after = page.evaluate("() => window.autodiffValues()")
    assert losses[-1] < losses[0] and all(after[name] == before[name] for name in ("x0", "x1", "x2", "y"))
    lecture = open_page(LECTURE, *LECTURE_SET, name="lecture.html")
    assert not lecture.is_checked("#minimize") and not lecture.is_checked('[data-freeze="a"]')


def test_the_heatmap_of_a_net_of_two_inputs_is_eval_at_its_cells(open_page, run, tmp_path):
    net = tmp_path / "net2.ad"
    net.write_text(run("net", "2", "4", "1", "--seed", "3").stdout)
    rows = tmp_path / "rows.csv"
    rows.write_text("x0,x1,y\n0,0,-1\n1,1,-1\n0,1,1\n1,0,1\n0.5,0.2,1\n")
    page = open_page("-f", net, "--data", rows)
    assert page.is_visible("#heatmap-canvas")
    page.fill("#steps", "15")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    heat = page.evaluate("() => window.autodiffHeatmap()")
    values = page.evaluate("() => window.autodiffValues()")
    parameters = [arg for name, value in values.items() if name not in ("x0", "x1", "y")
                  for arg in ("--set", f"{name}={value!r}")]
    for i, j in ((0, 0), (39, 39), (5, 30), (20, 17), (33, 2)):
        x, y = heat["xs"][i], heat["ys"][j]
        document = expected(run, "-f", net, *parameters, "--set", f"x0={x!r}", "--set", f"x1={y!r}",
                            "--set", "y=1", "--output-node", "out")
        assert heat["values"][j][i] == document["value"], (i, j)
    screenshot(page, "net2-heatmap-1280x800.png")


# ---- the chain rule and backprop

def test_clicking_a_value_shows_its_chain_rule_as_explain_writes_it_and_its_path(open_page, run):
    page = open_page(LECTURE, *LECTURE_SET)
    page.click('[data-group="v0"] .box')
    explained = run("explain", LECTURE, *LECTURE_SET).stdout.splitlines()
    lines = page.text_content("#chain").splitlines()
    assert lines[:-1] == [line for line in explained if line.startswith(("#", "t1 =", "t2 =", "out ="))]
    assert lines[-1] == next(line for line in explained if line.startswith("[5] dout/da ="))
    on_path = sorted(page.locator("#graph .onpath[data-group]").evaluate_all("els => els.map(e => e.dataset.group)"))
    assert on_path == sorted(["v0", "op4", "v4", "op5", "v5", "op6", "v6"])


@pytest.mark.slow
def test_the_whole_box_is_the_click_target_and_a_drag_on_it_pans_without_selecting(open_page):
    page = open_page("t = tanh(x*w + b)", "-s", "x=0.5", "-s", "w=2", "-s", "b=0.1")
    box = page.locator('[data-group="v4"] .box').bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)     # far from any text
    assert page.text_content("#chain").strip() != ""
    page.click('[data-group="v0"] .box')
    chain = page.text_content("#chain")
    before = view(page)
    box = page.locator('[data-group="v1"] .box').bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 90, box["y"] + 60, steps=8)
    page.mouse.up()
    settle(page)
    after = view(page)
    assert (after["x"], after["y"]) != (before["x"], before["y"])
    assert page.evaluate("() => window.getSelection().toString()") == ""
    assert page.text_content("#chain") == chain                 # the drag selected nothing


def test_backprop_edge_by_edge_is_explains_order_with_its_gradients(open_page, run):
    text = "a = 3; b = -2; c = a*b + a; L = tanh(c)*a"
    page = open_page(text)
    explained = run("explain", text).stdout.splitlines()
    chain = [line for line in explained if re.match(r"(\[\d+\] )?dL/", line)]
    program = parse(text).run()
    edges = sum(1 for line in chain if " * ∂" in line)
    for k in range(edges + 1):
        page.click('[data-action="backward-next"]' if k else '[data-action="backward-start"]')
        lines = json.loads(page.get_attribute("#step-line", "data-lines"))
        assert lines == chain[:len(lines)] and sum(1 for line in lines if " * ∂" in line) == k
        grads = gradients_after(program, k)
        assert shown(page, "grad") == {i: "" if g is False else format_number(g) for i, g in enumerate(grads)}
    assert shown(page, "grad") == {node.index: format_number(node.grad) for node in program.nodes}
    page.click('[data-action="backward-prev"]')
    assert sum(1 for line in json.loads(page.get_attribute("#step-line", "data-lines")) if " * ∂" in line) == edges - 1
    page.click('[data-action="backward-start"]')
    assert set(shown(page, "grad").values()) == {"", "1.0000"}
    page.click('[data-action="backward-play"]')
    page.wait_for_function(f"() => document.getElementById('step-line').textContent.startsWith('edge {edges} ')")
    page.click('[data-action="backward-end"]')
    assert shown(page, "grad") == {node.index: format_number(node.grad) for node in program.nodes}


@pytest.mark.slow
def test_the_replayed_edge_is_thick_and_the_view_follows_it(open_page):
    page = open_page("-f", write(mlp_program(), "mlp.ad"), reduced_motion="reduce")
    for _ in range(30):
        page.click('[data-action="backward-next"]')
    settle(page)
    edge = page.locator("#graph path.edge.current")
    assert edge.count() == 1
    assert float(edge.evaluate("e => getComputedStyle(e).strokeWidth").removesuffix("px")) >= 4
    pane = page.locator("#viewport").bounding_box()
    for box in [page.locator("#graph .node.current .box").bounding_box(),
                page.locator("#graph .op.current ellipse").bounding_box()]:
        assert pane["x"] <= box["x"] and box["x"] + box["width"] <= pane["x"] + pane["width"]
        assert pane["y"] <= box["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"]


def write(text, name):
    import tempfile

    path = Path(tempfile.mkdtemp()) / name
    path.write_text(text)
    return path


def test_graph_upto_draws_the_gradients_after_k_steps_and_lights_the_edge_of_step_k(run):
    result = run("graph", LECTURE, *LECTURE_SET, "--upto", "2")
    assert result.exit_code == 0
    assert "{ a | data 2.0000 | grad  }" in result.stdout and "{ a*b+c | data 4.0000 | grad -2.0000 }" in result.stdout
    assert "{ f | data -2.0000 | grad 4.0000 }" in result.stdout
    lit = [line.strip() for line in result.stdout.splitlines() if "#c2185b" in line]
    assert lit == ['op6 [label="*" color="#c2185b" fontsize=10 height=0.3 penwidth=3 shape=ellipse width=0.3]',
                   'v3 -> op6 [color="#c2185b" penwidth=3]']          # step 2: f into the last *
    assert "#c2185b" not in run("graph", LECTURE, *LECTURE_SET, "--upto", "0").stdout


# ---- the keyboard, screen readers, motion, colour

def tab_stops(page, until, limit):
    for stop in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(until):
            return stop
    return None


def test_tab_reaches_the_first_input_within_5_stops_on_the_mlp_page(open_page):
    page = open_page("-f", write(mlp_program(), "mlp.ad"))
    stops = tab_stops(page, "() => document.activeElement.dataset.input !== undefined", 5)
    assert stops is not None and stops <= 5
    assert page.evaluate("() => document.activeElement.dataset.input") == "w0_0_0"
    page.reload()
    page.wait_for_function("() => window.autodiffReady === true")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the graph"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.group") == f"v{page.evaluate('() => MODEL.output')}"


@pytest.mark.slow
def test_the_graph_is_one_widget_arrows_move_between_values_and_bring_them_into_view(open_page):
    page = open_page("-f", write(mlp_program(), "mlp.ad"), reduced_motion="reduce")
    page.click('[data-action="output"]')
    output = page.evaluate("() => MODEL.output")
    assert page.evaluate("() => document.activeElement.dataset.group") == f"v{output}"
    assert page.locator("#graph [tabindex='0']").count() == 1          # one tab stop for the whole graph
    pane = page.locator("#viewport").bounding_box()
    visited = set()
    for key in ["ArrowLeft"] * 12 + ["ArrowUp", "ArrowDown", "ArrowDown"] + ["ArrowRight"] * 3:
        page.keyboard.press(key)
        settle(page)
        group = page.evaluate("() => document.activeElement.dataset.group")
        visited.add(group)
        box = page.locator(f'[data-group="{group}"] .box').bounding_box()
        assert pane["x"] <= box["x"] and box["x"] + box["width"] <= pane["x"] + pane["width"] + 1, group
        assert pane["y"] <= box["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"] + 1, group
    assert len(visited) > 8 and page.locator("#graph [tabindex='0']").count() == 1
    page.keyboard.press("Enter")
    assert page.text_content("#chain").strip() != ""


def test_live_regions_announce_once_per_user_action(open_page):
    page = open_page(NEURON)
    assert page.locator("[aria-live]").count() == 1
    page.evaluate("""() => { window.announced = 0;
        new MutationObserver(() => { window.announced += 1; })
            .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true}); }""")
    page.fill("#steps", "100")
    page.click('[data-action="run"]')
    page.wait_for_function("() => window.autodiffRunning === false")
    page.wait_for_timeout(50)
    assert page.evaluate("() => window.announced") == 1
    assert page.text_content("#status").startswith("100 steps: ")
    page.click('[data-action="backward-next"]')
    assert page.evaluate("() => window.announced") == 2


@pytest.mark.slow
def test_reduced_motion_moves_the_view_at_once(open_page):
    page = open_page("-f", write(mlp_program(), "mlp.ad"), reduced_motion="reduce")
    page.click('[data-action="fit"]')
    settle(page)
    before = view(page)
    page.evaluate("() => window.autodiffGraph.focusNode(0)")
    assert page.evaluate("() => window.autodiffGraph.animation") is None
    assert view(page) != before or page.evaluate("() => window.autodiffGraph.view.scale") != before["scale"]
    moving = open_page("-f", write(mlp_program(), "mlp.ad"), name="moving.html", reduced_motion="no-preference")
    moving.click('[data-action="fit"]')
    settle(moving)
    moving.evaluate("() => window.autodiffGraph.focusNode(0)")
    assert moving.evaluate("() => window.autodiffGraph.animation") is not None


def contrast(colour):
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", colour)[:3])
    lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 1.05 / (0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] + 0.05)


@pytest.mark.slow
def test_highlights_have_at_least_3_to_1_contrast(open_page):
    page = open_page(LECTURE, *LECTURE_SET)
    page.click('[data-group="v0"] .box')
    page.click('[data-action="backward-next"]')
    for selector in ("#graph .node.onpath .box", "#graph .edge.onpath", "#graph .edge.current",
                     "#graph .node.current .box"):
        colour = page.locator(selector).first.evaluate("e => getComputedStyle(e).stroke")
        assert contrast(colour) >= 3, (selector, colour)


@pytest.mark.slow
def test_every_control_has_an_accessible_name(open_page, net_files):
    net, rows = net_files
    for page in (open_page(mlp_program(), viewport=PHONE), open_page("-f", net, "--data", rows, name="net.html")):
        unnamed = page.evaluate("""() => [...document.querySelectorAll('input, button, select, [tabindex]')].filter(el =>
            !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim())).map(el => el.outerHTML)""")
        assert unnamed == []


# ---- user text is data, never markup

PAYLOADS = ["</script><script>alert(1)</script>", "<!--<script>", "<img src=x onerror=alert(2)>",
            '"><svg onload=alert(3)>', "</title><script>alert(4)</script>", "{{script}}", "{{title}}",
            "${alert(5)}", "'-alert(6)-'", "\u2028\u2029", "]]><script>alert(7)</script>", "&lt;script&gt;",
            "<style>body{display:none}</style>", "</textarea><script>alert(8)</script>", "javascript:alert(9)"]


def test_labels_from_python_go_into_the_page_as_text_and_no_script_runs(open_page, tmp_path):
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    inputs = [Value(1.0 + k, label=payload) for k, payload in enumerate(PAYLOADS)]
    total = inputs[0]
    for x in inputs[1:]:
        total = total + x
    total.label = "</script><!--<script>alert('out')"
    path = tmp_path / "x.html"
    live(total).save(str(path))
    text = path.read_text()
    script = text[text.index("<script>") + 8:text.rindex("</script>")]
    assert "</script" not in script.lower() and "<!--" not in script
    page = open_page.visit(path)
    assert page.locator("[data-input]").count() == len(PAYLOADS)
    names = page.locator("#inputs .input .name").all_text_contents()
    assert names == PAYLOADS
    assert page.text_content("h1 .name") == total.label
    page.locator("[data-input]").first.evaluate("el => { el.value = '2.5'; el.dispatchEvent(new Event('input')); }")
    assert page.text_content("[data-output]") == format_number(sum(range(1, len(PAYLOADS) + 1)) + 1.5)
    frame = live(total)._repr_html_()
    assert "<script>alert" not in frame and frame.startswith("<iframe srcdoc=")


def test_text_from_the_command_line_goes_into_the_page_as_text(open_page, tmp_path):
    rows = tmp_path / "<img src=x onerror=alert(1)>.csv"
    rows.write_text("x,y\n1,2\n2,3\n")
    program = "# </script><script>alert(1)</script> <!--\nw = 0.5\nloss = (w*x - y)**2  # <b>bold</b>"
    page = open_page(program, "--data", rows)
    assert "</script><script>alert(1)</script>" in page.text_content("#program pre")
    assert page.locator("#program b").count() == 0 and page.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>.csv" in page.text_content("#summary")


def test_the_template_is_filled_once_and_json_in_the_script_is_safe():
    assert fill("a {{x}} b {{y}}", {"x": "{{y}}", "y": "Y"}) == "a {{y}} b Y"
    text = script_json({"k": "</script><!--\u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"k": "</script><!--\u2028 & >"}


# ---- sizes: phone and desktop, 1,000 and 2,000 nodes

@pytest.mark.slow
@pytest.mark.parametrize("viewport, size", [(DESKTOP, "1280x800"), (PHONE, "390x844")])
def test_the_lecture_and_the_mlp_fit_desktop_and_phone(open_page, viewport, size):
    for name, args in (("lecture", [LECTURE, *LECTURE_SET]), ("mlp", [mlp_program()])):
        page = open_page(*args, viewport=viewport, name=f"{name}.html")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        graph = page.locator("#viewport").bounding_box()
        assert graph["width"] >= viewport["width"] * 0.6 and graph["height"] >= 300
        settle(page)
        screenshot(page, f"{name}-{size}.png")


@pytest.mark.slow
def test_a_small_graph_opens_whole(open_page):
    for viewport in (DESKTOP, PHONE):
        page = open_page(NEURON, viewport=viewport, name=f"neuron{viewport['width']}.html")
        settle(page)
        pane = page.locator("#viewport").bounding_box()
        for box in page.locator("#graph .node .box").all():
            b = box.bounding_box()
            assert pane["x"] <= b["x"] and b["x"] + b["width"] <= pane["x"] + pane["width"]


@pytest.mark.slow
def test_the_mlp_groups_its_inputs_and_the_filter_finds_one(open_page):
    page = open_page(mlp_program())
    groups = page.locator("details.group summary").all_text_contents()
    assert groups == ["w0_* (12)", "b0_* (4)", "w1_* (16)", "b1_* (4)", "w2_* (4)"]
    page.fill("#filter", "w1_3_2")
    visible = page.locator("#inputs .input:not([hidden])").evaluate_all("els => els.map(e => e.dataset.row)")
    assert visible == ["w1_3_2"] and page.is_visible('[data-input="w1_3_2"]')


@pytest.mark.slow
def test_zoom_and_pan_change_the_view_and_fit_shows_it_whole(open_page):
    page = open_page(mlp_program())
    page.click('[data-action="fit"]')
    settle(page)
    home = view(page)
    page.hover("#viewport")
    page.mouse.wheel(0, -400)
    settle(page)
    zoomed = view(page)
    assert zoomed["scale"] > home["scale"]
    page.focus('#graph [tabindex="0"]')
    page.keyboard.press("Shift+ArrowRight")
    settle(page)
    assert view(page)["x"] != zoomed["x"]
    page.click('[data-action="fit"]')
    settle(page)
    assert view(page) == home


@pytest.fixture(scope="module")
def large_pages(tmp_path_factory):
    """The 1,000- and 2,000-node pages (a heavy fan-out and a wide random shape), written once."""
    from autodiff_cli.cli import cli
    from click.testing import CliRunner

    directory = tmp_path_factory.mktemp("large")
    pages = {}
    for nodes, family in ((1000, "heavy fan-out"), (2000, "random")):
        source = directory / f"{nodes}.ad"
        source.write_text(shape(family, nodes, 1))
        result = CliRunner().invoke(cli, ["graph", "-f", str(source), "-o", str(directory / f"{nodes}.html")])
        assert result.exit_code == 0, result.stderr
        pages[nodes] = (directory / f"{nodes}.html", len(parse(source.read_text()).nodes))
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("nodes", [1000, 2000])
def test_a_large_graph_opens_readable_with_an_overview_and_paints_only_what_is_in_view(open_page, large_pages,
                                                                                       nodes):
    path, count = large_pages[nodes]
    assert abs(count - nodes) < nodes * 0.15
    for viewport, size in ((DESKTOP, "1280x800"), (PHONE, "390x844")):
        page = open_page.visit(path, viewport=viewport)
        settle(page)
        first = view(page)
        assert first["scale"] >= 1 and not first["far"]                     # 11 px text at first
        assert page.is_visible("#overview")
        on_page = page.locator("#graph [data-group]").count()
        assert 0 < on_page < 200                                            # what is in view, not the graph
        output = page.evaluate("() => MODEL.output")
        assert page.locator(f'[data-group="v{output}"]').is_visible()
        screenshot(page, f"nodes{nodes}-{size}.png")
        page.click('[data-action="fit"]')
        settle(page)
        assert view(page)["far"] and page.locator("#graph [data-group]").count() <= 1
        for _ in range(40):                                                  # zoom reaches readable text
            page.click('[data-action="zoom-in"]')
        settle(page)
        assert view(page)["scale"] >= 1.5 and page.locator("#graph [data-field]").count() > 0
        state = page.evaluate("() => window.autodiffState.data")
        for node, text in shown(page, "data").items():
            assert text == format_number(state[node])


@pytest.mark.slow
def test_resizing_keeps_the_view_and_a_page_shown_after_loading_hidden_measures_itself(open_page, large_pages,
                                                                                       tmp_path):
    path, _ = large_pages[1000]
    page = open_page.visit(path)
    page.hover("#viewport")
    page.mouse.wheel(0, 300)
    settle(page)
    before, pane = view(page), page.locator("#viewport").bounding_box()
    page.set_viewport_size({"width": 1200, "height": 700})       # a phone's URL bar, a window dragged
    settle(page)
    after, resized = view(page), page.locator("#viewport").bounding_box()
    assert after["scale"] == before["scale"] and resized != pane
    for axis, size in (("x", "width"), ("y", "height")):         # the same point in the middle
        assert after[axis] + resized[size] / after["scale"] / 2 == pytest.approx(
            before[axis] + pane[size] / before["scale"] / 2, abs=1)
    host = tmp_path / "host.html"
    host.write_text(f'<!DOCTYPE html><iframe id="f" src="{path.as_uri()}" style="display:none;width:900px;'
                    'height:600px"></iframe>')
    hosted = open_page.visit(host, ready=False)
    frame = hosted.frame_locator("#f")
    inner = hosted.frames[1]
    inner.wait_for_function("() => window.autodiffReady === true")
    assert inner.evaluate("() => window.autodiffView") is None          # hidden: nothing measured, nothing drawn
    hosted.evaluate("() => { document.getElementById('f').style.display = 'block'; }")
    inner.wait_for_function("() => window.autodiffView !== undefined && window.autodiffView !== null")
    assert inner.evaluate("() => window.autodiffView.scale") >= 1
    state = inner.evaluate("() => window.autodiffState.data")
    cells = frame.locator("[data-field='data']")
    assert cells.count() >= 2
    for node, text in zip(cells.evaluate_all("els => els.map(e => Number(e.dataset.node))"),
                          cells.all_text_contents()):
        assert text == format_number(state[node])


# ---- the file

def test_the_page_is_self_contained():
    program = evaluate(LECTURE, a=2, b=-3, c=10, f=-2)
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    page = live_page(program)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<script src" not in page and "<link" not in page and "{{" not in page.split("<script>")[0]


def test_two_values_labelled_alike_get_a_control_each():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    x, other = Value(2.0, label="x"), Value(3.0, label="x")
    page = live(x * other).page
    model = json.loads(page.split("const MODEL = ")[1].split(";\n")[0])
    assert list(model["inputs"]) == ["x", "x_1"]
    assert set(Program.from_value(x * other).inputs) == {"x", "x_1"}


def test_the_legend_of_short_names_is_in_the_page():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    program = evaluate("tanh(x*w + b)", x=1, w=2, b=0.5)
    model = json.loads(live_page(program).split("const MODEL = ")[1].split(";\n")[0])
    assert model["legend"] == legend_lines(program) and model["outputName"] == "tanh(x*w + b)"
    assert [line for line in chain_rule_lines(program)][0] == "dout/dout = 1"


def test_live_in_a_notebook_is_a_frame_holding_the_page_and_takes_data():
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    shown_page = live(evaluate("x*y", x=2, y=3))
    frame = shown_page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "const MODEL" in frame
    with_data = live(parse("w = 0.5; loss = (w*x - y)**2"), data={"x": [1.0, 2.0], "y": [0.5, 1.5]}).page
    model = json.loads(with_data.split("const MODEL = ")[1].split(";\n")[0])
    assert model["data"]["columns"] == {"x": [1.0, 2.0], "y": [0.5, 1.5]} and model["isLoss"]


def test_graph_html_is_refused_over_the_node_limit(run, tmp_path):
    result = run("graph", "x = 1\n" + " + ".join(["x"] * 30), "--max-nodes", "10", "-o", tmp_path / "p.html")
    assert result.exit_code == 2 and not (tmp_path / "p.html").exists()


def test_vector_elements_are_grouped_under_their_name(open_page, tmp_path):
    if not have_dot():
        pytest.skip("Graphviz's dot is not installed")
    inputs = [Value(0.5 * k, label=f"W1[{k // 2}][{k % 2}]") for k in range(4)] + [Value(1.0, label="b")]
    total = inputs[0]
    for x in inputs[1:]:
        total = total + x
    path = tmp_path / "w.html"
    live(total).save(str(path))
    page = open_page.visit(path)
    assert page.locator("details.group summary").all_text_contents() == ["W1[…] (4)"]
    assert page.locator("details.group [data-input]").evaluate_all("els => els.map(e => e.dataset.input)") == \
        ["W1[0][0]", "W1[0][1]", "W1[1][0]", "W1[1][1]"]
