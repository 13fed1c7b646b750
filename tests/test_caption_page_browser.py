"""The kiosk's caption screen in a real headless browser (Debian's chromium,
driven by the playwright package; `playwright install` is not used: it
downloads a browser). The board is updated as a consultation would; the page
must follow, show an emergency unmistakably, be readable, keep working
without EventSource and across a server restart, and keep nothing of a person
after reset.

Screenshots for a person to look at: /tmp/captions-question.png,
/tmp/captions-emergency.png (and -alert, -outcome, -idle)."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from voiceassist.captions import CaptionBoard, board_captions
from voiceassist.captions_server import CaptionServer
from voiceassist.session import Caption

pytestmark = pytest.mark.slow  # a real browser

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
# Debian's package; on Ubuntu, where chromium is a snap only, whatever
# `chromium` is found (scripts/setup.sh says when there is none).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
KIOSK = {"width": 1280, "height": 800}
WAIT_MS = 10_000

IDLE = "Say “hello” to start."
QUESTION = "Is the painful leg swollen, warm or red?"
INSTRUCTION = "Go to an emergency department now. Do not wait to see if it gets better."
OUTCOME = [
    INSTRUCTION,
    "The most likely serious cause is a blood clot in a deep vein of the leg.",
    "I think so because your leg is swollen.",
    "While you wait: do not rub or massage your leg.",
    "This is not a diagnosis.",
    INSTRUCTION,
]

expect = sync_api.expect


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("no chromium on this machine, so the caption-screen browser test is skipped "
                    "(Debian: apt-get install chromium; Ubuntu: snap install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def served():
    board = CaptionBoard(idle_text=IDLE, hint="You can say repeat, help, go back, or stop at any time.")
    server = CaptionServer(board, port=0).start()
    yield board, server
    server.stop()


def open_page(browser, url, viewport=KIOSK, no_eventsource=False):
    page = browser.new_page(viewport=viewport)
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
    if no_eventsource:
        page.add_init_script("delete window.EventSource;")
    page.goto(url)
    page.outside_requests = outside
    return page


# -- colour and size, measured in the page ------------------------------------------

_JS_STYLE = """e => {
  const s = getComputedStyle(e);
  let bg = 'rgba(0, 0, 0, 0)', n = e;
  while (n && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
    bg = getComputedStyle(n).backgroundColor; n = n.parentElement;
  }
  const r = e.getBoundingClientRect();
  return {color: s.color, background: bg, size: parseFloat(s.fontSize), weight: parseInt(s.fontWeight),
          family: s.fontFamily, top: r.top, bottom: r.bottom, left: r.left, right: r.right};
}"""


def style(locator) -> dict:
    return locator.evaluate(_JS_STYLE)


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
    return r, g, b


def contrast(fg: str, bg: str) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    a, b = sorted((lum(_rgb(fg)), lum(_rgb(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def assert_readable(locator, min_px: float) -> dict:
    s = style(locator)
    assert s["size"] >= min_px, s
    assert s["weight"] >= 400, s  # no thin fonts
    assert contrast(s["color"], s["background"]) >= 7.0, s  # WCAG AAA
    assert "sans-serif" in s["family"], s
    return s


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")


# -- the consultation, as the brief describes it ------------------------------------


def test_question_then_emergency_then_reset(browser, served):
    board, server = served
    page = open_page(browser, server.url)
    body = page.locator("body")
    expect(page.get_by_text(IDLE)).to_be_visible(timeout=WAIT_MS)
    assert_readable(page.get_by_text(IDLE), 48)
    page.screenshot(path="/tmp/captions-idle.png")

    # A question: in very large print, what was heard under it.
    board.assistant("Thank you. I will ask you some questions.")
    board.assistant(QUESTION, kind="question")
    question = page.get_by_role("heading", name=QUESTION)
    expect(question).to_be_visible(timeout=WAIT_MS)
    board.heard("yes")
    expect(page.locator("#heard")).to_have_text("I heard: yes", timeout=WAIT_MS)
    q = assert_readable(question, 48)
    h = assert_readable(page.locator("#heard .heard-text"), 28)
    assert h["top"] >= q["bottom"] - 1 and h["size"] < q["size"]  # smaller, below the question
    assert page.get_by_text(QUESTION).count() == 1  # not shown twice
    assert fits_the_screen(page)
    page.screenshot(path="/tmp/captions-question.png")

    # A machine problem: a visible bar, with an icon, not only colour.
    board.status("The microphone is not working. Trying again…")
    bar = page.locator("#status")
    expect(bar).to_contain_text("The microphone is not working", timeout=WAIT_MS)
    assert_readable(bar.locator(".status-text"), 24)
    assert bar.locator("svg").count() == 1
    board.status(None)
    expect(bar).to_be_empty(timeout=WAIT_MS)
    expect(bar).to_be_hidden()

    # The emergency outcome: the word, the instruction, colour and a shape.
    board.outcome("emergency", INSTRUCTION, OUTCOME, True)
    banner = page.locator(".alert-banner")
    expect(banner).to_contain_text("EMERGENCY", timeout=WAIT_MS)
    expect(banner).to_contain_text(INSTRUCTION)
    expect(page.get_by_text("EMERGENCY", exact=True)).to_be_visible()
    expect(page.get_by_text(INSTRUCTION)).to_be_visible()
    assert banner.locator("svg path").count() == 1  # the warning triangle
    assert page.locator("#alert").get_attribute("aria-live") == "assertive"
    text_colour = style(page.locator(".outcome-list li").first)
    b = style(banner)
    assert b["background"] != text_colour["background"]  # a strong colour...
    assert style(page.locator(".alert-text"))["color"] != text_colour["color"]
    assert b["left"] <= 1 and b["right"] >= KIOSK["width"] - 1  # ...across the full width
    # The instruction is the first and the biggest thing on the screen.
    instr = assert_readable(page.locator(".alert-text"), 48)
    sizes = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => ({size: parseFloat(getComputedStyle(e).fontSize), top: e.getBoundingClientRect().top,
                    text: e.textContent.trim()}))""")
    assert max(s["size"] for s in sizes) == instr["size"]
    assert min(s["top"] for s in sizes if s["text"] != "EMERGENCY") == instr["top"]
    assert_readable(page.get_by_text("EMERGENCY", exact=True), 24)
    # The sentences, readable, each once; the instruction is not repeated in the list.
    items = page.locator(".outcome-list li")
    expect(items).to_have_text(OUTCOME[1:-1])
    assert_readable(items.first, 24)
    assert fits_the_screen(page)
    page.screenshot(path="/tmp/captions-emergency.png")

    # The next person finds nothing of this one, not even in the DOM.
    board.reset()
    expect(page.get_by_text(IDLE)).to_be_visible(timeout=WAIT_MS)
    html = page.content()
    for old in (QUESTION, INSTRUCTION, "EMERGENCY", "blood clot", "I heard"):
        assert old not in html, old
    expect(body).not_to_contain_text("yes")
    assert page.outside_requests == []  # nothing but the caption server
    page.close()


