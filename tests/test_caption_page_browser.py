"""The kiosk's caption screen in a real headless browser (Debian's chromium,
driven by playwright): it shows the question the dialogue is asking, the
emergency outcome of a replayed clot case unmistakably, and nothing of a
person after reset."""

from __future__ import annotations

import shutil

import pytest

from voiceassist.captions import CaptionBoard, CaptionServer, board_captions

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_question_then_emergency_outcome_then_reset(browser, rules, prompts, tmp_path):
    from voiceassist.bank import Bank
    from voiceassist.replay import Case, run_case_voice
    from voiceassist.speech.pocketsphinx_engine import PocketsphinxRecogniser
    from voiceassist.speech.tts import Synthesiser

    from conftest import ROOT

    board = CaptionBoard(idle_text=prompts.text("kiosk", "idle"))
    with CaptionServer(board, port=0) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url)
        body = page.locator("body")
        expect = sync_api.expect
        expect(body).to_contain_text("hello", timeout=10000)

        # The question the dialogue is asking.
        question = prompts.text("questions", "clot_signs", "ask")
        board.assistant(question, kind="question")
        expect(body).to_contain_text(question, timeout=10000)
        page.screenshot(path="/tmp/captions-question.png")

        # A replayed clot case, through the real recogniser, captioned live.
        captions = board_captions(board)
        case = Case("clot", {"leg_swelling": "yes", "long_journey": "yes", "pain_location": "calf"})
        result = run_case_voice(rules, prompts, case, Bank(ROOT / "tests" / "fixtures" / "banks" / "piper_joe"),
                                PocketsphinxRecogniser(), Synthesiser(disk_cache=False), captions=captions)
        assert result.level == "emergency"
        instruction = prompts.text("levels", "emergency")
        board.outcome(result.level, instruction, result.spoken[result.spoken.index(instruction):], True)
        expect(body).to_contain_text("EMERGENCY", timeout=10000)
        text = page.inner_text("body")
        assert instruction in text
        banner = page.get_by_text("EMERGENCY").first
        assert banner.is_visible()
        colour = banner.evaluate("e => getComputedStyle(e.closest('section, div, header') || e).backgroundColor")
        page_colour = body.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour != page_colour  # colour too, not only words (and never colour alone)
        page.screenshot(path="/tmp/captions-emergency.png")

        # The next person finds nothing of this one.
        board.reset()
        expect(body).not_to_contain_text("EMERGENCY", timeout=10000)
        text = page.inner_text("body")
        assert instruction not in text and question not in text
        page.close()
