"""The outcome as sentences, in the order triage.md asks for.

Emergencies (`ambulance`, `emergency`): the instruction first, the likely
causes from the answers given, what to do while waiting or on the way, not a
diagnosis, the instruction again, last.

Other levels: the likely causes with the answers that point to each, the
level's instruction, the advice, the safety net (when to call the emergency
number, when to go to an emergency department, when to see a doctor sooner),
not a diagnosis.

Every sentence is one short idea, and a reason is said back as the person
gave it: a yes as a fact; a yes to a question about several things as what
was asked ("you said yes when I asked about swelling, warmth, redness or
sore veins"), never as all of them; an "I don't know" as not sure; an answer
not understood as not understood. What is said (which causes, which advice)
is decided by the engine from rules.yaml; this module only words it.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from ..triage.engine import UNCLEAR, UNKNOWN, YES, Assessment, CauseResult
from ..triage.rules import Prompts, Rules

# Reasons said for the first cause, and for each other one (a sentence of its
# own): the defining answers first, then the others, the place last.
MAX_REASONS, MAX_OTHER_REASONS = 3, 2


def _join(parts: list[str]) -> str:
    """"a, b and c"; "a, and b" when a part has its own "and" or commas,
    so that the last one stands apart."""
    if len(parts) <= 1:
        return "".join(parts)
    last = ", and " if any(" and " in p or "," in p for p in parts) else " and "
    return ", ".join(parts[:-1]) + last + parts[-1]


def count_sentences(lines: Iterable[str]) -> int:
    """Sentences, as the person hears them: a line may hold more than one."""
    return sum(len([s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s]) for line in lines)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _asked_together(rules: Rules, answers: Mapping[str, str], via: Mapping[str, str], fid: str) -> str | None:
    """The shared question whose single answer gave this finding, if any:
    `via` says so (the dialogue fills it); otherwise a shared question whose
    findings all have the same "I don't know" or not-understood answer was
    answered once, for all of them."""
    if fid in via:
        return via[fid]
    q = rules.question_of(fid)
    value = answers.get(fid)
    if q.shared and value in (UNKNOWN, UNCLEAR) and all(answers.get(f) == value for f in q.findings):
        return q.id
    return None


def reason_clauses(rules: Rules, prompts: Prompts, cause: CauseResult, answers: Mapping[str, str],
                   via: Mapping[str, str], limit: int = MAX_REASONS) -> list[tuple[str, str]]:
    """The answers that point to a cause, each as the person gave it, one
    clause per question, as (how it was answered, the clause): "yes",
    "asked" (a yes to a shared question), "unknown", "unclear" or "place".
    At most `limit`, the place last."""
    out: list[tuple[str, str]] = []
    said_for: set[tuple[str, str]] = set()  # (question, answer) already said back
    for fid in cause.reasons:
        if fid == "pain_location":
            continue
        value = answers.get(fid)
        question = _asked_together(rules, answers, via, fid)
        if question is not None:
            if (question, value) in said_for:
                continue
            said_for.add((question, value))
        if value == YES and question is None:
            clause = ("yes", prompts.text("findings", fid, "reason"))
        elif value == YES:
            also = prompts.text("outcome", "said_yes_also", topic=prompts.text("topics", question))
            asked = next((n for n, (kind, _) in enumerate(out) if kind == "asked"), None)
            if asked is not None:  # one clause: "you said yes when I asked about A, and about B"
                out[asked] = ("asked", f"{out[asked][1]}, {also}")
                continue
            clause = ("asked", prompts.text("outcome", "said_yes_to", topic=prompts.text("topics", question)))
        elif value == UNKNOWN and question is None:
            clause = ("unknown", prompts.text("outcome", "not_sure_whether", fact=prompts.text("findings", fid, "reason")))
        elif value == UNKNOWN:
            clause = ("unknown", prompts.text("outcome", "not_sure_about", topic=prompts.text("topics", question)))
        elif question is None and rules.question_of(fid).shared:  # not understood, on its own follow-up
            clause = ("unclear", prompts.text("outcome", "not_understood_whether", fact=prompts.text("findings", fid, "reason")))
        else:
            topic = prompts.text("topics", question or rules.question_of(fid).id)
            clause = ("unclear", prompts.text("outcome", "not_understood_about", topic=topic))
        if clause not in out:
            out.append(clause)
    out = out[:limit]
    if "pain_location" in cause.reasons and len(out) < limit:
        place = prompts.text("places_said", answers["pain_location"])
        out.append(("place", prompts.text("findings", "pain_location", "reason", place=place)))
    return out


def _cause_lines(rules: Rules, prompts: Prompts, a: Assessment, answers, via) -> tuple[list[str], bool]:
    """The sentences naming the causes, and whether an "I don't know" was said in them."""
    lines: list[str] = []
    said_unsure = False
    for n, cause in enumerate(a.top):
        name = prompts.text("causes", cause.id)
        clauses = reason_clauses(rules, prompts, cause, answers, via, MAX_REASONS if n == 0 else MAX_OTHER_REASONS)
        said_unsure |= any(kind == "unknown" for kind, _ in clauses)
        because = _join([text for _, text in clauses])
        if n > 0:  # one sentence each after the first, its reasons saying how sure they are
            lines.append(prompts.text("outcome", "other_cause", cause=name, reasons=because))
        elif cause.rule_out:
            lines.append(prompts.text("outcome", "rule_out", cause=name))
            lines.append(prompts.text("outcome", "rule_out_because", reasons=because))
        else:
            lines.append(prompts.text("outcome", "serious_cause" if a.emergency else "top_cause", cause=name))
            lines.append(prompts.text("outcome", "because", reasons=because))
    if not a.top and not a.emergency:
        lines.append(prompts.text("outcome", "no_cause"))
    return [_sentence(s) for s in lines], said_unsure


def outcome_sentences(rules: Rules, prompts: Prompts, a: Assessment, answers, via, unclear: bool = False) -> list[str]:
    """What the person hears after the last question, up to the offer to
    repeat. `unclear`: an answer was not understood (also known from
    `a.unclear`, when the dialogue records it as such)."""
    instruction = prompts.text("levels", a.level)
    causes, said_unsure = _cause_lines(rules, prompts, a, answers, via)
    note: list[str] = []
    if unclear or a.unclear:
        # triage.md: say that some answers could not be understood and that
        # a doctor should check (at self-care: if it does not sound right).
        note.append(prompts.text("outcome", "unclear_self_care" if a.level == "self_care" else "unclear"))
    elif a.uncertain and not said_unsure:
        note.append(prompts.text("outcome", "unsure"))
    advice = [prompts.text("advice", x) for x in a.advice]
    if a.emergency:
        return [instruction] + causes + note + advice + [prompts.say("not_a_diagnosis"), instruction]
    safety_net = [prompts.text("advice", x) for x in a.safety_net]
    return causes + note + [instruction] + advice + safety_net + [prompts.say("not_a_diagnosis")]


def stop_sentences(rules: Rules, prompts: Prompts, a: Assessment) -> list[str]:
    """What is said when a consultation ends early (stop, silence, walk-away):
    the emergency instruction if one was reached, else the safety net."""
    if a.emergency:
        lines = [prompts.text("levels", a.level)]
    else:
        lines = [prompts.say("safety_net")]
    return lines + [prompts.say("not_a_diagnosis"), prompts.say("goodbye")]
