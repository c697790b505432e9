"""End to end in a real headless Chromium (Debian's /usr/bin/chromium) against `streamlit run app.py`.

One app server per module, on a free port with its own SQLite file; a fresh
browser context (a fresh Streamlit session) per test. Screenshots of the pages
go to ``screenshots/`` (git-ignored); the Check-design latency is printed and
written to ``screenshots/e2e_timings.json``.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port, need, stop, wait_healthy

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "screenshots"
CANVAS = 'iframe[title="streamlit_flow.streamlit_flow"]'
VIEWPORT = {"width": 1400, "height": 1800}
TIMEOUT_MS = 20_000


# ---------------------------------------------------------------------------
# server and browser
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need(Path(CHROMIUM).exists(), f"Debian chromium not installed ({CHROMIUM})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "the playwright Python package is not installed")
    tmp = tmp_path_factory.mktemp("e2e")
    port = free_port()
    env = {**os.environ, "SIMULATOR_DATABASE_URL": f"sqlite:///{tmp}/attempts.sqlite"}
    log = open(tmp / "streamlit.log", "wb")  # noqa: SIM115  (the server writes to it until the test stops it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, f"{url}/_stcore/health", tmp / "streamlit.log", what="streamlit")
        yield url
    finally:
        stop(proc)
        log.close()
        text = (tmp / "streamlit.log").read_text(errors="replace")
        if "Traceback" in text:
            print("streamlit log:\n" + text[-5000:])


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT, base_url=server)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.page_errors = errors
    yield pg
    context.close()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def expect(locator):
    """Playwright's expect with the suite's patience: a loaded machine may take seconds to draw a page."""
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=TIMEOUT_MS)
    return _expect(locator)


def no_exception(page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def settle(page) -> None:
    """Wait until the last script run's elements are drawn (nothing left stale)."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")


def open_home(page) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Start")).to_have_count(5)


def start_scenario(page, sid: str) -> None:
    open_home(page)
    page.locator(f".st-key-start-{sid} button").click()
    page.get_by_role("button", name="Start the clock").click()
    page.get_by_text("Add a component").wait_for()
    expect(page.get_by_role("button", name="Start the clock")).to_have_count(0)
    page.frame_locator(CANVAS).locator(".react-flow__renderer").wait_for()
    settle(page)


def canvas(page):
    return page.frame_locator(CANVAS)


def add_component(page, kind: str, node_id: str) -> None:
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add a component")
    form.get_by_role("combobox").click()
    page.keyboard.type(kind)
    page.keyboard.press("Enter")
    form.get_by_label("Id (optional)").fill(node_id)
    form.get_by_role("button", name="Add").click()
    canvas(page).locator(f'.react-flow__node[data-id="{node_id}"]').wait_for()


def drag_connect(page, source: str, target: str) -> None:
    """Press on the source node's right handle, move onto the target's left handle, release."""
    frame = canvas(page)
    src = frame.locator(f'.react-flow__node[data-id="{source}"] .react-flow__handle.source').bounding_box()
    dst = frame.locator(f'.react-flow__node[data-id="{target}"] .react-flow__handle.target').bounding_box()
    assert src and dst, "handles not found on the canvas"
    sx, sy = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
    tx, ty = dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] / 2
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 30, sy + 20, steps=5)
    page.mouse.move(tx, ty, steps=15)
    page.mouse.up()


def drag_node(page, node_id: str, dx: float, dy: float) -> None:
    box = canvas(page).locator(f'.react-flow__node[data-id="{node_id}"]').bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + dx * i / 20, y + dy * i / 20)
    page.mouse.up()


def node_position(page, node_id: str) -> tuple[float, float]:
    """The node's place in flow coordinates (React Flow's translate), independent of zoom."""
    transform = canvas(page).locator(f'.react-flow__node[data-id="{node_id}"]').evaluate("e => e.style.transform")
    x, y = re.fullmatch(r"translate\(([-\d.]+)px, ([-\d.]+)px\)", transform).groups()
    return float(x), float(y)


def dsl_text(page):
    page.get_by_role("tab", name="Text").click()
    return page.locator(".st-key-dsl_text textarea")


def time_left(page) -> int:
    value = (page.locator('[data-testid="stMetric"]').filter(has_text="Time left")
             .locator('[data-testid="stMetricValue"]').inner_text())
    minutes, seconds = value.strip().split(":")
    return int(minutes) * 60 + int(seconds)


