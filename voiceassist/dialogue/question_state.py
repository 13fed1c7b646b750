"""One question's evidence while it is asked: its hearings, where a red
flag's answer stands, the answers the person said were wrong, and the
silences and mishearings so far.

policy.py holds the rules and the bars these hearings are read against;
this holds the hearings. The dialogue (manager.py) starts a fresh one for
question asked afresh (also the one "go back" returns to).
"""

from __future__ import annotations

from ..triage.engine import NO, UNKNOWN, YES
from .events import Heard, Listen
from .policy import Hearing, Resolution, Stage, Vote, decide, red_flag_step, vote, yes_confirms

CHECKING = (Stage.CHECK_YES, Stage.CHECK_NO, Stage.CHECK_AGAIN)
LOWERING = (NO, UNKNOWN)  # answers that leave a level-raising question's level where it was


class QuestionState:
    """The question now asked: what has been heard of its answer so far."""

    def __init__(self):
        self.stage = Stage.ASK  # a red flag's
        self.pending: Hearing | None = None  # the red flag's vote being checked
        self.hearings: list[Hearing] = []  # any other question's
        self.rejected: set[str] = set()  # answers the person said were wrong when read back
        self.heard_yes = False  # a red flag's yes was heard, however faintly: never dropped
        self.no_input = self.no_match = 0
        self.return_to: Listen | None = None  # the prompt a read-back or "stop?" came from
        self.stop_heard: Hearing | None = None  # the "stop" that "Do you want to stop?" checks

    def red_flag_step(self, h: Hearing) -> Stage | Resolution:
        """A red flag's answer heard once more: its next stage, or its
        answer (policy.RED_FLAG_TABLE). The stage itself is the caller's
        to move, once it has chosen what to say."""
        self.heard_yes |= h.value == YES
        v = vote(h, self.pending if self.stage in CHECKING else None)
        step = red_flag_step(self.stage, v)
        if v in (Vote.YES, Vote.NO):
            self.pending = h
        return step

    def verdict(self, h: Hearing, raises_level: bool) -> str:
        """Any other question's answer heard once more: ACCEPT, READ_BACK
        or UNHEARD (policy.decide). A "no" that could hide a more urgent
        outcome (`raises_level`) is taken only on the firm bar; so is an "I
        don't know", which counts as no for the level (triage.md)."""
        strict = h.value in LOWERING and raises_level
        verdict = decide(self.hearings, h, frozenset(self.rejected), strict)
        if h.value is not None:
            self.hearings.append(h)
        return verdict

    def confirms(self, yes: Hearing, event: Heard, value: str) -> bool:
        """Whether a "yes" to "I heard `value`. Is that right?" takes it
        (policy.yes_confirms), weighed with this question's hearings of it."""
        strict = value in LOWERING and self.return_to is not None and self.return_to.raises_level
        return yes_confirms(yes, event.agreed, self.hearings, value, strict)

    def stops(self, h: Hearing, event: Heard) -> bool:
        """Whether a "yes" (or "stop" again) to "Do you want to stop?" ends
        the consultation: a hearing any question would take alone (fair)
        that, weighed with the "stop" it checks, is as sure as a red flag's
        answer (a yes: yes_confirms, strict; "stop" again: two hearings of
        one word, Bars.all_wrong). Stopping wrongly loses the whole
        consultation: babble made "goodbye" of "behind my knee", then "i
        have" of the answer "no, I haven't" (fair alone), and us_klatt's
        arthritis ended as self-care (report set, babble at 10 dB)."""
        heard = [self.stop_heard] if self.stop_heard is not None else []
        if h.value == "stop":  # the same word again: its mishearing may repeat
            return h.fair and h.bars.all_wrong([s.p_wrong for s in heard] + [h.p_wrong]) <= h.bars.firm
        return h.fair and yes_confirms(h, event.agreed, heard, "stop", strict=True)

    def reject(self, value: str) -> None:
        """The person said `value` was wrong when it was read back: it is
        not taken again on this question, and its hearings no longer count."""
        self.rejected.add(value)
        self.hearings = [e for e in self.hearings if e.value != value]

    def count(self, kind: str) -> int:
        """One more silence in a row ("no_input") or answer not understood
        ("no_match"); how many there have been."""
        count = getattr(self, kind) + 1
        setattr(self, kind, count)
        return count
