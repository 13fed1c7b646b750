"""pocketsphinx recogniser: the built-in engine (the PyPI wheel carries an en-us model).

How one utterance is recognised (each step measured on espeak-ng voices; the
figures are in tests/speech/test_asr_pocketsphinx.py and benchmarks/README.md):

0. Noise reduction.  When the room's background is known (the endpointer
   keeps the last 3 s heard between answers), stationary spectral gating
   (noisereduce) takes out what is steady in it: fans, hum, and much of
   distant talk.  The model was trained on clean speech: fan noise at 20 dB
   turned "yes" into "yes i do", or into a rejection.  Measured on the 74
   single answers (yes/no/unknown, places, commands) of each of 4 fixture
   voices, right first time, before -> after: fan noise at 10 dB 23-73% ->
   54-82%, babble at 10 dB 32-50% -> 54-76%; wrong answers 40 -> 11 (fan)
   and 109 -> 57 (babble); out-of-grammar sentences accepted 13 -> 4 and
   21 -> 5 of 24.  Whole replayed consultations: benchmarks/README.md.
   (0.5 s of silence before each answer helped clean answers from some
   voices and hurt others, in whole consultations too: not used.)
1. Comfort noise.  The acoustic model was trained on recorded speech, whose
   pauses are never digitally silent.  Synthetic or gated audio with runs of
   exact zeros was misrecognised badly (30% phrase accuracy); raising the
   noise floor to about -50 dBFS with pink noise gave 85%.  Noise is added
   only to bring a quieter floor up to that level, so microphone audio is
   mostly untouched.  The noise is seeded: same audio, same answer.
2. Grammar search: a JSGF grammar per phrase list, one public rule of
   alternatives, cached per grammar.
3. Full phrases only.  An FSG search whose best path never reached the end of
   the grammar reports that partial path ("my", "the whole").  We then take
   the best full phrase from the n-best list, with a confidence penalty; if
   there is none, the text is "".
4. Confidence: a likelihood ratio against a phone loop ("allphone" search,
   any sequence of phones).  In-grammar speech scores about as well under the
   grammar as under the phone loop; speech the grammar cannot explain scores
   much worse.  The phone loop's score includes its phone language model,
   a cost paid for every phone it finds, while the grammar pays nothing for
   its words: the more phones in the answer, the more the loop was held back
   and the surer the grammar looked.  A one-word answer ("yes", "calf") so
   scored a median 6 units per frame below a longer one, and a strong
   accent's short answers were all rejected.  Part of the loop's language
   score over its speech (not its silences) is given back before comparing.
   The per-frame difference then goes through a logistic curve fitted on
   espeak voices.  This is a heuristic, not a posterior (pocketsphinx's own
   `prob` stayed near 0.5 for FSG searches and told nothing).
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .asr import GrammarCache, Recognition, SpeechError, meaning_of, normalise_grammar, words_of
from .audio import pink_noise

FRAME_RATE = 100          # pocketsphinx frames per second
_MIN_BACKGROUND_S = 0.5   # less room audio than this is too little for a noise profile
_COMFORT_FLOOR_DBFS = -50.0
# Logistic map from (grammar - phone loop) score per frame to confidence,
# the loop's score without _LOOP_LM_SHARE of its language score over speech.
# Fitted on the single answers (yes/no/unknown, places) of the 5 fixture
# voices through the endpointer, clean and in noise, against 20 sentences
# that are not answers from 5 other espeak-ng voices, each heard with both
# grammars.  At the dialogue's bar (0.35), before -> after (the loop's full
# score, midpoint -5): correct answers clean 182 -> 204 of 222 (espeak_029's
# 28 -> 35 of 41), fan 10 dB 189 -> 197 of 219, babble 10 dB 173 -> 172 of
# 187, babble 6 dB 117 -> 116 of 127; not-answers taken 21 -> 19 of 188, at
# 0.70 15 -> 11.  A larger share (0.5) rejected more answers in babble.
_CONF_MIDPOINT = -13.0
_CONF_SLOPE = 1.5
_LOOP_LM_SHARE = 0.4
_PARTIAL_PENALTY = 6.0    # per-frame score units taken off a phrase picked from the n-best list
_NBEST = 10
# Shape penalties (see PocketsphinxRecogniser._shape_penalty).
_STRETCH_FREE = 11.0      # frames of speech per (phone + 2) before a penalty starts
_STRETCH_WEIGHT = 1.0     # per-frame score units per extra frame
_COVERAGE_FREE = 0.9      # share of speech frames the phrase's words should cover
_COVERAGE_WEIGHT = 10.0


class PocketsphinxRecogniser:
    name = "pocketsphinx"
    # Below this confidence the text is "" (nothing in the grammar was heard);
    # the candidate is still given in `alternatives`.
    reject_below = 0.1
    screen = None  # quick enough to screen speech over a question itself

    def __init__(self, start_task: Callable[[str, Callable[[], Any]], Any] | None = None) -> None:
        """`start_task(name, function)`: runs work ahead, beside the program
        (engines.StartTask); without it, the work is done when first needed."""
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise SpeechError(f"pocketsphinx is not installed ({exc}): pip install pocketsphinx") from None
        self.model_dir = Path(pocketsphinx.get_model_path("en-us"))
        hmm = self.model_dir / "en-us"
        dic = self.model_dir / "cmudict-en-us.dict"
        phone_lm = self.model_dir / "en-us-phone.lm.bin"
        for p in (hmm, dic, phone_lm):
            if not p.exists():
                raise SpeechError(f"pocketsphinx model file missing: {p} (reinstall pocketsphinx)")
        # lm=None: do not load the 27 MB general language model; searches are
        # added per grammar.  loglevel FATAL: the C library logs a lot to stderr.
        self._decoder = pocketsphinx.Decoder(hmm=str(hmm), dict=str(dic), lm=None,
                                             samprate=16000, loglevel="FATAL")
        self._logmath = self._decoder.logmath
        self._decoder.add_allphone_file("_phoneloop", str(phone_lm))
        self._searches = GrammarCache(self, self._new_search)
        self._lock = threading.Lock()  # one decoder: one utterance at a time
        # noisereduce pulls in scipy.signal (~0.6 s to import): done while the
        # first question is spoken, not at start-up or on the first answer.
        if start_task is not None:
            start_task("import-noisereduce", _import_noisereduce)

    # -- vocabulary -------------------------------------------------------

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        return sorted(w for w in words_of(phrases) if self._decoder.lookup_word(w) is None)

    # -- recognition ------------------------------------------------------

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        phrases = normalise_grammar(grammar)
        samples = np.frombuffer(bytes(audio), dtype="<i2")
        if len(samples) < 1600:  # under 0.1 s: nothing to recognise
            return Recognition("", 0.0, self.name)
        room = np.frombuffer(bytes(background), dtype="<i2")
        if len(room) >= _MIN_BACKGROUND_S * 16000:
            samples = _denoised(samples, room)
        pcm = _with_comfort_noise(samples).tobytes()
        with self._lock:
            search = self._searches.get(phrases)
            hyp, nbest, n_frames, grammar_segments = self._decode(search, pcm, want_nbest=True)
            phone, _, _, phone_segments = self._decode("_phoneloop", pcm, want_nbest=False)
        if n_frames == 0:
            return Recognition("", 0.0, self.name)

        allowed = set(phrases)
        full = []  # (phrase, score) of full phrases in the n-best list, best first, distinct
        for text, score in nbest:
            if text in allowed and text not in (t for t, _ in full):
                full.append((text, score))
        if hyp is not None and hyp[0] in allowed:
            text, score, penalty = hyp[0], hyp[1], 0.0
        elif full:
            text, score, penalty = full[0][0], full[0][1], _PARTIAL_PENALTY
        else:
            return Recognition("", 0.0, self.name)
        alternatives = [t for t, _ in full if t != text][:4]

        evidence: dict[str, float | str] = {"pocketsphinx_meaning": meaning_of(grammar, meanings).get(text, text)}
        if phone is None:
            confidence = 0.5  # no reference score: neither trust nor reject
        else:
            if text == (hyp[0] if hyp else None):
                penalty += self._shape_penalty(text, grammar_segments, phone_segments)
            loop_lm = sum(lm for word, _, _, lm in phone_segments if word != "SIL")
            loop = phone[1] - _LOOP_LM_SHARE * loop_lm
            per_frame = (score - loop) / n_frames - penalty
            confidence = 1.0 / (1.0 + math.exp(-(per_frame - _CONF_MIDPOINT) / _CONF_SLOPE))
            evidence["pocketsphinx_score"] = round(per_frame, 3)
        confidence = round(confidence, 4)
        evidence["pocketsphinx_confidence"] = confidence
        if confidence < self.reject_below:
            return Recognition("", confidence, self.name, [text] + alternatives, evidence)
        return Recognition(text, confidence, self.name, alternatives, evidence)

    def _new_search(self, phrases: tuple[str, ...]) -> str:
        """A JSGF search for this grammar (one public rule of alternatives)."""
        name = f"g{len(self._searches)}"
        rule = " | ".join(phrases)
        jsgf = f"#JSGF V1.0;\ngrammar answers;\npublic <answer> = {rule} ;\n"
        try:
            self._decoder.add_jsgf_string(name, jsgf)
        except (ValueError, RuntimeError) as exc:
            raise SpeechError(f"pocketsphinx rejected the grammar ({exc})") from None
        return name

    def _decode(self, search: str, pcm: bytes, want_nbest: bool):
        """Decode one whole utterance.

        Returns (hypothesis text, score) or None, the n-best list [(text, score)],
        the number of frames, and the segmentation
        [(word, first frame, last frame, language score)].
        """
        d = self._decoder
        d.activate_search(search)
        # Fresh feature extraction for every utterance: the front end's noise
        # estimate and cepstral mean otherwise carry over from the previous
        # utterance, so the same audio gave different confidences depending on
        # what came before (0.61 vs 0.57 measured).  Costs ~0.1 ms.
        d.reinit_feat()
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        h = d.hyp()
        # Hypothesis scores come back exponentiated (logmath.exp); log() undoes it.
        hyp = (h.hypstr, self._logmath.log(h.score)) if h is not None else None
        segments = [(sg.word, sg.start_frame, sg.end_frame, self._logmath.log(sg.lscore)) for sg in (d.seg() or ())]
        nbest = []
        if want_nbest:
            for i, nb in enumerate(d.nbest() or ()):
                if i >= _NBEST:
                    break
                if nb is None:  # the lattice iterator can yield None for an empty path
                    continue
                nbest.append((nb.hypstr, self._logmath.log(nb.score)))
        return hyp, nbest, d.n_frames(), segments

    def _shape_penalty(self, text: str, grammar_segments, phone_segments) -> float:
        """Penalty (score units per frame) when the phrase does not fit the speech's shape.

        Speech outside the grammar gets forced onto a phrase that is too short
        for it ("what time is it" -> "my thigh"): the phone loop then finds far
        more speech than the phrase has phones, and part of that speech falls
        into the fillers of the grammar path.  Measured on 6 espeak-ng voices
        (175 wpm): speech frames / (phones + 2) was at most 10.3 for 99% of
        correct answers, median 12.0 for out-of-grammar utterances the grammar
        had accepted; 95% of correct answers had >= 0.95 of their speech covered
        by words, accepted out-of-grammar ones a median of 0.89.  The penalties
        are soft and start above the normal range, so a slow speaker (110 wpm
        reaches ~15) gets a lower confidence (a confirmation), not a rejection.
        """
        speech = set()
        for word, first, last, _ in phone_segments:
            if word != "SIL":
                speech.update(range(first, last + 1))
        if not speech:
            return 0.0
        covered = set()
        for word, first, last, _ in grammar_segments:
            if not _is_filler(word):
                covered.update(range(first, last + 1))
        phones = sum(len((self._decoder.lookup_word(w) or "x").split()) for w in text.split())
        # +2: a phrase's last vowel is drawn out, which matters most for "no".
        frames_per_phone = len(speech) / (phones + 2)
        coverage = len(speech & covered) / len(speech)
        return (_STRETCH_WEIGHT * max(0.0, frames_per_phone - _STRETCH_FREE)
                + _COVERAGE_WEIGHT * max(0.0, _COVERAGE_FREE - coverage))


def _is_filler(word: str) -> bool:
    """<s>, </s>, <sil> and noise words like [NOISE] or ++NOISE++ are not words of a phrase."""
    return word[:1] in "<[+"


def _import_noisereduce():
    import noisereduce

    return noisereduce


def _denoised(samples: np.ndarray, room: np.ndarray) -> np.ndarray:
    """`samples` with what is steady in `room` gated out (module doc, step 0).

    noisereduce's defaults (1.5 standard deviations above the noise's mean
    per frequency, full reduction) measured best; 2.0 lost more answers in babble.
    """
    y = _import_noisereduce().reduce_noise(y=samples.astype(np.float32), sr=16000, y_noise=room.astype(np.float32),
                                            stationary=True, prop_decrease=1.0)
    return np.clip(np.rint(y), -32768, 32767).astype(np.int16)


def _with_comfort_noise(samples: np.ndarray) -> np.ndarray:
    """Raise a noise floor below -50 dBFS to -50 dBFS with seeded pink noise (see module doc)."""
    x = samples.astype(np.float64)
    n = 480  # 30 ms frames
    m = len(x) // n
    if m == 0:
        return samples
    power = np.mean(x[: m * n].reshape(m, n) ** 2, axis=1)
    floor = float(np.percentile(power, 10))
    target = (32768.0 * 10 ** (_COMFORT_FLOOR_DBFS / 20)) ** 2
    if floor >= target:
        return samples
    rng = np.random.default_rng(len(x))  # deterministic: same audio, same result
    noise = pink_noise(len(x), rng) * math.sqrt(target - floor)
    return np.clip(np.rint(x + noise), -32768, 32767).astype(np.int16)
