"""Stand-ins for the speech components, for fast tests of the logic around
them (session loop, kiosk loop): a scripted recogniser, a silent synthesiser
and a scripted person speaking bursts of sound into the virtual microphone.

Never used where hearing is judged: every behaviour the real recognisers,
endpointer and speech output affect keeps its test with the real components
(slow tier), and the replay and benchmarks use only real components. The
endpointer, the dialogue, the session and the kiosk here are the real ones."""

from __future__ import annotations

from collections import deque
from typing import Iterable, Sequence

import numpy as np

from voiceassist.bank import SpokenInput
from voiceassist.dialogue.events import Listen
from voiceassist.replay import Case, Patient
from voiceassist.speech.asr import Recognition, normalise_grammar
from voiceassist.speech.mic import MicrophoneError
from voiceassist.speech.tts import DEFAULT_RATE, clamp_rate

BURST_S = 0.6  # a spoken answer, as the endpointer hears it


class ScriptedRecogniser:
    """Returns the scripted recognitions in order, one per utterance it is
    given; nothing ("") when the script has run out. Keeps the contract
    (speech/asr.py, Recogniser): a scripted phrase must be one of the
    grammar's, or the test is wrong."""

    name = "scripted"  # no fitted acceptance model: the dialogue reads its confidence
    model_dir = "(scripted)"
    screen = None

    def __init__(self, script: Iterable[Recognition | str] = ()):
        self.script: deque[Recognition] = deque()
        self.grammars: list[tuple[str, ...]] = []  # what it was asked with, in order
        for item in script:
            self.then(item)

    def then(self, item: Recognition | str, confidence: float = 1.0) -> None:
        """Add what the next utterance is heard as."""
        self.script.append(item if isinstance(item, Recognition) else Recognition(item, confidence, self.name))

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        return []

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None, screened: Recognition | None = None) -> Recognition:
        phrases = normalise_grammar(grammar)
        self.grammars.append(phrases)
        if not self.script:
            return Recognition("", 0.0, self.name)
        heard = self.script.popleft()
        assert not heard.text or heard.text in phrases, f"scripted {heard.text!r} is not in the grammar {phrases}"
        return heard


class SilentTTS:
    """Speech output that costs nothing: each sentence is `seconds` of silence."""

    def __init__(self, seconds: float = 0.1):
        self.seconds = seconds
        self._rate = DEFAULT_RATE
        self.said: list[str] = []
        self.forgotten = 0

    @property
    def rate_wpm(self) -> int:
        return self._rate

    def set_rate(self, wpm: float) -> int:
        self._rate = clamp_rate(wpm)
        return self._rate

    def synthesise(self, text: str) -> tuple[np.ndarray, int]:
        self.said.append(text)
        return np.zeros(int(self.seconds * 16000), np.int16), 16000

    def forget_dynamic(self) -> int:
        self.forgotten += 1
        return 0


def burst(seconds: float = BURST_S, seed: int = 0) -> np.ndarray:
    """Loud noise the endpointer takes for speech: what was said is the script's."""
    return np.random.default_rng(seed).normal(0, 3000, int(seconds * 16000)).clip(-32768, 32767).astype(np.int16)


class ScriptedPerson:
    """Answers each question as their case means it (replay.Patient): speaks a
    burst into the microphone and scripts what the recogniser hears.
    `quits_after`: that many answers, then silence (walked away)."""

    def __init__(self, rules, prompts, case: Case, mouth: SpokenInput, recogniser: ScriptedRecogniser,
                 quits_after: int | None = None):
        self.prompts, self.mouth, self.recogniser = prompts, mouth, recogniser
        self.patient = Patient(rules, case)
        self.quits_after = quits_after
        self.answers = 0

    def before_listen(self, listen: Listen) -> None:
        if self.quits_after is not None and self.answers >= self.quits_after:
            return
        self.answers += 1
        value, _ = self.patient.answer(listen)
        phrase = self.prompts.canonical(value, listen.findings[0] if listen.kind == "choice" else None)
        self.recogniser.then(" ".join(phrase.lower().split()))
        self.mouth.speak(burst(seed=self.answers))


class FlakyMicrophone:
    """A microphone unplugged mid-consultation: reads fail from the
    `fail_at`-th block on; reopening fails `stays_out` times, then works."""

    def __init__(self, inner: SpokenInput, fail_at: int, stays_out: int = 3):
        self.inner, self.fail_at, self.stays_out = inner, fail_at, stays_out
        self.reads = 0
        self.unplugged = False
        self.reopens = 0

    def read(self, timeout=None):
        self.reads += 1
        if self.reads == self.fail_at:
            self.unplugged = True
        if self.unplugged:
            raise MicrophoneError("The microphone stopped delivering audio")
        return self.inner.read(timeout)

    def reopen(self):
        self.reopens += 1
        if self.reopens <= self.stays_out:
            raise MicrophoneError("No microphone found")
        self.unplugged = False
        return self
