"""The clinical review sheet: the rules and the prompts as one readable document.

    voiceassist review [--cases CASES.yaml ...] [-o docs/clinical-review.md]

Everything a clinician needs to review the assistant without reading Python:
each question as spoken and what each answer does to the level, the
disposition rules in words, each cause with its findings, places, level and
advice, the advice with when it may be said, the safety net, and the full
spoken transcript of every case given (the public vignettes), run through
the real dialogue with the text patient. Generated from rules.yaml and the
prompts file, so that every change to them shows up in review as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .replay import Case, TextPatient, load_cases, run_case
from .triage.rules import Condition, Prompts, Rules

GROUP_NAMES = {
    "ambulance": "ambulance-level red flag", "emergency": "emergency-level sign", "urgent": "urgent-level finding",
    "doctor": "doctor-level finding", "risk": "clot risk factor", "pattern": "pattern finding",
}
FOR_NAMES = {"home": "self-care (doctor, self_care only)", "until_seen": "until seen (urgent and above only)",
             "any": "any level"}


def _ids(rules: Rules, ids: Iterable[str]) -> str:
    """Findings in the rules' order, a whole named set by its name."""
    ids = set(ids)
    parts = []
    for name, members in rules.sets.items():
        if set(members) <= ids and len(members) > 1:
            parts.append(f"{name} ({', '.join(members)})")
            ids -= set(members)
    parts += [f for f in rules.findings if f in ids]
    return ", ".join(parts)


def _condition(rules: Rules, c: Condition) -> str:
    if c.kind == "pain_location":
        return "the pain is in: " + ", ".join(sorted(c.places))
    if c.kind == "any":
        return "any of " + _ids(rules, c.findings)
    if c.kind == "none":
        return "none of " + _ids(rules, c.findings)
    return f"at least {c.count} of " + _ids(rules, c.findings)


def _rule(rules: Rules, rule) -> str:
    text = f"`{rule.id}` -> **{rule.level}**: " + "; and ".join(_condition(rules, c) for c in rule.conditions)
    if rule.names:
        text += f". Names first: {', '.join(rule.names)}"
    if rule.rule_out:
        text += f". Names first, as something to rule out today: {', '.join(rule.rule_out)}"
    return text + ("." if not text.endswith(".") else "") + (" (safety rule)" if rule.safety else "")


def _effects(rules: Rules, finding: str) -> str:
    """What a yes to this finding does to the level."""
    found = [r for r in rules.disposition_rules if r.mentions(finding)]
    if not found:
        return "no level rule (it points to causes only)"
    return "; ".join(f"{r.level} by `{r.id}`" + ("" if len(r.conditions) == 1 else " (with its other conditions)")
                     for r in found)


def _questions(rules: Rules, prompts: Prompts) -> list[str]:
    out = ["## Questions, in the order they are asked", "",
           "Ambulance-level questions first, then emergency-level, then the rest; a question is skipped when no "
           "answer to it could change the level or the causes named. `again` is said after an \"I don't know\" "
           "to a red flag, or an answer not understood.", ""]
    for n, q in enumerate(rules.questions, 1):
        text = prompts.data["questions"][q.id]
        out.append(f"### {n}. `{q.id}` ({GROUP_NAMES[q.group]})")
        out.append("")
        out.append(f"- Asked: \"{prompts.text('questions', q.id, 'ask')}\"")
        out.append(f"- Again: \"{prompts.text('questions', q.id, 'again')}\"")
        out.append(f"- Help: \"{text['help']}\"")
        out.append(f"- Said back as: \"{prompts.text('topics', q.id)}\"")
        if q.kind == "choice":
            for option in q.options:
                rules_ = [r for r in rules.disposition_rules
                          if any(c.kind == "pain_location" and option in c.places for c in r.conditions)]
                effect = "; ".join(f"{r.level} by `{r.id}` (with its other conditions)" for r in rules_) or "no level rule"
                causes = [c.id for c in rules.causes.values() if not c.explains(option)]
                out.append(f"- \"{prompts.canonical(option, q.findings[0])}\": {effect}"
                           + (f"; rules out naming {', '.join(causes)}" if causes else "") + ".")
        else:
            if q.shared:
                follow = ("is followed up finding by finding when that could change the level, the causes or what "
                          "is said back" if q.follow_up else "counts as one finding, the most urgent of them")
                out.append(f"- Shares {len(q.findings)} findings; a yes {follow}.")
            for f in q.findings:
                ask = prompts.data["findings"][f].get("ask")
                line = f"- `{f}`: yes -> {_effects(rules, f)}."
                if ask:
                    line += f" Its own question: \"{ask}\""
                out.append(line)
            if q.red_flag:
                out.append("- \"I don't know\": asked once more in other words; still not known, it counts as yes. "
                           "Not understood: counts as yes.")
            else:
                out.append("- \"I don't know\": counts as no for the level, and makes the causes less certain. "
                           "Not understood: the level is at least what a yes would have given.")
        out.append("")
    return out