def test_the_welcome_screen_shows_the_number_and_what_is_wrong(browser, served):
    """The emergency number on the welcome screen; a dead microphone or a
    kiosk out of order takes the place of "Say hello" (nobody is invited to
    talk to a kiosk that cannot hear), the emergency number stays."""
    board, server = served
    board.welcome(IDLE, "In an emergency, call 000.")
    page = open_page(browser, server.url)
    emergency = page.locator("#idle-emergency")
    expect(emergency).to_have_text("In an emergency, call 000.", timeout=WAIT_MS)
    assert_readable(emergency, 28)
    expect(page.get_by_text(IDLE)).to_be_visible()

    board.status("The microphone is not working. Trying again.")
    title = page.locator("#idle-text")
    expect(title).to_have_text("The microphone is not working. Trying again.", timeout=WAIT_MS)
    expect(page.get_by_text(IDLE)).to_have_count(0)
    expect(page.locator(".idle-sub").first).to_be_hidden()
    expect(page.locator("#status")).to_be_hidden()  # said once, in large print
    expect(emergency).to_be_visible()

    board.status("This kiosk is out of order.", detail="config.yaml: rate: should be less than or equal to 260")
    expect(title).to_have_text("This kiosk is out of order.", timeout=WAIT_MS)
    expect(page.locator("#idle-detail")).to_have_text("config.yaml: rate: should be less than or equal to 260")
    assert fits_the_screen(page)
    page.screenshot(path="/tmp/captions-out-of-order.png")

    board.status(None)
    expect(title).to_have_text(IDLE, timeout=WAIT_MS)
    expect(page.locator("#idle-detail")).to_be_hidden()
    expect(page.locator(".idle-sub").first).to_be_visible()


