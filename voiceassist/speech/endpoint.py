"""Endpointing: find where an utterance starts and ends in a stream of audio.

Input: 16 kHz mono int16 audio as bytes, in blocks of any length (a microphone
callback, or a file replayed block by block).  Output: events.

    SpeechStarted(t)                    speech onset detected
    Utterance(audio, start_s, end_s)    one spoken answer, ready for the recogniser
    NoInput(waited_s)                   nothing said for `no_input_s`

`background()` gives the room as heard between answers (the last few seconds
of frames that were not speech): a recogniser uses it as a noise profile.

Each frame is speech when BOTH hold:
  * webrtcvad says speech, and
  * the mean power of the last `energy_window_ms` (this frame and those just
    before it) is `energy_margin_db` above the background-noise floor.
webrtcvad alone calls steady noise (fans, pink noise, babble) speech; the
floor is a low percentile of recent frame energies, so it follows the room.
Noise averages out over a syllable and speech does not: a soft answer 3-4 dB
below the speaker's average, at 6 dB SNR, has few single frames 6 dB above
the floor, but its 150 ms mean clears the bar (benchmarks/README.md, "The
endpointer and soft speech").

Time is counted in samples fed, never the wall clock, so a file replays as fast
as the CPU allows and tests are deterministic.  All times are seconds since
the first sample fed to this Endpointer.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE

_BYTES_PER_SAMPLE = 2
_SILENCE_DB = -100.0  # energy given to digital silence (log of zero)


@dataclass
class EndpointSettings:
    """Endpointer tuning.  Defaults measured on the test audio (see tests/speech/test_endpoint.py).

    vad_aggressiveness 2: 3 rejects some weak word onsets; 0-1 call more noise speech.
      The energy floor below does most of the noise rejection anyway.
    frame_ms 30: webrtcvad accepts 10/20/30; 30 is the most stable decision.
    start_ms 150: shorter starts on clicks and coughs; "no" alone lasts ~250 ms,
      so 150 ms still catches the shortest answer.
    end_silence_ms 1000: hesitant or slow speakers pause 0.5-0.8 s inside an
      answer ("my ... calf"); 1 s keeps them whole (other assistants cut them off
      with 0.5 s, the complaint in wyoming-satellite #191/#273) and costs
      only a second of latency per turn.
    no_input_s 8.0: time to think before "I didn't hear anything" (VoiceXML's
      noinput is typically 5-10 s).
    max_utterance_s 12.0: the longest accepted answer is 5 words; 12 s stops a
      stuck VAD (TV, a conversation in the room) from holding the turn forever.
    preroll_ms 300: audio kept from before the onset, so the first consonant
      (below the start threshold) reaches the recogniser.
    trailing_ms 300: silence kept after the speech; recognisers model the end
      of speech better with some silence after it. "After the speech" is
      after its last frame loud enough on its own, as before the energy
      window: the window lags the last syllable by up to 120 ms, and that
      much more noise after a "no" made pocketsphinx mishear the neural
      voice in fan noise (tests/test_voice.py); cutting the whole lag always
      made it take "the weather is nice" for "no it isn't"
      (tests/speech/test_asr_pocketsphinx.py).
    energy_margin_db 6.5 / floor_percentile 30 / floor_window_s 3.0: the floor is
      the 30th percentile of frame energies over the last 3 s, and a speech frame
      must be 6.5 dB above it (its recent mean power: energy_window_ms).  Measured with 10 espeak-ng phrases mixed at 10 dB
      SNR into white, pink and 6-voice espeak babble, and 2 x 24 s of each noise
      alone: every phrase came through whole and noise alone gave no utterance.
      The 15th percentile let babble alone start 2 utterances per 24 s (at 4 or
      6 dB); an 8 dB margin lost one phrase in white noise.  A new noise source
      is learnt in about 1 s; speech has to fill 70% of 3 s before the floor
      rises into it, far longer than any answer here.
    energy_window_ms 150: the energy compared with the floor is the mean power
      of this much audio ending with the frame, not the frame's alone.
      Chosen on the tuning set (benchmarks/endpointer.py; benchmarks/README.md,
      "The endpointer and soft speech"): each recording of 9 voices, 5
      placements in fan and babble at 6 dB. The frame alone at 6 dB lost up
      to 27 of 380 recordings of a voice; the 150 ms mean at 6 dB lost none
      but started on cafe noise alone more often (60 times in 600 s, the
      frame alone 51); at 6.5 dB it lost none and started 41 times (babble
      20 and 20, fan none). At 7 dB it lost up to 4 of 380. Utterances
      are far shorter in babble, whose single loud frames no longer keep
      them open (trailing_ms: the window's lag).
    start_ratio 0.8: share of frames in the start window that must be speech
      (one weak frame inside a syllable does not restart the count).
    background_s 3.0: room audio kept for `background()`.  The noise profile
      of pocketsphinx's noise reduction; 1 s did as well on fan noise but
      worse on babble (benchmarks/README.md).
    """

    vad_aggressiveness: int = 2
    frame_ms: int = 30
    start_ms: int = 150
    end_silence_ms: int = 1000
    no_input_s: float = 8.0
    max_utterance_s: float = 12.0
    preroll_ms: int = 300
    trailing_ms: int = 300
    energy_margin_db: float = 6.5
    energy_window_ms: int = 150
    floor_window_s: float = 3.0
    floor_percentile: float = 30.0
    start_ratio: float = 0.8
    background_s: float = 3.0

    def __post_init__(self):
        if self.frame_ms not in (10, 20, 30):
            raise ValueError(f"frame_ms must be 10, 20 or 30 (webrtcvad), not {self.frame_ms}")
        if not 0 <= self.vad_aggressiveness <= 3:
            raise ValueError(f"vad_aggressiveness must be 0..3, not {self.vad_aggressiveness}")
        if self.no_input_s <= 0 or self.max_utterance_s <= 0:
            raise ValueError("no_input_s and max_utterance_s must be positive")


@dataclass
class SpeechStarted:
    t: float  # onset of speech, seconds of stream time


@dataclass
class Utterance:
    audio: bytes      # 16 kHz mono int16: pre-roll + speech + a little trailing silence
    start_s: float    # stream time of the first sample of `audio`
    end_s: float      # stream time just after the last sample of `audio`
    cut: bool = False  # True when max_utterance_s ended it (the speaker had not stopped)


@dataclass
class NoInput:
    waited_s: float   # seconds listened without hearing speech


Event = SpeechStarted | Utterance | NoInput


@dataclass
class _Frame:
    index: int        # frame number in the stream
    pcm: bytes
    speech: bool


class _RunningPercentile:
    """A percentile of the last `size` values, as np.percentile (linear) gives
    it, kept sorted as values come and go: np.percentile on every 30 ms frame
    took most of the endpointer's time (3.5 s of 25 in a replay of 5 cases)."""

    def __init__(self, size: int, percentile: float):
        self._window: deque[float] = deque(maxlen=size)
        self._sorted: list[float] = []
        self._q = percentile / 100

    def add(self, value: float) -> None:
        if len(self._window) == self._window.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._window[0])]
        self._window.append(value)
        bisect.insort(self._sorted, value)

    def value(self) -> float:
        # numpy's "linear" method, step by step, so that the figures are the same to the bit.
        values = self._sorted
        n = len(values)
        virtual = (n - 1) * self._q
        if virtual >= n - 1:
            return values[-1]
        below = math.floor(virtual)
        t = virtual - below
        a, b = values[below], values[below + 1]
        return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


