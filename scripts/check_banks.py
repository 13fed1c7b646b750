#!/usr/bin/env python3
"""Quick sanity check of the fixture banks with pocketsphinx.

For every bank in tests/fixtures/banks/, each recording is decoded against a JSGF
grammar of all phrases of its kind (answers, pain_location or commands), and a
per-bank table shows how many came back as the exact phrase and as the right id
("yeah" heard as "yes" is right id, wrong phrase). The out-of-grammar recordings
are decoded against the answers grammar: whatever comes back is a false accept
that the real recogniser must reject by other means.

This is a check of the voices, not the project's recogniser
(voiceassist/speech/asr.py).

    python scripts/check_banks.py                     # clean audio
    python scripts/check_banks.py --noise babble --snr 10
    python scripts/check_banks.py --banks piper_joe -v  # show every miss
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import FIXTURES, RATE, load_phrases, read_wav  # noqa: E402

KINDS = ("answers", "pain_location", "commands")


def jsgf(name: str, phrases: list[str]) -> str:
    alts = " | ".join(sorted(set(phrases)))
    return f"#JSGF V1.0;\ngrammar {name};\npublic <utterance> = {alts};\n"


class Checker:
    def __init__(self, grammars: dict[str, list[str]]):
        from pocketsphinx import Decoder

        self.decoder = Decoder(lm=None, samprate=RATE, loglevel="FATAL")
        for kind, phrases in grammars.items():
            self.decoder.add_jsgf_string(kind, jsgf(kind, phrases))

    def recognise(self, kind: str, x: np.ndarray) -> str:
        self.decoder.activate_search(kind)
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, no_search=False, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


def with_context(x: np.ndarray, rng: np.random.Generator, noise: np.ndarray | None, snr_db: float) -> np.ndarray:
    """0.3 s of silence each side (as the replay harness adds), tiny dither, optional noise."""
    pad = np.zeros(int(0.3 * RATE), np.float32)
    y = np.concatenate([pad, x, pad])
    y = y + rng.normal(0, 1e-4, len(y)).astype(np.float32)
    if noise is not None:
        speech_rms = float(np.sqrt(np.mean(x**2)))
        start = int(rng.integers(0, len(noise) - len(y)))
        n = noise[start : start + len(y)]
        n = n * (speech_rms / float(np.sqrt(np.mean(n**2)))) * 10 ** (-snr_db / 20)
        y = y + n
    return np.clip(y, -1, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--banks", help="comma-separated bank names (default: every folder in banks/)")
    ap.add_argument("--fixtures", type=Path, default=FIXTURES)
    ap.add_argument("--noise", help="mix in tests/fixtures/noise/<NAME>.wav")
    ap.add_argument("--snr", type=float, default=10.0, help="speech-to-noise ratio in dB (default 10)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per bank")
    ap.add_argument("-v", "--verbose", action="store_true", help="show every miss")
    args = ap.parse_args(argv)

    phrases = load_phrases()
    text_to_id: dict[tuple[str, str], str] = {}
    grammars: dict[str, list[str]] = defaultdict(list)
    for p in phrases:
        if p.kind in KINDS:
            grammars[p.kind].append(p.text)
            text_to_id[(p.kind, p.text)] = p.id
    checker = Checker(grammars)

    bank_root = args.fixtures / "banks"
    names = args.banks.split(",") if args.banks else sorted(d.name for d in bank_root.iterdir() if d.is_dir())
    noise = None
    if args.noise:
        noise, _ = read_wav(args.fixtures / "noise" / f"{args.noise}.wav")
    condition = f"{args.noise} at {args.snr:g} dB SNR" if args.noise else "clean"

    rows = []
    for name in names:
        rng = np.random.default_rng(0)
        t0 = time.monotonic()
        per_kind = {k: [0, 0, 0] for k in KINDS}  # files, exact, right id
        false_accepts, misses = [], []
        for p in phrases:
            x, rate = read_wav(bank_root / name / p.file)
            assert rate == RATE, f"{name}/{p.file}: {rate} Hz"
            y = with_context(x, rng, noise, args.snr)
            if p.kind == "out_of_grammar":
                heard = checker.recognise("answers", y)
                if heard:
                    false_accepts.append(f"{p.file}: '{heard}'")
                continue
            heard = checker.recognise(p.kind, y)
            c = per_kind[p.kind]
            c[0] += 1
            c[1] += heard == p.text
            ok = text_to_id.get((p.kind, heard)) == p.id
            c[2] += ok
            if not ok:
                misses.append(f"{p.file} '{p.text}' -> '{heard}'")
        total = [sum(per_kind[k][i] for k in KINDS) for i in range(3)]
        rows.append((name, per_kind, total, false_accepts, misses, time.monotonic() - t0))

    if args.json:
        for name, per_kind, total, fa, misses, secs in rows:
            print(json.dumps({"bank": name, "condition": condition, "kinds": per_kind, "total": total,
                              "false_accepts": fa, "misses": misses}))
        return 0

    print(f"pocketsphinx, closed grammar per kind, {condition}: right id % (exact phrase %)")
    head = f"{'bank':14s}" + "".join(f"{k:>18s}" for k in (*KINDS, "all")) + "   OOG accepted"
    print(head)
    print("-" * len(head))
    for name, per_kind, total, fa, misses, secs in rows:
        cells = []
        for c in [*(per_kind[k] for k in KINDS), total]:
            cells.append(f"{100 * c[2] / c[0]:5.0f} ({100 * c[1] / c[0]:3.0f}) {c[2]:2d}/{c[0]:<2d}")
        print(f"{name:14s}" + "".join(f"{c:>18s}" for c in cells) + f"   {len(fa)}/2")
        if args.verbose:
            for m in misses:
                print(f"    miss  {m}")
            for m in fa:
                print(f"    OOG   {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