def test_emergency_instruction_during_questions_and_a_normal_outcome(browser, served):
    board, server = served
    page = open_page(browser, server.url)
    expect(page.get_by_text(IDLE)).to_be_visible(timeout=WAIT_MS)
    board.status("The microphone is not working. Trying again…")
    board.assistant(INSTRUCTION, kind="instruction")
    board.assistant("Have you been on a long journey?", kind="question")
    board.heard("no")
    expect(page.locator(".alert-banner")).to_contain_text(INSTRUCTION, timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Have you been on a long journey?")).to_be_visible()
    expect(page.locator("#heard")).to_have_text("I heard: no")
    expect(page.locator("#hint")).to_contain_text("You can say repeat")
    assert fits_the_screen(page)
    page.screenshot(path="/tmp/captions-alert.png")

    board.reset()
    board.status(None)
    sentences = ["Here is what I found.", "The most likely cause is sciatica, a pressed nerve in your back.",
                 "What you can do: keep moving gently.", "See a doctor in the next few days.",
                 "If your legs become weak, go to an emergency department now.", "This is not a diagnosis."]
    board.outcome("doctor", "See a doctor in the next few days.", sentences, False)
    instruction = page.locator(".outcome-instruction")
    expect(instruction).to_have_text("See a doctor in the next few days.", timeout=WAIT_MS)
    expect(page.locator(".alert-banner")).to_have_count(0)
    expect(page.get_by_text("EMERGENCY", exact=True)).to_have_count(0)
    expect(page.locator(".outcome-list li")).to_have_text([s for s in sentences if "See a doctor" not in s])
    assert_readable(instruction, 48)
    assert_readable(page.locator(".outcome-list li").last, 24)
    assert fits_the_screen(page)
    # The offer after the outcome and its answer are captioned too.
    board.assistant("Would you like me to say that again?")
    board.heard("no")
    expect(page.locator(".followup")).to_contain_text("Would you like me to say that again?", timeout=WAIT_MS)
    expect(page.locator(".followup")).to_contain_text("I heard: no")
    page.screenshot(path="/tmp/captions-outcome.png")
    page.close()


@pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1024, "height": 768},
                                      {"width": 1080, "height": 1920}], ids=["1080p", "xga", "portrait"])
def test_readable_on_other_screens(browser, served, viewport):
    board, server = served
    page = open_page(browser, server.url, viewport=viewport)
    board.outcome("emergency", INSTRUCTION, OUTCOME, True)
    expect(page.locator(".alert-banner")).to_be_visible(timeout=WAIT_MS)
    assert_readable(page.locator(".alert-text"), 48)
    assert_readable(page.locator(".outcome-list li").last, 24)
    assert fits_the_screen(page)
    board.reset()
    board.assistant(QUESTION, kind="question")
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible(timeout=WAIT_MS)
    assert_readable(page.get_by_role("heading", name=QUESTION), 48)
    page.close()


def test_without_eventsource_the_page_polls_state(browser, served):
    board, server = served
    page = open_page(browser, server.url, no_eventsource=True)
    assert page.evaluate("typeof window.EventSource") == "undefined"
    expect(page.get_by_text(IDLE)).to_be_visible(timeout=WAIT_MS)
    board.assistant(QUESTION, kind="question")
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible(timeout=WAIT_MS)
    board.reset()
    expect(page.get_by_role("heading", name=QUESTION)).to_have_count(0, timeout=WAIT_MS)
    page.close()


