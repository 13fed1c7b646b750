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


def test_an_answer_never_understood_is_counted_apart_from_a_wrong_one():
    """At the cap the dialogue takes the safe reading ("unclear"): a cost in
    prompts and urgency, but not an answer taken as something not meant."""
    from types import SimpleNamespace

    turns = [{"question": q, "findings": [q], "meant": "no", "answer": a}
             for q, a in (("swelling", "unclear"), ("trauma", "yes"), ("fever", "no"))]
    result = SimpleNamespace(prompts={("swelling", ("swelling",)): 4, ("trauma", ("trauma",)): 1,
                                      ("fever", ("fever",)): 1}, turns=turns)
    e = effort.consultation(result)
    assert (e["wrong"], e["unclear"], e["right_first"]) == (1, 1, 1)
    s = effort.summary([e])
    assert s["wrong"] == s["unclear"] == 1 / 3


def test_a_consultation_more_urgent_than_expected_is_over_triage_not_a_safety_failure(rules, prompts):
    result = run_case(rules, prompts, _case(rules), TextPatient(prompts))
    assert not result.over_triaged(rules.levels) and not result.safety_failure(rules.levels)
    result.level = rules.levels[0]  # the most urgent
    assert result.over_triaged(rules.levels) and not result.safety_failure(rules.levels)
