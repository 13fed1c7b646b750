"""The clinical review sheet (voiceassist review) and docs/clinical-review.md.

The committed sheet must be what the rules and prompts produce today: every
change to them shows up in review as text a clinician reads. Regenerate with

    voiceassist review --cases <the public vignettes> --cases tests/cases/outcome.yaml -o docs/clinical-review.md
"""

from pathlib import Path

from voiceassist.review import review
from voiceassist.triage.rules import load

from conftest import ROOT, VIGNETTES, run_cli

RULES, PROMPTS = load()
SHEET = ROOT / "docs" / "clinical-review.md"
OWN = ROOT / "tests" / "cases" / "outcome.yaml"


def _first_difference(a: str, b: str) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return f"line {n}: committed {x!r}, now {y!r}"
    return f"lengths differ: {len(a.splitlines())} and {len(b.splitlines())} lines"


def test_the_committed_sheet_is_up_to_date():
    now = review(RULES, PROMPTS, [VIGNETTES, OWN])
    committed = SHEET.read_text(encoding="utf-8")
    assert committed == now, "docs/clinical-review.md is out of date (" + _first_difference(committed, now) + \
        "): regenerate it with the command in tests/test_review.py"


def test_the_sheet_says_what_a_clinician_reviews():
    sheet = review(RULES, PROMPTS, [VIGNETTES])
    for q in RULES.questions:  # each question as spoken
        assert PROMPTS.text("questions", q.id, "ask") in sheet
    for cause in RULES.causes:  # each cause, its findings, places, level and advice
        assert f"### `{cause}`: \"{PROMPTS.text('causes', cause)}\"" in sheet
    for aid in RULES.advice:
        assert PROMPTS.text("advice", aid) in sheet
    assert "never named in an outcome less urgent than **ambulance**" in sheet
    assert "rules out naming" in sheet  # what the place does
    assert sheet.count("Outcome: **") == 20  # every public vignette's transcript
    assert "- *patient:* yes" in sheet and "- **assistant:** " + PROMPTS.say("offer_repeat") in sheet


def test_the_command_writes_the_sheet(tmp_path):
    out = tmp_path / "sheet.md"
    done = run_cli("review", "--cases", VIGNETTES, "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == review(RULES, PROMPTS, [VIGNETTES])
    printed = run_cli("review", "--emergency-number", "112")
    assert printed.returncode == 0 and "Call 112 at once if" in printed.stdout and "Transcripts" not in printed.stdout


def test_a_bad_cases_file_is_one_line(tmp_path):
    bad = tmp_path / "cases.yaml"
    bad.write_text("- id: x\n  answers: {swollen_toe: yes}\n")
    done = run_cli("review", "--cases", bad)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "unknown finding id 'swollen_toe'" in done.stderr
