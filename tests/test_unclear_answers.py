"""Not understood is not "I don't know" (triage.md, "Unknown answers").

An answer the dialogue gave up on is recorded as "unclear". Whatever the person
really said, the level from their unclear answers is never less urgent than the
level their real answers would have given.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceassist.triage.engine import UNCLEAR, UNCLEAR_RULE, assess, level_of
from voiceassist.triage.rules import load_rules

RULES = load_rules()
YES_NO = [f for f, spec in RULES.findings.items() if spec.kind == "yes_no"]
PLACES = RULES.findings["pain_location"].options + ("unknown",)


def urgency(level):
    return RULES.levels.index(level)  # smaller is more urgent


@st.composite
def real_and_heard(draw):
    """What the person meant, and what the dialogue recorded: the same, with
    some answers not understood."""
    real = {f: draw(st.sampled_from(("yes", "no", "unknown"))) for f in YES_NO}
    real["pain_location"] = draw(st.sampled_from(PLACES))
    lost = draw(st.sets(st.sampled_from(YES_NO + ["pain_location"]), max_size=6))
    heard = {f: (UNCLEAR if f in lost else v) for f, v in real.items()}
    return real, heard


@settings(max_examples=400, deadline=None)
@given(real_and_heard())
def test_trouble_hearing_never_lowers_the_level(pair):
    real, heard = pair
    assert urgency(level_of(RULES, heard)[0]) <= urgency(level_of(RULES, real)[0])


def test_an_unclear_red_flag_counts_as_yes():
    assert level_of(RULES, {"leg_swelling": UNCLEAR})[0] == "emergency"
    assert level_of(RULES, {"breathless": UNCLEAR})[0] == "ambulance"


def test_an_unclear_question_that_could_raise_the_level_keeps_at_least_doctor():
    level, fired = level_of(RULES, {"walking_cramp_rest": UNCLEAR, "pain_location": "calf"})
    assert level == "doctor" and UNCLEAR_RULE in fired
    # ... and what a yes would have given, when that is more urgent (a weak leg: urgent).
    assert level_of(RULES, {"leg_weak": UNCLEAR})[0] == "urgent"


def test_unclear_answers_that_could_not_change_the_level_leave_it():
    assert level_of(RULES, {"morning_stiffness": UNCLEAR, "pain_location": "heel"}) == ("self_care", ())


def test_two_unclear_risk_factors_with_calf_pain_count_together():
    """Each alone is one risk factor; said yes together they make two."""
    answers = {"pain_location": "calf", "previous_clot": UNCLEAR, "long_journey": UNCLEAR}
    assert level_of(RULES, answers)[0] == "urgent"


def test_an_unclear_place_is_read_as_the_most_urgent_place():
    answers = {"pain_location": UNCLEAR, "previous_clot": "yes", "long_journey": "yes"}
    assert level_of(RULES, answers)[0] == "urgent"  # calf pain with two risk factors


def test_the_assessment_lists_the_unclear_findings():
    assert assess(RULES, {"leg_weak": UNCLEAR, "bruising": "yes"}).unclear == ("leg_weak",)
