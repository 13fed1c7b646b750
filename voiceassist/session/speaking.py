"""The consultation's voice: each sentence synthesised, played with a pause
after it, and the person's "slower", "faster", "louder" and "quieter" (by the
steps speech/tts.py and speech/playback.py define). While a question plays, a
barge-in watcher (barge_in.py) may hear an answer and cut it short."""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Protocol

import numpy as np

from ..dialogue.events import Heard, Listen
from ..speech.playback import GAIN_STEP
from ..speech.tts import RATE_STEP
from .ports import Caption, Captions, Speaker, Synthesiser
from .stats import Stats

log = logging.getLogger("voiceassist.session")

SENTENCE_PAUSE_S = 0.3  # between sentences, so that each one sinks in


class Watcher(Protocol):
    """Listens while a sentence plays (barge_in.BargeIn)."""

    def playing(self, samples: np.ndarray, rate: int) -> None: ...

    def feed(self, block: bytes) -> Heard | None: ...


class Speaking:
    def __init__(self, tts: Synthesiser, speaker: Speaker, captions: Captions, stats: Stats,
                 read_block: Callable[[], bytes | None], started: float):
        self.tts, self.speaker, self.captions, self.stats = tts, speaker, captions, stats
        self.read_block = read_block  # reading the microphone is what moves time on
        self.started = started

    def say(self, sentences: Iterable[str], listen: Listen | None, watcher: Watcher | None = None) -> Heard | None:
        """Say `sentences`, then to be answered as `listen` says (None: nothing
        is asked); return the answer if `watcher` heard one over them, the
        playing stopped at once.

        The watcher listens from the sentence that asks on, not over what
        comes before it (the greeting, "I heard no."): speech there cannot
        answer a question not yet asked. Babble over the greeting was heard
        as a sure "yes i do" and taken for the first question's answer, a red
        flag, and the person, who had said nothing, was told to call 999."""
        watching = None
        for n, sentence in enumerate(sentences):
            samples, rate = self.synthesise(sentence)
            if n == 0:
                self.stats.sentence_ready(self.started, asks=listen is not None)
            asks = listen.kind if listen is not None and sentence == listen.prompt else None
            self.captions(Caption("assistant", sentence, asks=asks))
            self.speaker.play(samples, rate)
            if asks is not None:
                watching = watcher
            if watching is not None:
                watching.playing(samples, rate)
            while self.speaker.is_playing():
                block = self.read_block()
                if watching is not None and block is not None:
                    heard = watching.feed(block)
                    if heard is not None:
                        self.speaker.stop()
                        self.stats.barge_ins += 1
                        return heard
        return None

    def say_whatever_fails(self, sentences: Iterable[str]) -> None:
        """On screen always, spoken while speech works: after an error, when
        the device that failed may be this one."""
        speaking = True
        for sentence in sentences:
            self.captions(Caption("assistant", sentence))
            if not speaking:
                continue
            try:
                samples, rate = self.synthesise(sentence)
                self.speaker.play(samples, rate)
                while self.speaker.is_playing():
                    self.read_block()
            except Exception:  # noqa: BLE001 - captions only from here on
                speaking = False

    def synthesise(self, sentence: str) -> tuple[np.ndarray, int]:
        """The sentence's audio with its pause after it; silence (and a line on
        screen) when speech output fails: that must not lose the consultation."""
        try:
            samples, rate = self.tts.synthesise(sentence)
            if len(samples):
                samples = np.concatenate([samples, np.zeros(int(SENTENCE_PAUSE_S * rate), samples.dtype)])
            return samples, rate
        except Exception as exc:  # noqa: BLE001
            log.error("speech output failed: %s", exc)
            self.captions(Caption("status", "(speech output is not working; please read the screen)"))
            return np.zeros(0, np.int16), 16000

    def act(self, action: str | None) -> None:
        """A command about the voice itself (the dialogue's Turn.action)."""
        if action == "slower":
            self.tts.set_rate(self.tts.rate_wpm - RATE_STEP)
        elif action == "faster":
            self.tts.set_rate(self.tts.rate_wpm + RATE_STEP)
        elif action == "louder":
            self.speaker.set_gain(self.speaker.gain * GAIN_STEP)
        elif action == "quieter":
            self.speaker.set_gain(self.speaker.gain / GAIN_STEP)
