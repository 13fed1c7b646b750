"""Every public vignette, at the engine and through the whole dialogue."""

import pytest
import yaml

from voiceassist.replay import TextPatient, load_cases, run_case
from voiceassist.triage.engine import assess
from voiceassist.triage.rules import load_rules

from conftest import VIGNETTES

CASES = yaml.safe_load(VIGNETTES.read_text())
IDS = [c["id"] for c in CASES]
REPLAY_CASES = load_cases(VIGNETTES, load_rules())


def _answers(case, rules):
    """triage.md: every finding not listed is answered no."""
    answers = {f: "no" for f, spec in rules.findings.items() if spec.kind == "yes_no"}
    for fid, value in case["answers"].items():
        answers[fid] = {True: "yes", False: "no"}.get(value, value)
    return answers


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_engine_reaches_expected_outcome(case, rules):
    a = assess(rules, _answers(case, rules))
    assert a.level == case["expect"]["level"]
    for cause in case["expect"]["causes"]:
        assert cause in a.top_ids(), (cause, a.top_ids())


@pytest.mark.parametrize("case", REPLAY_CASES, ids=IDS)
def test_dialogue_reaches_expected_outcome(case, rules, prompts):
    result = run_case(rules, prompts, case, TextPatient(prompts))
    assert result.error is None
    assert result.passed, (result.level, result.causes, result.transcript)
    if result.emergency:
        assert result.instruction_after is not None
