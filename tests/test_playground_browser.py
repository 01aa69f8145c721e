"""Playground v2 in Debian's Chromium (Playwright, headless): the address restores every
setting; each new control changes what is drawn (canvas pixels) and what is trained (the
server's settings); own points (CSV good and bad, a click); the divergence notice and reset;
export and store. Small settings keep each test within a few tens of seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepdyn.app import create_app
from deepdyn.app._load import background_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
SMALL = "points=80&resolution=16&depth=4&grid_lines=5"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt)"),
    pytest.mark.slow,  # a browser on a loaded 2-core machine: 20–60 s each
]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    with background_server(create_app(max_sessions=6, store=store)) as url:
        yield url


@pytest.fixture
def page(server_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        assert errors == []
        browser.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.playground.frame !== null && window.playground.setup",
                           timeout=30_000)  # fmt: skip


def _canvas(page, cid: str) -> str:
    return str(page.evaluate(f"document.getElementById('{cid}').toDataURL()"))


def _server(page, name: str):
    return page.evaluate(f"window.playground.setup.settings['{name}']")


def _set(page, name: str, value: str) -> None:
    """Change a setting as a user does; wait for the server's new session at step 0."""
    sel = f"[name={name}]"
    if page.eval_on_selector(sel, "e => e.tagName") == "SELECT":
        page.select_option(sel, value)
    else:
        page.fill(sel, value)
        page.dispatch_event(sel, "change")
    page.wait_for_function(
        f"(() => {{ const s = window.playground.setup.settings[{name!r}];"
        f" return String(s) === {value!r} && window.playground.frame.step === 0; }})()",
        timeout=30_000,
    )
    page.wait_for_timeout(100)  # the frame after the setup is drawn


def _steps(page, n: int = 10) -> None:
    page.click("#step")
    page.wait_for_function(f"window.playground.frame.step === {n}", timeout=30_000)


QUERY = ("dataset=gaussians&classes=3&noise=0.1&train_fraction=0.6"
         "&points=120&regularization=l2&regularization_rate=0.01&width=4&depth=5"
         "&architecture=second_order&activation=softplus&lr=0.01&resolution=16&grid_lines=5"
         "&seed=3&init=he&scale=0.7&optimizer=rmsprop&batch_size=30&horizon=3&augmentation=affine"
         "&layer=2&c=2,3,1&test=1&discrete=1&field=0")  # fmt: skip


def test_the_address_restores_every_setting_and_the_view(page, server_url):
    from urllib.parse import parse_qsl

    from deepdyn.app import Settings

    want = dict(parse_qsl(QUERY))
    _open(page, f"{server_url}/?{QUERY}")
    view_keys = {"layer", "c", "test", "discrete", "field"}
    expected = Settings(**{k: v for k, v in want.items() if k not in view_keys}).model_dump()
    for round_trip in range(2):
        got = page.evaluate("window.playground.setup.settings")
        assert got == expected, round_trip  # what the server trains
        for name, value in expected.items():  # what the form shows
            shown = page.eval_on_selector(f"[name={name}]", "e => e.value")
            assert float(shown) == value if isinstance(value, int | float) else shown == value
        assert page.eval_on_selector("#layer", "e => e.value") == "2"
        comps = [page.eval_on_selector(f"#c{k}", "e => e.value") for k in (1, 2, 3)]
        assert comps == ["1", "2", "0"]
        assert page.is_checked("#show-test") and page.is_checked("#discretize")
        assert not page.is_checked("#show-field")
        page.wait_for_function("JSON.stringify(window.playground.frame.components) === '[1,2,0]'")
        address = page.url
        assert dict(parse_qsl(address.split("?", 1)[1])) == want
        _open(page, address)  # the link opens the same setting


def test_each_new_control_changes_the_drawing_and_the_training(page, server_url):
    _open(page, f"{server_url}/?{SMALL}&dataset=gaussians")
    for name, value in [("noise", "0.3"), ("train_fraction", "0.3"), ("classes", "4")]:
        page.check("#show-test")
        before = _canvas(page, "levels")
        _set(page, name, value)
        assert _canvas(page, "levels") != before, name
    _set(page, "dataset", "spirals")
    before = _canvas(page, "levels")
    _set(page, "classes", "3")  # three arms
    assert _canvas(page, "levels") != before
    before = _canvas(page, "levels")
    _set(page, "problem", "regression")  # the data sets follow the problem
    assert _server(page, "dataset") == "step" and _canvas(page, "levels") != before
    for name, value in [("dataset", "oscillation"), ("periods", "4"), ("dataset", "surface")]:
        before = _canvas(page, "levels")
        _set(page, name, value)
        assert _canvas(page, "levels") != before, name
    # regularization only changes training: compare the pictures after ten steps each
    _steps(page)
    plain, loss = _canvas(page, "levels"), page.evaluate("window.playground.frame.train_loss")
    for name, value in [("regularization", "l1"), ("regularization_rate", "0.2")]:
        _set(page, name, value)
        _steps(page)
        assert _canvas(page, "levels") != plain, name
        assert page.evaluate("window.playground.frame.train_loss") != loss
        plain = _canvas(page, "levels")
    # the view's own controls: drawn differently, nothing retrained
    for box, cid in [("#discretize", "levels"), ("#show-test", "levels"),
                     ("#show-field", "propagation")]:  # fmt: skip
        before = _canvas(page, cid)
        page.click(box)
        assert _canvas(page, cid) != before, box
    before = [_canvas(page, c) for c in ("propagation", "view3d")]
    page.select_option("#c1", "2")
    page.select_option("#c3", "0")
    page.wait_for_function("JSON.stringify(window.playground.frame.components) === '[2,1,0]'")
    assert [_canvas(page, c) for c in ("propagation", "view3d")] != before
    before = _canvas(page, "view3d")
    box = page.locator("#view3d").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 150, steps=4)
    page.mouse.up()
    assert _canvas(page, "view3d") != before  # rotated
    units = page.evaluate("window.playground.neurons.layer")
    page.eval_on_selector("#layer", "e => { e.value = 1; e.dispatchEvent(new Event('input')); }")
    page.wait_for_function(f"window.playground.neurons.layer !== {units}")
    page.hover("#units canvas")
    assert "w = [" in page.inner_text("#unit-tip")


