"""Hearing that fails safe (issue 20): a clot sign is never lost in noise, no
question is asked forever, and trouble hearing never lowers the level.

The dialogue is driven here by scripted hearings (what a recogniser could
return), so every sequence up to the cap can be tried; the same behaviour with
the real recognisers is in test_voice.py and the benchmarks.
"""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceassist.dialogue.manager import Dialogue, Heard, DialogueSettings, Silence
from voiceassist.dialogue.policy import RED_FLAG_TABLE, Stage, Vote
from voiceassist.replay import Case, Mishearing, TextPatient, load_cases, run_case
from voiceassist.triage.engine import EMERGENCY_LEVELS, NO, UNCLEAR, YES
from voiceassist.triage.rules import load

from conftest import VIGNETTES

RULES, PROMPTS = load()
CAP = DialogueSettings().max_prompts

# What a recogniser can hand the dialogue, for each way the policy reads a red flag's answer.
QUIET, NOISY = 40.0, 10.0
HEARD = {
    Vote.YES_FIRM: Heard("yes", 0.97, QUIET),
    Vote.YES: Heard("yes", 0.8, NOISY, agreed=True),
    Vote.NO_FIRM: Heard("no", 0.97, QUIET),
    Vote.NO: Heard("no", 0.97, NOISY, agreed=True),
    Vote.UNKNOWN: Heard("i don't know", 0.9, QUIET),
    Vote.UNHEARD: Heard("banana", 0.9, QUIET),
}


def at_question(qid, dialogue=None):
    d = dialogue or Dialogue(RULES, PROMPTS)
    turn = d.start()
    while turn.listen.question != qid:
        turn = d.handle(Heard("my calf" if turn.listen.kind == "choice" else "no"))
    return d, turn


def prompts_of(turns, key):
    return sum(1 for t in turns if t.listen is not None and (t.listen.question, t.listen.findings) == key)


# ----------------------------------------------------------------- the red-flag table


def test_the_table_covers_every_stage_and_hearing():
    assert set(RED_FLAG_TABLE) == set(Stage)
    assert all(set(row) == set(Vote) for row in RED_FLAG_TABLE.values())


SEQUENCES = [s for n in range(1, CAP + 1) for s in itertools.product(list(Vote), repeat=n)]


def resolve(votes):
    """Drive the clot question with these hearings until it is answered;
    (answer or None, prompts it took, the hearings it used)."""
    d, turn = at_question("clot_signs")
    turns = [turn]
    used = 0
    for v in votes:
        turn = d.handle(HEARD[v])
        turns.append(turn)
        used += 1
        if "leg_swelling" in d.answers:
            break
    key = ("clot_signs", RULES.question("clot_signs").findings)
    return d.answers.get("leg_swelling"), prompts_of(turns, key), votes[:used]


def strong_no(votes):
    """Consistent, strong evidence for "no": after the last yes, a firm no or two fair ones."""
    after_yes = list(votes)
    for i, v in enumerate(votes):
        if v in (Vote.YES, Vote.YES_FIRM):
            after_yes = list(votes[i + 1:])
    nos = [v for v in after_yes if v in (Vote.NO, Vote.NO_FIRM)]
    return Vote.NO_FIRM in after_yes or len(nos) >= 2


def test_every_sequence_of_hearings_of_a_red_flag():
    """Over every sequence of hearings up to the cap (6 ways to hear an answer,
    1,554 sequences), through the dialogue: a red flag becomes "no" only on
    consistent, strong evidence; it is never asked a fifth time; and by the
    cap it is resolved, "not understood" counting as yes."""
    for votes in SEQUENCES:
        answer, prompts, used = resolve(votes)
        trace = "".join(v.value for v in used)
        assert prompts <= CAP, trace
        if answer == NO:
            assert strong_no(used), trace
        if all(v in (Vote.YES, Vote.YES_FIRM, Vote.UNKNOWN, Vote.UNHEARD) for v in used):
            assert answer != NO, trace
        if len(votes) == CAP:
            assert answer in (YES, NO, "unknown", UNCLEAR), trace


def test_a_firm_answer_is_taken_on_one_hearing():
    assert resolve([Vote.YES_FIRM])[:2] == (YES, 1)
    assert resolve([Vote.NO_FIRM])[:2] == (NO, 1)


def test_in_noise_a_no_is_taken_when_heard_twice():
    assert resolve([Vote.NO, Vote.NO])[:2] == (NO, 2)


def test_nothing_understood_counts_as_yes_at_the_cap():
    assert resolve([Vote.UNHEARD] * CAP)[:2] == (UNCLEAR, CAP)


# ----------------------------------------------------------------- the traces of issue 20


