"""When a heard answer is taken: the one decision, in one place.

Every hearing of an answer comes with the chance it is wrong (`hear`: from
the engines' evidence weighed by models fitted on measured answers,
evidence.py, or, for an engine without one, from its confidence), read
against bars: firm (a red flag's answer on one hearing), a vote (two alike
decide), fair (any other answer on one hearing), weak (read back).
A question's hearings so far then decide, with no other rule anywhere:

- a red flag (`RED_FLAG_TABLE`): taken as "no" only on consistent, strong
  evidence; any conflict makes it "unknown", which is asked once more in other
  words and then counts as yes (triage.md, "Unknown answers"). A red flag is
  never read back ("I heard no. Is that right?"): the read-back is itself a
  yes/no that noise can flip, so the question itself is asked again instead.
- any other question (`decide`): taken when sure, or when two hearings agree;
  read back when only fairly likely, and then taken on a yes to the read-back
  as sure as the answer needs (`yes_confirms`).

Every question has a cap on prompts (asks, asks again, read-backs, repeats):
`DialogueSettings.max_prompts`. At the cap the dialogue takes the safe reading
("unclear": a red flag counts as yes, see triage/engine.py).

Pure: no audio, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Mapping

from ..triage.engine import NO, UNKNOWN, YES
from . import answers as answer_text
from .events import Heard
from .evidence import Bars, EngineModel


@dataclass(frozen=True)
class DialogueSettings:
    """Confidence bars (VoiceXML-style reject / confirm / accept) and limits."""

    # For an engine without a fitted model (evidence.py), its confidence:
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


@dataclass(frozen=True)
class Hearing:
    """One hearing of an answer: what was heard (None: nothing the question
    accepts) and the chance it is wrong, with the bars that chance is read
    against (evidence.Bars)."""

    value: str | None
    kind: str  # answer | option | command | "" (nothing)
    p_wrong: float
    bars: Bars

    @property
    def firm(self) -> bool:
        """Sure enough to take a red flag's answer on one hearing."""
        return self.value is not None and self.p_wrong <= self.bars.firm

    @property
    def fair(self) -> bool:
        """Sure enough to take any other answer on one hearing."""
        return self.value is not None and self.p_wrong <= self.bars.fair

    @property
    def weak(self) -> bool:
        """Likely enough to read back, or to act on as a command."""
        return self.value is not None and self.p_wrong <= self.bars.weak


NOTHING = "nothing"
# The commands done at once on one fair hearing that cost the person when
# misheard: going back a question, or changing the voice ("repeat" and "help"
# are done on a weak one; "stop" asks first unless firm).
CHANGING = frozenset({"go_back", "slower", "faster", "louder", "quieter"})
NUDGE = 1e-9  # a chance put this far above a bar is just outside it


def hear(heard: Heard, vocab: dict, s: DialogueSettings, models: Mapping[str, EngineModel]) -> Hearing:
    """What was heard, and the chance it is wrong.

    With a model for the engine (evidence.py) the meaning and the chance come
    from everything the engines measured, read against bars chosen on the
    tuning set (acceptance.yaml). Otherwise (vosk, the keyboard) from the
    recogniser's confidence and the room's noise (`by_confidence`).

    A hearing over the assistant's own voice (a barge-in) is never firm
    alone: every calibration row was heard after the question, none over it,
    so its chance cannot be read against the firm bar. Babble over a red
    flag's question was heard as a sure "yeah" by both engines (0.996) and
    taken as its yes: the person, who had said nothing, was told to call 999
    (report set, babble at 10 dB).

    Nor is a command that changes something (CHANGING) fair alone: the
    person answering "no" over a question was heard as a sure "quieter" (the
    pair, the engines split; the assistant's own voice under the answer) and
    the assistant spoke more quietly. Going back, or changing the voice,
    waits for a hearing after the question; "repeat", "help" and "stop"
    (which asks first) still cut the question short."""
    hearing = _hear(heard, vocab, s, models)
    if not heard.over_speech:
        return hearing
    bar = hearing.bars.fair if hearing.kind == "command" and hearing.value in CHANGING else hearing.bars.firm
    return replace(hearing, p_wrong=bar + NUDGE) if hearing.p_wrong <= bar else hearing


def _hear(heard: Heard, vocab: dict, s: DialogueSettings, models: Mapping[str, EngineModel]) -> Hearing:
    model = models.get(heard.engine) if heard.evidence else None
    if model is None:
        return by_confidence(heard, vocab, s)
    meaning, p_wrong = model.judge(heard.evidence, heard.snr_db)
    parsed = answer_text.from_meaning(meaning, vocab)
    if parsed is None:
        return Hearing(None, "", 1.0, model.bars)
    return Hearing(parsed.value, parsed.kind, p_wrong, model.bars.for_meaning(meaning))


def confidence_bars(s: DialogueSettings) -> Bars:
    """The bars for an engine without a model: its confidence, as chances."""
    return Bars(firm=1 - s.red_flag_no_accept, fair=1 - s.confirm_below, weak=1 - s.reject_below,
                vote=1 - s.confirm_below, calibrated=False)


