"""The committed audio fixture banks match prompts/en.yaml and are usable audio.

Expected file names are derived here from en.yaml independently of
scripts/make_fixtures.py, following docs/replay.md ("Bank").
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
BANKS = FIXTURES / "banks"
PROMPTS = ROOT / "voiceassist" / "prompts" / "en.yaml"

STEM = {"yes": "yes", "no": "no", "unknown": "dont_know", True: "yes", False: "no"}


def _names(stem: str, n: int) -> list[str]:
    return [f"{stem}.wav"] + [f"{stem}-{i}.wav" for i in range(2, n + 1)]


def expected_files() -> dict[str, str]:
    """file name -> phrase text, for every phrase a bank must hold."""
    data = yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))
    groups = [(STEM.get(k, str(k)), v) for k, v in data["answers"].items()]
    groups += list(data["options"]["pain_location"].items())
    groups += list(data["commands"].items())
    groups.append(("out_of_grammar", ["banana sandwich please", "the weather is nice today"]))
    groups.append(("start", data["kiosk"]["start"]))
    out = {}
    for stem, texts in groups:
        out.update(zip(_names(str(stem), len(texts)), texts))
    return out


def bank_dirs() -> list[Path]:
    return sorted(d for d in BANKS.iterdir() if d.is_dir()) if BANKS.is_dir() else []


def read(path: Path) -> tuple[np.ndarray, int, int, int]:
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return x, rate, channels, width


def test_there_is_a_neural_and_an_espeak_bank():
    names = {d.name for d in bank_dirs()}
    assert "piper_joe" in names
    assert len({n for n in names if n.startswith("espeak_")}) >= 3


@pytest.mark.parametrize("bank", bank_dirs(), ids=lambda d: d.name)
def test_bank_has_every_phrase(bank: Path):
    want = expected_files()
    have = {p.name for p in bank.glob("*.wav")}
    assert sorted(set(want) - have) == [], "missing recordings: run scripts/make_fixtures.py"
    assert sorted(have - set(want)) == [], "stale recordings: run scripts/make_fixtures.py"
    # the canonical names replay.md requires are among them
    for name in ["yes.wav", "no.wav", "dont_know.wav", "calf.wav", "behind_knee.wav", "heel.wav",
                 "thigh.wav", "whole_leg.wav", "repeat.wav", "help.wav", "go_back.wav"]:
        assert name in have


@pytest.mark.parametrize("bank", bank_dirs(), ids=lambda d: d.name)
def test_bank_manifest_matches_en_yaml(bank: Path):
    manifest = json.loads((bank / "phrases.json").read_text())
    assert {f: e["text"] for f, e in manifest["files"].items()} == expected_files()


@pytest.mark.parametrize("bank", bank_dirs(), ids=lambda d: d.name)
def test_bank_audio_format(bank: Path):
    for f in sorted(bank.glob("*.wav")):
        x, rate, channels, width = read(f)
        assert (rate, channels, width) == (16000, 1, 2), f.name
        seconds = len(x) / rate
        assert 0.2 < seconds < 5.0, f"{f.name}: {seconds:.2f} s"
        assert np.abs(x).max() > 3000, f"{f.name} is (nearly) silent"
        # trimmed: about 100 ms of quiet each side, not seconds
        edge = int(0.05 * rate)
        loud = np.abs(x).max()
        assert np.abs(x[:edge]).max() < 0.5 * loud, f"{f.name} starts mid-word"
        assert np.abs(x[-edge:]).max() < 0.5 * loud, f"{f.name} ends mid-word"


@pytest.mark.parametrize("name", ["babble.wav", "fan.wav"])
def test_noise_files(name: str):
    x, rate, channels, width = read(FIXTURES / "noise" / name)
    assert (rate, channels, width) == (16000, 1, 2)
    assert 9.5 <= len(x) / rate <= 10.5
    rms = np.sqrt(np.mean((x / 32768.0) ** 2))
    assert 0.03 < rms < 0.3  # about -20 dBFS


def test_fixtures_stay_small():
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*.wav"))
    assert total < 15e6, f"{total / 1e6:.1f} MB of WAV fixtures"
