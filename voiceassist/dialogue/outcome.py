"""The outcome as sentences, in the order triage.md asks for.

Emergency levels: the instruction first, the likely causes, what to do while
waiting, not a diagnosis, the instruction again. Other levels: the likely
causes with the answers that point to each, self-care, the level's
instruction, when to get help sooner, not a diagnosis.
"""

from __future__ import annotations

from typing import Mapping

from ..triage.engine import Assessment, CauseResult
from ..triage.rules import Prompts, Rules


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def reasons(prompts: Prompts, cause: CauseResult, answers: Mapping[str, str], via: Mapping[str, str]) -> str:
    """The answers that point to a cause, in plain words, one reason per
    shared question answered with a single yes."""
    out: list[str] = []
    for fid in cause.reasons:
        if fid == "pain_location":
            place = prompts.text("option_names", "pain_location", answers["pain_location"])
            out.append(prompts.text("findings", "pain_location", "reason", place=place))
        elif fid in via:
            out.append(prompts.text("shared_reasons", via[fid]))
        else:
            out.append(prompts.text("findings", fid, "reason"))
    return _join(list(dict.fromkeys(out)))


def _cause_lines(prompts: Prompts, a: Assessment, answers, via, emergency: bool, unclear: bool) -> list[str]:
    lines: list[str] = []
    for n, cause in enumerate(a.top):
        name = prompts.text("causes", cause.id)
        if n == 0:
            lines.append(prompts.say("serious_cause" if emergency else "top_cause", cause=name))
        else:
            lines.append(prompts.say("other_cause", cause=name))
        because = reasons(prompts, cause, answers, via)
        if because:
            lines.append(prompts.say("because", reasons=because))
    if not a.top and not emergency:
        lines.append(prompts.say("no_cause"))
    if unclear:
        lines.append(prompts.say("unclear"))
    elif a.uncertain:
        lines.append(prompts.say("unsure"))
    return lines


def outcome_sentences(rules: Rules, prompts: Prompts, a: Assessment, answers, via, unclear: bool = False) -> list[str]:
    """`unclear`: an answer was not understood and taken as "I don't know"."""
    instruction = prompts.text("levels", a.level)
    level_advice = set(rules.level_advice.get(a.level, ()))
    if a.emergency:
        lines = [instruction]
        lines += _cause_lines(prompts, a, answers, via, emergency=True, unclear=unclear)
        lines.append(prompts.say("while_waiting"))
        lines += [prompts.text("advice", x) for x in a.advice]
        lines.append(prompts.say("not_a_diagnosis"))
        lines.append(instruction)
        return lines
    lines = [prompts.say("outcome_intro")]
    lines += _cause_lines(prompts, a, answers, via, emergency=False, unclear=unclear)
    own = [x for x in a.advice if x not in level_advice]
    if own:
        lines.append(prompts.say("what_to_do"))
        lines += [prompts.text("advice", x) for x in own]
    lines.append(instruction)
    lines += [prompts.text("advice", x) for x in a.advice if x in level_advice]
    lines.append(prompts.say("not_a_diagnosis"))
    return lines


def stop_sentences(rules: Rules, prompts: Prompts, a: Assessment) -> list[str]:
    """What is said when a consultation ends early (stop, silence, walk-away):
    the emergency instruction if one was reached, else the safety net."""
    if a.emergency:
        lines = [prompts.text("levels", a.level)]
    else:
        lines = [prompts.say("safety_net")]
    return lines + [prompts.say("not_a_diagnosis"), prompts.say("goodbye")]
