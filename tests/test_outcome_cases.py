"""Our own cases (tests/cases/outcome.yaml), scored against triage.md alone,
and what the person hears at the end of every case and public vignette,
through the real dialogue with the text patient.

The outcome checked here is everything said from the last answer to the offer
to repeat, as the person hears it (whatever the dialogue adds of its own).
"""

import re
from pathlib import Path

import pytest
import yaml

from voiceassist.replay import TextPatient, load_cases, run_case
from voiceassist.triage.engine import assess
from voiceassist.triage.rules import load

from conftest import VIGNETTES

RULES, PROMPTS = load()
OWN = Path(__file__).parent / "cases" / "outcome.yaml"
EXPECT = {c["id"]: c["expect"] for c in yaml.safe_load(OWN.read_text())}
OWN_CASES = load_cases(OWN, RULES)
ALL_CASES = OWN_CASES + load_cases(VIGNETTES, RULES)
MAX_SENTENCES = 14  # triage.md: from the first word after the last question to the offer to repeat


def _all_answers(case):
    """triage.md: every finding not listed is answered no."""
    answers = {f: "no" for f, spec in RULES.findings.items() if spec.kind == "yes_no"}
    return {**answers, **case.answers}


def heard_outcome(result) -> list[str]:
    """What was said after the last answer, up to the offer to repeat."""
    lines = result.transcript
    offer = lines.index(f"assistant: {PROMPTS.say('offer_repeat')}")
    last_answer = max(i for i in range(offer) if lines[i].startswith("patient: "))
    return [line.partition(": ")[2] for line in lines[last_answer + 1:offer]]


def sentences(lines):
    return [s for line in lines for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s]


@pytest.mark.parametrize("case", OWN_CASES, ids=[c.id for c in OWN_CASES])
def test_the_engine_names_what_triage_md_expects(case):
    expect = EXPECT[case.id]
    a = assess(RULES, _all_answers(case))
    assert a.level == expect["level"]
    assert set(expect.get("causes") or []) <= set(a.top_ids()), a.top_ids()
    assert not set(expect.get("not_causes") or []) & set(a.top_ids()), a.top_ids()


@pytest.mark.parametrize("case", OWN_CASES, ids=[c.id for c in OWN_CASES])
def test_a_consultation_names_what_triage_md_expects(case):
    expect = EXPECT[case.id]
    result = run_case(RULES, PROMPTS, case, TextPatient(PROMPTS))
    assert result.error is None and result.passed, (result.level, result.causes, result.transcript)
    spoken = " ".join(heard_outcome(result))
    for cause in expect.get("not_causes") or []:
        assert PROMPTS.text("causes", cause) not in spoken, (cause, spoken)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_what_the_person_hears_at_the_end(case):
    result = run_case(RULES, PROMPTS, case, TextPatient(PROMPTS))
    outcome = heard_outcome(result)
    text = " ".join(outcome)
    number = PROMPTS.data["emergency_number"]
    instruction = PROMPTS.text("levels", result.level)
    assert len(sentences(outcome)) <= MAX_SENTENCES, outcome
    assert "not a diagnosis" in text
    if result.emergency:
        # The instruction first (after at most one sentence of the dialogue's own), and last.
        assert instruction in outcome[:2] and outcome[-1] == instruction, outcome
        if result.level == "ambulance":
            assert "pharmacist" not in text.lower()
    else:
        assert re.search(rf"Call {number} at once if .*short of breath", text), outcome
        assert re.search(r"emergency department now if your leg becomes swollen, warm or red", text), outcome
    # An "I don't know" is never said back as a fact.
    for f, v in case.answers.items():
        if v == "unknown" and f != "pain_location":
            fact = PROMPTS.text("findings", f, "reason")
            assert not re.search(rf"(?<!whether ){re.escape(fact)}", text), (f, outcome)
