"""Two recognisers that must agree: pocketsphinx and Whisper on the same utterance.

They fail differently. pocketsphinx (a small HMM model with a closed grammar)
is forced onto a phrase by babble and takes it confidently: in babble at 10 dB,
17% of answers came back wrong with a confidence the dialogue accepts, and
speech that is not an answer was accepted 43% of the time. Whisper tiny.en
(forced scoring, whisper_engine.py) hears accents and noise better, but its
confidence is poorly calibrated on its own. The pair reports what each
heard (`evidence`) and whether they heard the same meaning (`agreed`); what
a disagreement needs (a read-back, never an answer taken at once) is the
dialogue's to decide (dialogue/policy.py), with its own bars: no figure here
is kept in step with them. When both hear the same meaning, the confidence is
that both were not wrong (noisy-or); when they do not, it is the more
believable one's. One decision is the pair's own, like each engine's floor
(`reject_below`): when they disagree and Whisper's free transcription
explains the speech better than any phrase (its in-grammar factor below
DOUBTED_IN_GRAMMAR), nothing in the grammar was heard: speech that is not
an answer ("thank you", "what time is it") is mostly such a disagreement
(pocketsphinx forces it onto a phrase, Whisper hears something else), and
read back it cost a confirmation turn and a chance of a careless "yes".

Measured on the single answers of the 5 fixture voices (benchmarks/README.md,
"The engines side by side"), right / taken wrongly without a confirmation:
clean 86.8% / 0.4% (pocketsphinx) -> 96.2% / 0%; babble 10 dB 66.4% / 16.2% ->
80.4% / 1.7%. Whole consultations in babble at 10 dB: the table there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from .asr import Recognition, meaning_of
from .pocketsphinx_engine import PocketsphinxRecogniser
from .whisper_engine import PhraseScores, WhisperRecogniser, evidence, pooled

# A disagreement on speech Whisper doubts was an answer at all is not
# understood (module doc); its phrase stays first in `alternatives`.
# Measured on the 5 voices' single answers and 20 sentences that are not
# answers (benchmarks/README.md, "Speech that is not an answer"): clean, the
# sentences read back or taken went from 50.5% to 20.5%; answers right from
# 97.9% to 96.2% (5 of 235 now asked again instead of read back), in babble
# at 10 dB from 81.3% to 80.4%.
DOUBTED_IN_GRAMMAR = 0.9


class CombinedRecogniser:
    name = "pocketsphinx+whisper"
    reject_below = 0.1

    def __init__(self, pocketsphinx: PocketsphinxRecogniser | None = None, whisper: WhisperRecogniser | None = None):
        # Whisper first: without the whisper extra this fails before anything else starts.
        self.whisper = whisper or WhisperRecogniser()
        self.pocketsphinx = pocketsphinx or PocketsphinxRecogniser()
        self.model_dir = f"{self.pocketsphinx.model_dir} and {self.whisper.model_dir}"
        # The quick part, for speech heard while the assistant talks (session/barge_in.py).
        self.screen = self.pocketsphinx
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="pocketsphinx")

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        return sorted(set(self.pocketsphinx.missing_words(phrases)) | set(self.whisper.missing_words(phrases)))

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        """`screened`: what `screen` already made of this very audio (barge-in), not decoded twice."""
        # pocketsphinx decodes beside Whisper. On 2 cores they overlap little (turn median
        # 249 ms for the pair, 165 ms Whisper alone, 96 ms pocketsphinx alone), but it is free.
        if screened is None:
            heard = self._beside.submit(self.pocketsphinx.recognise, audio, grammar, background)
        scores = self.whisper.score(audio, grammar)
        ps = heard.result() if screened is None else screened
        return combine(ps, scores, meaning_of(grammar, meanings), self.name, self.reject_below)


def combine(ps: Recognition, scores: PhraseScores | None, meaning: dict[str, str], name: str = CombinedRecogniser.name,
            reject_below: float = CombinedRecogniser.reject_below) -> Recognition:
    """One answer from pocketsphinx's and Whisper's (module doc)."""
    if scores is None:
        return Recognition(ps.text, ps.confidence, name, ps.alternatives, dict(ps.evidence), agreed=None)
    w_phrase = scores.phrases[scores.best]
    w_posterior = pooled(scores, meaning)
    ps_phrase = ps.text or (ps.alternatives[0] if ps.alternatives else "")
    agreed = bool(ps_phrase) and meaning.get(ps_phrase) == meaning.get(w_phrase)
    heard = {**ps.evidence, "pocketsphinx_confidence": ps.confidence, "pocketsphinx_meaning": meaning.get(ps_phrase, ps_phrase),
             **evidence(scores, meaning), "agreed": float(agreed)}
    if agreed:
        text = ps.text or w_phrase
        # Both heard it: wrong only if both were wrong.
        confidence = (1.0 - (1.0 - ps.confidence) * (1.0 - w_posterior)) * scores.in_grammar
        others = ps.alternatives
    else:
        w_confidence = w_posterior * scores.in_grammar
        if w_confidence >= ps.confidence or not ps_phrase:
            text, confidence, others = w_phrase, w_confidence, [ps_phrase] + ps.alternatives
        else:
            text, confidence, others = ps_phrase, ps.confidence, [w_phrase] + ps.alternatives
    alternatives = [p for p in dict.fromkeys(others) if p and p != text][:4]
    confidence = round(confidence, 4)
    doubted = not agreed and scores.in_grammar < DOUBTED_IN_GRAMMAR
    if confidence < reject_below or doubted:
        return Recognition("", confidence, name, [text] + alternatives, heard, agreed)
    return Recognition(text, confidence, name, alternatives, heard, agreed)
