"""The consultation's ears: the room's noise floor, one answer at a time
through the endpointer and the recogniser, and what was heard as the
dialogue's `Heard` (with its SNR and whether the engines agreed).

Time is counted in audio read: every block read moves the speaker's clock on
(Speaker.advance), so a replay runs as fast as the machine allows and
behaves exactly as live."""

from __future__ import annotations

import numpy as np

from ..dialogue.events import Heard, Listen, Silence, Timeout
from ..speech.asr import Recogniser, Recognition
from ..speech.audio import active_rms, seconds_of
from ..speech.endpoint import EndpointSettings, Endpointer, NoInput, Utterance
from .ports import AudioIn, Caption, Captions, Speaker
from .stats import Stats

BLOCK_MS = 30
# Listened to before the first sentence: the endpointer learns the room's
# noise floor, and the recogniser gets a noise profile for the first answer
# (frames of speech, if the person is still talking, are not taken).
ROOM_LISTEN_S = 0.5


class Listening:
    def __init__(self, recogniser: Recogniser, audio_in: AudioIn, speaker: Speaker, endpoint: EndpointSettings,
                 captions: Captions, stats: Stats, idle_timeout_s: float | None = None):
        self.recogniser, self.audio_in, self.speaker = recogniser, audio_in, speaker
        self.endpoint, self.captions, self.stats = endpoint, captions, stats
        # Listening time since the person last said anything (the assistant's
        # own speech does not count): past idle_timeout_s they have walked
        # away, and the consultation ends safely.
        self.idle_timeout_s = idle_timeout_s
        self.idle_s = 0.0
        # One endpointer for the whole consultation: its noise floor follows
        # the room from one answer to the next.
        self.endpointer = Endpointer(endpoint)

    def read_block(self) -> bytes | None:
        block = self.audio_in.read(timeout=0.5)
        self.speaker.advance(seconds_of(block) if block else BLOCK_MS / 1000)
        return block

    def hear_room(self) -> None:
        heard = 0.0
        while heard < ROOM_LISTEN_S:
            block = self.read_block()
            if block is None:  # no audio (a microphone being reconnected): do not hold up the greeting
                return
            heard += seconds_of(block)
            self.endpointer.feed(block)

    def listen(self, listen: Listen) -> Heard | Silence | Timeout:
        """Wait for one answer to `listen`'s question: what was heard, silence, or nobody there."""
        endpointer = self.endpointer
        endpointer.reset()
        while True:
            if self.idle_timeout_s is not None and self.idle_s > self.idle_timeout_s:
                self.captions(Caption("status", "(no answer for a long time: ending)"))
                return Timeout()
            block = self.read_block()
            if block is None:
                continue
            self.idle_s += seconds_of(block)  # time waiting for the person, not speaking
            for event in endpointer.feed(block):
                if isinstance(event, NoInput):
                    self.captions(Caption("heard", "(silence)"))
                    return Silence()
                if isinstance(event, Utterance):
                    self.stats.answered()
                    self.idle_s = 0.0  # the person is there, understood or not
                    return self.recognise(event.audio, listen)

    def recognise(self, audio: bytes, listen: Listen) -> Heard:
        result = self.recogniser.recognise(audio, listen.grammar, self.endpointer.background(),
                                           meanings=listen.meanings)
        if result.text:
            self.captions(Caption("heard", result.text, confidence=result.confidence, agreed=result.agreed))
        else:
            self.captions(Caption("heard", "(not understood)"))
        return self.heard(result, audio)

    def heard(self, result: Recognition, audio: bytes) -> Heard:
        return heard_of(result, answer_snr_db(audio, self.endpointer.floor_db))


def heard_of(result: Recognition, snr_db: float) -> Heard:
    """What the dialogue gets: the answer with its SNR (in noise a confident
    answer is still confirmed), the recogniser's near-misses, whether its
    engines agreed and all they measured. The benchmarks build their hearings
    here too, so that they judge what a consultation judges."""
    return Heard(result.text, result.confidence, snr_db, tuple(result.alternatives),
                 result.agreed, result.engine, dict(result.evidence))


def answer_snr_db(audio: bytes, floor_db: float) -> float:
    """The answer's active speech level above the endpointer's noise floor."""
    rms = active_rms(np.frombuffer(audio, np.int16))
    return float(20 * np.log10(max(rms, 1e-3) / 32768.0) - floor_db)
