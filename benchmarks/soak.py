"""Soak: many replayed consultations through kiosk mode, one after another.

    python benchmarks/soak.py [--consultations 500] [--engine auto]

The visitors cycle through the public vignettes and the fixture banks, every
fifth one walking away mid-way (silence). Reports the process's resident
memory after 50 consultations and at the end (it must not grow), every
consultation that did not end as expected (there must be none), and the
time taken. Real recogniser, speech output, caption board and server.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def rss_mb() -> float:
    """Current resident memory (not the peak: growth is what matters here)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--consultations", type=int, default=500)
    p.add_argument("--engine", default="auto", help="default: what the kiosk itself picks")
    args = p.parse_args()

    from test_kiosk import Visitors, make_kiosk, serve  # the kiosk test's visitors, reused

    from voiceassist.bank import Bank, SpokenInput
    from voiceassist.captions import CaptionBoard
    from voiceassist.captions_server import CaptionServer
    from voiceassist.replay import load_cases
    from voiceassist.settings import Settings
    from voiceassist.triage.rules import load
    from voiceassist.app import build

    rules, prompts = load()
    parts = build(Settings(engine=args.engine), prompts, log=lambda line: print(f"# {line}"))
    cases = load_cases(ROOT / "examples" / "vignettes.yaml", rules)
    banks = [Bank(ROOT / "tests" / "fixtures" / "banks" / b) for b in ("piper_joe", "espeak_us")]
    mouth = SpokenInput(banks[0].speech_rms)
    queue = [cases[i % len(cases)] for i in range(args.consultations)]
    walks_away = {c.id for n, c in enumerate(queue) if n % 5 == 4}
    visitors = Visitors(banks[0], mouth, rules, [], quits_after={})
    board = CaptionBoard()
    server = CaptionServer(board, port=0).start()
    marks: dict[int, float] = {}
    failures: list[str] = []
    started = time.monotonic()
    n = {"i": 0}

    def arrive(v):
        i = n["i"]
        if i and v.outcomes and v.outcomes[-1][0] == v.current.id:
            case, assessment = v.current, v.outcomes[-1][1]
            gone = v.quits_after.get(case.id) is not None
            if not gone and case.expect and assessment.level != case.expect["level"]:
                failures.append(f"{i}: {case.id} ended {assessment.level}, expected {case.expect['level']}")
        elif i:
            failures.append(f"{i}: {v.current.id} gave no outcome")
        if i in (50, args.consultations):
            gc.collect()
            marks[i] = rss_mb()
            print(f"after {i} consultations: {marks[i]:.0f} MB resident, {time.monotonic() - started:.0f} s", flush=True)
        if i >= len(queue):
            raise KeyboardInterrupt
        case = queue[i]
        v.bank = banks[i % len(banks)]
        v.queue = [case]
        v.quits_after = {case.id: 4} if i % 5 == 4 else {}
        n["i"] = i + 1

    original_arrive = Visitors.arrive

    def arrive_and_check():
        arrive(visitors)
        original_arrive(visitors)

    kiosk, _ = make_kiosk(rules, prompts, parts.recogniser, visitors, mouth, board, tts=parts.tts)
    kiosk.on_waiting = arrive_and_check
    serve(kiosk, args.consultations + 1)
    server.stop()
    elapsed = time.monotonic() - started
    print(f"\nconsultations: {kiosk.stats.consultations}, endings: {kiosk.stats.endings}, errors: {kiosk.stats.errors}")
    print(f"resident memory: {marks.get(50, float('nan')):.0f} MB after 50, "
          f"{marks.get(args.consultations, float('nan')):.0f} MB after {args.consultations}")
    print(f"failed sessions: {len(failures)}" + "".join(f"\n  {f}" for f in failures[:20]))
    print(f"time: {elapsed:.0f} s ({elapsed / max(1, kiosk.stats.consultations):.2f} s a consultation)")
    return 1 if failures or kiosk.stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
