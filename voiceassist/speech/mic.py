"""Microphone: 16 kHz mono 16-bit blocks from PortAudio (``sounddevice``).

The PortAudio callback only copies ``bytes(indata)`` into a bounded queue; when
the consumer falls behind, blocks are dropped and counted (as are PortAudio's
own input overflows) and logged, never fatal. If the device cannot record at
16 kHz, the stream is opened at the device's default rate and resampled with
``soxr.ResampleStream``; :meth:`Microphone.read` always returns blocks of exactly
``block_ms`` of 16 kHz audio (what a VAD such as webrtcvad wants).

Errors are :class:`MicrophoneError` with one-line messages meant for the person
at the kiosk. A stream that dies while reading (device unplugged: the stream
finishes on its own, or stops delivering audio) makes :meth:`read` raise
:class:`MicrophoneError`; :meth:`reopen` tries again.

``sounddevice`` is imported lazily: without PortAudio the module still imports.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import numpy as np

from ..errors import one_line
from .portaudio import sounddevice

log = logging.getLogger(__name__)

RATE = 16000
KEYBOARD_HINT = "You can use the keyboard instead: voiceassist text"


class MicrophoneError(RuntimeError):
    """The microphone cannot be used; ``str(error)`` is one line for the user."""


def _sounddevice():
    return sounddevice(MicrophoneError, KEYBOARD_HINT)


def device_spec(device: int | str | None) -> int | str | None:
    """A device as an operator gives it: its number as `python -m sounddevice`
    lists it ("1" is device 1, not a name containing "1"), or part of its name."""
    if isinstance(device, str) and device.strip().isdigit():
        return int(device)
    return device


def _inputs() -> list[dict]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise MicrophoneError(f"Cannot list audio devices: {one_line(exc)}") from None
    return [d for d in devices if d["max_input_channels"] > 0]


def list_devices() -> list[str]:
    """Names of the input devices PortAudio sees (raises MicrophoneError without PortAudio)."""
    return [d["name"] for d in _inputs()]


def _available() -> str:
    """The microphones with their numbers: "usbmic (3), headset (4)"."""
    return ", ".join(f"{d['name']} ({d['index']})" for d in _inputs())


def _resolve_input(sd, device) -> dict:
    try:
        info = sd.query_devices(device, kind="input")
    except (ValueError, sd.PortAudioError) as exc:
        names = _available()
        if not names:
            raise MicrophoneError(f"No microphone found. {KEYBOARD_HINT}") from None
        if device is None:
            raise MicrophoneError(f"No default microphone; choose one of: {names}") from None
        if isinstance(device, str):
            why = "matches more than one" if "ultiple" in str(exc) else "matches no"
            raise MicrophoneError(f"'{device}' {why} microphone; available: {names}") from None
        raise MicrophoneError(f"No microphone number {device}; available: {names}") from None
    if info["max_input_channels"] < 1:
        raise MicrophoneError(f"'{info['name']}' ({info['index']}) is not a microphone; available: {_available()}")
    return info


class Microphone:
    """16 kHz mono int16 audio blocks from an input device.

    >>> with Microphone() as mic:          # default device, 30 ms blocks
    ...     block = mic.read(timeout=1.0)  # 960 bytes, or None if nothing came

    ``device``: None (default input), a number (also as text: "1"), or part of a name.
    ``queue_s``: how much audio the queue holds before blocks are dropped.
    ``stall_s``: an open stream that delivers nothing for this long is dead.
    """

    def __init__(
        self,
        device: int | str | None = None,
        samplerate: int = RATE,
        block_ms: int = 30,
        *,
        queue_s: float = 5.0,
        stall_s: float = 2.0,
    ) -> None:
        if samplerate != RATE:
            raise ValueError("Microphone delivers 16 kHz audio (samplerate=16000)")
        if not 5 <= block_ms <= 1000:
            raise ValueError("block_ms must be between 5 and 1000")
        self.device = device_spec(device)
        self.samplerate = samplerate
        self.block_ms = block_ms
        self.block_samples = samplerate * block_ms // 1000
        self.stall_s = stall_s
        self._queue_s = queue_s
        self._queue: queue.Queue[bytes] = queue.Queue()
        self._stream = None
        self._resampler = None
        self._pending = np.zeros(0, np.int16)
        self._closing = False
        self._died = threading.Event()
        self._last_block = 0.0
        self.device_name = ""
        self.device_rate = 0
        self.overflows = 0  # PortAudio reported input overflow
        self.dropped = 0  # blocks dropped because the queue was full
        self._logged = (0, 0)
        self._last_log = 0.0

    # ---- life cycle
    def open(self) -> "Microphone":
        if self._stream is not None:
            return self
        sd = _sounddevice()
        info = _resolve_input(sd, self.device)
        index = int(info["index"])
        rate = RATE
        try:
            sd.check_input_settings(index, samplerate=RATE, channels=1, dtype="int16")
            self._resampler = None
        except (ValueError, sd.PortAudioError):
            rate = int(info["default_samplerate"])
            import soxr

            self._resampler = soxr.ResampleStream(rate, RATE, 1, dtype="int16", quality="HQ")
            log.info("microphone '%s' cannot record at 16 kHz; recording at %d Hz and resampling", info["name"], rate)
        blocksize = rate * self.block_ms // 1000
        self._queue = queue.Queue(maxsize=max(4, int(self._queue_s * 1000 / self.block_ms)))
        self._pending = np.zeros(0, np.int16)
        self._closing = False
        self._died.clear()
        try:
            stream = sd.RawInputStream(
                samplerate=rate,
                blocksize=blocksize,
                device=index,
                channels=1,
                dtype="int16",
                callback=self._callback,
                finished_callback=self._finished,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise MicrophoneError(f"Cannot open microphone '{info['name']}': {one_line(exc)}") from None
        self._stream = stream
        self.device_name = str(info["name"])
        self.device_rate = rate
        self._last_block = time.monotonic()
        log.info("microphone '%s' open at %d Hz, %d ms blocks", self.device_name, rate, self.block_ms)
        return self

    def close(self) -> None:
        stream, self._stream = self._stream, None
        self._closing = True
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception as exc:  # noqa: BLE001 - closing a dead device must not raise
                log.debug("closing microphone: %s", one_line(exc))
        self._log_losses(force=True)

    def reopen(self) -> "Microphone":
        """Close (quietly) and open again, e.g. after the device came back."""
        self.close()
        return self.open()

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def __enter__(self) -> "Microphone":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- PortAudio thread: copy and go
    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        try:
            self._queue.put_nowait(bytes(indata))
        except queue.Full:
            self.dropped += 1

    def _finished(self) -> None:
        if not self._closing:
            self._died.set()

    # ---- consumer
    def read(self, timeout: float | None = None) -> bytes | None:
        """The next block (``block_ms`` of 16 kHz mono int16, little-endian), or
        None if none came within ``timeout``. Raises MicrophoneError if the
        stream died (device unplugged) or was never opened."""
        if self._stream is None:
            raise MicrophoneError("Microphone is not open")
        deadline = None if timeout is None else time.monotonic() + timeout
        while len(self._pending) < self.block_samples:
            if self._died.is_set() and self._queue.empty():
                raise MicrophoneError(f"Microphone '{self.device_name}' stopped (unplugged?); {KEYBOARD_HINT}")
            wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
            try:
                data = self._queue.get(timeout=wait)
            except queue.Empty:
                self._check_alive()
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            self._last_block = time.monotonic()
            x = np.frombuffer(data, dtype="<i2")
            if self._resampler is not None:
                x = self._resampler.resample_chunk(x.astype(np.int16))
            self._pending = np.concatenate([self._pending, x.astype(np.int16, copy=False)])
        block, self._pending = self._pending[: self.block_samples], self._pending[self.block_samples :]
        self._log_losses()
        return block.astype("<i2").tobytes()

    def _check_alive(self) -> None:
        stream = self._stream
        dead = self._died.is_set()
        if stream is not None and not dead:
            try:
                dead = not stream.active
            except Exception:  # noqa: BLE001 - PortAudio error on a vanished device
                dead = True
        if not dead and time.monotonic() - self._last_block > self.stall_s:
            dead = True
        if dead:
            self._died.set()
            raise MicrophoneError(f"Microphone '{self.device_name}' stopped (unplugged?); {KEYBOARD_HINT}")

    def _log_losses(self, force: bool = False) -> None:
        now = time.monotonic()
        current = (self.overflows, self.dropped)
        if current != self._logged and (force or now - self._last_log > 1.0):
            log.warning("microphone: %d input overflows, %d blocks dropped (reader too slow)", *current)
            self._logged, self._last_log = current, now
