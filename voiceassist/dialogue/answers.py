"""Text -> answer: what a recognised or typed utterance means.

The recognisers return exactly one grammar phrase; typed text can be longer
("yes, it is swollen"). Both go through `parse`: phrases are matched as whole
words, longest first, so "i don't know" is one answer and not also "don't
know". An utterance whose phrases mean different things is not understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..triage.rules import Prompts

_WORDS = re.compile(r"[a-z']+")


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    return " ".join(_WORDS.findall(text))


@dataclass(frozen=True)
class Parsed:
    kind: str  # "answer" (yes/no/unknown), "option", "command"
    value: str


def vocabulary(prompts: Prompts, kind: str, finding: str | None = None) -> dict[str, Parsed]:
    """Every phrase accepted for a question of this kind, with its meaning."""
    out: dict[str, Parsed] = {}
    if kind == "choice":
        for phrase, option in prompts.option_phrases[finding].items():
            out[phrase] = Parsed("option", option)
        for phrase, value in prompts.answer_phrases.items():
            if value == "unknown":
                out[phrase] = Parsed("answer", value)
    else:  # yes_no, confirm, offer
        for phrase, value in prompts.answer_phrases.items():
            out[phrase] = Parsed("answer", value)
    for phrase, cmd in prompts.command_phrases.items():
        out[phrase] = Parsed("command", cmd)
    return out


def grammar(prompts: Prompts, kind: str, finding: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The phrases to listen for, and what each means ("answer:yes"), for the recogniser."""
    vocab = vocabulary(prompts, kind, finding)
    return tuple(vocab), tuple(f"{p.kind}:{p.value}" for p in vocab.values())


def parse(text: str, vocab: dict[str, Parsed]) -> Parsed | None:
    words = normalise(text).split()
    if not words:
        return None
    found: set[Parsed] = set()
    used = [False] * len(words)
    for phrase in sorted(vocab, key=lambda p: -len(p.split())):
        pw = phrase.split()
        n = len(pw)
        for i in range(len(words) - n + 1):
            if words[i:i + n] == pw and not any(used[i:i + n]):
                found.add(vocab[phrase])
                for j in range(i, i + n):
                    used[j] = True
    if len(found) != 1:
        return None
    return found.pop()


def from_meaning(meaning: str, vocab: dict[str, Parsed]) -> Parsed | None:
    """A recogniser's meaning ("answer:yes", "option:calf", "command:stop"), if
    the current question accepts it."""
    kind, _, value = meaning.partition(":")
    parsed = Parsed(kind, value)
    return parsed if value and parsed in vocab.values() else None