def overall(page) -> str:
    return (page.locator('[data-testid="stMetric"]').filter(has_text="Overall")
            .locator('[data-testid="stMetricValue"]').first.inner_text().strip())


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------
def test_home_lists_the_scenarios_and_names_the_pages_in_words(page, shots):
    open_home(page)
    titles = page.locator('[data-testid="stMain"] h4').filter(has_text=re.compile(r"^Design a"))
    expect(titles).to_have_count(5)
    expect(page.get_by_role("heading", name=re.compile("Design a conversational AI system"))).to_be_visible()
    links = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]')
    expect(links).to_have_count(4)
    words = [re.sub(r"^\w+\n+", "", t).strip() for t in links.all_inner_texts()]   # drop the icon ligature
    assert words == ["Home", "Practice", "History", "Authoring"], words
    assert all(re.fullmatch(r"[A-Z][a-z]+( [a-z]+)*", w) for w in words), words   # no file names
    no_exception(page)
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    assert not page.page_errors


def test_practice_session_canvas_check_reload_submit(page, shots):
    sid = "recommendation-system"
    start_scenario(page, sid)
    assert "/Practice?" in page.url and f"scenario={sid}" in page.url and "attempt=" in page.url

    add_component(page, "Service", "a")
    add_component(page, "Cache", "b")
    drag_connect(page, "a", "b")
    expect(canvas(page).locator(".react-flow__edge")).to_have_count(1)
    # the arrow reached Python: the text form of the design has it, and so has the Edit list
    expect(dsl_text(page)).to_have_value(re.compile(r"^a -> b$", re.M))
    page.get_by_role("tab", name="Canvas").click()
    settle(page)
    edit = page.locator('[data-testid="stSelectbox"]').filter(has_text="Edit")
    edit.get_by_role("combobox").click()
    expect(page.get_by_role("option", name="a->b")).to_be_visible()
    page.keyboard.press("Escape")
    no_exception(page)

    # a node dragged on the canvas keeps its place: saved with the design, there again after a reload
    before = node_position(page, "b")
    drag_node(page, "b", 160, 40)
    settle(page)
    moved = node_position(page, "b")
    assert moved[0] > before[0] + 50, (before, moved)

    # a click on a node selects it for the Edit form; deleting is done there (the Delete key does nothing)
    add_component(page, "Queue", "c")
    canvas(page).locator('.react-flow__node[data-id="c"]').click()
    expect(edit.get_by_role("combobox")).to_have_value("c")
    delete = page.get_by_role("button", name="Delete component")
    expect(delete).to_be_visible()
    page.keyboard.press("Backspace")
    page.wait_for_timeout(300)
    expect(canvas(page).locator('.react-flow__node[data-id="c"]')).to_have_count(1)
    delete.click()
    expect(canvas(page).locator('.react-flow__node[data-id="c"]')).to_have_count(0)
    expect(canvas(page).locator(".react-flow__node")).to_have_count(2)
    settle(page)

    page.get_by_role("button", name="Check design").click()
    settle(page)
    checks = page.locator('[data-testid="stExpander"]').filter(has_text=re.compile(r"passed\)"))
    expect(checks.first).to_be_visible()
    expect(page.get_by_text("Evidence:").first).to_be_visible()
    page.wait_for_timeout(300)   # let graphviz finish drawing before the picture
    page.screenshot(path=str(shots / "practice.png"), full_page=True)

    # reload mid-session: same attempt, same design, the clock kept counting
    url_before = page.url
    left_before = time_left(page)
    page.reload()
    canvas(page).locator('.react-flow__node[data-id="b"]').wait_for()
    expect(canvas(page).locator(".react-flow__edge")).to_have_count(1)
    left_after = time_left(page)
    assert page.url == url_before
    # the clock kept counting (a restarted clock would show more time left than before the reload)
    assert left_before - 60 <= left_after <= left_before, (left_before, left_after)
    expect(dsl_text(page)).to_have_value(re.compile(r"^a -> b$", re.M))
    page.get_by_role("tab", name="Canvas").click()
    assert node_position(page, "b") == pytest.approx(moved, abs=1)
    expect(canvas(page).locator(".react-flow__node")).to_have_count(2)

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text(re.compile(r"^Submitted · "))).to_be_visible()
    score = overall(page)
    assert re.fullmatch(r"\d+/100", score), score
    expect(page.get_by_role("tab", name="Export")).to_be_visible()
    # the interviewer's tab opens first (the rule grader's notes without an LLM); the checks are one click away
    expect(page.get_by_text("Interviewer notes")).to_be_visible()
    page.get_by_role("tab", name="Checks").click()
    expect(page.get_by_text("Follow-up questions")).to_be_visible()
    expect(page.get_by_text("Add a component")).to_have_count(0)
    settle(page)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "result.png"), full_page=True)
    no_exception(page)

    open_home(page)
    card = page.locator(f".st-key-start-{sid}").locator("xpath=..")   # the card's block
    expect(card.get_by_text(re.compile(rf"Best {score.split('/')[0]} · latest"))).to_be_visible()
    assert not page.page_errors, page.page_errors


