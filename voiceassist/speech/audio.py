"""Audio in and out: WAV files, format conversion, blocks, noise mixing.

Everything downstream (endpointer, recognisers) works on one format only:
16 kHz, mono, signed 16-bit little-endian PCM.  This module is the single place
where other formats are turned into that one.

Files are read and written by libsndfile (`soundfile`): every WAV encoding a
recorder writes (8/16/24/32-bit integer, 32/64-bit float, plain or
WAVE_FORMAT_EXTENSIBLE, a streaming writer's unknown length) and the other
formats libsndfile knows (FLAC, Ogg...). A file it cannot read is one line
naming the file; resampling is soxr's.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile
import soxr

SAMPLE_RATE = 16000

# libsndfile reads what a truncated file holds; its log says so ("data : 16000
# (should be 7978)"), unless the length was never known (streaming writers
# leave 0 or 0xFFFFFFFF).
_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


class AudioFormatError(ValueError):
    """A file is not audio this program can read (one-line message)."""


def _fail(path, problem: str) -> AudioFormatError:
    return AudioFormatError(f"{path}: {problem}")


def load_wav(path) -> np.ndarray:
    """Read a WAV file (or any file libsndfile reads) and return 16 kHz mono
    int16 samples. A file that is missing, empty, truncated, not audio or
    holds no samples raises AudioFormatError."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise _fail(path, "file is empty")
        info = soundfile.info(str(path))
        declared = _DATA_SIZE.search(info.extra_info or "")
        if declared and int(declared.group(1)) not in _UNKNOWN_SIZES and int(declared.group(1)) > int(declared.group(2)):
            raise _fail(path, f"truncated: data chunk declares {declared.group(1)} bytes, file holds {declared.group(2)}")
        # 16-bit PCM as it is (bit exact); anything else as float -1.0..1.0.
        dtype = "int16" if info.subtype == "PCM_16" else "float32"
        samples, rate = soundfile.read(str(path), dtype=dtype, always_2d=True)
    except OSError as exc:
        raise _fail(path, f"cannot read file ({exc.strerror or exc})") from None
    except soundfile.LibsndfileError as exc:
        problem = exc.error_string.rstrip(".")
        if "not recognised" in problem:
            problem = "not a WAV file (nor any audio format libsndfile reads)"
        raise _fail(path, problem) from None
    if len(samples) == 0:
        raise _fail(path, "no audio samples in the file")
    if samples.dtype != np.int16 and not np.all(np.isfinite(samples)):
        raise _fail(path, "float samples contain NaN or infinity")
    return to_mono16k(samples, rate)


def to_mono16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Convert samples of shape (n,) or (n, channels) at `rate` to 16 kHz mono int16.

    Integer input is scaled by its type's full range (uint8 is taken as
    unsigned 8-bit audio, centred on 128); float input is taken as -1.0..1.0.
    Channels are averaged; resampling is done by soxr (high quality).
    """
    x = np.asarray(samples)
    if x.ndim not in (1, 2):
        raise ValueError(f"samples must have shape (n,) or (n, channels), not {x.shape}")
    if rate <= 0:
        raise ValueError(f"invalid sample rate {rate}")
    # Fast path: already in the target format, return it untouched (bit exact).
    if x.dtype == np.int16 and rate == SAMPLE_RATE and (x.ndim == 1 or x.shape[1] == 1):
        return np.ascontiguousarray(x.reshape(-1))

    if x.dtype == np.uint8:
        f = (x.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(x.dtype, np.integer):
        f = x.astype(np.float64) / float(-np.iinfo(x.dtype).min)
    elif np.issubdtype(x.dtype, np.floating):
        f = x
    else:
        raise ValueError(f"unsupported sample type {x.dtype}")
    f = f.astype(np.float32, copy=False)
    if f.ndim == 2:
        f = f.mean(axis=1, dtype=np.float32)  # mix down before resampling: less work
    if rate != SAMPLE_RATE and len(f):
        f = soxr.resample(f, rate, SAMPLE_RATE, quality="HQ")
    return float_to_int16(f)


def float_to_int16(f: np.ndarray) -> np.ndarray:
    """-1.0..1.0 floats to int16, rounding and clipping (no wrap-around)."""
    return np.clip(np.rint(np.asarray(f, np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def save_wav(path, samples_int16: np.ndarray, rate: int = SAMPLE_RATE, atomic: bool = False) -> None:
    """Write mono int16 samples as a 16-bit PCM WAV file. `atomic`: written
    beside it and renamed, so that a reader (another process sharing a
    cache) never sees half a file."""
    x = np.asarray(samples_int16)
    if x.dtype != np.int16:
        raise ValueError(f"save_wav expects int16 samples, got {x.dtype}")
    path = Path(path)
    target = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp") if atomic else path
    soundfile.write(str(target), x.reshape(-1), int(rate), subtype="PCM_16", format="WAV")
    if atomic:
        os.replace(target, path)


def read_pcm16(path) -> tuple[np.ndarray, int]:
    """A file's samples as int16 mono at its own rate (speech output and its
    cache keep the synthesiser's rate); AudioFormatError if unreadable."""
    try:
        x, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise _fail(path, exc.error_string.rstrip(".")) from None
    mono = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1).astype(np.int16)
    return np.ascontiguousarray(mono), rate


