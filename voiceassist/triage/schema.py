"""The shape of the rules and prompts files (jsonschema), and the ids they may use.

The first problem found is one line (ConfigError) naming the file, the entry
and the problem; the cross-references are checked after the shape
(rules.py, prompts.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from ..yamlfile import ConfigError

LEVELS = ("ambulance", "emergency", "urgent", "doctor", "self_care")
GROUPS = ("ambulance", "emergency", "urgent", "doctor", "risk", "pattern")
EMERGENCY_LEVELS = ("ambulance", "emergency")  # an emergency instruction, said at once
RED_FLAG_GROUPS = EMERGENCY_LEVELS  # findings that can raise the level to an emergency
ANSWERS = ("yes", "no", "unknown")
COMMANDS = ("repeat", "help", "go_back", "stop", "slower", "faster", "louder", "quieter")


def schema_check(path: Path, data: Any, schema: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        err = errors[0]
        entry = ".".join(str(p) for p in err.path) or "(top level)"
        raise ConfigError(path, entry, plain_schema_message(err))


def plain_schema_message(err: jsonschema.ValidationError) -> str:
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
