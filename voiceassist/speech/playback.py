"""Audio output: play synthesised speech so it can be cut off at once (barge-in).

:class:`Player` plays through PortAudio (``sounddevice``) with a callback
stream: :meth:`Player.play` returns at once, :meth:`Player.stop` aborts the
stream (the rest of the sentence is dropped), :meth:`Player.set_gain` changes the
volume of what is still to come ("louder" / "quieter").

:class:`WavRecorderPlayer` has the same interface but writes what would be
played to a WAV file (``replay --speak-to``). It plays "in sample time": nothing
advances until the caller says how much time passed (:meth:`advance`), so replay
can run faster than real time and still cut a sentence off where a barge-in
happened.

``sounddevice`` is imported inside the methods that need it, so a machine
without PortAudio can still import this module, run ``text`` and ``replay``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import soundfile

from ..errors import one_line
from .portaudio import sounddevice
from .mic import device_spec

log = logging.getLogger(__name__)

GAIN_MIN, GAIN_MAX = 0.1, 4.0
GAIN_STEP = 1.4  # one "louder" multiplies by this, one "quieter" divides


class AudioDeviceError(RuntimeError):
    """No usable audio output; ``str(error)`` is one line for the user."""


def clamp_gain(gain: float) -> float:
    return float(max(GAIN_MIN, min(GAIN_MAX, gain)))


def apply_gain(samples: np.ndarray, gain: float) -> np.ndarray:
    """int16 samples times ``gain``, clipped (no wrap-around) to int16."""
    if gain == 1.0:
        return samples.astype(np.int16, copy=False)
    y = np.round(samples.astype(np.float32) * gain)
    return np.clip(y, -32768, 32767).astype(np.int16)


def to_int16_mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1) if x.dtype.kind == "f" else x.astype(np.float32).mean(axis=1).round()
    if x.dtype.kind == "f":
        x = np.round(np.clip(x, -1.0, 1.0) * 32767.0)
    return np.clip(x, -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, rate: int, to_rate: int) -> np.ndarray:
    """int16 mono resampled with soxr."""
    if int(rate) == int(to_rate) or samples.size == 0:
        return samples
    import soxr

    y = soxr.resample(samples.astype(np.float32) / 32768.0, int(rate), int(to_rate), quality="HQ")
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def _sounddevice():
    return sounddevice(AudioDeviceError)


def _outputs() -> list[dict]:
    try:
        sd = _sounddevice()
        return [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    except Exception:  # noqa: BLE001 - only used to build messages and to choose a speaker
        return []


def output_devices() -> list[str]:
    """Names of the output devices PortAudio sees (empty without PortAudio)."""
    return [d["name"] for d in _outputs()]


def _available() -> str:
    """The speakers with their numbers: "vspeaker (5), vnull (6)"."""
    return ", ".join(f"{d['name']} ({d['index']})" for d in _outputs())


def _resolve_output(sd, device) -> tuple[int, dict]:
    try:
        info = sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError):
        names = _available()
        if device is None or not names:
            raise AudioDeviceError("No audio output device found; use text mode or --speak-to DIR") from None
        if isinstance(device, str):
            raise AudioDeviceError(f"No audio output matching '{device}'; available: {names}") from None
        raise AudioDeviceError(f"No audio output number {device}; available: {names}") from None
    if info["max_output_channels"] < 1:
        raise AudioDeviceError(f"'{info['name']}' ({info['index']}) has no output channels; available: {_available()}")
    return int(info["index"]), info


class SpeakerBase:
    """What every speaker has (the Speaker port, session/ports.py): the volume
    ("louder", "quieter"), a gain applied in software to what is played,
    clamped to GAIN_MIN-GAIN_MAX; and the defaults of a device that plays in
    real time."""

    _gain = 1.0

    @property
    def gain(self) -> float:
        return self._gain

    def set_gain(self, gain: float) -> float:
        """Set the gain for what is still to be played; returns the gain set."""
        self._gain = clamp_gain(gain)
        return self._gain

    def is_playing(self) -> bool:
        raise NotImplementedError

    def advance(self, seconds: float) -> float:
        """Audio read has moved time on: a real device plays on its own clock."""
        return 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """True when nothing is playing (a device that can block overrides this)."""
        return not self.is_playing()


class Player(SpeakerBase):
    """Non-blocking playback through PortAudio, interruptible and with software gain.

    ``device``: None (the default output), a number (also as text: "1"), or part of a name.
    """

    def __init__(self, device: int | str | None = None, gain: float = 1.0) -> None:
        self.device = device_spec(device)
        self.set_gain(gain)
        self._lock = threading.Lock()
        self._stream = None
        self._buffer = np.zeros(0, np.float32)
        self._pos = 0
        self._rate = 0
        self._done = threading.Event()
        self._done.set()

    # ---- playback
    def play(self, samples: np.ndarray, rate: int) -> None:
        """Start playing (stopping anything playing) and return at once."""
        sd = _sounddevice()
        index, info = _resolve_output(sd, self.device)
        pcm = to_int16_mono(samples)
        out_rate = int(rate)
        try:
            sd.check_output_settings(index, samplerate=out_rate, channels=1, dtype="float32")
        except (ValueError, sd.PortAudioError):
            out_rate = int(info["default_samplerate"])
            pcm = resample(pcm, rate, out_rate)
        self.stop()
        with self._lock:
            self._buffer = pcm.astype(np.float32) / 32768.0
            self._pos = 0
            self._rate = out_rate
            self._done.clear()
            try:
                stream = sd.OutputStream(
                    samplerate=out_rate,
                    channels=1,
                    dtype="float32",
                    device=index,
                    callback=self._callback,
                    finished_callback=self._done.set,
                )
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                self._done.set()
                raise AudioDeviceError(f"Cannot play on '{info['name']}': {one_line(exc)}") from None
            self._stream = stream

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio thread
        if status.output_underflow:
            log.debug("audio output underflow")
        chunk = self._buffer[self._pos : self._pos + frames]
        n = len(chunk)
        self._pos += n
        outdata[:n, 0] = np.clip(chunk * self._gain, -1.0, 1.0)
        if n < frames:
            outdata[n:] = 0
            import sounddevice as sd

            raise sd.CallbackStop

    def stop(self) -> None:
        """Cut playback off now (barge-in). Safe to call when nothing plays."""
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # noqa: BLE001 - a dead device must not stop the dialogue
                log.warning("closing audio output: %s", one_line(exc))
        self._done.set()

    def is_playing(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until playback ends; True if it ended, False on timeout."""
        finished = self._done.wait(timeout)
        if finished:
            self._release_finished()
        return finished

    def _release_finished(self) -> None:
        with self._lock:
            stream = self._stream if self._done.is_set() else None
            if stream is not None:
                self._stream = None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    @property
    def position(self) -> float:
        """Seconds played of the current (or last) sentence."""
        return self._pos / self._rate if self._rate else 0.0

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> "Player":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SampleClockSpeaker(SpeakerBase):
    """A loudspeaker that plays on the clock of the audio read: what the
    assistant says takes its real duration, counted in samples read, so
    barge-in and timing behave as live. The replay's when nothing is
    written (no --speak-to: that is WavRecorderPlayer), and a live run's
    when there is no output device (the words are only shown)."""

    def __init__(self, gain: float = 1.0):
        self._left = 0.0
        self.sentences = 0  # how many were played
        self.set_gain(gain)

    def play(self, samples: np.ndarray, rate: int) -> None:
        self._left = len(samples) / rate
        self.sentences += 1

    def advance(self, seconds: float) -> float:
        played = min(self._left, seconds)
        self._left -= played
        return played

    def stop(self) -> None:
        self._left = 0.0

    def is_playing(self) -> bool:
        return self._left > 0

    def close(self) -> None:
        pass


