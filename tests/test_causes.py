"""Two causes with strong support are both named, whatever their levels.

A swollen calf after a sprint is a possible clot and a strained muscle: the
outcome must say both, in the spoken summary and in replay's --json, while
the level stays the most urgent one. Checked over every pair of causes in the
rules, each given the answers that support it strongly (its heaviest
findings, up to the rules' `strong_support` points), at every place either
cause points to and both explain, through the real dialogue.
"""

import itertools

import pytest

from voiceassist.replay import Case, TextPatient, run_case
from voiceassist.triage.engine import assess, level_of
from voiceassist.triage.rules import load

RULES, PROMPTS = load()


def strong_answers(cause) -> dict[str, str]:
    """The fewest findings of the cause, heaviest first, that reach strong support."""
    weights = sorted(((w, f) for f, w in cause.points.items() if not f.startswith("pain_location=")), reverse=True)
    answers, points = {}, 0.0
    for weight, finding in weights:
        answers[finding] = "yes"
        points += weight
        if points >= RULES.strong_support:
            return answers
    raise AssertionError(f"{cause.id}: its findings never reach strong support")


def places(*causes) -> list[str]:
    """The places either cause points to, where both explain the pain
    (triage.md: a cause is not named where it does not explain the pain)."""
    found = sorted({k.split("=", 1)[1] for c in causes for k in c.points if k.startswith("pain_location=")})
    return [p for p in found or ["unknown"] if all(c.explains(p) for c in causes)]


PAIRS = [
    pytest.param(a, b, place, id=f"{a.id}+{b.id}@{place}")
    for a, b in itertools.combinations(RULES.causes.values(), 2)
    for place in places(a, b)
]


def pair_answers(a, b, place) -> dict[str, str]:
    return {**strong_answers(a), **strong_answers(b), "pain_location": place}


@pytest.mark.parametrize("a, b, place", PAIRS)
def test_the_engine_names_both(a, b, place):
    answers = pair_answers(a, b, place)
    named = assess(RULES, answers).top_ids()
    assert a.id in named and b.id in named


@pytest.mark.parametrize("a, b, place", PAIRS)
def test_a_consultation_names_both_and_keeps_the_most_urgent_level(a, b, place):
    """Through the dialogue: both causes are named, unless the answers for one
    of them make it an emergency. Then nothing is asked after the instruction
    (triage.md, "Emergencies"), and the cause the emergency is about comes
    first: the other one's answers were never asked."""
    answers = pair_answers(a, b, place)
    result = run_case(RULES, PROMPTS, Case("pair", answers), TextPatient(PROMPTS))
    # the level: the most urgent that the answers reach, never less urgent than either cause alone
    assert result.level == level_of(RULES, answers)[0]
    for alone in (strong_answers(a), strong_answers(b)):
        alone_level = level_of(RULES, {**alone, "pain_location": place})[0]
        assert RULES.levels.index(result.level) <= RULES.levels.index(alone_level)
    if result.emergency:
        deciding = [c.id for c in (a, b) if c.serious and RULES.more_urgent(
            level_of(RULES, {**strong_answers(c), "pain_location": place})[0], "urgent")]
        assert deciding and result.causes[0] in deciding + ["pulmonary_embolism", "dvt"], result.causes
        return
    # --json's outcome.causes and the spoken summary
    for cause in (a, b):
        assert cause.id in result.json()["outcome"]["causes"]
        name = PROMPTS.text("causes", cause.id)
        assert any(name in sentence for sentence in result.spoken), (cause.id, result.spoken)


def test_the_clot_comes_first_and_nothing_is_asked_after_it():
    """A clot sign with a recent strain of the calf: the clot must be ruled out
    first, and the emergency department does that (triage.md)."""
    answers = {"leg_swelling": "yes", "sudden_exercise": "yes", "bruising": "yes", "pain_location": "calf"}
    result = run_case(RULES, PROMPTS, Case("swollen_strained_calf", answers), TextPatient(PROMPTS))
    assert result.level == "emergency"
    assert result.causes[0] == "dvt"
    # The instruction as soon as the clot sign is in, and no question after it.
    assert result.instruction_after == result.questions == 5
