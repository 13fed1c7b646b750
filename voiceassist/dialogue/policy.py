"""When a heard answer is taken: the one decision, in one place.

Every hearing of an answer is graded by how far it can be trusted (`grade`).
A question's hearings so far then decide, with no other rule anywhere:

- a red flag (`RED_FLAG_TABLE`): taken as "no" only on consistent, strong
  evidence; any conflict makes it "unknown", which is asked once more in other
  words and then counts as yes (triage.md, "Unknown answers"). A red flag is
  never read back ("I heard no. Is that right?"): the read-back is itself a
  yes/no that noise can flip, so the question itself is asked again instead.
- any other question (`decide`): taken when sure, or when two hearings agree;
  read back when only fairly likely.

Every question has a cap on prompts (asks, asks again, read-backs, repeats):
`Settings.max_prompts`. At the cap the dialogue takes the safe reading
("unclear": a red flag counts as yes, see triage/engine.py).

Pure: no audio, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

from ..triage.engine import NO, UNKNOWN, YES
from .events import Heard


@dataclass(frozen=True)
class Settings:
    """Confidence bars (VoiceXML-style reject / confirm / accept) and limits."""

    reject_below: float = 0.35  # below: only a guess (never taken alone)
    confirm_below: float = 0.70  # below: not sure: read back, or for a red flag asked again
    red_flag_no_accept: float = 0.90  # at or above, quiet and uncontested: a red flag's answer on one hearing
    # In noise the recogniser's confidence cannot be trusted (babble is taken
    # for "yes" or "no" at 1.0, both engines agreeing, measured): below this
    # SNR no single hearing is firm, and a red flag's answer needs two.
    reliable_snr_db: float = 25.0
    max_prompts: int = 4  # per question, whatever happens: then the safe reading
    max_no_input: int = 3  # silences in a row on one question: nobody is there, end safely
    offer_repeat: bool = True
    max_repeats: int = 3

    def __post_init__(self):
        if not 0 <= self.reject_below < self.confirm_below <= self.red_flag_no_accept <= 1:
            raise ValueError("the confidence bars must be 0 <= reject_below < confirm_below "
                             "<= red_flag_no_accept <= 1")
        if self.max_prompts < 2 or self.max_no_input < 1:
            raise ValueError("max_prompts must be at least 2 and max_no_input at least 1")


class Grade(IntEnum):
    """How far one hearing can be trusted."""

    NONE = 0  # nothing usable
    FAINT = 1  # the recogniser's guess below its bar: never taken alone
    WEAK = 2  # understood, not sure
    FAIR = 3  # sure enough to take an answer that is not a red flag
    FIRM = 4  # sure enough to take a red flag's answer on one hearing


def grade(heard: Heard, value: str | None, contested: bool, noisy_no_raises: bool, s: Settings) -> Grade:
    """Grade one hearing of `value` (None: nothing in the grammar was heard).

    `contested`: the recogniser nearly chose a phrase that means something
    else ("i have" with "i haven't" close behind: babble masks the "n't"; in
    a quiet room the confidence is trusted).
    `noisy_no_raises`: a "no" that could hide a more urgent outcome.
    """
    if value is None:
        return Grade.NONE
    c = heard.confidence
    noisy = heard.snr_db is not None and heard.snr_db < s.reliable_snr_db
    if c < s.reject_below:
        # A guess counts only in a quiet room: babble can sound like the same answer twice.
        return Grade.NONE if noisy else Grade.FAINT
    g = Grade.FIRM if c >= s.red_flag_no_accept else Grade.FAIR if c >= s.confirm_below else Grade.WEAK
    if noisy:
        g = min(g, Grade.FAIR)
    if noisy and noisy_no_raises and value == NO:
        g = min(g, Grade.WEAK)
    # Two engines that heard different meanings, or, in noise, one that
    # nearly chose another meaning: not sure, however confident.
    if heard.agreed is False or (noisy and contested):
        g = min(g, Grade.WEAK)
    return g


# ----------------------------------------------------------------- red flags


class Vote(Enum):
    """One hearing of a red flag's answer, as the table reads it."""

    YES_FIRM = "Y"
    YES = "y"  # a fair yes, not firm enough alone
    NO_FIRM = "N"
    NO = "n"  # a no fair but not firm: needs a second
    UNKNOWN = "U"
    UNHEARD = "X"  # not understood, or only weakly, or silence


