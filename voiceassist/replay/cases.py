"""The cases a simulated patient answers from (replay.md): loading them, what
the patient means to each prompt, and the mishearing schedule."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..dialogue.manager import Listen
from ..triage.engine import NO, UNKNOWN, YES
from ..triage.rules import ANSWERS, ConfigError, Rules
from ..yamlfile import read_yaml


@dataclass
class Case:
    id: str
    answers: dict[str, str]
    expect: dict[str, Any] | None = None
    story: str = ""


def yaml_word(value: Any) -> str:
    # PyYAML (YAML 1.1) reads bare yes/no as booleans: they mean the answers.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def load_cases(path: str | Path, rules: Rules) -> list[Case]:
    """Read and check a cases file. Raises ConfigError (one line) on bad input."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ConfigError(path, "", "expected a case or a list of cases")
    cases = []
    for n, item in enumerate(data):
        entry = f"case {n + 1}"
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(path, entry, "a case needs an id")
        entry = f"case {item['id']}"
        raw = item.get("answers") or {}
        if not isinstance(raw, dict):
            raise ConfigError(path, entry, "answers must be a mapping of finding id to answer")
        answers: dict[str, str] = {}
        for fid, value in raw.items():
            finding = rules.findings.get(fid)
            if finding is None:
                raise ConfigError(path, entry, f"unknown finding id {fid!r}")
            value = yaml_word(value)
            allowed = finding.options + ("unknown",) if finding.kind == "choice" else ANSWERS
            if value not in allowed:
                raise ConfigError(path, entry, f"{fid}: {value!r} is not one of {list(allowed)}")
            answers[fid] = value
        expect = item.get("expect")
        if expect is not None:
            if not isinstance(expect, dict) or expect.get("level") not in rules.levels:
                raise ConfigError(path, entry, f"expect.level must be one of {list(rules.levels)}")
            for cid in expect.get("causes") or []:
                if cid not in rules.causes:
                    raise ConfigError(path, entry, f"unknown cause id {cid!r}")
        cases.append(Case(str(item["id"]), answers, expect, str(item.get("story", ""))))
    return cases


def meant(case: Case, listen: Listen) -> str:
    """What the patient means to answer (replay.md, "How the patient answers")."""
    if listen.kind == "offer" or listen.confirming == "stop":  # the patient never means to stop
        return "no"
    values = [case.answers.get(f) for f in listen.findings]
    # A read-back of a place ("I heard the calf. Is that right?") is checked
    # against the place meant, not against yes or no.
    place = listen.kind == "choice" or (listen.kind == "confirm" and listen.confirming not in (YES, NO, UNKNOWN))
    if place:
        answer = values[0] or "unknown"
    elif "yes" in values:
        answer = "yes"
    elif "unknown" in values:
        answer = "unknown"
    else:
        answer = "no"
    if listen.kind == "confirm":
        return "yes" if listen.confirming == answer else "no"
    return answer


@dataclass(frozen=True)
class Mishearing:
    """A schedule of answers the patient is misheard on, so that what noise
    does to the dialogue can be reproduced without a particular noise file
    (`replay --mishear first,readbacks`). A misheard answer is the wrong one:
    yes for no, no for yes or "I don't know", another place for a place.

    - `first`: the first answer to every question;
    - `again`: every answer to a question after its first;
    - `readbacks`: every answer to "I heard ... Is that right?";
    - `rate:R`: each answer with chance R (`seed` makes it reproducible).
    """

    first: bool = False
    again: bool = False
    readbacks: bool = False
    rate: float = 0.0
    seed: int = 0

    @classmethod
    def parse(cls, spec: str, seed: int = 0) -> "Mishearing":
        kw: dict[str, Any] = {"seed": seed}
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            name, _, value = part.partition(":")
            if name in ("first", "again", "readbacks") and not value:
                kw[name] = True
            elif name == "rate":
                try:
                    kw["rate"] = float(value)
                except ValueError:
                    kw["rate"] = -1.0
                if not 0.0 <= kw["rate"] <= 1.0:
                    raise ValueError(f"--mishear rate must be between 0 and 1, not {value!r}")
            else:
                raise ValueError(f"--mishear: unknown schedule {part!r} (use first, again, readbacks, rate:R)")
        return cls(**kw)

    def chooser(self, case_id: str = "") -> Callable[[Listen, int], bool]:
        """A fresh schedule for one patient: (prompt, answers already given to its question) -> misheard?
        Each case draws its own chances, the same on every run."""
        rng = random.Random(f"{self.seed}:{case_id}")

        def misheard(listen: Listen, nth: int) -> bool:
            if listen.kind == "offer":
                return False
            chance = rng.random()  # drawn for every answer, so the schedule does not shift
            if listen.kind == "confirm":
                if self.readbacks:
                    return True
            elif (self.first and nth == 0) or (self.again and nth > 0):
                return True
            return chance < self.rate

        return misheard


def wrong(value: str, listen: Listen, options: tuple[str, ...]) -> str:
    """The answer a mishearing puts in the patient's mouth."""
    if listen.kind == "choice":
        places = [o for o in options if o != value]
        return places[0] if value == "unknown" else places[(options.index(value)) % len(places)]
    return "no" if value in ("yes", "unknown") else "yes"
