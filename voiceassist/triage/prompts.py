"""The prompts file: every sentence the assistant says and every phrase it
accepts (voiceassist/prompts/en.yaml), loaded and checked against the rules
(every question has wording, every finding a reason, one phrase means one
thing...). The first problem found raises ConfigError, one line.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..yamlfile import ConfigError, read_yaml
from .schema import LEVELS, PROMPTS_SCHEMA, schema_check

if TYPE_CHECKING:
    from .model import Rules

EMERGENCY_NUMBER = re.compile(r"[0-9]{2,6}")  # 999, 112, 911, 000, 0112...: always text


def emergency_number(value: object) -> str:
    """The emergency number as text, checked: 2 to 6 digits, a leading zero
    kept. Raises ValueError with the problem (the caller says where)."""
    text = str(value).strip() if value is not None else ""
    if not EMERGENCY_NUMBER.fullmatch(text):
        raise ValueError(f"the emergency number must be 2 to 6 digits (such as 999, 112 or 000), not {value!r}")
    return text


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

    @property
    def start_phrases(self) -> list[str]:
        """What starts a consultation at the kiosk ("hello", "start")."""
        return list(self.data["kiosk"]["start"])

    def fixed_sentences(self, rules: Rules) -> list[str]:
        """Every sentence that is the same for everyone (no person's answers in
        it), in the order first said: synthesised ahead so that questions
        start at once, and the only ones the kiosk keeps on disk."""
        out = [self.say("welcome"), self.say("how_to_answer")]
        for q in rules.questions:
            out += [self.text("questions", q.id, k) for k in ("ask", "again", "help")]
            if q.follow_up:
                out += [self.text("findings", f, "ask") for f in q.findings]
        for value in self.data["say"].values():
            if "{" not in str(value):
                out += [value] if isinstance(value, str) else list(value)
        out += [self.text("levels", lvl) for lvl in rules.levels]
        out += [self.text("advice", a) for a in self.data["advice"]]
        out += [v for v in self.data["outcome"].values() if "{" not in v]
        return list(dict.fromkeys(out))

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


def default_prompts_path(language: str = "en") -> Path:
    return Path(str(resources.files("voiceassist") / "prompts" / f"{language}.yaml"))


def load_prompts(rules: Rules, path: str | Path | None = None) -> Prompts:
    path = Path(path) if path else default_prompts_path()
    data = read_yaml(path, text_keys={"emergency_number"})
    schema_check(path, data, PROMPTS_SCHEMA)

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
