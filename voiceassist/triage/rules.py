"""Load and validate the triage rules (voiceassist/triage/rules.yaml).

The file is checked at start-up: first its shape (schema.py), then every
cross-reference (a finding named in a rule exists, every cause has
advice...). The first problem found raises `ConfigError` whose message is
one line naming the file, the entry and the problem. Nothing starts on
invalid rules. The rules as data are model.py; `load` loads the rules and
their prompts (prompts.py).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..yamlfile import ConfigError, read_yaml
from .model import Advice, Cause, Condition, DispositionRule, Finding, Question, Rules
from .prompts import Prompts, default_prompts_path, emergency_number, load_prompts
from .schema import ANSWERS, COMMANDS, EMERGENCY_LEVELS, GROUPS, LEVELS, RULES_SCHEMA, schema_check

# Also imported from here: the rules and their prompts are loaded as one.
__all__ = ["ANSWERS", "Advice", "COMMANDS", "Cause", "Condition", "ConfigError", "DispositionRule", "Finding", "LEVELS",
           "Prompts", "Question", "Rules", "default_prompts_path",
           "default_rules_path", "emergency_number", "load", "load_prompts", "load_rules"]


def default_rules_path() -> Path:
    return Path(str(resources.files("voiceassist.triage") / "rules.yaml"))


def load_rules(path: str | Path | None = None) -> Rules:
    path = Path(path) if path else default_rules_path()
    data = read_yaml(path)
    schema_check(path, data, RULES_SCHEMA)
    return _build_rules(path, data)


def _build_rules(path: Path, data: dict) -> Rules:
    def fail(entry: str, problem: str) -> None:
        raise ConfigError(path, entry, problem)

    levels = tuple(data["levels"])
    if levels != LEVELS:
        fail("levels", f"must be {list(LEVELS)} (most urgent first), got {list(levels)}")

    findings: dict[str, Finding] = {}
    for fid, spec in data["findings"].items():
        kind = spec.get("kind", "yes_no")
        options = tuple(spec.get("options", ()))
        if kind == "choice" and not options:
            fail(f"findings.{fid}", "a choice finding needs options")
        if kind == "yes_no" and options:
            fail(f"findings.{fid}", "options are only for kind: choice")
        findings[fid] = Finding(fid, spec["group"], kind, options)

    def named_sets(key: str, known: Mapping[str, Any], what: str) -> dict[str, tuple[str, ...]]:
        """`sets` (of findings) or `cause_sets`: named lists of known ids."""
        out: dict[str, tuple[str, ...]] = {}
        for sid, members in (data.get(key) or {}).items():
            if sid in known:
                fail(f"{key}.{sid}", f"a set cannot have the name of a {what}")
            for m in members:
                if m not in known:
                    fail(f"{key}.{sid}", f"unknown {what} id {m!r}")
            out[sid] = tuple(members)
        return out

    sets = named_sets("sets", findings, "finding")

    def expand(entry: str, ids: list[str], allow_choice: bool = False) -> frozenset[str]:
        out: set[str] = set()
        for i in ids:
            if i in sets:
                out |= set(sets[i])
            elif i in findings:
                if findings[i].kind == "choice" and not allow_choice:
                    fail(entry, f"{i!r} is a short-answer finding; use pain_location: [...]")
                out.add(i)
            else:
                fail(entry, f"unknown finding id {i!r}")
        return frozenset(out)

    location = findings.get("pain_location")
    rules: list[DispositionRule] = []
    seen_rule_ids: set[str] = set()
    for n, spec in enumerate(data["disposition_rules"]):
        entry = f"disposition_rules[{n}] ({spec['id']})"
        if spec["id"] in seen_rule_ids:
            fail(entry, "duplicate rule id")
        seen_rule_ids.add(spec["id"])
        if spec["level"] not in LEVELS or spec["level"] == "self_care":
            fail(entry, f"level {spec['level']!r} is not one of {list(LEVELS[:-1])}")
        conds: list[Condition] = []
        for c in spec["when"]:
            if "at_least" in c or "of" in c:
                if set(c) != {"at_least", "of"}:
                    fail(entry, "at_least goes with of, and alone in its clause")
                conds.append(Condition("at_least", expand(entry, c["of"]), count=c["at_least"]))
            elif len(c) != 1:
                fail(entry, f"one condition per clause, got {sorted(c)}")
            elif "pain_location" in c:
                if location is None:
                    fail(entry, "pain_location is not a finding")
                for place in c["pain_location"]:
                    if place not in location.options:
                        fail(entry, f"unknown pain_location option {place!r}")
                conds.append(Condition("pain_location", places=frozenset(c["pain_location"])))
            else:
                kind = next(iter(c))
                conds.append(Condition(kind, expand(entry, c[kind])))
        rules.append(
            DispositionRule(spec["id"], spec["level"], tuple(conds), spec.get("safety", False),
                            tuple(spec.get("names", ())), tuple(spec.get("rule_out", ())))
        )

    questions: list[Question] = []
    covered: dict[str, str] = {}
    last_rank = 0
    for n, spec in enumerate(data["questions"]):
        entry = f"questions[{n}] ({spec['id']})"
        if any(q.id == spec["id"] for q in questions):
            fail(entry, "duplicate question id")
        fids = spec["findings"]
        for f in fids:
            if f not in findings:
                fail(entry, f"unknown finding id {f!r}")
            if f in covered:
                fail(entry, f"finding {f!r} is already asked by question {covered[f]!r}")
            covered[f] = spec["id"]
        kinds = {findings[f].kind for f in fids}
        if "choice" in kinds and len(fids) > 1:
            fail(entry, "a short-answer finding must have a question of its own")
        groups = sorted({findings[f].group for f in fids}, key=GROUPS.index)
        group = groups[0]
        # Ambulance questions first, then emergency, then the rest (triage.md).
        rank = min(GROUPS.index(group), 2)
        if rank < last_rank:
            fail(entry, f"a {group} question must come before the questions of less urgent groups")
        last_rank = rank
        if spec.get("follow_up") and len(fids) < 2:
            fail(entry, "follow_up is only for questions with several findings")
        first = findings[fids[0]]
        questions.append(
            Question(spec["id"], tuple(fids), group, first.kind, first.options, spec.get("follow_up", False))
        )
    for fid in findings:
        if fid not in covered:
            fail(f"findings.{fid}", "no question asks for this finding")

    for n, rule in enumerate(rules):
        for cid in rule.names + rule.rule_out:
            if cid not in data["causes"]:
                fail(f"disposition_rules[{n}] ({rule.id})", f"unknown cause id {cid!r}")

    places = frozenset(location.options) if location else frozenset()
    causes: dict[str, Cause] = {}
    for cid, spec in data["causes"].items():
        entry = f"causes.{cid}"
        points: dict[str, float] = {}
        for key, weight in spec["points"].items():
            if "=" in key:
                fid, _, option = key.partition("=")
                if fid not in findings or findings[fid].kind != "choice":
                    fail(entry, f"{fid!r} is not a short-answer finding")
                if option not in findings[fid].options:
                    fail(entry, f"unknown {fid} option {option!r}")
                points[key] = float(weight)
            else:
                expand(entry, [key])  # checks it
                # A set in its written order: the reasons are said in this order.
                for f in sets.get(key, (key,)):
                    points[f] = max(points.get(f, 0.0), float(weight))
        defining = expand(f"{entry}.defining", spec["defining"])
        for f in sorted(defining):
            # triage.md: a clot risk factor alone never names a cause.
            if findings[f].group == "risk":
                fail(f"{entry}.defining", f"{f!r} is a clot risk factor: it never names a cause alone")
            if f not in points:
                fail(f"{entry}.defining", f"{f!r} has no points: it could not be said as a reason")
        for place in spec.get("places", []):
            if place not in places:
                fail(f"{entry}.places", f"unknown pain_location option {place!r}")
        causes[cid] = Cause(
            cid, points, defining, tuple(spec.get("places", ())), spec.get("least_level"),
            tuple(spec["advice"]), places - set(spec["places"]) if spec.get("places") else frozenset(),
        )

    cause_sets = named_sets("cause_sets", causes, "cause")

    advice: dict[str, Advice] = {}
    for aid, spec in data["advice"].items():
        entry = f"advice.{aid}"
        spec = spec or {}
        not_with_causes: set[str] = set()
        for cid in spec.get("not_with_causes", []):
            if cid in cause_sets:
                not_with_causes |= set(cause_sets[cid])
            elif cid in causes:
                not_with_causes.add(cid)
            else:
                fail(entry, f"unknown cause id {cid!r}")
        for other in spec.get("not_with", []):
            if other not in data["advice"]:
                fail(entry, f"unknown advice id {other!r}")
        advice[aid] = Advice(aid, spec.get("for", "any"), expand(entry, spec.get("only_if_yes", [])),
                             frozenset(not_with_causes), frozenset(spec.get("not_with", [])))
    # Disagreement goes both ways: "rest" that may not meet "keep active" keeps
    # "keep active" from meeting "rest" too.
    for aid, item in advice.items():
        others = item.not_with | {b for b, other in advice.items() if aid in other.not_with}
        advice[aid] = Advice(item.id, item.for_, item.only_if_yes, item.not_with_causes, frozenset(others))

    def advice_list(entry: str, ids: list[str]) -> tuple[str, ...]:
        for aid in ids:
            if aid not in advice:
                fail(entry, f"advice id {aid!r} is not in advice")
        return tuple(ids)

    for cid, cause in causes.items():
        advice_list(f"causes.{cid}.advice", list(cause.advice))
    level_advice = {k: advice_list(f"level_advice.{k}", v) for k, v in data["level_advice"].items()}
    for lvl in level_advice:
        if lvl not in LEVELS:
            fail(f"level_advice.{lvl}", "unknown level")
    contributing = dict(data.get("contributing_advice") or {})
    for fid, aid in contributing.items():
        if fid not in findings:
            fail(f"contributing_advice.{fid}", f"unknown finding id {fid!r}")
        advice_list(f"contributing_advice.{fid}", [aid])
    safety_net = {k: advice_list(f"safety_net.{k}", v) for k, v in data["safety_net"].items()}
    for lvl in LEVELS:
        if lvl in EMERGENCY_LEVELS:
            if lvl in safety_net:
                fail(f"safety_net.{lvl}", "an emergency outcome has no safety net: it is the emergency")
        elif lvl not in safety_net:
            fail(f"safety_net.{lvl}", "every outcome that is not an emergency needs its safety net")
    max_advice = dict(data.get("max_advice") or {})
    for lvl in max_advice:
        if lvl not in LEVELS:
            fail(f"max_advice.{lvl}", "unknown level")

    return Rules(
        path=str(path),
        levels=levels,
        findings=findings,
        sets=sets,
        disposition_rules=tuple(rules),
        questions=tuple(questions),
        causes=causes,
        level_advice=level_advice,
        contributing_advice=contributing,
        advice=advice,
        safety_net=safety_net,
        max_advice=max_advice,
        strong_support=float(data.get("strong_support", 3.0)),
    )


def load(rules_path: str | Path | None = None, prompts_path: str | Path | None = None) -> tuple[Rules, Prompts]:
    rules = load_rules(rules_path)
    return rules, load_prompts(rules, prompts_path)
