"""Speech recognition: the contract every engine keeps, and nothing else.

A recogniser turns one utterance (16 kHz mono int16 bytes, as the Endpointer
emits it) into exactly one of the phrases the current question accepts, or ""
when none of them was heard (`Recognition`).  This module imports no engine:
the engines import it, and engines.py builds them, so the dependencies run
one way only.

    vosk          (vosk_engine.py)         needs a downloaded model (vosk_models.py)
    pocketsphinx  (pocketsphinx_engine.py) built in: the PyPI wheel has an en-us model
    whisper       (whisper_engine.py)      Whisper tiny.en from PyPI: voiceassist[whisper]
    pocketsphinx+whisper (combined_engine.py) both, reporting whether they
                  agreed: the default when the whisper extra is installed
                  (benchmarks/README.md)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable


@dataclass
class Recognition:
    text: str                 # exactly one grammar phrase, or "" when nothing in the grammar was heard
    confidence: float         # 0..1; compare with a threshold to accept / confirm / reject
    engine: str               # the engine's name (Recogniser.name)
    alternatives: list[str] = field(default_factory=list)  # other grammar phrases, best first
    # What the engines measured, for a caller that weighs the answer itself
    # (EVIDENCE names the keys); empty when an engine measured nothing.
    evidence: dict[str, float | str] = field(default_factory=dict)
    # Two engines: whether they heard the same meaning (None: one engine). A
    # disagreement is reported, not hidden in the confidence: what it needs is
    # the dialogue's decision (dialogue/policy.py).
    agreed: bool | None = None


# The keys of Recognition.evidence. Meanings are the caller's (`meanings`:
# "answer:yes" for "yes" and "yeah"), or the phrase itself; "" for none.
EVIDENCE = {
    "pocketsphinx_confidence": "pocketsphinx's own confidence in its phrase, 0..1 (also when it rejected it)",
    "pocketsphinx_score": "its grammar score against the phone loop, per frame, after its penalties (the logistic's input)",
    "pocketsphinx_meaning": "the meaning of pocketsphinx's phrase",
    "whisper_posterior": "Whisper's posterior of its best meaning among the grammar's (phrases of one meaning pooled)",
    "whisper_margin": "log posterior of Whisper's best meaning minus its second's, nats (capped at 30)",
    "whisper_in_grammar": "how well the best phrase explains the speech against Whisper's own free transcription, 0..1",
    "whisper_meaning": "the meaning of Whisper's best phrase",
    "whisper_second_meaning": "the meaning Whisper ranked second",
    "agreed": "the pair: 1.0 when both engines heard the same meaning, else 0.0",
}


class SpeechError(RuntimeError):
    """Missing model, unknown engine, or a grammar the model cannot handle (one-line message)."""


@runtime_checkable
class Recogniser(Protocol):
    """What every engine offers; nothing else is asked of one.

    `screen`: a quicker engine inside this one (the pair's pocketsphinx), to
    screen speech heard over a question (barge-in) before this one is asked
    in full; None when the engine is quick enough itself.
    """

    name: str
    model_dir: str | Path  # where its model is, as said at start-up
    screen: "Recogniser | None"

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """Words of `phrases` that the model's vocabulary lacks (sorted, no duplicates)."""
        ...

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        """Recognise one utterance against the phrases of `grammar`.

        `background`: the room without speech, as heard just before (same
        format; Endpointer.background()).  An engine may use it as a noise
        profile; b"" when not known.  `meanings`: what each phrase means
        ("answer:yes" for "yes" and "yeah"), when the caller knows; an engine
        may use it to count two phrases of one meaning as one answer.
        `screened`: what `screen` already made of this very audio, so that
        it is not decoded twice; given only when `screen` is not None.
        """
        ...


# A phrase is lower-case words of letters (any script) and apostrophes.
_WORD = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)*$")


def normalise_grammar(grammar: Sequence[str]) -> tuple[str, ...]:
    """Lower-case, single-spaced, de-duplicated phrases (order kept); SpeechError if unusable.

    Engines key their caches on the result, so equal grammars share one search.
    """
    if isinstance(grammar, str):
        raise SpeechError("grammar must be a list of phrases, not a single string")
    out: list[str] = []
    for phrase in grammar:
        p = " ".join(str(phrase).lower().split())
        if not p:
            raise SpeechError("grammar contains an empty phrase")
        bad = [w for w in p.split() if not _WORD.match(w)]
        if bad:
            raise SpeechError(f"grammar phrase {phrase!r} has unusable word(s) {bad}: use letters and apostrophes only")
        if p not in out:
            out.append(p)
    if not out:
        raise SpeechError("grammar is empty: give at least one phrase")
    return tuple(out)


def meaning_of(grammar: Sequence[str], meanings: Sequence[str] | None) -> dict[str, str]:
    """Normalised phrase -> meaning; without meanings each phrase means itself."""
    phrases = [" ".join(str(p).lower().split()) for p in grammar]
    return dict(zip(phrases, meanings)) if meanings else {p: p for p in phrases}


def words_of(phrases: Sequence[str]) -> list[str]:
    """The distinct words of `phrases`, in order of first use."""
    seen: dict[str, None] = {}
    for p in phrases:
        for w in str(p).lower().split():
            seen.setdefault(w, None)
    return list(seen)


class GrammarCache:
    """An engine's compiled form of each grammar (a search, a recogniser, the
    phrases' tokens), built on first use and then reused: a question's
    grammar is the same every time it is asked.  A phrase with a word the
    model lacks is a SpeechError, never a phrase silently dropped."""

    def __init__(self, recogniser: "Recogniser", build: Callable[[tuple[str, ...]], object]):
        self._recogniser, self._build = recogniser, build
        self._compiled: dict[tuple[str, ...], object] = {}

    def __len__(self) -> int:
        return len(self._compiled)

    def get(self, phrases: tuple[str, ...]):
        compiled = self._compiled.get(phrases)
        if compiled is None:
            missing = self._recogniser.missing_words(phrases)
            if missing:
                raise SpeechError(f"the {self._recogniser.name} model lacks word(s) {', '.join(missing)}: "
                                  "rephrase them in the prompts or use another model")
            compiled = self._compiled[phrases] = self._build(phrases)
        return compiled