def vote(value: str | None, g: Grade) -> Vote:
    """Only a fair hearing is evidence either way. A weak one (the engines
    disagree, or another meaning was nearly chosen in noise) is not
    understood: taken as a vote, babble made "I have" of "I haven't" and then
    "I don't know" of "no", and a person who said no every time was sent to an
    emergency department (measured). Not understood is still safe: a red flag
    unresolved at the cap counts as yes."""
    if g < Grade.FAIR:
        return Vote.UNHEARD
    if value == YES:
        return Vote.YES_FIRM if g >= Grade.FIRM else Vote.YES
    if value == NO:
        return Vote.NO_FIRM if g >= Grade.FIRM else Vote.NO
    return Vote.UNKNOWN if value == UNKNOWN else Vote.UNHEARD


class Stage(Enum):
    """Where a red flag's answer stands; each is a way of asking."""

    ASK = "ask"  # first asked
    CHECK_YES = "check_yes"  # a yes not firm enough: asked again
    CHECK_NO = "check_no"  # a no not firm enough: asked again
    AGAIN = "again"  # "I don't know", or two hearings that differ: asked in other words
    CHECK_AGAIN = "check_again"  # a no, in other words, not firm enough: asked again


# A resolution ends the question with that answer; a Stage asks again.
Resolution = str  # YES | NO | UNKNOWN (counts as yes: it was asked again in other words)

Y, y, N, n, U, X = Vote.YES_FIRM, Vote.YES, Vote.NO_FIRM, Vote.NO, Vote.UNKNOWN, Vote.UNHEARD
RED_FLAG_TABLE: dict[Stage, dict[Vote, Stage | Resolution]] = {
    Stage.ASK: {Y: YES, y: Stage.CHECK_YES, N: NO, n: Stage.CHECK_NO, U: Stage.AGAIN, X: Stage.ASK},
    Stage.CHECK_YES: {Y: YES, y: YES, N: Stage.AGAIN, n: Stage.AGAIN, U: Stage.AGAIN, X: Stage.CHECK_YES},
    Stage.CHECK_NO: {Y: YES, y: Stage.AGAIN, N: NO, n: NO, U: Stage.AGAIN, X: Stage.CHECK_NO},
    Stage.AGAIN: {Y: YES, y: YES, N: NO, n: Stage.CHECK_AGAIN, U: UNKNOWN, X: Stage.AGAIN},
    Stage.CHECK_AGAIN: {Y: YES, y: YES, N: NO, n: NO, U: UNKNOWN, X: Stage.CHECK_AGAIN},
}


def red_flag_step(stage: Stage, v: Vote) -> Stage | Resolution:
    """The next stage of a red flag's answer after one hearing, or its answer."""
    return RED_FLAG_TABLE[stage][v]


# ----------------------------------------------------------------- other questions


@dataclass(frozen=True)
class Hearing:
    value: str
    grade: Grade


ACCEPT, READ_BACK, UNHEARD = "accept", "read_back", "unheard"


def decide(earlier: list[Hearing], now: Hearing | None, rejected: frozenset[str] = frozenset()) -> str:
    """For a question that is not a red flag: take the answer heard now
    (ACCEPT), read it back (READ_BACK), or ask again (UNHEARD).

    `earlier`: this question's hearings so far; `rejected`: answers the
    person said were wrong when they were read back. Two hearings that agree
    are taken, as long as one of them was understood (a strong accent gets a
    low confidence on every phrase, measured: its second "yes" is not
    rejected again); two guesses that agree are read back."""
    if now is None or now.grade == Grade.NONE or now.value in rejected:
        return UNHEARD
    if now.grade >= Grade.FAIR:
        return ACCEPT
    same = [h for h in earlier if h.value == now.value and h.grade >= Grade.FAINT]
    if same and max(h.grade for h in same + [now]) >= Grade.WEAK:
        return ACCEPT
    if now.grade == Grade.WEAK or same:
        return READ_BACK
    return UNHEARD
