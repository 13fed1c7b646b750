"""What a consultation is given to hear and speak with, and every capability
of each declared: nothing is found by probing (getattr) at run time.

A live run gives the microphone (speech/mic.py), the loudspeaker
(speech/playback.py) and the synthesiser (speech/tts.py); the replay gives a
virtual microphone and a speaker counted in samples (bank.py); the tests give
scripted ones (tests/fakes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


class AudioIn(Protocol):
    def read(self, timeout: float | None = None) -> bytes | None:
        """The next block of 16 kHz mono int16 audio, or None when none came in time."""
        ...

    def reopen(self) -> object:
        """Open the device again after it failed (speech.mic.MicrophoneError);
        an input that cannot fail has nothing to reopen."""
        ...


class Speaker(Protocol):
    def play(self, samples: np.ndarray, rate: int) -> None:
        """Start playing (returns at once); what was playing is replaced."""
        ...

    def stop(self) -> None: ...

    def is_playing(self) -> bool: ...

    def set_gain(self, gain: float) -> float:
        """The volume for what is still to be played, clamped; returns the gain set."""
        ...

    @property
    def gain(self) -> float: ...

    def advance(self, seconds: float) -> float:
        """Time has moved on by `seconds` of audio read: a speaker on a sample
        clock (the replay's) plays that much; a real device plays in real
        time and returns 0. Returns the seconds played."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Block until what is playing has ended (True) or `timeout` passed."""
        ...


class Synthesiser(Protocol):
    """Text to speech (speech/tts.py)."""

    @property
    def rate_wpm(self) -> int: ...

    def set_rate(self, wpm: float) -> int:
        """The speaking rate, clamped; returns the rate set."""
        ...

    def synthesise(self, text: str) -> tuple[np.ndarray, int]: ...

    def forget_dynamic(self) -> int:
        """Forget the sentences made for one person (the kiosk, after each)."""
        ...


@dataclass(frozen=True)
class Caption:
    """One line for the screen and the transcript, as a record, never text to
    be parsed back: what the assistant says, what was heard, or a status. The
    caption screen, the kiosk's transcripts and replay's results (transcript,
    what was spoken) are all built from these."""

    who: str  # "assistant" | "heard" | "status" | "patient" (replay: what the simulated person meant to say)
    text: str  # the sentence, the phrase heard, "(silence)", "(not understood)", a status line
    asks: str | None = None  # the assistant's: the kind of answer this sentence asks for (Listen.kind)
    confidence: float | None = None  # what was heard: the recogniser's confidence
    agreed: bool | None = None  # what was heard: whether two engines heard the same meaning
    while_speaking: bool = False  # what was heard: over a question (barge-in)

    def line(self) -> str:
        """For a console or a transcript: "yes (0.93)", "no (0.88, while I was speaking)"."""
        notes = [f"{self.confidence:.2f}"] if self.confidence is not None else []
        if self.agreed is False:
            notes.append("the engines disagreed")
        if self.while_speaking:
            notes.append("while I was speaking")
        return f"{self.text} ({', '.join(notes)})" if notes else self.text

    def transcript_line(self) -> str:
        """"heard: yes (0.93)", "assistant: Is the pain in your calf?"."""
        return f"{self.who}: {self.line()}"


Captions = Callable[[Caption], None]


def print_captions(caption: Caption) -> None:
    label = {"assistant": "assistant", "heard": "  heard", "status": "  ...", "patient": "patient"}.get(caption.who, caption.who)
    print(f"{label}: {caption.line()}", flush=True)
