"""Which speech recogniser to use, and building it: the registry of engines.

`create_recogniser` is the one place that knows every engine; each engine
module knows only the contract (asr.py), and is imported here only when it
is chosen, so that a missing optional library (Whisper's) costs nothing
until it is asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from . import vosk_models
from .asr import Recogniser, SpeechError

ENGINES = ("auto", "vosk", "pocketsphinx", "whisper", "pocketsphinx+whisper")

# Runs a task beside the program: (name, function). The application gives its
# own (background.start: a failure is one line, and the program waits for it
# before it ends); without one, nothing is started ahead.
StartTask = Callable[[str, Callable[[], Any]], Any]


def print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def create_recogniser(engine: str = "auto", model_path: str | Path | None = None,
                      log: Callable[[str], None] = print_to_stderr, start_task: StartTask | None = None) -> Recogniser:
    """Build the recogniser to use and say (through `log`) which engine and model it is.

    "auto": vosk when a vosk model is found (`model_path`, $VOSK_MODEL_PATH,
    /usr/share/vosk, ~/.cache/vosk, ./models); else pocketsphinx and Whisper
    together when the whisper extra is installed (measured better, in noise
    and for accents); else pocketsphinx alone. `start_task`: how an engine
    starts work ahead, beside the program (module doc).
    """
    if engine not in ENGINES:
        raise SpeechError(f"unknown speech engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine in ("pocketsphinx", "whisper", "pocketsphinx+whisper"):
        if model_path is not None:
            log(f"note: --model applies to vosk only; using {engine}'s own model")
        return _built_in(engine, log, start_task=start_task)

    found = vosk_models.find_model(model_path)
    if found is None and model_path is not None:
        # An explicit --model that is not a model is a mistake, not a reason to fall back.
        raise SpeechError(f"no vosk model at {model_path} (a model folder has am/ and conf/): "
                          "run `voiceassist models download`, or give one with --model PATH")
    if found is None:
        if engine == "vosk":
            where = ", ".join(str(d) for d in vosk_models.search_paths())
            raise SpeechError(f"no vosk model found in {where}: run `voiceassist models download`, "
                              "or give one with --model PATH")
        why = "; no vosk model found (`voiceassist models download` gets one)"
        try:
            return _built_in("pocketsphinx+whisper", log, why, start_task)
        except SpeechError as exc:
            return _built_in("pocketsphinx", log, f"{why}; Whisper not used: {exc}", start_task)

    from .vosk_engine import VoskRecogniser

    rec = VoskRecogniser(found)
    log(f"speech recognition: vosk, model {found}")
    return rec


def _built_in(engine: str, log: Callable[[str], None], why: str = "",
              start_task: StartTask | None = None) -> Recogniser:
    rec: Recogniser
    if engine == "whisper":
        from .whisper_engine import WhisperRecogniser

        rec = WhisperRecogniser()
    else:
        from .pocketsphinx_engine import PocketsphinxRecogniser

        if engine == "pocketsphinx":
            rec = PocketsphinxRecogniser(start_task)
        else:
            from .combined_engine import CombinedRecogniser
            from .whisper_engine import WhisperRecogniser

            # Whisper first: without the whisper extra this fails before pocketsphinx starts.
            whisper = WhisperRecogniser()
            rec = CombinedRecogniser(PocketsphinxRecogniser(start_task), whisper)
    log(f"speech recognition: {engine}, built-in model {rec.model_dir}{why}")
    return rec