def test_page_reconnects_after_the_server_restarts(browser):
    board = CaptionBoard(idle_text=IDLE)
    server = CaptionServer(board, port=0).start()
    port = server._httpd.server_address[1]
    page = open_page(browser, server.url)
    board.assistant(QUESTION, kind="question")
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible(timeout=WAIT_MS)
    server.stop()
    # The kiosk process restarts: a new board, the same port.
    time.sleep(1.5)
    board2 = CaptionBoard(idle_text=IDLE)
    server2 = CaptionServer(board2, port=port).start()
    try:
        # A new board starts at version 0: the page must still take it.
        expect(page.get_by_role("heading", name=QUESTION)).to_have_count(0, timeout=WAIT_MS)
        expect(page.get_by_text(IDLE)).to_be_visible()
        board2.assistant("Does it hurt when you walk?", kind="question")
        expect(page.get_by_role("heading", name="Does it hurt when you walk?")).to_be_visible(timeout=WAIT_MS)
    finally:
        server2.stop()
        page.close()


def test_page_hides_a_stale_consultation_when_the_server_is_gone(browser):
    board = CaptionBoard(idle_text=IDLE)
    server = CaptionServer(board, port=0).start()
    page = open_page(browser, server.url)
    board.assistant(QUESTION, kind="question")
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible(timeout=WAIT_MS)
    server.stop()
    expect(page.locator("#status")).to_contain_text("Connecting", timeout=WAIT_MS)
    page.clock.install()  # jump ahead rather than wait 30 s
    page.clock.run_for(35_000)
    expect(page.get_by_role("heading", name=QUESTION)).to_be_hidden(timeout=WAIT_MS)
    page.close()


def test_a_replayed_clot_case_captioned_live(browser, rules, prompts, recogniser, tts):
    """A real consultation's captions: a spoken clot case (piper_joe bank)
    through pocketsphinx and the session, its caption stream then played onto
    the board as the kiosk does (questions and the emergency instruction by
    kind, the rest through `board_captions`)."""
    from conftest import ROOT
    from voiceassist.bank import Bank
    from voiceassist.replay import Case, run_case_voice

    stream: list[Caption] = []
    case = Case("clot", {"leg_swelling": "yes", "long_journey": "yes", "pain_location": "calf"})
    result = run_case_voice(rules, prompts, case, Bank(ROOT / "tests" / "fixtures" / "banks" / "piper_joe"),
                            recogniser, tts, captions=stream.append)
    assert result.level == "emergency"
    instruction = prompts.text("levels", "emergency")
    said = [c.text for c in stream if c.who == "assistant"]
    at = [i for i, text in enumerate(said) if text == instruction]
    # Said as soon as the clot sign is in: the outcome follows at once (nothing
    # is asked after the instruction), and starts and ends with it.
    assert len(at) == 2, said
    start, end = at

    board = CaptionBoard(idle_text=prompts.text("kiosk", "idle"))
    captions = board_captions(board)
    with CaptionServer(board, port=0) as server:
        page = open_page(browser, server.url)
        expect(page.locator("body")).to_contain_text("hello", timeout=WAIT_MS)
        n = -1
        for caption in stream:
            who, text = caption.who, caption.text
            if who == "assistant":
                n += 1
                if n == start:  # the kiosk shows the outcome before it is spoken
                    board.outcome("emergency", instruction, said[start:end + 1], True)
                if caption.asks in ("yes_no", "choice") and n < start:  # the session knows its questions
                    board.assistant(text, kind="question")
                    expect(page.get_by_role("heading", name=text)).to_be_visible(timeout=WAIT_MS)
                    continue
            captions(caption)
        banner = page.locator(".alert-banner")
        expect(banner).to_contain_text("EMERGENCY", timeout=WAIT_MS)
        expect(banner).to_contain_text(instruction)
        expect(page.locator(".followup")).to_contain_text("Goodbye")
        assert not re.search(r"\(\d\.\d\d", page.inner_text("body"))  # no confidence figures on screen
        page.screenshot(path="/tmp/captions-emergency-replayed.png")
        assert fits_the_screen(page)
        board.reset()
        expect(page.locator("body")).not_to_contain_text("EMERGENCY", timeout=WAIT_MS)
        html = page.content()
        assert instruction not in html and not any(c.text in html for c in stream if c.who != "status")
        assert page.outside_requests == []
        page.close()
