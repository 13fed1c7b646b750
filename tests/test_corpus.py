"""The benchmark corpus (benchmarks/corpus): split once, whole, and the files it lists."""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
SPLIT = json.loads((CORPUS / "split.json").read_text())


def test_the_sets_share_no_voice_and_no_noise():
    tuning, report = SPLIT["tuning"], SPLIT["report"]
    assert not set(tuning["voices"]) & set(report["voices"])
    noise = lambda s: {n for names in s["noise"].values() for n in names}  # noqa: E731
    assert not noise(tuning) & noise(report)
    assert len(tuning["voices"]) + len(report["voices"]) >= 12 + 5
    assert len(noise(tuning) | noise(report)) >= 4 + 2


def test_every_corpus_voice_and_noise_is_in_one_set():
    voices = {d.name for d in (CORPUS / "voices").iterdir() if d.is_dir()}
    noises = {p.stem for p in (CORPUS / "noise").glob("*.wav")}
    split_voices = set(SPLIT["tuning"]["voices"]) | set(SPLIT["report"]["voices"])
    split_noises = {n for s in ("tuning", "report") for names in SPLIT[s]["noise"].values() for n in names}
    assert voices <= split_voices and noises <= split_noises
    for v in split_voices - voices:
        assert (ROOT / "tests" / "fixtures" / "banks" / v).is_dir(), v
    for n in split_noises - noises:
        assert (ROOT / "tests" / "fixtures" / "noise" / f"{n}.wav").is_file(), n


def test_the_files_are_those_make_corpus_made():
    want = {}
    for line in (CORPUS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        want[name] = digest
    have = {str(p.relative_to(CORPUS)): hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.rglob("*.wav")}
    assert have == want


@pytest.mark.parametrize("voice", sorted(d.name for d in (CORPUS / "voices").iterdir() if d.is_dir()))
def test_a_corpus_voice_is_a_bank_with_sentences_that_are_not_answers(voice):
    from voiceassist.bank import Bank

    folder = CORPUS / "voices" / voice
    files = json.loads((folder / "phrases.json").read_text())["files"]
    kinds = [p["kind"] for p in files.values()]
    assert (kinds.count("answers"), kinds.count("pain_location"), kinds.count("not_answer")) == (20, 27, 20)
    assert {p.name for p in folder.glob("*.wav")} == set(files)
    bank = Bank(folder)
    assert {"yes", "no", "unknown", "calf", "whole_leg", "repeat"} <= set(bank.clips)
    with wave.open(str(folder / "yes.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)


def test_noise_recordings_are_a_minute_long():
    for path in (CORPUS / "noise").glob("*.wav"):
        with wave.open(str(path)) as w:
            assert w.getnframes() / w.getframerate() >= 60.0, path.name