def seconds_of(pcm: bytes, rate: int = SAMPLE_RATE) -> float:
    """How long 16-bit mono audio lasts."""
    return len(pcm) / 2 / rate


def blocks(samples: np.ndarray, block_ms: int = 30, rate: int = SAMPLE_RATE) -> Iterator[bytes]:
    """Cut int16 samples into `block_ms` blocks of bytes, as a microphone delivers them.

    The last block is zero-padded to full length.
    """
    x = np.asarray(samples, dtype=np.int16).reshape(-1)
    n = max(1, rate * block_ms // 1000)
    for i in range(0, len(x), n):
        b = x[i:i + n]
        if len(b) < n:
            b = np.concatenate([b, np.zeros(n - len(b), np.int16)])
        yield b.astype("<i2", copy=False).tobytes()


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of unit-RMS pink noise (power falling 3 dB per octave), shaped by FFT."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    k = np.arange(len(spectrum), dtype=np.float64)
    k[0] = 1.0
    y = np.fft.irfft(spectrum / np.sqrt(k), n)
    return y / (np.std(y) or 1.0)


def active_rms(samples: np.ndarray, rate: int = SAMPLE_RATE, frame_ms: int = 20,
               range_db: float = 30.0) -> float:
    """RMS of the active part of a signal.

    A simplified active-speech level (in the spirit of ITU-T P.56): only frames
    within `range_db` of the loudest frame count, so the pauses around and
    between words do not dilute the speech level.
    """
    x = np.asarray(samples, np.float64).reshape(-1)
    n = max(1, rate * frame_ms // 1000)
    m = len(x) // n
    if m == 0:
        return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0
    energy = np.mean(x[: m * n].reshape(m, n) ** 2, axis=1)
    peak = energy.max()
    if peak <= 0:
        return 0.0
    active = energy[energy >= peak * 10 ** (-range_db / 10)]
    return float(np.sqrt(active.mean()))


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float,
               rng: np.random.Generator) -> np.ndarray:
    """Add `noise` to `speech` so that active-speech RMS / noise RMS is `snr_db`.

    The noise is looped or cut to the speech length, starting at a random
    offset drawn from `rng`.  If the sum would clip, the whole mix is scaled
    down (keeping the SNR exact) instead of clipping.
    """
    s = np.asarray(speech, np.float64).reshape(-1)
    z = np.asarray(noise, np.float64).reshape(-1)
    if len(z) == 0:
        raise ValueError("noise is empty")
    if len(s) == 0:
        return np.zeros(0, np.int16)
    offset = int(rng.integers(0, len(z)))
    idx = (offset + np.arange(len(s))) % len(z)  # loop the noise from the offset
    z = z[idx]
    noise_rms = float(np.sqrt(np.mean(z ** 2)))
    speech_rms = active_rms(s)
    if noise_rms == 0 or speech_rms == 0:
        mixed = s
    else:
        gain = speech_rms / (noise_rms * 10 ** (snr_db / 20))
        mixed = s + gain * z
    peak = float(np.max(np.abs(mixed)))
    if peak > 32767:
        mixed = mixed * (32767 / peak)
    return np.rint(mixed).astype(np.int16)
