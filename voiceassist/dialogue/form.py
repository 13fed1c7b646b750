"""The triage side of a consultation: what has been answered, and what is
asked next.

`Form` holds the answers by finding, records an answer taken (a shared
question's yes, and its follow-ups finding by finding), chooses what comes
next (triage/selection.py chooses the question; the emergency instruction
comes first when it is due) and undoes the last answer for "go back".
It says nothing and hears nothing: the dialogue (manager.py) does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..triage import engine, selection
from ..triage.engine import NO, UNCLEAR, YES, Assessment
from ..triage.rules import Question, Rules


@dataclass
class _Snapshot:
    """What "go back" restores."""

    answers: dict
    via: dict
    announced: str | None
    deciding_asked: bool
    followups: list
    question: Question
    finding: str | None  # a follow-up's finding


@dataclass(frozen=True)
class Next:
    """What is asked next: a question, or one finding of a shared one;
    `announce`: the emergency level to tell first, when it is due."""

    question: Question
    finding: str | None = None
    announce: str | None = None


class Form:
    """One consultation's answers, and the question now asked."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.answers: dict[str, str] = {}
        self.via: dict[str, str] = {}  # finding -> the shared question whose answer it came from
        self.history: list[_Snapshot] = []
        self.announced: str | None = None  # the emergency level already told
        self.deciding_asked = False  # the one question allowed after an emergency instruction
        self.followups: list[str] = []  # findings of a shared yes still to be asked one by one
        self.question: Question | None = None  # the question now asked
        self.finding: str | None = None  # set when the prompt follows up one finding

    @property
    def asked(self) -> tuple[str, ...]:
        """The findings the question now asked is about."""
        return (self.finding,) if self.finding else self.question.findings

    def record(self, value: str) -> None:
        """The answer to the question now asked is `value`."""
        q, finding = self.question, self.finding
        self.history.append(_Snapshot(dict(self.answers), dict(self.via), self.announced, self.deciding_asked,
                                      list(self.followups), q, finding))
        if finding is not None:
            self.answers[finding] = value
            self.via.pop(finding, None)
            if not self.followups:
                self._followed_up(q)
        elif not q.shared:
            self.answers[q.findings[0]] = value
        elif value == YES:
            self.answers.update(selection.shared_yes(self.rules, q))
            self.via.update({f: q.id for f in q.findings})
            if selection.follow_up_needed(self.rules, self.answers, q) and not self._emergency():
                # Finding by finding: none is yes until its own answer says so.
                self.answers.update({f: NO for f in q.findings})
                self.followups = list(q.findings)
        else:
            self.answers.update({f: value for f in q.findings})
            if value != NO:
                self.via.update({f: q.id for f in q.findings})

    def not_understood(self) -> None:
        """Every finding of the question now asked counts as "unclear"."""
        self.answers.update({f: UNCLEAR for f in self.question.findings})

    def _followed_up(self, q: Question) -> None:
        """The follow-ups of a shared yes are over. Every finding said no (or
        not asked, since its answer could change nothing): the shared
        question's yes still counts, as one finding, said back as what was
        asked. Otherwise the findings are what their own answers said."""
        if not any(self.answers.get(f) == YES for f in q.findings):
            self.answers.update(selection.shared_yes(self.rules, q))
            self.via.update({f: q.id for f in q.findings})
        else:
            for f in q.findings:
                self.via.pop(f, None)

    def _emergency(self) -> bool:
        return engine.level_of(self.rules, self.answers)[0] in engine.EMERGENCY_LEVELS

    def next(self) -> Next | None:
        """After an answer: what is asked next, now the question asked; None:
        the outcome is due. An emergency is told as soon as it is reached."""
        level = engine.level_of(self.rules, self.answers)[0]
        if level in engine.EMERGENCY_LEVELS and (self.announced is None or self.rules.more_urgent(level, self.announced)):
            self.announced = level
            self.followups = []
            # Nothing but one question that could make it more urgent follows
            # the instruction (triage.md, "Emergencies").
            q = None if self.deciding_asked else selection.deciding_question(self.rules, self.answers)
            if q is None:
                return None  # the outcome opens with the instruction
            self.deciding_asked = True
            return self._ask(Next(q, announce=level))
        if self.announced is not None:
            return None
        while self.followups:
            f = self.followups.pop(0)
            shared = self.rules.question_of(f)
            if selection.follow_up_matters(self.rules, self.answers, shared, f, self.followups):
                return self._ask(Next(shared, f))
            if not self.followups:
                self._followed_up(shared)
        q = selection.next_question(self.rules, self.answers)
        return None if q is None else self._ask(Next(q))

    def _ask(self, step: Next) -> Next:
        self.question, self.finding = step.question, step.finding
        return step

    def finish(self, assessment: Assessment) -> None:
        """The outcome is told: an emergency in it counts as announced, and
        no question is asked any more."""
        self.announced = assessment.level if assessment.emergency else self.announced
        self.question, self.finding = None, None

    def last_asked(self) -> tuple[str, tuple[str, ...]] | None:
        """The question and findings of the last answer, the one "go back"
        would undo; None before the first."""
        if not self.history:
            return None
        snap = self.history[-1]
        return snap.question.id, (snap.finding,) if snap.finding else snap.question.findings

    def undo(self) -> None:
        """Go back: the last answer is forgotten, and its question is asked again."""
        snap = self.history.pop()
        self.answers, self.via = snap.answers, snap.via
        self.announced, self.deciding_asked, self.followups = snap.announced, snap.deciding_asked, snap.followups
        self.question, self.finding = snap.question, snap.finding
