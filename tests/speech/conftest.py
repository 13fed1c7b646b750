"""Shared helpers for the speech tests: real speech from espeak-ng, real noise from numpy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from voiceassist.speech.audio import SAMPLE_RATE, load_wav

PROMPTS = Path(__file__).resolve().parents[2] / "voiceassist" / "prompts" / "en.yaml"

# Sentences for babble: several espeak-ng voices talking at once.
BABBLE_LINES = [
    ("en-us", "The train to the city leaves at half past nine from platform four."),
    ("en-gb", "I bought some apples and a loaf of bread at the market this morning."),
    ("en-us+f3", "Could you tell me where the nearest post office is, please?"),
    ("en-gb-scotland", "We went walking in the hills and the weather was lovely all day."),
    ("en-us+m3", "The meeting has been moved to Thursday afternoon in the large room."),
    ("en-029", "My brother is coming to visit us next week with his two children."),
]


class Speaker:
    """Speech synthesised by espeak-ng, cached per (voice, speed, text) for the session."""

    def __init__(self, folder: Path):
        if shutil.which("espeak-ng") is None:
            raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng); the speech tests need it")
        self.folder = folder
        self._cache: dict[tuple[str, int, str], np.ndarray] = {}

    def __call__(self, text: str, voice: str = "en-us", speed: int = 175) -> np.ndarray:
        key = (voice, speed, text)
        if key not in self._cache:
            path = self.folder / f"{len(self._cache)}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
                           check=True, capture_output=True)
            self._cache[key] = load_wav(path)
        return self._cache[key]


@pytest.fixture(scope="session")
def speak(tmp_path_factory) -> Speaker:
    return Speaker(tmp_path_factory.mktemp("espeak"))


@pytest.fixture(scope="session")
def prompts() -> dict:
    with open(PROMPTS, encoding="utf-8") as f:
        return yaml.safe_load(f)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


def white_noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(int(seconds * SAMPLE_RATE))


def pink_noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    k = np.arange(len(spectrum), dtype=float)
    k[0] = 1.0
    y = np.fft.irfft(spectrum / np.sqrt(k), n)
    return y / y.std()


def babble(speak: Speaker, rng: np.random.Generator, seconds: float = 8.0) -> np.ndarray:
    """Six voices speaking different sentences at once, each starting at a random offset."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n)
    for voice, line in BABBLE_LINES:
        x = speak(line, voice).astype(float)
        x /= x.std() or 1.0
        start = int(rng.integers(0, len(x)))
        out += np.resize(np.roll(x, -start), n)  # looped, so every voice covers the whole span
    return out / out.std()


@pytest.fixture(scope="session")
def babble_noise(speak) -> np.ndarray:
    return babble(speak, np.random.default_rng(7))


class Sounds:
    """The helpers above, for test modules (they cannot import conftest)."""

    silence = staticmethod(silence)
    white_noise = staticmethod(white_noise)
    pink_noise = staticmethod(pink_noise)


@pytest.fixture(scope="session")
def sounds() -> Sounds:
    return Sounds()
