"""Speech recognition: one small interface, three engines and a pair.

A recogniser turns one utterance (16 kHz mono int16 bytes, as the Endpointer
emits it) into exactly one of the phrases the current question accepts, or ""
when none of them was heard.  The engines live in their own modules and
import their libraries lazily, so `import voiceassist.speech.asr` is cheap.

    vosk          (vosk_engine.py)         needs a downloaded model (models.py)
    pocketsphinx  (pocketsphinx_engine.py) built in: the PyPI wheel has an en-us model
    whisper       (whisper_engine.py)      Whisper tiny.en from PyPI: voiceassist[whisper]
    pocketsphinx+whisper (combined_engine.py) both, and they must agree: the
                  default when the whisper extra is installed (benchmarks/README.md)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

ENGINES = ("auto", "vosk", "pocketsphinx", "whisper", "pocketsphinx+whisper")


@dataclass
class Recognition:
    text: str                 # exactly one grammar phrase, or "" when nothing in the grammar was heard
    confidence: float         # 0..1; compare with a threshold to accept / confirm / reject
    engine: str               # "vosk" or "pocketsphinx"
    alternatives: list[str] = field(default_factory=list)  # other grammar phrases, best first
    # What the engines measured, for a caller that weighs the answer itself
    # (EVIDENCE names the keys); empty when an engine measured nothing.
    evidence: dict[str, float | str] = field(default_factory=dict)


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
    name: str

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """Words of `phrases` that the model's vocabulary lacks (sorted, no duplicates)."""
        ...

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None) -> Recognition:
        """Recognise one utterance against the phrases of `grammar`.

        `background`: the room without speech, as heard just before (same
        format; Endpointer.background()).  An engine may use it as a noise
        profile; b"" when not known.  `meanings`: what each phrase means
        ("answer:yes" for "yes" and "yeah"), when the caller knows; an engine
        may use it to count two phrases of one meaning as one answer.
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


def print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def create_recogniser(engine: str = "auto", model_path: str | Path | None = None,
                      log: Callable[[str], None] = print_to_stderr) -> Recogniser:
    """Build the recogniser to use and say (through `log`) which engine and model it is.

    "auto": vosk when a vosk model is found (`model_path`, $VOSK_MODEL_PATH,
    /usr/share/vosk, ~/.cache/vosk, ./models); else pocketsphinx and Whisper
    together when the whisper extra is installed (measured better, in noise
    and for accents); else pocketsphinx alone.
    """
    from . import models

    if engine not in ENGINES:
        raise SpeechError(f"unknown speech engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine in ("pocketsphinx", "whisper", "pocketsphinx+whisper"):
        if model_path is not None:
            log(f"note: --model applies to vosk only; using {engine}'s own model")
        return _built_in(engine, log)

    found = models.find_model(model_path)
    if found is None and model_path is not None:
        # An explicit --model that is not a model is a mistake, not a reason to fall back.
        raise SpeechError(f"no vosk model at {model_path} (a model folder has am/ and conf/): "
                          "run `voiceassist models download`, or give one with --model PATH")
    if found is None:
        if engine == "vosk":
            where = ", ".join(str(d) for d in models.search_paths())
            raise SpeechError(f"no vosk model found in {where}: run `voiceassist models download`, "
                              "or give one with --model PATH")
        why = "; no vosk model found (`voiceassist models download` gets one)"
        try:
            return _built_in("pocketsphinx+whisper", log, why)
        except SpeechError as exc:
            return _built_in("pocketsphinx", log, f"{why}; Whisper not used: {exc}")

    from .vosk_engine import VoskRecogniser

    rec = VoskRecogniser(found)
    log(f"speech recognition: vosk, model {found}")
    return rec


def _built_in(engine: str, log: Callable[[str], None], why: str = "") -> Recogniser:
    if engine == "pocketsphinx":
        from .pocketsphinx_engine import PocketsphinxRecogniser

        rec = PocketsphinxRecogniser()
    elif engine == "whisper":
        from .whisper_engine import WhisperRecogniser

        rec = WhisperRecogniser()
    else:
        from .combined_engine import CombinedRecogniser

        rec = CombinedRecogniser()
    log(f"speech recognition: {engine}, built-in model {rec.model_dir}{why}")
    return rec
