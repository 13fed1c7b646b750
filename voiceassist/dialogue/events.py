"""What passes between the dialogue and the shell around it: plain dataclasses.

In: what the person did (`Heard`, `Silence`, `Timeout`). Out: a `Turn` saying
what to say and how to listen for the next answer (`Listen`), with the answers
it took (`Filled`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..triage.engine import Assessment


@dataclass(frozen=True)
class Heard:
    """Something was said (or typed). Confidence 1.0 for the keyboard.
    `snr_db`: how far the answer stood above the room's noise, when known.
    `alternatives`: other phrases the recogniser nearly chose, best first.
    `agreed`: whether two recognisers heard the same meaning (None: one engine).
    `engine` and `evidence`: which recogniser heard it and what it measured
    (speech/asr.py, EVIDENCE), for the acceptance policy to weigh; "" and
    empty for the keyboard."""

    text: str
    confidence: float = 1.0
    snr_db: float | None = None
    alternatives: tuple[str, ...] = ()
    agreed: bool | None = None
    engine: str = ""
    evidence: Mapping[str, float | str] = field(default_factory=dict, compare=False)
    over_speech: bool = False  # heard while the assistant spoke (a barge-in): never firm alone (policy.hear)


@dataclass(frozen=True)
class Silence:
    """The no-input timeout passed without speech."""


@dataclass(frozen=True)
class Timeout:
    """The idle timeout: the person has walked away."""


@dataclass(frozen=True)
class Listen:
    question: str  # question id, or "offer_repeat"
    findings: tuple[str, ...]
    kind: str  # yes_no | choice | confirm | offer
    grammar: tuple[str, ...]
    red_flag: bool = False
    mode: str = "ask"  # ask | check | again | follow_up | confirm | offer
    confirming: str | None = None  # the answer being read back, or "stop"
    prompt: str = ""  # the sentence that asks for this answer
    raises_level: bool = False  # a yes could make the outcome more urgent
    meanings: tuple[str, ...] = ()  # what each grammar phrase means ("answer:yes"), for the recogniser


@dataclass(frozen=True)
class Filled:
    question: str
    findings: tuple[str, ...]
    answer: str  # yes | no | unknown | unclear (not understood) | a place
    heard: str
    confidence: float
    attempts: int  # prompts this question took


@dataclass
class Turn:
    say: list[str]
    listen: Listen | None
    done: bool = False
    assessment: Assessment | None = None
    action: str | None = None  # slower | faster | louder | quieter: for the voice layer
    filled: list[Filled] = field(default_factory=list)
    instruction: bool = False  # an emergency instruction is among `say`
    ending: str | None = None  # completed | stopped | gave_up | timed_out | error
