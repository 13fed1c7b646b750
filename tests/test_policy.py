"""policy.decide and policy.yes_confirms: when an answer to a question that is
not a red flag is taken, read back or asked again, as a table and as
properties. (Red flags: RED_FLAG_TABLE, tests/test_hearing_fails_safe.py.)"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceassist.dialogue.evidence import Bars
from voiceassist.dialogue.policy import ACCEPT, READ_BACK, UNHEARD, Hearing, Vote, decide, vote, yes_confirms

# Taken alone at 10% wrong when strict (a "no" that could lower the level),
# at 30% otherwise; read back up to 65%.
BARS = Bars(firm=0.10, fair=0.30, weak=0.65)


def h(value: str | None, p_wrong: float) -> Hearing:
    return Hearing(value, "answer" if value else "", p_wrong if value else 1.0, BARS)


TABLE = [
    # earlier hearings,            now,              rejected,  strict, verdict
    ([],                           h(None, 1.0),     (),        False,  UNHEARD),    # nothing the question accepts
    ([],                           h("yes", 0.05),   (),        False,  ACCEPT),     # sure
    ([],                           h("yes", 0.25),   (),        False,  ACCEPT),     # fair is enough...
    ([],                           h("no", 0.25),    (),        True,   READ_BACK),  # ...but not for a no that could lower the level
    ([],                           h("no", 0.05),    (),        True,   ACCEPT),
    ([],                           h("yes", 0.50),   (),        False,  READ_BACK),  # fairly likely: read back
    ([],                           h("yes", 0.80),   (),        False,  UNHEARD),    # a guess: asked again
    ([h("yes", 0.80)],             h("yes", 0.80),   (),        False,  READ_BACK),  # two guesses alike: read back
    ([h("yes", 0.50)],             h("yes", 0.50),   (),        False,  ACCEPT),     # two alike, 25% both wrong
    ([h("yes", 0.50)],             h("yes", 0.50),   (),        True,   READ_BACK),
    ([h("no", 0.40)],              h("yes", 0.50),   (),        False,  READ_BACK),  # different: no help
    ([],                           h("yes", 0.05),   ("yes",),  False,  UNHEARD),    # said wrong when read back
]


@pytest.mark.parametrize("earlier, now, rejected, strict, verdict", TABLE)
def test_decide_table(earlier, now, rejected, strict, verdict):
    assert decide(earlier, now, frozenset(rejected), strict) == verdict


values = st.sampled_from(["yes", "no", "unknown", None])
chances = st.floats(0, 1)
hearings = st.builds(h, values, chances)


@given(st.lists(hearings, max_size=4), hearings, st.booleans())
def test_an_answer_is_taken_only_as_surely_as_its_bar(earlier, now, strict):
    """Taken only when the chance that it and every earlier hearing alike
    are all wrong is within the bar; a strict question never takes what a
    lenient one would not."""
    verdict = decide(earlier, now, frozenset(), strict)
    bar = BARS.firm if strict else BARS.fair
    if verdict == ACCEPT:
        both_wrong = now.p_wrong
        for e in earlier:
            if e.value == now.value:
                both_wrong *= e.p_wrong
        assert now.value is not None and both_wrong <= bar
        assert decide(earlier, now, frozenset(), False) == ACCEPT
    if now.value is None:
        assert verdict == UNHEARD


@given(st.lists(hearings, max_size=4), hearings, st.booleans())
def test_an_answer_said_to_be_wrong_is_never_taken_nor_read_back_again(earlier, now, strict):
    assert decide(earlier, now, frozenset({now.value or ""}), strict) == UNHEARD


def test_a_yes_to_the_read_back():
    """Taken on a sure yes; a faint yes confirms an answer heard fairly well
    only when the engines did not disagree on it (without a fitted model)."""
    raw = Bars(firm=0.10, fair=0.30, weak=0.65, calibrated=False)
    answer = [Hearing("calf", "option", 0.40, raw)]
    assert yes_confirms(Hearing("yes", "answer", 0.05, raw), True, answer, "calf")
    faint = Hearing("yes", "answer", 0.60, raw)
    assert yes_confirms(faint, None, answer, "calf")  # 0.40 x 0.60 = 24%: within fair
    assert not yes_confirms(faint, False, answer, "calf")  # the engines disagreed on it
    assert not yes_confirms(faint, None, answer, "calf", strict=True)  # not within firm


# ----------------------------------------------------- hearings of one answer together

REPEAT = st.floats(0.0, 0.5)
CHANCE = st.floats(1e-4, 1.0)


@given(REPEAT, st.lists(CHANCE, min_size=1, max_size=5))
def test_hearings_alike_are_never_surer_than_a_mishearing_that_repeats_allows(repeat, chances):
    """Bars.all_wrong: hearings of one answer are all wrong at least as often
    as independent chances say, and never less often than the likeliest
    mishearing repeating (`repeat`): the same hearing again and again does
    not make a no firm."""
    bars = Bars(firm=0.02, fair=0.1, weak=0.5, repeat=repeat)
    both = bars.all_wrong(chances)
    assert math.prod(chances) - 1e-12 <= both <= max(chances) + 1e-12
    assert both >= max(chances) * repeat - 1e-12
    if repeat == 0:
        assert both == pytest.approx(math.prod(chances))


@given(REPEAT, st.floats(1e-4, 0.05))
def test_the_vote_bar_is_two_hearings_alike_within_the_firm_bar(repeat, firm):
    bars = Bars(firm=firm, fair=0.1, weak=0.5, repeat=repeat)
    assert bars.all_wrong([bars.vote, bars.vote]) == pytest.approx(firm, rel=1e-6)
    assert bars.for_meaning("answer:no") == bars


@given(REPEAT, CHANCE, CHANCE)
def test_a_red_flag_no_heard_twice_decides_only_within_the_firm_bar(repeat, first, second):
    """RED_FLAG_TABLE settles a red flag on two votes alike (n, n: no). Two
    hearings are two votes only when both are wrong, by Bars.all_wrong, within
    the firm bar."""
    bars = Bars(firm=0.02, fair=0.1, weak=0.5, repeat=repeat)
    pending = Hearing("no", "answer", first, bars)
    now = Hearing("no", "answer", second, bars)
    if vote(pending) is Vote.NO and vote(now, pending) is Vote.NO:
        assert bars.all_wrong([first, second]) <= bars.firm * (1 + 1e-9)
