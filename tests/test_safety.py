"""The safety rules, over every combination of red-flag answers.

triage.md: every reported clot sign gives the emergency instruction whatever
else was said; a clot sign with breathlessness, chest pain, coughing blood or
fainting is always `ambulance`; an unknown red flag is asked again and then
counts as yes. The instruction is in the spoken outcome, first and last.
"""

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceassist.replay import Case, TextPatient, run_case
from voiceassist.triage.engine import assess
from voiceassist.triage.rules import load_rules

RULES = load_rules()
CLOT = RULES.sets["clot_signs"]
PE = RULES.sets["pe_signs"]
RED = [f for f, spec in RULES.findings.items() if spec.red_flag]
OTHER = [f for f, spec in RULES.findings.items() if not spec.red_flag and spec.kind == "yes_no"]
PLACES = RULES.findings["pain_location"].options + ("unknown",)
RED_QUESTIONS = [q for q in RULES.questions if q.red_flag]
VALUES = ("yes", "no", "unknown")


def expected_floor(answers):
    """The least urgent level the safety rules allow, from the answers the
    patient means (an unknown red flag counts as yes)."""
    present = lambda f: answers.get(f) in ("yes", "unknown")
    if any(present(f) for f in CLOT) and any(present(f) for f in PE):
        return "ambulance"
    if any(present(f) for f in RED if RULES.findings[f].group == "ambulance"):
        return "ambulance"
    if any(present(f) for f in RED):
        return "emergency"
    return None


def at_least(level, floor):
    return floor is None or RULES.levels.index(level) <= RULES.levels.index(floor)


def others(rng):
    answers = {f: rng.choice(VALUES) for f in OTHER}
    answers["pain_location"] = rng.choice(PLACES)
    return answers


def check_spoken_outcome(result, prompts):
    """The instruction opens and closes the outcome, and is said as soon as
    the deciding answer is in (at most one more question)."""
    instruction = prompts.text("levels", result.level)
    spoken = result.spoken
    start = spoken.index(instruction)  # the first time it is said
    assert instruction in spoken[start:]
    # Outcome: the last instruction is right before the repeat offer.
    offer = prompts.say("offer_repeat")
    end = spoken.index(offer)
    assert spoken[end - 1] == instruction
    # The outcome block begins with the instruction too.
    assert any(s == instruction for s in spoken[:end - 1])
    assert result.instruction_after is not None


@pytest.mark.parametrize("engine_only", [True])
def test_engine_every_clot_and_pe_combination(engine_only):
    """All 3^8 answers to the clot and PE findings, other findings drawn."""
    rng = random.Random(1)
    for values in itertools.product(VALUES, repeat=len(CLOT) + len(PE)):
        answers = others(rng)
        answers.update({f: rng.choice(VALUES) for f in RED})
        answers.update(dict(zip(CLOT + PE, values)))
        level = assess(RULES, answers).level
        assert at_least(level, expected_floor(answers)), (answers, level)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    red=st.fixed_dictionaries({f: st.sampled_from(VALUES) for f in RED}),
    other=st.fixed_dictionaries({f: st.sampled_from(VALUES) for f in OTHER}),
    place=st.sampled_from(PLACES),
)
def test_engine_any_answers(red, other, place):
    answers = {**other, **red, "pain_location": place}
    a = assess(RULES, answers)
    assert at_least(a.level, expected_floor(answers))
    if any(answers[f] in ("yes", "unknown") for f in CLOT):
        # A clot sign always names a clot among the causes said.
        assert {"dvt", "pulmonary_embolism"} & set(a.top_ids())


def test_dialogue_every_red_flag_combination(rules, prompts):
    """Every combination of yes / no / unknown to the seven red-flag questions
    (a shared question's answer is yes if any finding is yes, else unknown if
    any is unknown: the equivalence classes of all finding combinations),
    other findings drawn at random, through the whole real dialogue."""
    rng = random.Random(7)
    patient = TextPatient(prompts)
    for values in itertools.product(VALUES, repeat=len(RED_QUESTIONS)):
        answers = others(rng)
        for q, v in zip(RED_QUESTIONS, values):
            for f in q.findings:
                answers[f] = "no"
            # Put the question's answer on a random one of its findings.
            answers[rng.choice(q.findings)] = v
        result = run_case(rules, prompts, Case("combo", answers), patient)
        floor = expected_floor(answers)
        assert result.error is None
        assert at_least(result.level, floor), (answers, result.level)
        if floor is not None:
            check_spoken_outcome(result, prompts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    red=st.fixed_dictionaries({f: st.sampled_from(VALUES) for f in RED}),
    other=st.fixed_dictionaries({f: st.sampled_from(VALUES) for f in OTHER}),
    place=st.sampled_from(PLACES),
)
def test_dialogue_any_answers(red, other, place, rules, prompts):
    answers = {**other, **red, "pain_location": place}
    result = run_case(rules, prompts, Case("h", answers), TextPatient(prompts))
    floor = expected_floor(answers)
    assert at_least(result.level, floor)
    if floor is not None:
        check_spoken_outcome(result, prompts)


def test_unknown_then_no_is_no(rules, prompts):
    """The second answer to a re-asked red flag is the one that counts."""
    from voiceassist.dialogue.manager import Dialogue, Heard

    d = Dialogue(rules, prompts)
    turn = d.start()
    assert turn.listen.question == "pe_signs"
    turn = d.handle(Heard("i don't know"))
    assert turn.listen.question == "pe_signs" and turn.listen.mode == "again"
    assert prompts.text("questions", "pe_signs", "again") in turn.say
    turn = d.handle(Heard("no"))
    assert turn.listen.question != "pe_signs"
    assert d.answers["breathless"] == "no"


def test_unknown_twice_counts_as_yes(rules, prompts):
    from voiceassist.dialogue.manager import Dialogue, Heard

    d = Dialogue(rules, prompts)
    d.start()
    for _ in range(4):  # four ambulance questions
        d.handle(Heard("no"))
    turn = d.handle(Heard("not sure"))
    assert turn.listen.question == "clot_signs" and turn.listen.mode == "again"
    turn = d.handle(Heard("i don't know"))
    assert turn.instruction
    assert prompts.text("levels", "emergency") in turn.say