def test_a_clot_yes_misheard_then_a_misheard_read_back_still_gives_the_instruction():
    """Issue 20's first trace, babble at 10 dB: "yes" to the clot signs heard as
    a confident "no", and the answer to what followed heard wrong too. The
    red flag is never read back; the question itself is asked again."""
    cases = {c.id: c for c in load_cases(VIGNETTES, RULES)}
    patient = TextPatient(PROMPTS, Mishearing.parse("first,readbacks"))
    result = run_case(RULES, PROMPTS, cases["dvt_long_flight"], patient)
    assert result.level == "emergency" and result.passed
    assert PROMPTS.text("levels", "emergency") in result.spoken


def test_the_first_trace_at_the_dialogue():
    d, _ = at_question("clot_signs")
    turn = d.handle(Heard("no", 0.997, NOISY, agreed=True))  # meant yes
    assert "leg_swelling" not in d.answers and turn.listen.question == "clot_signs"
    turn = d.handle(Heard("yes", 0.9, NOISY, agreed=True))  # the second hearing differs
    assert "leg_swelling" not in d.answers and turn.listen.mode == "again"
    turn = d.handle(Heard("yes", 0.9, NOISY, agreed=True))
    assert turn.instruction and d.assessment().level == "emergency"


def test_a_read_back_whose_yes_is_never_understood_does_not_loop():
    """Issue 20's second trace: the place heard right every time, unsure, and
    the "yes" to "I heard the calf. Is that right?" never taken. It used to go
    on until the 200-turn guard."""
    d, turn = at_question("pain_location")
    turns = [turn]
    while not turn.done and turn.listen.question == "pain_location":
        said = "yes" if turn.listen.kind == "confirm" else "calf"
        turn = d.handle(Heard(said, 0.6, QUIET, agreed=False))
        turns.append(turn)
    assert prompts_of(turns, ("pain_location", ("pain_location",))) <= CAP
    assert d.answers["pain_location"] == "calf"


@pytest.mark.parametrize("schedule", ["first", "again", "readbacks", "first,readbacks", "first,again,readbacks",
                                      "rate:0.3"])
def test_no_vignette_ends_less_urgent_whoever_is_misheard(schedule):
    """Every public vignette, with answers misheard on a schedule, as heard in a
    noisy room: never less urgent than expected, never a fifth prompt."""
    patient = TextPatient(PROMPTS, Mishearing.parse(schedule, seed=7))
    for case in load_cases(VIGNETTES, RULES):
        result = run_case(RULES, PROMPTS, case, patient)
        assert result.error is None
        if schedule != "first,again,readbacks":  # every answer wrong: no evidence of the truth is left
            assert not result.safety_failure(RULES.levels), (case.id, result.level, result.transcript)
        assert result.most_prompts <= CAP


# ----------------------------------------------------------------- any sequence of hearings


PHRASES = sorted({*PROMPTS.answer_phrases, *PROMPTS.command_phrases,
                  *(p for options in PROMPTS.option_phrases.values() for p in options),
                  "banana", "", "what time is it"})
hearing = st.one_of(
    st.just(Silence()),
    st.builds(Heard, st.sampled_from(PHRASES), st.floats(0, 1), st.one_of(st.none(), st.floats(-5, 50)),
              st.lists(st.sampled_from(PHRASES), max_size=2).map(tuple), st.sampled_from([None, True, False])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hearing, min_size=1, max_size=60))
def test_no_sequence_of_hearings_takes_a_fifth_prompt(events):
    """Whatever is heard, in whatever order: no question takes more than
    four prompts, nothing but one question follows an emergency instruction,
    and a consultation ends within a bound set by the number of questions."""
    d = Dialogue(RULES, PROMPTS)
    turn = d.start()
    turns = [turn]
    i = 0
    while not turn.done and turn.listen.kind != "offer":
        turn = d.handle(events[i % len(events)])
        turns.append(turn)
        i += 1
        assert i <= bound(), "the consultation did not end within its bound"
    counted = {}
    for t in turns:
        if t.listen is not None and t.listen.kind != "offer":
            key = (t.listen.question, t.listen.findings)
            counted[key] = counted.get(key, 0) + 1
    assert max(counted.values()) <= CAP
    told = [n for n, t in enumerate(turns) if t.instruction]
    if told:
        after = {(t.listen.question, t.listen.findings) for t in turns[told[0] + 1:]
                 if t.listen is not None and t.listen.kind != "offer"}
        asked_at_instruction = turns[told[0]].listen
        if asked_at_instruction is not None and asked_at_instruction.kind != "offer":
            after.add((asked_at_instruction.question, asked_at_instruction.findings))
        assert len(after) <= 1


def bound():
    """Every question and every finding of a shared one, each at the cap, and the offer."""
    prompts = sum(1 + (len(q.findings) if q.shared else 0) for q in RULES.questions)
    return prompts * CAP + DialogueSettings().max_repeats + 2