def test_text_design_and_check_design_latency(page, shots):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished: list[float] = []   # when full runs finished successfully
    full_runs: list[str] = []    # how every full run ended (also those cut short by another rerun)
    requests: list[str] = []     # reruns the page asked for, other than the timer's own

    def on_received(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = ForwardMsg.FromString(payload)
            except Exception:
                return
            if msg.WhichOneof("type") == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    finished.append(time.perf_counter())
                if msg.script_finished != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    full_runs.append(ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished))

    def on_sent(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = BackMsg.FromString(payload)
            except Exception:
                return
            if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.is_auto_rerun \
                    and not msg.rerun_script.fragment_id:
                requests.append("rerun")

    def on_websocket(ws) -> None:
        ws.on("framereceived", on_received)
        ws.on("framesent", on_sent)

    page.on("websocket", on_websocket)
    start_scenario(page, "fraud-detection")
    area = dsl_text(page)
    area.fill("client -> api_gateway -> scorer -> redis\nscorer: service x3 autoscale\n"
              "scorer -fallback-> rules\nrules: service\n")
    area.press("Control+Enter")
    page.get_by_role("tab", name="Canvas").click()
    canvas(page).locator('.react-flow__node[data-id="rules"]').wait_for()
    expect(canvas(page).locator(".react-flow__edge")).to_have_count(4)
    settle(page)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "practice_text_design.png"), full_page=True)
    button = page.get_by_role("button", name="Check design")
    checks = page.locator('[data-testid="stExpander"]').filter(has_text=re.compile(r"passed\)"))
    expect(checks.first).to_be_visible()

    run_s, shown_s, runs_per_click, requests_per_click = [], [], [], []
    for _ in range(5):
        page.wait_for_timeout(300)
        finished.clear()
        full_runs.clear()
        requests.clear()
        t0 = time.perf_counter()
        button.evaluate("b => b.click()")   # no actionability waits: time the app, not Playwright
        while not finished:
            page.wait_for_timeout(2)          # lets Playwright deliver the websocket frames
            assert time.perf_counter() - t0 < 10, "no script run finished within 10 s of the click"
        run_s.append(finished[0] - t0)
        settle(page)
        expect(checks.first).to_be_visible()
        shown_s.append(time.perf_counter() - t0)
        page.wait_for_timeout(700)
        runs_per_click.append(list(full_runs))
        requests_per_click.append(len(requests))
    result = {
        "check_design_click_to_run_finished_s": {"median": round(statistics.median(run_s), 3),
                                                 "max": round(max(run_s), 3)},
        "check_design_click_to_checks_shown_s": {"median": round(statistics.median(shown_s), 3),
                                                 "max": round(max(shown_s), 3)},
        "samples": len(shown_s),
        "reruns_requested_per_click": requests_per_click,
        "full_runs_per_click": runs_per_click,
    }
    print("\nCheck design latency:", json.dumps(result))
    (shots / "e2e_timings.json").write_text(json.dumps(result, indent=2) + "\n")
    # one click, one rerun asked for: the canvas must not answer every rerun with its own state
    # (which costs a second full run); a timer tick may still cut a run short now and then
    assert requests_per_click == [1] * len(requests_per_click), result
    no_exception(page)
    assert not page.page_errors, page.page_errors


def test_a_label_is_shown_as_typed_and_never_fetches_anything(page, shots):
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "evil.invalid" in r.url else None)
    start_scenario(page, "model-monitoring")   # a scenario no other test here has open
    label = '<img src="http://evil.invalid/x.png"> ![i](http://evil.invalid/i.png) **not bold** a-b (c)'
    area = dsl_text(page)
    area.fill(f'api: service "{label.replace(chr(34), chr(92) + chr(34))}"\nclient -> api\n')
    area.press("Control+Enter")
    page.get_by_role("tab", name="Canvas").click()
    node = canvas(page).locator('.react-flow__node[data-id="api"]')
    node.wait_for()
    expect(node).to_contain_text(label)                 # the characters typed, not markup
    expect(canvas(page).locator(".react-flow__node img")).to_have_count(0)
    settle(page)
    assert fetched == []
    no_exception(page)