class WavRecorderPlayer(SpeakerBase):
    """The file sink behind ``--speak-to``: same interface as :class:`Player`,
    but what would be heard goes to a 16-bit mono WAV at ``rate``.

    Time is sample time: :meth:`advance` says how much time passed, and that much
    of the current sentence is "played" (written). :meth:`stop` drops the rest
    of the sentence, as a barge-in would on a speaker. :meth:`wait` lets the
    sentence play out (sample time costs nothing), up to ``timeout`` seconds.
    With ``record_silence=True`` idle time is written as silence, so the file is
    a timeline; by default only speech is written, sentence after sentence.
    :meth:`close` lets the current sentence finish, then closes the file (call
    :meth:`stop` first to cut it).
    """

    def __init__(self, path: str | Path, rate: int = 16000, gain: float = 1.0, record_silence: bool = False) -> None:
        self.path = Path(path)
        self.rate = int(rate)
        self.record_silence = record_silence
        self.set_gain(gain)
        self._clip = np.zeros(0, np.int16)
        self._pos = 0
        self._time = 0  # samples of sample time elapsed
        self._written = 0
        self.sentences = 0  # how many were played
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wav = soundfile.SoundFile(str(self.path), "w", samplerate=self.rate, channels=1, subtype="PCM_16",
                                        format="WAV")

    def play(self, samples: np.ndarray, rate: int) -> None:
        with self._lock:
            self._check_open()
            self._clip = resample(to_int16_mono(samples), rate, self.rate)
            self._pos = 0
            self.sentences += 1

    def advance(self, seconds: float) -> float:
        """Let ``seconds`` of sample time pass; returns the seconds of speech played."""
        with self._lock:
            return self._advance(int(round(max(0.0, seconds) * self.rate))) / self.rate

    def _advance(self, n: int) -> int:
        self._check_open()
        take = min(n, len(self._clip) - self._pos)
        if take > 0:
            chunk = self._clip[self._pos : self._pos + take]
            self._wav.write(apply_gain(chunk, self._gain))
            self._pos += take
            self._written += take
        else:
            take = 0
        if self.record_silence and n > take:
            self._wav.write(np.zeros(n - take, np.int16))
            self._written += n - take
        self._time += n
        return take

    def stop(self) -> None:
        with self._lock:
            self._pos = len(self._clip)

    def is_playing(self) -> bool:
        return self._pos < len(self._clip)

    def wait(self, timeout: float | None = None) -> bool:
        with self._lock:
            remaining = len(self._clip) - self._pos
            n = remaining if timeout is None else min(remaining, int(round(timeout * self.rate)))
            self._advance(n)
            return self._pos >= len(self._clip)

    @property
    def position(self) -> float:
        """Seconds played of the current (or last) sentence."""
        return self._pos / self.rate

    @property
    def elapsed(self) -> float:
        """Seconds of sample time since the file was opened."""
        return self._time / self.rate

    @property
    def written_seconds(self) -> float:
        return self._written / self.rate

    def _check_open(self) -> None:
        if self._wav is None:
            raise AudioDeviceError(f"{self.path} is already closed")

    def close(self) -> None:
        with self._lock:
            if self._wav is None:
                return
            self._advance(len(self._clip) - self._pos)
            self._wav.close()
            self._wav = None

    def __enter__(self) -> "WavRecorderPlayer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
