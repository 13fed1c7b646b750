"""Load and validate the triage rules and the prompts.

Both files are checked at start-up: first their shape (jsonschema), then every
cross-reference (a finding named in a rule exists, every question has wording,
every cause has advice...). The first problem found raises `ConfigError`
whose message is one line naming the file, the entry and the problem.
Nothing starts on invalid rules.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from ..yamlfile import ConfigError, read_yaml

LEVELS = ("ambulance", "emergency", "urgent", "doctor", "self_care")
GROUPS = ("ambulance", "emergency", "urgent", "doctor", "risk", "pattern")
RED_FLAG_GROUPS = ("ambulance", "emergency")
ANSWERS = ("yes", "no", "unknown")
COMMANDS = ("repeat", "help", "go_back", "stop", "slower", "faster", "louder", "quieter")
EMERGENCY_NUMBER = re.compile(r"[0-9]{2,6}")  # 999, 112, 911, 000, 0112...: always text


def emergency_number(value: object) -> str:
    """The emergency number as text, checked: 2 to 6 digits, a leading zero
    kept. Raises ValueError with the problem (the caller says where)."""
    text = str(value).strip() if value is not None else ""
    if not EMERGENCY_NUMBER.fullmatch(text):
        raise ValueError(f"the emergency number must be 2 to 6 digits (such as 999, 112 or 000), not {value!r}")
    return text


# --------------------------------------------------------------------------
# Data


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


@dataclass(frozen=True)
class Prompts:
    path: str
    data: Mapping[str, Any]
    # phrase -> (category, value): ("answer", "yes"), ("option", "calf"), ("command", "stop")
    answer_phrases: Mapping[str, str] = field(default_factory=dict)
    option_phrases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    command_phrases: Mapping[str, str] = field(default_factory=dict)

    def say(self, key: str, **kw: Any) -> str:
        return _fill(self.data["say"][key], self, **kw)

    def say_list(self, key: str) -> list[str]:
        value = self.data["say"][key]
        return [value] if isinstance(value, str) else list(value)

    def text(self, *path: str, **kw: Any) -> str:
        node: Any = self.data
        for p in path:
            node = node[p]
        return _fill(node, self, **kw)

    @property
    def emergency_number(self) -> str:
        return self.data["emergency_number"]

    def with_emergency_number(self, number: str) -> "Prompts":
        """The same prompts telling the person to call `number` (checked)."""
        return dataclasses.replace(self, data={**self.data, "emergency_number": emergency_number(number)})

    def canonical(self, value: str, finding: str | None = None) -> str:
        """The first phrase for an answer, an option or a command."""
        if value in self.data["answers"]:
            return self.data["answers"][value][0]
        if value in self.data["commands"]:
            return self.data["commands"][value][0]
        for fid, options in self.data["options"].items():
            if (finding is None or fid == finding) and value in options:
                return options[value][0]
        raise KeyError(value)


def _fill(template: str, prompts: Prompts, **kw: Any) -> str:
    kw.setdefault("number", prompts.data["emergency_number"])
    return template.format(**kw) if "{" in template else template


# --------------------------------------------------------------------------
# Loading


def _schema_check(path: Path, data: Any, schema: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        err = errors[0]
        entry = ".".join(str(p) for p in err.path) or "(top level)"
        raise ConfigError(path, entry, _plain_schema_message(err))


def _plain_schema_message(err: jsonschema.ValidationError) -> str:
    if err.validator == "required":
        return err.message.replace("is a required property", "is missing")
    if err.validator == "additionalProperties":
        return "unknown key: " + err.message.split("(")[-1].rstrip(")").replace(" was unexpected", "")
    if err.validator == "type":
        return f"should be {err.validator_value}, not {type(err.instance).__name__} ({err.instance!r})"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {list(err.validator_value)}"
    return err.message


_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
_ID_LIST = {"type": "array", "items": _ID, "minItems": 1}
_CONDITION = {
    "type": "object",
    "properties": {
        "any": _ID_LIST,
        "none": _ID_LIST,
        "at_least": {"type": "integer", "minimum": 1},
        "of": _ID_LIST,
        "pain_location": _ID_LIST,
    },
    "additionalProperties": False,
    "minProperties": 1,
}
RULES_SCHEMA = {
    "type": "object",
    "required": ["levels", "findings", "disposition_rules", "questions", "causes", "advice", "level_advice", "safety_net"],
    "additionalProperties": False,
    "properties": {
        "levels": {"type": "array", "items": _ID},
        "strong_support": {"type": "number", "exclusiveMinimum": 0},
        "findings": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["group"],
                "additionalProperties": False,
                "properties": {
                    "group": {"enum": list(GROUPS)},
                    "kind": {"enum": ["yes_no", "choice"]},
                    "options": _ID_LIST,
                },
            },
        },
        "sets": {"type": "object", "additionalProperties": _ID_LIST},
        "disposition_rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "level", "when"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "level": {"type": "string"},
                    "safety": {"type": "boolean"},
                    "names": _ID_LIST,
                    "rule_out": _ID_LIST,
                    "when": {"type": "array", "items": _CONDITION, "minItems": 1},
                },
            },
        },
        "questions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "findings"],
                "additionalProperties": False,
                "properties": {"id": _ID, "findings": _ID_LIST, "follow_up": {"type": "boolean"}},
            },
        },
        "causes": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["defining", "points", "advice"],
                "additionalProperties": False,
                "properties": {
                    "least_level": {"enum": list(LEVELS)},
                    "defining": _ID_LIST,
                    "places": _ID_LIST,
                    "points": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                    },
                    "advice": {"type": "array", "items": _ID},
                },
            },
        },
        "cause_sets": {"type": "object", "additionalProperties": _ID_LIST},
        "advice": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "for": {"enum": ["home", "until_seen", "any"]},
                    "only_if_yes": _ID_LIST,
                    "not_with_causes": _ID_LIST,
                    "not_with": _ID_LIST,
                },
            },
        },
        "level_advice": {"type": "object", "additionalProperties": {"type": "array", "items": _ID}},
        "contributing_advice": {"type": "object", "additionalProperties": _ID},
        "max_advice": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
        "safety_net": {"type": "object", "additionalProperties": _ID_LIST},
    },
}

_TEXT = {"type": "string", "minLength": 1}
_PHRASES = {"type": "array", "items": {"type": "string", "pattern": r"^[a-z][a-z' ]*[a-z]$"}, "minItems": 1}
PROMPTS_SCHEMA = {
    "type": "object",
    "required": [
        "language", "answers", "options", "commands", "emergency_number", "answer_names",
        "option_names", "say", "levels", "questions", "topics", "places_said", "findings", "causes", "advice", "outcome",
        "kiosk",
    ],
    "additionalProperties": False,
    "properties": {
        "language": _TEXT,
        "emergency_number": {"type": "string"},  # read as written: 000 stays "000"
        "answers": {
            "type": "object",
            "required": list(ANSWERS),
            "additionalProperties": False,
            "properties": {a: _PHRASES for a in ANSWERS},
        },
        "options": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": _PHRASES}},
        "commands": {
            "type": "object",
            "required": list(COMMANDS),
            "additionalProperties": False,
            "properties": {c: _PHRASES for c in COMMANDS},
        },
        "answer_names": {"type": "object", "required": list(ANSWERS), "additionalProperties": _TEXT},
        "option_names": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": _TEXT}},
        "say": {
            "type": "object",
            "additionalProperties": {"oneOf": [_TEXT, {"type": "array", "items": _TEXT, "minItems": 1}]},
        },
        "levels": {"type": "object", "additionalProperties": _TEXT},
        "questions": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["ask", "again", "help"],
                "additionalProperties": False,
                "properties": {"ask": _TEXT, "again": _TEXT, "help": _TEXT},
            },
        },
        "findings": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["reason"],
                "additionalProperties": False,
                "properties": {"reason": _TEXT, "ask": _TEXT},
            },
        },
        "topics": {"type": "object", "additionalProperties": _TEXT},
        "outcome": {"type": "object", "additionalProperties": _TEXT},
        "places_said": {"type": "object", "additionalProperties": _TEXT},
        "causes": {"type": "object", "additionalProperties": _TEXT},
        "advice": {"type": "object", "additionalProperties": _TEXT},
        "kiosk": {
            "type": "object",
            "required": ["start", "idle", "mic_lost", "mic_back", "speech_lost", "error", "emergency",
                         "out_of_order", "emergency_unknown"],
            "additionalProperties": False,
            "properties": {
                "start": _PHRASES,
                "idle": _TEXT, "mic_lost": _TEXT, "mic_back": _TEXT, "speech_lost": _TEXT, "error": _TEXT,
                "emergency": _TEXT, "out_of_order": _TEXT, "emergency_unknown": _TEXT,
            },
        },
    },
}

# Every system sentence the dialogue uses; a prompts file must have them all.
REQUIRED_SAY = (
    "welcome", "how_to_answer", "help_yes_no", "help_choice", "help_commands", "no_input", "no_match",
    "confirm", "confirm_help", "confirm_stop", "try_again", "check", "ask_another_way", "cap_red_flag", "cap_other",
    "cannot_go_back", "one_more_question", "first_question", "going_back", "slower",
    "faster", "louder", "quieter", "stop", "gave_up", "error", "safety_net", "not_a_diagnosis", "offer_repeat",
    "goodbye",
)
# Every sentence of the outcome (dialogue/outcome.py) that is not advice.
REQUIRED_OUTCOME = (
    "top_cause", "serious_cause", "because", "other_cause", "rule_out", "rule_out_because", "said_yes_to",
    "said_yes_also", "not_sure_whether", "not_sure_about", "not_understood_about", "not_understood_whether",
    "no_cause", "unsure", "unclear", "unclear_self_care",
)


def default_rules_path() -> Path:
    return Path(str(resources.files("voiceassist.triage") / "rules.yaml"))


def default_prompts_path(language: str = "en") -> Path:
    return Path(str(resources.files("voiceassist") / "prompts" / f"{language}.yaml"))


def load_rules(path: str | Path | None = None) -> Rules:
    path = Path(path) if path else default_rules_path()
    data = read_yaml(path)
    _schema_check(path, data, RULES_SCHEMA)
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
        if lvl in ("ambulance", "emergency"):
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


def load_prompts(rules: Rules, path: str | Path | None = None) -> Prompts:
    path = Path(path) if path else default_prompts_path()
    data = read_yaml(path, text_keys={"emergency_number"})
    _schema_check(path, data, PROMPTS_SCHEMA)

    def fail(entry: str, problem: str) -> None:
        raise ConfigError(path, entry, problem)

    try:
        emergency_number(data["emergency_number"])
    except ValueError as exc:
        fail("emergency_number", str(exc))
    for key in REQUIRED_SAY:
        if key not in data["say"]:
            fail(f"say.{key}", "missing sentence")
    for lvl in LEVELS:
        if lvl not in data["levels"]:
            fail(f"levels.{lvl}", "missing instruction for this level")
    for key in REQUIRED_OUTCOME:
        if key not in data["outcome"]:
            fail(f"outcome.{key}", "missing sentence")
    for q in rules.questions:
        if q.id not in data["questions"]:
            fail(f"questions.{q.id}", "question without wording")
        if q.id not in data["topics"]:
            fail(f"topics.{q.id}", "question without a topic (said back: \"when I asked about ...\")")
    for qid in data["topics"]:
        if not any(q.id == qid for q in rules.questions):
            fail(f"topics.{qid}", f"unknown question id {qid!r}")
    for qid in data["questions"]:
        if not any(q.id == qid for q in rules.questions):
            fail(f"questions.{qid}", f"unknown question id {qid!r}")
    for fid, finding in rules.findings.items():
        if fid not in data["findings"]:
            fail(f"findings.{fid}", "finding without a reason sentence")
        q = rules.question_of(fid)
        if q.follow_up and "ask" not in data["findings"][fid]:
            fail(f"findings.{fid}", f"needs an ask sentence (question {q.id!r} follows it up)")
        if finding.kind == "choice":
            for option in finding.options:
                if option not in (data["options"].get(fid) or {}):
                    fail(f"options.{fid}.{option}", "option without phrases")
                if option not in (data["option_names"].get(fid) or {}):
                    fail(f"option_names.{fid}.{option}", "option without a name")
                if option not in data["places_said"]:
                    fail(f"places_said.{option}", "option without the words that say it back")
    for fid in data["findings"]:
        if fid not in rules.findings:
            fail(f"findings.{fid}", f"unknown finding id {fid!r}")
    for cid in rules.causes:
        if cid not in data["causes"]:
            fail(f"causes.{cid}", "cause without a name")
    for cid in data["causes"]:
        if cid not in rules.causes:
            fail(f"causes.{cid}", f"unknown cause id {cid!r}")
    for aid in sorted(rules.advice_ids()):
        if aid not in data["advice"]:
            fail(f"advice.{aid}", "advice id used by the rules has no wording")

    # One phrase means one thing: a phrase accepted as two different answers
    # would make the recogniser's result ambiguous.
    answer_phrases: dict[str, str] = {}
    command_phrases: dict[str, str] = {}
    option_phrases: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}

    def claim(phrase: str, what: str, entry: str) -> None:
        if phrase in owner and owner[phrase] != what:
            fail(entry, f"phrase {phrase!r} is already used for {owner[phrase]}")
        owner[phrase] = what

    for value, phrases in data["answers"].items():
        for p in phrases:
            claim(p, f"answer {value}", f"answers.{value}")
            answer_phrases[p] = value
    for cmd, phrases in data["commands"].items():
        for p in phrases:
            claim(p, f"command {cmd}", f"commands.{cmd}")
            command_phrases[p] = cmd
    for fid, options in data["options"].items():
        for option, phrases in options.items():
            for p in phrases:
                claim(p, f"option {option}", f"options.{fid}.{option}")
                option_phrases.setdefault(fid, {})[p] = option

    prompts = Prompts(str(path), data, answer_phrases, option_phrases, command_phrases)
    _check_placeholders(prompts)
    return prompts


_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_ALLOWED_PLACEHOLDERS = {"number", "answer", "cause", "reasons", "place", "topic", "fact"}


def _check_placeholders(prompts: Prompts) -> None:
    def walk(node: Any, entry: str) -> None:
        if isinstance(node, str):
            for name in _PLACEHOLDER.findall(node):
                if name not in _ALLOWED_PLACEHOLDERS:
                    raise ConfigError(prompts.path, entry, f"unknown placeholder {{{name}}}")
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{entry}.{k}" if entry else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{entry}[{i}]")

    walk(dict(prompts.data), "")


def load(rules_path: str | Path | None = None, prompts_path: str | Path | None = None) -> tuple[Rules, Prompts]:
    rules = load_rules(rules_path)
    return rules, load_prompts(rules, prompts_path)