def _causes(rules: Rules, prompts: Prompts) -> list[str]:
    out = ["## Causes", "",
           "A cause is named only when one of its defining findings is yes (an \"I don't know\" or an answer not "
           "understood counts for a red flag only, and the cause is then said as something to rule out), only "
           "where it explains the pain, and a serious cause only at its least level or above. At most three are "
           "named.", ""]
    for cause in rules.causes.values():
        out.append(f"### `{cause.id}`: \"{prompts.text('causes', cause.id)}\"")
        out.append("")
        out.append(f"- Defining findings: {_ids(rules, cause.defining)}.")
        out.append(f"- Places: {', '.join(cause.places) if cause.places else 'any'}.")
        if cause.least_level:
            out.append(f"- Serious: never named in an outcome less urgent than **{cause.least_level}**.")
        named_by = [r.id for r in rules.disposition_rules if cause.id in r.names]
        ruled_out_by = [r.id for r in rules.disposition_rules if cause.id in r.rule_out]
        if named_by:
            out.append(f"- Named first when these rules hold: {', '.join(named_by)}.")
        if ruled_out_by:
            out.append(f"- Named as something to rule out today when these rules hold: {', '.join(ruled_out_by)}.")
        points = ", ".join(f"{k} {v:g}" for k, v in cause.points.items())
        out.append(f"- Points (for ranking): {points}.")
        out.append("- Advice: " + ("; ".join(f"`{a}`" for a in cause.advice) or "none of its own") + ".")
        out.append("")
    return out


def _advice(rules: Rules, prompts: Prompts) -> list[str]:
    out = ["## Advice", "",
           "Chosen for the outcome as a whole: at the emergency levels the level's own advice first, then the named "
           "causes' (most likely first); at the others the causes' and then the contributing advice. An item is "
           "left out when it does not suit the level, depends on a yes not given, is forbidden with a named cause, "
           "or disagrees with one already chosen.", "",
           "| id | said | when | only after a yes to | never with the causes | never with |",
           "|---|---|---|---|---|---|"]
    for aid, item in rules.advice.items():
        out.append(f"| `{aid}` | {prompts.text('advice', aid)} | {FOR_NAMES[item.for_]} | "
                   f"{', '.join(sorted(item.only_if_yes))} | {', '.join(sorted(item.not_with_causes))} | "
                   f"{', '.join(sorted(item.not_with))} |")
    out += ["", "By level (said first at the emergency levels):", ""]
    for level in rules.levels:
        items = rules.level_advice.get(level, ())
        out.append(f"- {level}: " + (", ".join(f"`{a}`" for a in items) or "none") +
                   f"; at most {rules.max_advice.get(level, 'any number of')} advice sentences.")
    out += ["", "For a finding, whatever the causes:", ""]
    out += [f"- `{f}` yes: `{a}`" for f, a in rules.contributing_advice.items()]
    out += ["", "### Safety net", "", "Said after the advice on every outcome that is not an emergency:", ""]
    for level, items in rules.safety_net.items():
        out.append(f"- {level}: " + " ".join(f"\"{prompts.text('advice', a)}\"" for a in items))
    out.append("")
    return out


def _transcripts(rules: Rules, prompts: Prompts, title: str, cases: list[Case]) -> list[str]:
    out = [f"## Transcripts: {title}", "",
           "Each case through the real dialogue, answered by the text patient (every finding not listed is no).", ""]
    patient = TextPatient(prompts)
    for case in cases:
        result = run_case(rules, prompts, case, patient)
        out.append(f"### `{case.id}`" + (f": {case.story}" if case.story else ""))
        out.append("")
        given = ", ".join(f"{k}: {v}" for k, v in case.answers.items())
        out.append(f"Answers: {given or 'none'}.")
        out.append("")
        for line in result.transcript:
            who, _, text = line.partition(": ")
            out.append(f"- **{who}:** {text}" if who == "assistant" else f"- *{who}:* {text}")
        verdict = {True: "passes", False: "FAILS", None: "no expectation"}[result.passed]
        expected = ""
        if case.expect:
            expected = f" Expected {case.expect['level']}: {', '.join(case.expect.get('causes') or []) or 'no cause'}."
        out.append("")
        out.append(f"Outcome: **{result.level}**, causes {', '.join(result.causes) or 'none'}, "
                   f"{result.questions} answers.{expected} ({verdict})")
        out.append("")
    return out


def review(rules: Rules, prompts: Prompts, case_files: Iterable[str | Path] = ()) -> str:
    """The review sheet as Markdown."""
    out = ["# Clinical review sheet", "",
           "Generated by `voiceassist review` from `voiceassist/triage/rules.yaml` and "
           "`voiceassist/prompts/en.yaml`: do not edit by hand; change the rules or the prompts and generate it "
           "again. Every sentence below is what the person hears.", ""]
    out += ["## Levels", "", "| level | the instruction |", "|---|---|"]
    out += [f"| {level} | {prompts.text('levels', level)} |" for level in rules.levels]
    out += ["", "## Disposition rules", "", "The level is the most urgent one that any rule reaches.", ""]
    out += [f"- {_rule(rules, r)}" for r in rules.disposition_rules]
    out += [""]
    out += _questions(rules, prompts)
    out += _causes(rules, prompts)
    out += _advice(rules, prompts)
    for path in case_files:
        path = Path(path)
        out += _transcripts(rules, prompts, path.name, load_cases(path, rules))
    return "\n".join(out).rstrip() + "\n"