def test_own_points_divergence_export_and_store(page, server_url, tmp_path):
    _open(page, f"{server_url}/?{SMALL}")
    good = tmp_path / "good.csv"
    good.write_text("x,y,label\n0.1,0.2,0\n-0.5,0.4,1\n0.3,-0.2,1\n0.9,0.9,0\n-0.1,-0.7,0\n"
                    "0.5,0.5,2\n")  # fmt: skip
    before = _canvas(page, "levels")
    page.set_input_files("#csv", str(good))
    total = "window.playground.setup.y.length + window.playground.setup.yt.length"
    page.wait_for_function(f"window.playground.setup.custom && {total} === 6", timeout=30_000)
    assert page.evaluate("window.playground.setup.classes") == 3
    assert _canvas(page, "levels") != before
    bad = tmp_path / "bad.csv"
    bad.write_text("0,0,0\n1,x,1\n")
    page.set_input_files("#csv", str(bad))
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert page.inner_text("#error") == "line 2: 'x' is not a number"
    box = page.locator("#levels").bounding_box()
    page.mouse.click(box["x"] + 90, box["y"] + 90)  # one more point, class 0
    page.wait_for_function(f"{total} === 7", timeout=30_000)
    # export: the command, the Python snippet and the link
    page.click("#export")
    page.wait_for_function("window.playground.exported !== null")
    text = page.inner_text("#exported")
    assert "deepdyn run train --set data=custom" in text and "Python:" in text
    assert "not carried by the command: dataset=custom" in text
    # store a run the train entry can describe, after a few steps
    _open(page, f"{server_url}/?{SMALL}&dataset=moons")
    _steps(page)
    page.click("#store")
    page.wait_for_function("window.playground.stored !== null", timeout=30_000)
    assert page.inner_text("#exported").startswith("stored as run ")
    # divergence: the notice names the step and reset brings training back
    diverge = ("problem=regression&dataset=surface&architecture=mlp&activation=relu"
               "&optimizer=sgd&lr=10&scale=2&width=8&depth=4&points=100&resolution=8")  # fmt: skip
    _open(page, f"{server_url}/?{diverge}")
    page.click("#start")
    page.wait_for_selector("#diverged", state="visible", timeout=30_000)
    assert "not finite at step 2" in page.inner_text("#diverged")
    assert page.inner_text("#state") == "paused"
    page.click("#diverged-reset")
    page.wait_for_selector("#diverged", state="hidden", timeout=30_000)
    page.wait_for_function("window.playground.frame.step === 0")


def test_the_ftle_view_is_drawn_when_switched_on_and_explained_where_it_does_not_apply(
    page, server_url
):
    _open(page, f"{server_url}/?{SMALL}&dataset=moons")
    assert page.evaluate("window.playground.frame.ftle") is None  # off: not computed
    assert not page.is_visible("#ftle")
    page.check("#show-ftle")
    page.wait_for_function("window.playground.ftle && window.playground.ftle.available",
                           timeout=30_000)  # fmt: skip
    page.wait_for_timeout(100)
    assert page.is_visible("#ftle")
    assert "ftle=1" in page.url
    # the heat map is drawn: many distinct colours, the field's own layers and range in words
    colours = page.evaluate("""(() => {
        const c = document.getElementById('ftle'), d = c.getContext('2d')
            .getImageData(0, 0, c.width, c.height).data, seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
        return seen.size; })()""")
    assert colours > 20
    caption = page.inner_text("#ftle-caption")
    assert "FTLE λ(x) of x ↦ z_4" in caption and "32×32 grid" in caption
    layers = page.evaluate("window.playground.ftle.layers")
    assert layers == [4, 0]
    layer_view = _canvas(page, "ftle")
    page.select_option("#ftle-of", "whole")
    assert "whole network" in page.inner_text("#ftle-caption")
    assert _canvas(page, "ftle") != layer_view
    page.select_option("#ftle-of", "layer")
    page.eval_on_selector("#layer", "e => { e.value = 2; e.dispatchEvent(new Event('input')); }")
    page.wait_for_function("JSON.stringify(window.playground.ftle.layers) === '[2,0]'",
                           timeout=30_000)  # fmt: skip
    page.wait_for_timeout(100)
    assert _canvas(page, "ftle") != layer_view
    _steps(page)  # after training the field is of the trained network
    page.wait_for_function("window.playground.ftle.step === 10", timeout=30_000)
    page.uncheck("#show-ftle")
    assert not page.is_visible("#ftle")
    page.wait_for_function("window.playground.frame.ftle === null", timeout=30_000)
    # a network with one input: the view says why there is no field
    _open(page, f"{server_url}/?{SMALL}&problem=regression&dataset=oscillation&ftle=1")
    page.wait_for_function("window.playground.ftle && window.playground.ftle.available === false",
                           timeout=30_000)  # fmt: skip
    assert page.is_checked("#show-ftle") and page.is_visible("#ftle")
    assert "not available" in page.inner_text("#ftle-caption")
    assert "2 inputs" in page.inner_text("#ftle-caption")
