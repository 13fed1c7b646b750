"""What the person hears: triage.md "What the assistant must say", as properties.

Over generated answer sets (hypothesis), the engine's assessment and the
outcome's sentences (assess + outcome_sentences, as the dialogue calls them)
keep every rule of "Naming causes", "Advice", "Safety net" and "Always".

The tables below are this test's own reading of triage.md and the source
articles, written out independently of rules.yaml, so that a change to the
rules data cannot quietly change what is checked. What the person hears is
checked in the sentences themselves (the cause's spoken name, the advice's
words), not in ids.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceassist.dialogue.outcome import outcome_sentences
from voiceassist.triage.engine import UNCLEAR, assess
from voiceassist.triage.rules import Prompts, load

RULES, PROMPTS = load()
LEVELS = RULES.levels
YES_NO = [f for f, spec in RULES.findings.items() if spec.kind == "yes_no"]
PLACES = list(RULES.findings["pain_location"].options)
CLOT_SIGNS = ("leg_swelling", "leg_warm", "leg_red", "hard_veins")
PE_SIGNS = ("breathless", "chest_pain", "coughing_blood", "fainted")
RISK_FACTORS = ("previous_clot", "cancer", "recent_surgery", "long_journey", "pregnant", "hormones", "leg_cast")
RED_FLAGS = [f for f, spec in RULES.findings.items() if spec.red_flag]

# triage.md, "Naming causes": never named in an outcome less urgent than this.
LEAST_LEVEL = {
    "pulmonary_embolism": "ambulance", "acute_limb_ischaemia": "ambulance", "compartment_syndrome": "ambulance",
    "cauda_equina": "emergency", "achilles_rupture": "emergency",
    "dvt": "urgent", "critical_limb_ischaemia": "urgent",
}
# triage.md, "Naming causes": the places each cause explains (others: any place).
PLACES_EXPLAINED = {
    "calf_strain": {"calf"},
    "achilles_tendinitis": {"heel", "calf"}, "achilles_rupture": {"heel", "calf"},
    "bakers_cyst": {"behind_knee", "calf"},
    "arthritis": {"behind_knee", "thigh"},
    "stress_fracture": {"calf", "heel"},
    "pad": {"calf", "thigh", "whole_leg"},
}
# The answers that can point to each cause (the sources' symptoms; triage.md's
# findings). A cause is named only when one of them counts as yes: never on a
# place or a clot risk factor alone. dvt is checked on its own (below).
POINTS_TO = {
    "pulmonary_embolism": set(PE_SIGNS),
    "acute_limb_ischaemia": {"leg_cold_pale", "leg_cannot_move"},
    "compartment_syndrome": {"tight_calf_after_injury"},
    "cauda_equina": {"saddle_numbness", "bladder_bowel", "both_legs_weak"},
    "achilles_rupture": {"heel_snap"},
    "critical_limb_ischaemia": {"rest_pain_foot"},
    "sciatica": {"from_back", "numb_tingling", "leg_weak", "worse_cough_sit"},
    "herniated_disc": {"from_back", "worse_cough_sit", "numb_tingling", "leg_weak"},
    "spinal_stenosis": {"eases_sitting", "from_back", "numb_tingling", "both_legs_weak"},
    "calf_strain": {"sudden_exercise", "bruising"},
    "achilles_tendinitis": {"morning_stiffness"},
    "bakers_cyst": {"knee_bulge"},
    "pad": {"walking_cramp_rest", "rest_pain_foot"},
    "arthritis": {"joint_stiffness"},
    "stress_fracture": {"bone_tender"},
}
CLOT_OR_STARVED = {"dvt", "pulmonary_embolism", "acute_limb_ischaemia", "critical_limb_ischaemia", "compartment_syndrome"}

# Advice, recognised by its words (triage.md, "Advice").
FORBIDDEN_WITH_CLOT = re.compile(r"\b(ice|heat|compression|bandage|massag\w*|stretch\w*|exercis\w*)\b", re.I)
HOME_CARE = re.compile(
    r"\b(ice|heat|compression|bandage|stretch\w*|raise the leg|pain relief|painkill\w*|rest the leg|keep gently active"
    r"|walking a little more|walk in short bouts|supportive|losing some|lose weight)\b", re.I)
KEEP_STILL = re.compile(r"\b(sit or lie still|keep still|lie still|stay still)\b", re.I)
KEEP_ACTIVE = re.compile(r"\b(keep (gently )?active|short walks|walking a little more|walk in short bouts|keep walking)\b", re.I)
REST = re.compile(r"\brest the leg\b", re.I)
WARM_FEET = re.compile(r"\bfeet warm\b", re.I)
ICE = re.compile(r"\bice\b", re.I)
WEIGHT = re.compile(r"\b(weight loss|losing (some )?(extra )?weight|lose weight|healthy weight)\b", re.I)
SMOKING = re.compile(r"\b(stop(ping)? smoking|if you smoke)\b", re.I)
DOSE = re.compile(r"\b\d+\s*(mg|milligrams?|tablets?|pills?|grams?|g)\b", re.I)

MAX_OUTCOME_SENTENCES = 13  # triage.md: 14 from the last question; the dialogue may add one of its own


# ------------------------------------------------------------ generators


def _urgency(group: str) -> int:
    return ("ambulance", "emergency", "urgent", "doctor", "risk", "pattern").index(group)


@st.composite
def consultations(draw):
    """answers, via and the emergency number, as the dialogue records them:
    most findings no (or not asked), a few yes, some "I don't know", now and
    then an answer not understood; a shared question's yes either followed
    up (its findings as the person meant them) or recorded as ONE finding,
    the most urgent of its findings, with `via` naming the question."""
    answers: dict[str, str] = {}
    via: dict[str, str] = {}
    yes = draw(st.sets(st.sampled_from(YES_NO), max_size=4))
    unknown = draw(st.sets(st.sampled_from(YES_NO), max_size=2))
    unclear = draw(st.sets(st.sampled_from(YES_NO), max_size=1))
    if draw(st.integers(0, 2)) == 0:  # a third of consultations: no red flag at all
        yes -= set(RED_FLAGS)
        unknown -= set(RED_FLAGS)
        unclear -= set(RED_FLAGS)
    not_asked = draw(st.sets(st.sampled_from(YES_NO), max_size=20))  # after an emergency instruction, say
    for f in YES_NO:
        value = "yes" if f in yes else "unknown" if f in unknown else UNCLEAR if f in unclear else "no"
        if value != "no" or f not in not_asked:
            answers[f] = value
    answers["pain_location"] = draw(st.sampled_from(PLACES + ["unknown", UNCLEAR]))
    shared = [q for q in RULES.questions if q.shared]
    asked_once = draw(st.sets(st.sampled_from(shared)))  # the others: followed up, finding by finding
    every = draw(st.booleans())  # a shared yes as the dialogue recorded it before: all its findings
    for q in shared:
        if q not in asked_once:
            continue
        values = {answers.get(f, "no") for f in q.findings}
        if "yes" in values:
            one = min(q.findings, key=lambda f: _urgency(RULES.findings[f].group))
            for f in q.findings:
                answers[f] = "yes" if f == one or every else "no"
                if answers[f] == "yes":
                    via[f] = q.id
        elif values & {"unknown", UNCLEAR}:
            value = "unknown" if "unknown" in values else UNCLEAR
            for f in q.findings:
                answers[f] = value
                via[f] = q.id
    number = draw(st.sampled_from(["999", "911", "112", "000", "0112"]))
    return answers, via, number


def _with_number(number: str) -> Prompts:
    return Prompts(PROMPTS.path, {**PROMPTS.data, "emergency_number": number},
                   PROMPTS.answer_phrases, PROMPTS.option_phrases, PROMPTS.command_phrases)


def hear(answers, via, number):
    prompts = _with_number(number)
    a = assess(RULES, answers)
    return a, outcome_sentences(RULES, prompts, a, answers, via), prompts


def counts(answers, f) -> bool:
    """As triage.md reads an answer: yes; an unknown or unclear red flag counts as yes."""
    v = answers.get(f)
    return v == "yes" or (v in ("unknown", UNCLEAR) and RULES.findings[f].red_flag)


def named(text: str, cause: str) -> bool:
    return PROMPTS.text("causes", cause).lower() in text.lower()


def sentences(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        out += [s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s]
    return out


def less_urgent(a: str, b: str) -> bool:
    return LEVELS.index(a) > LEVELS.index(b)


# Every check below runs on every generated consultation (test_the_outcome_contract, at the end).


# ------------------------------------------------------------ naming causes


def check_no_serious_cause_below_its_level(c):
    a, lines, _ = hear(*c)
    text = " ".join(lines)
    for cause, least in LEAST_LEVEL.items():
        if named(text, cause):
            assert not less_urgent(a.level, least), (cause, a.level, lines)


def check_no_clot_in_the_leg_without_support(c):
    answers, via, _ = c
    a, lines, _ = hear(*c)
    dvt = PROMPTS.text("causes", "dvt").lower()
    said = [s for s in lines if dvt in s.lower()]
    if not said:
        return
    if any(counts(answers, f) for f in CLOT_SIGNS + PE_SIGNS):
        return
    # Only calf pain with two or more clot risk factors, at `urgent` or
    # above, said as something to rule out today.
    assert answers.get("pain_location") == "calf", lines
    assert sum(answers.get(f) == "yes" for f in RISK_FACTORS) >= 2, lines
    assert not less_urgent(a.level, "urgent"), lines
    assert all("ruled out today" in s for s in said), said
    assert not any(re.search(r"most likely", s, re.I) for s in said), said


def check_a_cause_is_named_only_where_it_explains_the_pain_and_on_an_answer_of_its_own(c):
    answers, via, _ = c
    a, lines, _ = hear(*c)
    text = " ".join(lines)
    place = answers.get("pain_location")
    for cause, findings in POINTS_TO.items():
        if not named(text, cause):
            continue
        if place in PLACES and cause in PLACES_EXPLAINED:
            assert place in PLACES_EXPLAINED[cause], (cause, place, lines)
        assert any(counts(answers, f) for f in findings), (cause, answers, lines)


# ------------------------------------------------------------ advice


def check_no_two_advice_sentences_disagree(c):
    _, lines, _ = hear(*c)
    text = " ".join(lines)
    for one, other in ((KEEP_STILL, KEEP_ACTIVE), (REST, KEEP_ACTIVE), (WARM_FEET, ICE)):
        assert not (one.search(text) and other.search(text)), lines


def check_no_home_care_at_urgent_and_above(c):
    a, lines, _ = hear(*c)
    if not less_urgent(a.level, "urgent"):
        assert not [s for s in lines if HOME_CARE.search(s)], (a.level, lines)


def check_no_ice_heat_compression_massage_stretching_or_exercise_when_a_clot_or_starved_blood_supply_is_named(c):
    _, lines, _ = hear(*c)
    text = " ".join(lines)
    if any(named(text, cause) for cause in CLOT_OR_STARVED):
        assert not [s for s in lines if FORBIDDEN_WITH_CLOT.search(s)], lines


def check_advice_that_depends_on_something_not_asked_only_after_a_yes(c):
    answers, _, _ = c
    _, lines, _ = hear(*c)
    text = " ".join(lines)
    if WEIGHT.search(text):
        assert answers.get("overweight") == "yes", lines
    if SMOKING.search(text):
        assert answers.get("smoker_diabetic") == "yes", lines


# ------------------------------------------------------------ reasons


def check_an_unknown_or_unclear_answer_is_never_said_as_a_fact(c):
    answers, via, _ = c
    _, lines, _ = hear(*c)
    text = " ".join(lines)
    for f, v in answers.items():
        if f == "pain_location":
            if v in ("unknown", UNCLEAR):
                for option in PLACES:
                    said = PROMPTS.data.get("places_said") or PROMPTS.data["option_names"]["pain_location"]
                    assert PROMPTS.text("findings", "pain_location", "reason", place=said[option]) not in text, lines
            continue
        if v == "yes" and f not in via:
            continue
        fact = PROMPTS.text("findings", f, "reason")
        for m in re.finditer(re.escape(fact), text):
            before = text[max(0, m.start() - 40):m.start()]
            assert re.search(r"(not sure|did not know|could not understand|understand)\s+(whether|if|about)\s+$", before), (
                f, v, lines)


def check_a_shared_yes_is_said_as_what_was_asked(c):
    """One yes to "swollen, warm or red, or sore veins" is one finding: the
    other parts are not said back as true."""
    answers, via, _ = c
    _, lines, _ = hear(*c)
    text = " ".join(lines)
    for f, qid in via.items():
        if answers.get(f) != "yes":
            continue
        for other in RULES.question(qid).findings:
            if other != f:
                assert PROMPTS.text("findings", other, "reason") not in text, (qid, lines)


def check_nothing_is_said_twice(c):
    """No sentence twice (but the emergency instruction, first and last), and
    no question's answer twice in one sentence."""
    a, lines, prompts = hear(*c)
    instruction = prompts.text("levels", a.level)
    rest = [s for s in lines if s != instruction]
    assert len(rest) == len(set(rest)), lines
    for s in lines:
        for q in RULES.questions:
            topic = (PROMPTS.data.get("topics") or {}).get(q.id)
            if topic:
                assert s.count(topic) <= 1, s


