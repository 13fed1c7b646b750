"""A red flag's answer, asked until it is settled, from the calibration rows.

    python benchmarks/red_flags.py [--set tuning|report] [--conditions "babble 10 dB,clean"] [--tries 200]

For each voice of the set and each condition, a person who means "no" (then
"yes") answers the consultation's first question, a red flag, again and
again until the dialogue settles it: each hearing is one row of
benchmarks/calibration/ (that voice, that condition, the yes/no grammar),
drawn at random, judged by the committed acceptance model and read by the
real Dialogue (a read-back is answered "yes" when it is right). Printed:
how often it ended as meant, as the other answer (a "no" taken as yes is
safe; a "yes" taken as no is the flip the red-flag rule must never make) or
unclear (the cap: it counts as yes), and the prompts it took.

In seconds where a whole-consultation benchmark takes most of an hour, so a
change to the red-flag rule (policy.RED_FLAG_TABLE, vote) can be tried on
the tuning set first. What it cannot say: rows are drawn with replacement,
so one recording may be heard twice, as a person with one accent is heard
wrongly the same way twice; rows where nothing was heard are left out.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import acceptance  # noqa: E402
from voiceassist.dialogue.events import Heard  # noqa: E402
from voiceassist.dialogue.manager import Dialogue  # noqa: E402
from voiceassist.triage.rules import load  # noqa: E402

PAIR = "pocketsphinx+whisper"
CALIBRATION = ROOT / "benchmarks" / "calibration"


def heard(row: dict) -> Heard:
    return Heard(row["text"], float(row["confidence"] or 0), float(row["measured_snr"]) if row["measured_snr"] else None,
                 agreed=row["agreed"] == "1.0", engine=PAIR, evidence=row)


def settle(rules, prompts, draw: Callable[[str], dict], meant: str) -> tuple[str, int]:
    """(the answer the first question ended with, prompts it took), the
    person meaning `meant`; `draw("yes")`: the row heard when they say yes."""
    dialogue = Dialogue(rules, prompts)
    turn = dialogue.start()
    question, prompts_heard = turn.listen.question, 0
    while turn.listen is not None and turn.listen.question == question:
        said = ("yes" if turn.listen.confirming == meant else "no") if turn.listen.kind == "confirm" else meant
        turn = dialogue.handle(heard(draw(said)))
        prompts_heard += 1
    # No answer when the person was heard saying "stop" twice: the ending ("stopped").
    return next((f.answer for f in turn.filled if f.question == question), turn.ending or ""), prompts_heard


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", choices=("tuning", "report"), default="tuning")
    p.add_argument("--conditions", default="clean,fan 6 dB,babble 10 dB,babble 6 dB")
    p.add_argument("--tries", type=int, default=200, help="per voice, condition and answer")
    args = p.parse_args()
    rules, prompts = load()
    files = [CALIBRATION / f"{args.set}.csv"] + ([CALIBRATION / "tuning-not-fitted.csv"] if args.set == "tuning" else [])
    rows = [r for r in acceptance.read([str(f) for f in files])
            if r["grammar"] == "yes_no" and r["meant"] in ("yes", "no") and acceptance.heard_anything(r)]
    print("| condition | meant | as meant | taken as the other | unclear (counts as yes) | prompts, mean | worst voice |")
    print("|---|---|---|---|---|---|---|")
    for condition in [c.strip() for c in args.conditions.split(",")]:
        voices = sorted({r["voice"] for r in rows if r["condition"] == condition})
        if not voices:
            raise SystemExit(f"no rows in condition {condition!r}")
        for meant in ("no", "yes"):
            ends, spent, worst = Counter(), 0, (2.0, "")
            for voice in voices:
                pool = {a: [r for r in rows if r["voice"] == voice and r["condition"] == condition and r["meant"] == a]
                        for a in ("yes", "no")}
                rng = random.Random(f"{voice} {condition} {meant}")
                mine = Counter()
                for _ in range(args.tries):
                    answer, n = settle(rules, prompts, lambda said: rng.choice(pool[said]), meant)
                    mine[answer] += 1
                    spent += n
                ends += mine
                worst = min(worst, (mine[meant] / args.tries, voice))
            total = args.tries * len(voices)
            other = "yes" if meant == "no" else "no"
            print(f"| {condition} | {meant} | {ends[meant] / total:.1%} | {ends[other] / total:.2%} | "
                  f"{ends['unclear'] / total:.1%} | {spent / total:.2f} | {worst[1]} ({worst[0]:.0%}) |")


if __name__ == "__main__":
    main()
