"""Speech over a question: the person answers before the assistant has finished.

While the assistant speaks, the microphone is still read. Speech that the
dialogue would take as an answer to the current question on one hearing
(Dialogue.hearing(...).fair: the acceptance policy, dialogue/policy.py) stops
the playback and is taken as the answer (VoiceXML's "hotword" barge-in).

The microphone also hears the assistant's own voice, and a recogniser with a
closed grammar will force even that onto "yes" or "stop". So before
recognising, the assistant's own voice is taken out: we know exactly what is
playing, so the best-fitting delay and gain of it (FFT cross-correlation, up
to ECHO_MAX_LAG_S of device latency) are found and it is subtracted. When
little is left, nobody spoke over it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..dialogue.events import Heard, Listen
from ..dialogue.manager import Dialogue
from ..speech.audio import seconds_of, to_mono16k
from ..speech.endpoint import Endpointer, NoInput, SpeechStarted, Utterance
from .listening import Listening
from .ports import Caption, Speaker

BARGE_IN_MIN_S = 0.25  # of speech before a barge-in is tried
BARGE_IN_EVERY_S = 0.3  # how often a barge-in in progress is tried
BARGE_IN_RECHECK_S = 1.0  # a slow recogniser that said no is asked again after this much more speech
ECHO_MAX_LAG_S = 0.3  # output + input latency the echo canceller allows for
ECHO_RESIDUAL = 0.55  # below this share of the microphone's level, what is heard is mostly our own voice:
# a reverberant room leaves ~0.4 after the best delay and gain are taken out; a person speaking
# over the echo at its level leaves ~0.7, at half its level ~0.58.


class BargeIn:
    """Watches the microphone while the assistant asks `listen`'s question."""

    def __init__(self, listening: Listening, dialogue: Dialogue, speaker: Speaker, listen: Listen):
        self.listening, self.dialogue, self.speaker, self.listen = listening, dialogue, speaker, listen
        self.endpointer = Endpointer(listening.endpoint)
        self.reference = np.zeros(0, np.float32)  # what the speaker plays, at 16 kHz
        self.pos = 0  # samples read from the microphone since this sentence began
        self.audio = bytearray()
        self.start = 0
        self.speaking = False
        self.next_try = BARGE_IN_MIN_S
        self.next_full_try = 0.0  # for a recogniser with a quick screen (`heard_in`)

    def playing(self, samples: np.ndarray, rate: int) -> None:
        self.reference = to_mono16k(np.asarray(samples), rate).astype(np.float32) * self.speaker.gain
        self.pos = 0
        self.speaking, self.audio = False, bytearray()
        self.endpointer.reset()

    def feed(self, block: bytes) -> Heard | None:
        events = self.endpointer.feed(block)
        self.pos += len(block) // 2
        for event in events:
            if isinstance(event, SpeechStarted):
                self.speaking, self.audio, self.next_try = True, bytearray(), BARGE_IN_MIN_S
                self.next_full_try = 0.0
                self.start = self.pos - len(block) // 2
            elif isinstance(event, Utterance):
                self.speaking = False
                heard = self.heard_in(bytes(self.audio + block), final=True)
                if heard:
                    return heard
            elif isinstance(event, NoInput):
                self.endpointer.reset()
        if self.speaking:
            self.audio += block
            if seconds_of(self.audio) >= self.next_try:
                self.next_try += BARGE_IN_EVERY_S
                return self.heard_in(bytes(self.audio))
        return None

    def without_echo(self, audio: bytes) -> bytes | None:
        """The microphone's audio with our own voice taken out, or None when
        what was heard is (nearly) all our own voice."""
        mic = np.frombuffer(audio, np.int16).astype(np.float32)
        end = self.start + len(mic)
        max_lag = int(ECHO_MAX_LAG_S * 16000)
        lo = max(0, self.start - max_lag)
        ref = self.reference[lo:end]
        if ref.size == 0 or not np.any(ref):
            return audio
        ref = np.pad(ref, (0, max(0, end - lo - ref.size)))
        # corr[k] = sum_t ref[t + k] * mic[t]: how well the reference, from
        # sample k of the window on, explains what the microphone heard.
        n = 1 << int(np.ceil(np.log2(len(ref) + len(mic))))
        corr = np.fft.irfft(np.fft.rfft(ref, n) * np.conj(np.fft.rfft(mic, n)), n)
        offsets = np.arange(0, len(ref) - len(mic) + 1)  # where in `ref` the echo lines up
        if offsets.size == 0:
            return audio
        best = int(offsets[np.argmax(np.abs(corr[offsets]))])
        echo = ref[best:best + len(mic)]
        gain = float(np.dot(mic, echo) / (np.dot(echo, echo) + 1e-9))
        residual = mic - gain * echo
        if np.sqrt(np.mean(residual ** 2)) < ECHO_RESIDUAL * np.sqrt(np.mean(mic ** 2) + 1e-9):
            return None
        return np.clip(residual, -32768, 32767).astype("<i2").tobytes()

    def heard_in(self, audio: bytes, final: bool = False) -> Heard | None:
        """The answer in the speech heard so far (`final`: the speech has
        ended), or None: not (yet) one the dialogue would take at once."""
        clean = self.without_echo(audio)
        if clean is None:
            return None
        ears, recogniser = self.listening, self.listening.recogniser
        # The room as heard while listening; this endpointer's frames have our own voice in them.
        heard = (clean, self.listen.grammar, ears.endpointer.background())
        # Speech over a question is tried every 0.3 s, and babble is speech: a
        # recogniser that is slow but sure screens it with its quick part
        # first (pocketsphinx, for the pair with Whisper), and once the slow
        # part has said no, asks it again only after another second of speech
        # or at the end of it, so that the microphone is never left behind.
        screened = None
        if recogniser.screen is not None:
            first = recogniser.screen.recognise(*heard, meanings=self.listen.meanings)
            # Worth asking the slow part only if the quick one heard something the question accepts.
            if not first.text or not self.dialogue.hearing(ears.heard(first, clean)).weak:
                return None
            if not final and seconds_of(audio) < self.next_full_try:
                return None
            self.next_full_try = seconds_of(audio) + BARGE_IN_RECHECK_S
            screened = first  # the slow part only: the quick one has just heard it
        result = recogniser.recognise(*heard, meanings=self.listen.meanings, screened=screened)
        # Like any answer, with its SNR and whether the engines agreed: babble
        # during a question was taken as a confident "yep". The question is
        # cut short only for what the dialogue would take on one hearing;
        # the dialogue then weighs it as it weighs every answer.
        answer = replace(ears.heard(result, clean), over_speech=True)
        if result.text and self.dialogue.hearing(answer).fair:
            ears.stats.answered()
            ears.captions(Caption("heard", result.text, confidence=result.confidence, agreed=result.agreed,
                                  while_speaking=True))
            return answer
        return None
