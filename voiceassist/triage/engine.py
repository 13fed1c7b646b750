"""The triage engine: answers -> assessment. Pure: no I/O, no clock.

Answers map a finding id to "yes", "no" or "unknown", and `pain_location` to
an option id (or "unknown"). A finding not in the map has not been asked and
counts as "no", as triage.md says.

A fourth value, "unclear", is what the dialogue records when it gave up on a
question without understanding the answer (triage.md, "Unknown answers": not
understood is not "I don't know"). An unclear red flag counts as yes; any
other unclear finding that could have raised the level keeps the outcome at
least as urgent as a yes to it would have made it, so trouble hearing never
makes an outcome less urgent than the person's answers would have.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Mapping

from .rules import Condition, DispositionRule, Question, Rules
from .schema import EMERGENCY_LEVELS

YES, NO, UNKNOWN, UNCLEAR = "yes", "no", "unknown", "unclear"
LIKELY_SHARE = 0.5  # a cause is named when it scores at least half of the leading one


@dataclass(frozen=True)
class CauseResult:
    id: str
    score: float
    reasons: tuple[str, ...]  # finding ids that count as yes (or "pain_location") and point to it, defining ones first
    uncertain: bool = False  # an answer that would point to it was "unknown" or not understood
    serious: bool = False
    # Named as something to rule out today, not as a likely cause: no
    # defining finding was a plain yes (an "I don't know" to a red flag, an
    # answer not understood), or a rule names it so (rules.yaml `rule_out`).
    rule_out: bool = False


@dataclass(frozen=True)
class Assessment:
    level: str
    causes: tuple[CauseResult, ...]  # ranked, most likely first; the top three are named
    advice: tuple[str, ...]  # advice ids, in the order to say them (the safety net aside)
    rules_fired: tuple[str, ...]
    uncertain: bool = False
    unclear: tuple[str, ...] = ()  # findings whose answer was not understood (the dialogue gave up on them)
    safety_net: tuple[str, ...] = ()  # advice ids said after the advice, at the levels that are not emergencies

    @property
    def emergency(self) -> bool:
        return self.level in EMERGENCY_LEVELS

    @property
    def top(self) -> tuple[CauseResult, ...]:
        return self.causes[:3]

    def top_ids(self) -> list[str]:
        return [c.id for c in self.top]


def is_yes(rules: Rules, answers: Mapping[str, str], finding_id: str) -> bool:
    """Whether a finding counts as present.

    An unknown red flag counts as yes: the dialogue has already asked it once
    more in other words, and a clot or a stroke of bad luck must not be missed
    because the person could not tell (triage.md, "Unknown answers"). So does
    an unclear one: the dialogue could not understand the answer.
    """
    value = answers.get(finding_id)
    if value == YES:
        return True
    return value in (UNKNOWN, UNCLEAR) and rules.findings[finding_id].red_flag


def _truth(rules: Rules, answers: Mapping[str, str], fid: str) -> bool | None:
    """Three-valued: True / False, or None when not asked yet."""
    if fid not in answers:
        return None
    return is_yes(rules, answers, fid)


def _condition(rules: Rules, answers: Mapping[str, str], c: Condition, partial: bool) -> bool | None:
    """Evaluate one clause. With partial=False every unasked finding is "no";
    with partial=True an unasked finding is unknown and the result may be None
    ("could still go either way")."""
    if c.kind == "pain_location":
        place = answers.get("pain_location")
        if place is None:
            return None if partial else False
        return place in c.places
    values = [_truth(rules, answers, f) for f in c.findings]
    if not partial:
        values = [bool(v) for v in values]
    yes = sum(v is True for v in values)
    open_ = sum(v is None for v in values)
    if c.kind == "any":
        return True if yes else (None if open_ else False)
    if c.kind == "none":
        return False if yes else (None if open_ else True)
    if c.kind == "at_least":
        if yes >= c.count:
            return True
        return None if yes + open_ >= c.count else False
    raise ValueError(c.kind)


def rule_holds(rules: Rules, answers: Mapping[str, str], rule: DispositionRule) -> bool:
    return all(_condition(rules, answers, c, partial=False) for c in rule.conditions)


def rule_possible(rules: Rules, answers: Mapping[str, str], rule: DispositionRule) -> bool:
    """False only when answers already given rule it out, whatever comes next."""
    return all(_condition(rules, answers, c, partial=True) is not False for c in rule.conditions)


def _rules_level(rules: Rules, answers: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    fired = tuple(r.id for r in rules.disposition_rules if rule_holds(rules, answers, r))
    level = "self_care"
    for r in rules.disposition_rules:
        if r.id in fired and rules.more_urgent(r.level, level):
            level = r.level
    return level, fired


UNCLEAR_RULE = "unclear_answer"  # in rules_fired when an unclear answer set the level


def level_of(rules: Rules, answers: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """The most urgent level any rule reaches, and the rules that fired.

    Unclear answers that are not red flags (those count as yes, see is_yes)
    are read the safe way: the level is at least what a yes to all of them
    (and, for the pain's place, the most urgent place) would have given, with
    the other answers as they are. triage.md asks for at least `doctor` when
    such a question could have raised the level; this floor is never below
    that, and never below what the person's own answers were, whatever they
    were (the rules only grow more urgent with more yes answers)."""
    level, fired = _rules_level(rules, answers)
    unclear = [f for f, v in answers.items() if v == UNCLEAR and not rules.findings[f].red_flag]
    if not unclear:
        return level, fired
    said_yes = {f: YES for f in unclear if rules.findings[f].kind != "choice"}
    places = [[(f, o) for o in rules.findings[f].options] for f in unclear if rules.findings[f].kind == "choice"]
    floor = level
    for reading in itertools.product(*places):
        if_said = _rules_level(rules, {**answers, **said_yes, **dict(reading)})[0]
        if rules.more_urgent(if_said, floor):
            floor = if_said
    if floor != level:
        level, fired = floor, fired + (UNCLEAR_RULE,)
    return level, fired


def _score(rules: Rules, answers: Mapping[str, str], cause) -> tuple[float, float, list[str], bool]:
    """A cause's points from the answers: (score, the part of it from findings
    rather than the place, the reasons, whether an answer it counts is unknown)."""
    place = answers.get("pain_location")
    score = finding_points = 0.0
    reasons: list[str] = []
    uncertain = False
    for key, weight in cause.points.items():
        if key.startswith("pain_location="):
            if place == key.partition("=")[2]:
                score += weight
                reasons.append("pain_location")
        elif is_yes(rules, answers, key):
            score += weight
            reasons.append(key)
            finding_points += weight
        elif answers.get(key) in (UNKNOWN, UNCLEAR):
            uncertain = True
    return score, finding_points, reasons, uncertain


def rank_causes(rules: Rules, answers: Mapping[str, str], level: str, fired: tuple[str, ...] = ()) -> tuple[CauseResult, ...]:
    """The causes that may be named, most likely first (the top three are
    named). triage.md, "Naming causes": a cause is named only on a defining
    finding of its own (or when a rule names it to rule out), only where it
    explains the pain, and a serious one only at its level or above."""
    place = answers.get("pain_location")
    to_rule_out = {c for rule in rules.disposition_rules if rule.id in fired for c in rule.rule_out}
    results = []
    for order, cause in enumerate(rules.causes.values()):
        evidence = [f for f in cause.defining if is_yes(rules, answers, f)]
        if not evidence and cause.id not in to_rule_out:
            continue
        if not cause.explains(place):
            continue
        if cause.least_level is not None and rules.more_urgent(cause.least_level, level):
            continue
        score, finding_points, reasons, uncertain = _score(rules, answers, cause)
        # The defining answers first: they are why it is named.
        reasons = sorted(reasons, key=lambda f: (f not in evidence, reasons.index(f)))
        certain = any(answers.get(f) == YES for f in evidence)
        # A serious cause whose own sign is present explains an urgent
        # outcome: it is always named, and first, so that the danger is
        # ruled out first (a ruptured Baker's cyst looks like a clot).
        explains = cause.serious and not rules.more_urgent("urgent", level)
        strong = finding_points >= rules.strong_support
        results.append((explains, strong, score, order,
                        CauseResult(cause.id, score, tuple(reasons), uncertain, cause.serious, rule_out=not certain)))
    if not results:
        return ()
    # Only likely causes are named: those close enough to the leading one,
    # and those the answers support strongly on their own.
    lead = max(r[2] for r in results)
    kept = [(explains, score, order, result) for explains, strong, score, order, result in results
            if explains or strong or score >= LIKELY_SHARE * lead]
    kept.sort(key=lambda r: (not r[0], -r[1], r[2]))
    ranked = [r[3] for r in kept]
    # The causes the deciding rules are about come first (rules.yaml `names`, `rule_out`).
    first = [c for rule in rules.disposition_rules if rule.id in fired for c in rule.names + rule.rule_out]
    by_id = {c.id: c for c in ranked}
    front = [by_id[c] for c in dict.fromkeys(first) if c in by_id]
    return tuple(front + [c for c in ranked if c not in front])


AT_HOME = ("doctor", "self_care")  # the levels whose advice is how to look after it at home


def _advice(rules: Rules, answers: Mapping[str, str], level: str, causes: Iterable[CauseResult]) -> tuple[str, ...]:
    """The advice for the outcome as a whole (triage.md, "Advice"; rules.yaml
    `advice` says when each item may be said). Candidates in order of
    importance; each is kept only if it suits the level, the person said yes
    to what it depends on, no named cause forbids it, and nothing already
    kept disagrees with it."""
    named = [c.id for c in causes][:3]
    at_home = level in AT_HOME
    said_yes = {f for f, v in answers.items() if v == YES}
    own = [a for cid in named for a in rules.causes[cid].advice]
    contributing = [a for fid, a in rules.contributing_advice.items() if fid in said_yes]
    level_advice = list(rules.level_advice.get(level, ()))
    candidates = own + contributing + level_advice if at_home else level_advice + own + contributing
    chosen: list[str] = []
    for aid in dict.fromkeys(candidates):
        item = rules.advice[aid]
        if item.for_ == ("until_seen" if at_home else "home"):
            continue
        if item.only_if_yes and not item.only_if_yes & said_yes:
            continue
        if item.not_with_causes.intersection(named):
            continue
        if item.not_with.intersection(chosen):
            continue
        chosen.append(aid)
    limit = rules.max_advice.get(level)
    return tuple(chosen[:limit] if limit else chosen)


def assess(rules: Rules, answers: Mapping[str, str]) -> Assessment:
    level, fired = level_of(rules, answers)
    causes = rank_causes(rules, answers, level, fired)
    uncertain = any(c.uncertain for c in causes[:3])
    unclear = tuple(f for f, v in answers.items() if v == UNCLEAR)
    return Assessment(level, causes, _advice(rules, answers, level, causes), fired, uncertain, unclear,
                      rules.safety_net.get(level, ()))


# --------------------------------------------------------------------------
# What a question can still change (the dialogue's skipping rule)


def possible_answers(question: Question) -> list[dict[str, str]]:
    """The answers a question could get, as findings -> value, "no" excepted.
    A followed-up shared question's yes ends up as one (or more) of its
    findings; one without follow-up counts for all of them."""
    if question.kind == "choice":
        return [{question.findings[0]: option} for option in question.options]
    if question.follow_up:
        return [{f: YES} for f in question.findings]
    return [{f: YES for f in question.findings}]


def can_change_level(rules: Rules, answers: Mapping[str, str], question: Question) -> bool:
    """Could some answer to this question, with any answers still to come,
    make the level more urgent than it is now? Found from the rules
    themselves, so that combinations count (two risk factors asked in two
    questions, each of which alone would change nothing)."""
    open_answers = {k: v for k, v in answers.items() if k not in question.findings}
    current, _ = level_of(rules, open_answers)
    for rule in rules.disposition_rules:
        if not rules.more_urgent(rule.level, current):
            continue
        if not any(rule.mentions(f) for f in question.findings):
            continue
        if rule_possible(rules, open_answers, rule):
            return True
    return False


def can_change_causes(rules: Rules, answers: Mapping[str, str], question: Question) -> bool:
    """Would some answer to this question change which causes are named
    (the top three), given the answers so far (others still counted "no")?"""
    base = {k: v for k, v in answers.items() if k not in question.findings}
    before = set(assess(rules, base).top_ids())
    for extra in possible_answers(question):
        if set(assess(rules, {**base, **extra}).top_ids()) != before:
            return True
    return False


def relevance(rules: Rules, answers: Mapping[str, str], question: Question) -> float:
    """How much a yes would add to the causes that already have some support:
    asks first what sharpens the picture the answers have begun to draw."""
    base = {k: v for k, v in answers.items() if k not in question.findings}
    before = {c.id: _score(rules, base, c)[0] for c in rules.causes.values()}
    supported = [c for c in rules.causes.values() if before[c.id] > 0]
    return max(
        (sum(_score(rules, {**base, **extra}, c)[0] - before[c.id] for c in supported)
         for extra in possible_answers(question)),
        default=0.0,
    )

