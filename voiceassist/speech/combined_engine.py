"""Two recognisers that must agree: pocketsphinx and Whisper on the same utterance.

They fail differently. pocketsphinx (a small HMM model with a closed grammar)
is forced onto a phrase by babble and takes it confidently: in babble at 10 dB,
17% of answers came back wrong with a confidence the dialogue accepts, and
speech that is not an answer was accepted 43% of the time. Whisper tiny.en
(forced scoring, whisper_engine.py) hears accents and noise better, but its
confidence is poorly calibrated on its own. When both hear the same meaning, the
answer is taken with a confidence that both were wrong (noisy-or); when they
do not, the more believable one is offered for a confirmation ("I heard yes.
Is that right?"), never taken at once, unless Whisper's free transcription
says the speech was not an answer at all (its in-grammar factor below 0.9):
then it is not understood, and the question is asked again. Speech that is
not an answer ("thank you", "what time is it") is mostly such a
disagreement: pocketsphinx forces it onto a phrase, Whisper hears something
else. Read back, it cost a confirmation turn and a chance of a careless "yes".

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

# When the engines disagree, the answer is confirmed: its confidence stays
# below the dialogue's confirmation bar (dialogue Settings.confirm_below, 0.70) ...
DISAGREEMENT_MAX = 0.69
# ... or, when Whisper doubts it was an answer at all, below its no-match bar
# (Settings.reject_below, 0.35). The text stays: the dialogue still confirms a
# red flag's "yes" and asks about a second unclear answer like the first.
# Measured on the 5 voices' single answers and 20 sentences that are not
# answers (benchmarks/README.md, "Speech that is not an answer"): clean, the
# sentences read back or taken went from 50.5% to 20.5%; answers right from
# 97.9% to 96.2% (5 of 235 now asked again instead of read back), in babble
# at 10 dB from 81.3% to 80.4%. With a bar of 0.7, 30.0% of the sentences
# were still taken.
DOUBTED_IN_GRAMMAR = 0.9
DOUBTED_MAX = 0.34


class CombinedRecogniser:
    name = "pocketsphinx+whisper"
    reject_below = 0.1

    def __init__(self, pocketsphinx: PocketsphinxRecogniser | None = None, whisper: WhisperRecogniser | None = None):
        # Whisper first: without the whisper extra this fails before anything else starts.
        self.whisper = whisper or WhisperRecogniser()
        self.pocketsphinx = pocketsphinx or PocketsphinxRecogniser()
        self.model_dir = f"{self.pocketsphinx.model_dir} and {self.whisper.model_dir}"
        # The quick part, for speech heard while the assistant talks (session.py, barge-in).
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
        return Recognition(ps.text, ps.confidence, name, ps.alternatives, dict(ps.evidence))
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
        confidence = min(confidence, DISAGREEMENT_MAX if scores.in_grammar >= DOUBTED_IN_GRAMMAR else DOUBTED_MAX)
    alternatives = [p for p in dict.fromkeys(others) if p and p != text][:4]
    confidence = round(confidence, 4)
    if confidence < reject_below:
        return Recognition("", confidence, name, [text] + alternatives, heard)
    return Recognition(text, confidence, name, alternatives, heard)
