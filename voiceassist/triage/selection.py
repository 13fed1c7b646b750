"""Which question next, and what a shared question's yes counts as.

Pure triage knowledge for the dialogue (triage.md, "Dialogue rules"):

- red flags first, in their order; then anything that could still change the
  level; then the question that tells most about the causes in view. A
  question that can change neither the level nor the named causes is skipped.
- a yes to a question shared by several findings counts as ONE finding, the
  most urgent of them, never as all of them ("an operation, a cast or a long
  journey" is one risk factor, not three); it is followed up, finding by
  finding, when knowing which are yes could change the level or the causes.
"""

from __future__ import annotations

import itertools
from typing import Mapping

from . import engine
from .engine import NO, YES
from .rules import GROUPS, Question, Rules


def unanswered(rules: Rules, answers: Mapping[str, str]) -> list[Question]:
    return [q for q in rules.questions if not all(f in answers for f in q.findings)]


def next_question(rules: Rules, answers: Mapping[str, str]) -> Question | None:
    best = None
    for n, q in enumerate(unanswered(rules, answers)):
        if q.red_flag or engine.can_change_level(rules, answers, q):
            return q
        if engine.can_change_causes(rules, answers, q):
            key = (-engine.relevance(rules, answers, q), n)
            if best is None or key < best[0]:
                best = (key, q)
    return best[1] if best else None


def deciding_question(rules: Rules, answers: Mapping[str, str]) -> Question | None:
    """After an emergency instruction: the one question that could still make
    the level more urgent (tell `ambulance` from `emergency`), if any."""
    return next((q for q in unanswered(rules, answers) if engine.can_change_level(rules, answers, q)), None)


def most_urgent(rules: Rules, question: Question) -> str:
    """The finding a shared question's yes counts as (the first of the most urgent group)."""
    return min(question.findings, key=lambda f: GROUPS.index(rules.findings[f].group))


def shared_yes(rules: Rules, question: Question) -> dict[str, str]:
    """A shared question's yes as one finding: the most urgent yes, the rest no."""
    first = most_urgent(rules, question)
    return {f: (YES if f == first else NO) for f in question.findings}


def _picture(rules: Rules, answers: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    a = engine.assess(rules, answers)
    return a.level, tuple(a.top_ids())


def follow_up_needed(rules: Rules, answers: Mapping[str, str], question: Question) -> bool:
    """Could knowing which of a shared question's findings are yes change the
    level or the named causes? (With calf pain, one more risk factor can make
    the level urgent; "walking pain" is a narrowed artery or the spine.)"""
    if not (question.shared and question.follow_up):
        return False
    readings = [{f: (YES if f == g else NO) for f in question.findings} for g in question.findings]
    readings.append({f: YES for f in question.findings})
    return len({_picture(rules, {**answers, **r}) for r in readings}) > 1


def follow_up_matters(rules: Rules, answers: Mapping[str, str], question: Question, finding: str,
                      still_open: list[str]) -> bool:
    """Would this finding's own answer, yes or no, change the level or the
    causes, whatever the answers to the question's findings still to be asked
    (`still_open`)? The person said yes to at least one: when every finding
    is said no, the shared yes stands, as one finding."""
    for rest in itertools.product((YES, NO), repeat=len(still_open)):
        pictures = set()
        for value in (YES, NO):
            said = {**answers, **dict(zip(still_open, rest)), finding: value}
            if not any(said.get(f) == YES for f in question.findings):
                said.update(shared_yes(rules, question))
            pictures.add(_picture(rules, said))
        if len(pictures) > 1:
            return True
    return False
