"""The replay patient's voice: a bank of recordings, spoken into a virtual
microphone that delivers them block by block, as a real one would.

Only the person and the microphone are simulated: the endpointer, the
recogniser, the dialogue and the speech output are the real ones.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from pathlib import Path

import numpy as np

from .speech import audio
from .speech.audio import SAMPLE_RATE, AudioFormatError
# The replay's speaker lives with the others (speech/playback.py); tests/test_voice.py and
# benchmarks/effort.py still import it from here.
from .speech.playback import SampleClockSpeaker  # noqa: F401

BLOCK = SAMPLE_RATE * 30 // 1000  # samples in a 30 ms block
LEAD_IN_S = 0.4  # the person takes a breath before answering

# File stem -> meaning: what a recording says, as replay.md names them.
STEM_MEANING = {"yes": "yes", "no": "no", "dont_know": "unknown"}


class BankError(ValueError):
    pass


class Bank:
    """A folder of WAVs, one per phrase (`yes.wav`, `yes-2.wav`, ...). Any
    rate and channel count: each file is converted to 16 kHz mono. Variants
    of a phrase are used in rotation."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise BankError(f"{self.folder}: no such folder of recordings")
        self.clips: dict[str, list[np.ndarray]] = defaultdict(list)
        for path in sorted(self.folder.glob("*.wav"), key=_variant_order):
            stem = path.stem.rsplit("-", 1)[0] if path.stem.rsplit("-", 1)[-1].isdigit() else path.stem
            try:
                self.clips[STEM_MEANING.get(stem, stem)].append(audio.load_wav(path))
            except AudioFormatError as exc:
                raise BankError(str(exc)) from None
        if not self.clips:
            raise BankError(f"{self.folder}: no .wav recordings")
        for needed in ("yes", "no"):
            if needed not in self.clips:
                raise BankError(f"{self.folder}: missing {needed}.wav")
        levels = [audio.active_rms(c) for clips in self.clips.values() for c in clips]
        self.speech_rms = float(np.mean(levels))

    def clip(self, meaning: str, n: int = 0) -> np.ndarray:
        """Recording `n` of a meaning ("yes", "unknown", "calf", "repeat"...),
        the variants taken in rotation. The caller counts, so that a bank
        shared by many simulated people gives each the same start."""
        clips = self.clips.get(meaning)
        if not clips:
            raise BankError(f"{self.folder}: no recording for {meaning!r}")
        return clips[n % len(clips)]


def _variant_order(path: Path) -> tuple[str, int]:
    stem, _, n = path.stem.rpartition("-")
    return (stem, int(n)) if n.isdigit() and stem else (path.stem, 1)


class SpokenInput:
    """A virtual microphone: silence (or steady background noise) until the
    patient speaks, then the recording, block by block.

    `noise` is mixed into everything delivered, at `snr_db` below the bank's
    speech level. With `realtime=True` blocks come at the pace of a real
    microphone; otherwise as fast as they are read.

    `assistant` (the replay's speaker) keeps a replay reproducible: the
    noise is read on the replay's own clock, which the length of the
    assistant's speech does not move. While the assistant speaks, the noise
    comes from a second cursor that starts each sentence at a place fixed by
    the seed and the sentence's number; the first cursor, under the answers
    and all the listening the endpointer learns the room from, moves only
    while the assistant is silent. pyttsx3's espeak-ng output is not
    deterministic: the same sentence came out up to 80 ms longer or shorter
    with what the process synthesised before (espeak-ng keeps state, even
    across its own Terminate and Initialize), and that used to move the
    noise under every later answer.
    """

    def __init__(self, speech_rms: float = 3000.0, noise: np.ndarray | None = None, snr_db: float | None = None,
                 realtime: bool = False, seed: int = 0, assistant=None):
        self.pending: deque[np.ndarray] = deque()
        self.realtime = realtime
        self.noise = None
        self.noise_pos = 0
        self.seed = seed
        self.assistant = assistant
        self._sentence = -1  # the assistant's sentence the second cursor is in
        self._speaking_pos = 0
        if noise is not None and snr_db is not None and len(noise):
            noise = noise.astype(np.float64)
            noise_rms = float(np.sqrt(np.mean(noise ** 2))) or 1.0
            self.noise = noise * (speech_rms / (noise_rms * 10 ** (snr_db / 20)))
            self.noise_pos = int(np.random.default_rng(seed).integers(0, len(noise)))
        self.samples_read = 0
        self._next_time = time.monotonic()

    def _noise_block(self, patient_speaking: bool) -> np.ndarray:
        assistant = self.assistant
        if not patient_speaking and assistant is not None and assistant.is_playing():
            if assistant.sentences != self._sentence:
                self._sentence = assistant.sentences
                rng = np.random.default_rng([self.seed, self._sentence])
                self._speaking_pos = int(rng.integers(0, len(self.noise)))
            start = self._speaking_pos
            self._speaking_pos = (start + BLOCK) % len(self.noise)
        else:
            start = self.noise_pos
            self.noise_pos = (start + BLOCK) % len(self.noise)
        return self.noise[(start + np.arange(BLOCK)) % len(self.noise)]

    def speak(self, samples: np.ndarray, lead_in_s: float = LEAD_IN_S) -> None:
        self.pending.append(np.zeros(int(lead_in_s * SAMPLE_RATE), np.int16))
        self.pending.append(np.asarray(samples, np.int16))

    def read(self, timeout: float | None = None) -> bytes:
        block = np.zeros(BLOCK, np.float64)
        filled = 0
        while filled < BLOCK and self.pending:
            head = self.pending[0]
            take = min(BLOCK - filled, len(head))
            block[filled:filled + take] = head[:take]
            filled += take
            if take == len(head):
                self.pending.popleft()
            else:
                self.pending[0] = head[take:]
        if self.noise is not None:
            block += self._noise_block(patient_speaking=filled > 0)
        self.samples_read += BLOCK
        if self.realtime:
            self._next_time += BLOCK / SAMPLE_RATE
            delay = self._next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return np.clip(np.rint(block), -32768, 32767).astype("<i2").tobytes()

    @property
    def speaking(self) -> bool:
        return bool(self.pending)

    def reopen(self) -> "SpokenInput":
        """Nothing to reopen: a virtual microphone never fails."""
        return self


def heard_by_endpointer(speech: np.ndarray, endpoint_settings=None, room_s: float = 1.5, endpointer=None,
                        **microphone) -> tuple[bytes | None, bytes]:
    """(utterance audio or None, room background): `speech` said into the
    virtual microphone after `room_s` of room, cut by the endpointer: the
    audio a live session hands the recogniser.  `microphone` goes to
    SpokenInput (speech_rms, noise, snr_db, seed).  `endpointer`: a new
    Endpointer to use instead of one made here (its floor_db afterwards is
    the room's level, as a session measures an answer's SNR)."""
    from .speech.endpoint import Endpointer, Utterance

    mic, endpointer = SpokenInput(**microphone), endpointer or Endpointer(endpoint_settings)
    for _ in range(round(room_s * SAMPLE_RATE / BLOCK)):
        endpointer.feed(mic.read())
    endpointer.reset()
    mic.speak(speech)
    for _ in range(1000):  # 30 s: far longer than any answer
        for event in endpointer.feed(mic.read()):
            if isinstance(event, Utterance):
                return event.audio, endpointer.background()
    return None, endpointer.background()
