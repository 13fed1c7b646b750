"""benchmarks/effort.py counts the person's effort from what the replay records."""

from __future__ import annotations

import sys

from conftest import ROOT, VIGNETTES

sys.path.insert(0, str(ROOT / "benchmarks"))
import effort  # noqa: E402

from voiceassist.replay import Mishearing, TextPatient, load_cases, run_case  # noqa: E402


def _case(rules):
    return next(c for c in load_cases(VIGNETTES, rules) if c.id == "calf_strain")


def test_typed_answers_take_one_prompt_a_question(rules, prompts):
    result = run_case(rules, prompts, _case(rules), TextPatient(prompts))
    e = effort.consultation(result)
    assert e["prompts"] == e["questions"] == e["answers"] == e["right_first"] == result.questions
    assert (e["extra"], e["most"], e["wrong"]) == (0, 1, 0)


def test_misheard_answers_cost_extra_prompts(rules, prompts):
    """Every first answer misheard: questions take read-backs or asks again,
    and no answer is right the first time."""
    result = run_case(rules, prompts, _case(rules), TextPatient(prompts, Mishearing(first=True)))
    e = effort.consultation(result)
    assert e["extra"] > 0 and e["prompts"] == e["questions"] + e["extra"] and 2 <= e["most"] <= 4
    assert e["right_first"] < e["answers"]
