"""The benchmark's two sets: a tuning set (choose thresholds and models on it)
and a report set (report every figure from it, the tuning set beside it).

The split is in benchmarks/corpus/split.json, drawn once (see
benchmarks/corpus/README.md). A voice is a folder of recordings named as a
bank's (tests/fixtures/banks/<name> for the fixtures' voices,
benchmarks/corpus/voices/<name> for the corpus's); a noise is a 16 kHz WAV
(tests/fixtures/noise/<name>.wav or benchmarks/corpus/noise/<name>.wav).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
SETS = ("tuning", "report")
SNRS = (20, 10, 6)
# What a single answer means, by file stem (a bank's names, replay.md "Bank").
ANSWER_STEMS = {"yes": "yes", "no": "no", "dont_know": "unknown"}
# The grammar a single answer of each kind is heard with: (Listen kind, finding).
GRAMMARS = {"yes_no": ("yes_no", None), "pain_location": ("choice", "pain_location")}


@cache
def split() -> dict:
    return json.loads((CORPUS / "split.json").read_text())


def voices(name: str) -> list[str]:
    return list(split()[name]["voices"])


def noise_names(name: str, kind: str) -> list[str]:
    """The set's recordings of one kind of noise (fan, babble, mix), the default first."""
    return list(split()[name]["noise"][kind])


def voice_dir(voice: str) -> Path:
    for folder in (FIXTURES / "banks" / voice, CORPUS / "voices" / voice):
        if folder.is_dir():
            return folder
    raise SystemExit(f"no voice {voice!r} in tests/fixtures/banks or benchmarks/corpus/voices")


def noise_path(noise: str) -> Path:
    for path in (FIXTURES / "noise" / f"{noise}.wav", CORPUS / "noise" / f"{noise}.wav"):
        if path.is_file():
            return path
    raise SystemExit(f"no noise {noise!r} in tests/fixtures/noise or benchmarks/corpus/noise")


def conditions(name: str, kinds: tuple[str, ...] = ("fan", "babble")) -> list[tuple[str, str | None, int | None]]:
    """(label, noise name or None, SNR): clean, then each kind's default recording at 20, 10 and 6 dB."""
    out: list[tuple[str, str | None, int | None]] = [("clean", None, None)]
    for kind in kinds:
        noise = noise_names(name, kind)[0]
        out += [(f"{kind} {snr} dB", noise, snr) for snr in SNRS]
    return out


def select(conds: list, wanted: str | None) -> list:
    """The conditions named in `wanted` (comma-separated: "clean", "fan",
    "babble 10 dB"), or all. A kind names the set's default recording of it;
    "NAME.wav 10 dB" names any recording (the fixtures' own babble loop, to
    compare with figures measured on it before the sets existed)."""
    if not wanted:
        return conds
    names = wanted.split(",")
    chosen = [c for c in conds if {c[0], c[0].split()[0]} & set(names)]
    for name in names:
        match = re.fullmatch(r"(\S+)\.wav (\d+) dB", name.strip())
        if match:
            noise_path(match[1])  # a clear error now, not in a worker
            chosen.append((name.strip(), match[1], int(match[2])))
    return chosen


def single_answers(voice: str) -> list[tuple[str, str, str]]:
    """(file name, kind, meaning) of every yes/no/"I don't know" and place
    recording of a voice; kind is "yes_no" or "pain_location"."""
    files = json.loads((voice_dir(voice) / "phrases.json").read_text())["files"]
    out = []
    for name, phrase in sorted(files.items()):
        if phrase["kind"] == "answers" and phrase["id"] in ANSWER_STEMS:
            out.append((name, "yes_no", ANSWER_STEMS[phrase["id"]]))
        elif phrase["kind"] == "pain_location":
            out.append((name, "pain_location", phrase["id"]))
    return out


def commands(voice: str) -> list[tuple[str, str]]:
    """(file name, command) of the first recording of each command a voice has
    ("repeat.wav": repeat), in the order of their names."""
    files = json.loads((voice_dir(voice) / "phrases.json").read_text())["files"]
    return sorted((name, phrase["id"]) for name, phrase in files.items()
                  if phrase["kind"] == "commands" and name == f"{phrase['id']}.wav")


def not_answers(voice: str) -> list[tuple[str, "object"]]:
    """(sentence, 16 kHz int16 samples) of the ~20 sentences that are not
    answers: the corpus's recordings, or for a fixture voice made as
    scripts/make_fixtures.py makes its bank (deterministic)."""
    from voiceassist.speech import audio

    folder = voice_dir(voice)
    files = json.loads((folder / "phrases.json").read_text())["files"]
    recorded = [(p["text"], audio.load_wav(folder / f)) for f, p in sorted(files.items(), key=_variant)
                if p["kind"] == "not_answer"]
    if recorded:
        return recorded
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import make_corpus
    import make_fixtures

    synthesise = make_fixtures.synthesiser(make_fixtures.VOICES[voice])
    return [(s, audio.to_mono16k(make_fixtures.prepare(*synthesise(s)), make_fixtures.RATE))
            for s in make_corpus.NOT_ANSWERS]


def _variant(item) -> int:
    stem = Path(item[0]).stem
    n = stem.rpartition("-")[2]
    return int(n) if n.isdigit() else 1