class Endpointer:
    """Streaming endpointer; see the module docstring."""

    def __init__(self, settings: EndpointSettings | None = None):
        import webrtcvad  # small C extension; imported here so `import endpoint` stays cheap

        self.settings = s = settings or EndpointSettings()
        self._vad = webrtcvad.Vad(s.vad_aggressiveness)
        self._frame_samples = SAMPLE_RATE * s.frame_ms // 1000
        self._frame_bytes = self._frame_samples * _BYTES_PER_SAMPLE
        self._start_frames = max(1, math.ceil(s.start_ms / s.frame_ms))
        self._start_needed = max(1, math.ceil(self._start_frames * s.start_ratio))
        self._end_frames = max(1, math.ceil(s.end_silence_ms / s.frame_ms))
        self._preroll_frames = s.preroll_ms // s.frame_ms
        self._trailing_frames = min(self._end_frames, s.trailing_ms // s.frame_ms)
        # The energy window lags the speech by up to its length: the last frame
        # it calls speech can be that much after the last syllable.
        self._lag_frames = max(0, round(s.energy_window_ms / s.frame_ms) - 1)
        self._max_frames = max(1, int(s.max_utterance_s * 1000 / s.frame_ms))
        self._no_input_frames = max(1, math.ceil(s.no_input_s * 1000 / s.frame_ms))
        self._energies = _RunningPercentile(max(1, int(s.floor_window_s * 1000 / s.frame_ms)), s.floor_percentile)
        self._recent_power: deque[float] = deque(maxlen=max(1, round(s.energy_window_ms / s.frame_ms)))
        self._background: deque[_Frame] = deque(maxlen=max(1, int(s.background_s * 1000 / s.frame_ms)))
        self._pending = bytearray()   # bytes not yet making a full frame
        self._n = 0                   # frames processed since construction
        self.floor_db = _SILENCE_DB   # current noise-floor estimate (for logs and benchmarks)
        self.reset()

    # -- public API -------------------------------------------------------

    def reset(self) -> None:
        """Listen for a new utterance; the no-input clock starts now.

        The noise-floor history and the background are kept: the room has not changed.
        """
        self._in_speech = False
        self._recent: deque[_Frame] = deque(maxlen=self._preroll_frames + self._start_frames)
        self._utt: list[_Frame] = []
        self._onset = 0
        self._last_speech = 0
        self._last_loud = -1
        self._listen_from = self._n

    def feed(self, block: bytes) -> list[Event]:
        """Add audio (16 kHz mono int16 bytes, any length); return the events it completes."""
        self._pending += block
        events: list[Event] = []
        fb = self._frame_bytes
        usable = len(self._pending) - len(self._pending) % fb
        for off in range(0, usable, fb):
            events += self._frame(bytes(self._pending[off:off + fb]))
        del self._pending[:usable]
        return events

    def flush(self) -> list[Event]:
        """End of stream: emit the utterance in progress, if any."""
        events: list[Event] = []
        if self._pending:
            # Complete the last partial frame with zeros so its audio is not lost.
            pad = self._frame_bytes - len(self._pending)
            events += self._frame(bytes(self._pending) + b"\0" * pad)
            self._pending.clear()
        if self._in_speech:
            events.append(self._finish(self._n - 1, cut=False, trim=False))
        return events

    def background(self) -> bytes:
        """The last `background_s` of audio heard between answers (not speech,
        not part of an utterance), oldest first; b"" before any was heard."""
        return b"".join(f.pcm for f in self._background)

    @property
    def time_s(self) -> float:
        """Stream time: seconds of audio processed so far."""
        return self._n * self._frame_samples / SAMPLE_RATE

    # -- internals --------------------------------------------------------

    def _seconds(self, frame_index: int) -> float:
        return frame_index * self._frame_samples / SAMPLE_RATE

    def _is_speech(self, pcm: bytes) -> bool:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        power = float(np.mean(x * x)) / (32768.0 * 32768.0)
        db = 10 * math.log10(power) if power > 0 else _SILENCE_DB
        self._energies.add(max(db, _SILENCE_DB))
        self.floor_db = self._energies.value()
        self._recent_power.append(power)
        recent = sum(self._recent_power) / len(self._recent_power)
        recent_db = 10 * math.log10(recent) if recent > 0 else _SILENCE_DB
        if recent_db < self.floor_db + self.settings.energy_margin_db:
            return False
        speech = self._vad.is_speech(pcm, SAMPLE_RATE)
        # Where the speech itself ends: the last frame loud enough on its own.
        self._loud = speech and db >= self.floor_db + self.settings.energy_margin_db
        return speech

    def _frame(self, pcm: bytes) -> list[Event]:
        self._loud = False
        frame = _Frame(self._n, pcm, self._is_speech(pcm))
        if frame.speech and self._loud:
            self._last_loud = self._n
        self._n += 1
        if self._in_speech:
            return self._continue(frame)
        if not frame.speech:
            self._background.append(frame)
        return self._listen(frame)

    def _listen(self, frame: _Frame) -> list[Event]:
        self._recent.append(frame)
        window = list(self._recent)[-self._start_frames:]
        voiced = [f for f in window if f.speech]
        if frame.speech and len(voiced) >= self._start_needed:
            onset = voiced[0].index
            first = max(onset - self._preroll_frames, self._recent[0].index)
            self._utt = [f for f in self._recent if f.index >= first]
            # The pre-roll belongs to the answer (a soft first consonant), not to the room.
            while self._background and self._background[-1].index >= first:
                self._background.pop()
            self._recent.clear()
            self._in_speech = True
            self._onset = onset
            self._last_speech = frame.index
            return [SpeechStarted(self._seconds(onset))]
        waited = self._n - self._listen_from
        if waited >= self._no_input_frames:
            self._listen_from = self._n  # the next NoInput comes no_input_s later
            return [NoInput(self._seconds(waited))]
        return []

    def _continue(self, frame: _Frame) -> list[Event]:
        self._utt.append(frame)
        if frame.speech:
            self._last_speech = frame.index
        if frame.index - self._last_speech >= self._end_frames:
            return [self._finish(self._last_speech, cut=False, trim=True)]
        if frame.index - self._onset + 1 >= self._max_frames:
            return [self._finish(frame.index, cut=True, trim=False)]
        return []

    def _finish(self, last_speech: int, cut: bool, trim: bool) -> Utterance:
        """Close the utterance; keep `trailing_ms` after the last speech frame when trimming."""
        frames = self._utt
        if trim:
            # trailing_ms after the speech: after its last frame loud on its own,
            # else (soft speech) after the window's verdict less its lag.
            end = self._last_loud if self._last_loud >= frames[0].index else last_speech - self._lag_frames
            last = max(end, frames[0].index) + self._trailing_frames
            frames = [f for f in frames if f.index <= last]
        audio = b"".join(f.pcm for f in frames)
        start = self._seconds(frames[0].index)
        end = self._seconds(frames[-1].index + 1)
        self._in_speech = False
        self._utt = []
        self._recent.clear()
        self._listen_from = self._n
        self._last_loud = -1
        return Utterance(audio, start, end, cut)