# ------------------------------------------------------------ safety net, always, length


def check_the_safety_net_with_the_configured_number_on_every_outcome_that_is_not_an_emergency(c):
    a, lines, prompts = hear(*c)
    number = prompts.data["emergency_number"]
    if a.emergency:
        return
    call = [s for s in lines if re.search(rf"\bcall {re.escape(number)}\b", s, re.I)]
    assert any(re.search(r"short of breath", s) and re.search(r"chest pain", s) and re.search(r"cough", s)
               for s in call), lines
    assert any(re.search(r"emergency department", s) and re.search(r"swollen", s) and re.search(r"warm", s)
               and re.search(r"red", s) and re.search(r"cold", s) and re.search(r"pale", s) for s in lines), lines
    if a.level in ("doctor", "self_care"):
        assert any(re.search(r"\bdoctor\b", s) and re.search(r"numb", s) and re.search(r"tingl", s)
                   and re.search(r"weak", s) and re.search(r"few days", s) for s in lines), lines
    # The safety net ends the advice: nothing but "not a diagnosis" after it.
    last_net = max(i for i, s in enumerate(lines) if re.search(r"emergency department|call " + re.escape(number), s))
    assert all(re.search(r"not a diagnosis|doctor", s, re.I) for s in lines[last_net + 1:]), lines