def by_confidence(heard: Heard, vocab: dict, s: DialogueSettings) -> Hearing:
    """A hearing's chance of being wrong from the recogniser's one confidence
    figure. When the recogniser heard nothing in the grammar, its rejected
    guess counts, as a hearing too faint to be taken alone. In noise that
    confidence cannot be trusted (babble is taken for "yes" or "no" at 1.0,
    measured): no single hearing is firm there, and one with another meaning
    close behind ("i have" and "i haven't": babble masks the "n't") is only
    worth reading back, as is one two engines disagree on."""
    bars = confidence_bars(s)
    parsed = answer_text.parse(heard.text, vocab) if heard.text else None
    p_wrong = 1.0 - heard.confidence
    if parsed is None and not heard.text and heard.alternatives:
        parsed, p_wrong = answer_text.parse(heard.alternatives[0], vocab), 1.0
    noisy = heard.snr_db is not None and heard.snr_db < s.reliable_snr_db
    if parsed is None or (noisy and p_wrong > bars.weak):
        # A guess counts only in a quiet room: babble can sound like the same answer twice.
        return Hearing(None, "", 1.0, bars)
    others = [answer_text.parse(a, vocab) for a in heard.alternatives]
    contested = any(o is not None and o.kind != "command" and o != parsed for o in others)
    if noisy:
        p_wrong = max(p_wrong, bars.firm + NUDGE)
    if heard.agreed is False or (noisy and contested):
        p_wrong = max(p_wrong, bars.fair + NUDGE)
    if parsed.kind == "command" and contested and p_wrong > bars.firm:
        # A command with an answer nearly chosen instead was most likely an
        # answer (babble: one engine heard "quit", the other "yes", measured).
        return Hearing(None, "", 1.0, bars)
    return Hearing(parsed.value, parsed.kind, p_wrong, bars)


# ----------------------------------------------------------------- red flags


class Vote(Enum):
    """One hearing of a red flag's answer, as the table reads it."""

    YES_FIRM = "Y"
    YES = "y"  # a yes not firm enough alone: a vote
    NO_FIRM = "N"
    NO = "n"  # a no not firm enough alone: needs a second
    UNKNOWN = "U"
    UNHEARD = "X"  # not understood, or only weakly, or silence


def vote(h: Hearing, pending: Hearing | None = None) -> Vote:
    """Two votes alike decide (n, n: no), so a vote is a hearing whose chance
    of being wrong, twice over, is within the firm bar (Bars.vote). A weaker
    one is not evidence either way: taken as a vote, babble made "I have" of
    "I haven't" and then "I don't know" of "no", and a person who said no
    every time was sent to an emergency department (measured). Not understood
    is still safe: a red flag unresolved at the cap counts as yes.

    `pending`: the vote the question is being checked for. A hearing that
    agrees with it is a vote when the chance that both are wrong
    (Bars.all_wrong: a mishearing that repeats counted) is within the firm
    bar: "no" heard at 3% and then at 16% in babble is a no. Only for
    measured chances: a raw confidence is not a probability."""
    if h.value is None:
        return Vote.UNHEARD
    agrees = pending is not None and h.bars.calibrated and pending.value == h.value
    backed = agrees and h.p_wrong <= h.bars.weak and h.bars.all_wrong([pending.p_wrong, h.p_wrong]) <= h.bars.firm
    if h.p_wrong > h.bars.vote and not backed:
        return Vote.UNHEARD
    if h.value == YES:
        return Vote.YES_FIRM if h.firm else Vote.YES
    if h.value == NO:
        return Vote.NO_FIRM if h.firm else Vote.NO
    return Vote.UNKNOWN if h.value == UNKNOWN else Vote.UNHEARD


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


ACCEPT, READ_BACK, UNHEARD = "accept", "read_back", "unheard"


def decide(earlier: list[Hearing], now: Hearing, rejected: frozenset[str] = frozenset(),
           strict: bool = False) -> str:
    """For a question that is not a red flag: take the answer heard now
    (ACCEPT), read it back (READ_BACK), or ask again (UNHEARD).

    `earlier`: this question's hearings so far; `rejected`: answers the person
    said were wrong when read back; `strict`: a "no" or "I don't know" that could hide a more
    urgent outcome, taken only as surely as a red flag's (heard wrong, it
    would lower the level: babble made a "yes" to walking pain a sure "no",
    measured). Hearings that agree are taken when the chance that all of
    them are wrong is within the bar (a strong accent gets a low confidence on
    every phrase: its second "yes" is not rejected again); two guesses that
    agree are read back."""
    if now.value is None or now.value in rejected:
        return UNHEARD
    bar = now.bars.firm if strict else now.bars.fair
    if now.p_wrong <= bar:
        return ACCEPT
    same = [h for h in earlier if h.value == now.value]
    if same and now.bars.all_wrong([h.p_wrong for h in same + [now]]) <= bar:
        return ACCEPT
    if now.weak or same:
        return READ_BACK
    return UNHEARD


def yes_confirms(yes: Hearing, agreed: bool | None, earlier: list[Hearing], value: str,
                 strict: bool = False) -> bool:
    """A "yes" to "I heard X. Is that right?" takes X (`value`) when the
    chance that X is wrong and the yes is wrong too is within the bar
    (`strict`, a "no" that could raise the level: the firm bar). A yes too
    faint to count alone still confirms an answer heard fairly well: a soft
    "yep" to the read-back of a "yeah" was never taken, and the question was
    asked to its cap (the Caribbean voice, quiet room, measured). Two engines
    that disagree on the yes (`agreed` False), without a model to weigh it:
    not a yes. `earlier`: the question's hearings so far. The yes is
    another word to another question, so its mishearing is not the
    answer's repeated: their chances multiply."""
    bar = yes.bars.firm if strict else yes.bars.fair
    answer = yes.bars.all_wrong([e.p_wrong for e in earlier if e.value == value])
    if yes.p_wrong <= bar:
        return True
    weighed = yes.bars.calibrated or agreed is not False
    return weighed and yes.weak and answer * yes.p_wrong <= bar
