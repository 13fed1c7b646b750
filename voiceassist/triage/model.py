"""The triage rules as data: findings, the questions that collect them, the
disposition rules, causes and advice (loaded and checked by rules.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .schema import RED_FLAG_GROUPS


@dataclass(frozen=True)
class Finding:
    id: str
    group: str
    kind: str = "yes_no"  # or "choice"
    options: tuple[str, ...] = ()

    @property
    def red_flag(self) -> bool:
        return self.group in RED_FLAG_GROUPS


@dataclass(frozen=True)
class Condition:
    """One clause of a rule; see the comment above disposition_rules."""

    kind: str  # any | none | at_least | pain_location
    findings: frozenset[str] = frozenset()
    count: int = 1
    places: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DispositionRule:
    id: str
    level: str
    conditions: tuple[Condition, ...]
    safety: bool = False
    names: tuple[str, ...] = ()  # causes named first when this rule holds
    rule_out: tuple[str, ...] = ()  # causes named first, as something to rule out today

    def mentions(self, finding_id: str) -> bool:
        if finding_id == "pain_location":
            return any(c.kind == "pain_location" for c in self.conditions)
        return any(finding_id in c.findings for c in self.conditions if c.kind != "none")


@dataclass(frozen=True)
class Question:
    id: str
    findings: tuple[str, ...]
    group: str
    kind: str = "yes_no"
    options: tuple[str, ...] = ()
    follow_up: bool = False

    @property
    def red_flag(self) -> bool:
        return self.group in RED_FLAG_GROUPS

    @property
    def shared(self) -> bool:
        return len(self.findings) > 1


@dataclass(frozen=True)
class Cause:
    """See the comment above `causes` in rules.yaml."""

    id: str
    points: Mapping[str, float]  # finding id, or "pain_location=<option>"
    defining: frozenset[str]  # named only when one of these is yes
    places: tuple[str, ...] = ()  # empty: any place
    least_level: str | None = None  # a serious cause: never named in a less urgent outcome
    advice: tuple[str, ...] = ()
    elsewhere: frozenset[str] = frozenset()  # the places it does not explain

    @property
    def serious(self) -> bool:
        return self.least_level is not None

    def explains(self, place: str | None) -> bool:
        """Whether pain in this place can come from this cause. An unknown
        or unclear place does not rule it out."""
        return place not in self.elsewhere


@dataclass(frozen=True)
class Advice:
    """One advice sentence and when it may be said (see `advice` in rules.yaml)."""

    id: str
    for_: str = "any"  # home | until_seen | any
    only_if_yes: frozenset[str] = frozenset()
    not_with_causes: frozenset[str] = frozenset()
    not_with: frozenset[str] = frozenset()  # made symmetric at load time


@dataclass(frozen=True)
class Rules:
    path: str
    levels: tuple[str, ...]
    findings: Mapping[str, Finding]
    sets: Mapping[str, tuple[str, ...]]
    disposition_rules: tuple[DispositionRule, ...]
    questions: tuple[Question, ...]
    causes: Mapping[str, Cause]
    level_advice: Mapping[str, tuple[str, ...]]
    contributing_advice: Mapping[str, str]
    advice: Mapping[str, Advice] = field(default_factory=dict)
    safety_net: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_advice: Mapping[str, int] = field(default_factory=dict)
    strong_support: float = 3.0

    def question(self, qid: str) -> Question:
        return next(q for q in self.questions if q.id == qid)

    def question_of(self, finding_id: str) -> Question:
        return next(q for q in self.questions if finding_id in q.findings)

    def more_urgent(self, a: str, b: str) -> bool:
        return self.levels.index(a) < self.levels.index(b)

    def advice_ids(self) -> set[str]:
        ids = {a for c in self.causes.values() for a in c.advice}
        ids |= {a for v in self.level_advice.values() for a in v}
        ids |= {a for v in self.safety_net.values() for a in v}
        ids |= set(self.contributing_advice.values())
        return ids | set(self.advice)