def check_emergency_outcomes_start_and_end_with_the_instruction(c):
    a, lines, prompts = hear(*c)
    if a.emergency:
        instruction = prompts.text("levels", a.level)
        assert lines[0] == instruction and lines[-1] == instruction, lines
        assert len(sentences([instruction])) == 1, instruction


def check_never_a_pharmacist_at_ambulance_always_not_a_diagnosis_never_a_dose(c):
    a, lines, _ = hear(*c)
    text = " ".join(lines)
    if a.level == "ambulance":
        assert "pharmacist" not in text.lower(), lines
    assert "not a diagnosis" in text
    assert not DOSE.search(text), lines


def check_answers_not_understood_are_said_and_a_doctor_should_check(c):
    a, lines, _ = hear(*c)
    if a.unclear:
        assert any(re.search(r"could not understand", s) and re.search(r"doctor", s) for s in lines), lines


def check_the_outcome_is_short(c):
    _, lines, _ = hear(*c)
    assert len(sentences(lines)) <= MAX_OUTCOME_SENTENCES, (len(sentences(lines)), lines)


CHECKS = [f for name, f in sorted(globals().items()) if name.startswith("check_")]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consultations())
def test_the_outcome_contract(c):
    """Each check_* on the same generated consultations: a failure names its rule."""
    for check in CHECKS:
        check(c)


def test_every_rule_is_checked():
    assert len(CHECKS) == 15
