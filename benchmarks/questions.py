"""How many questions a consultation takes, and how soon the emergency
instruction is spoken, over a cases file (default: the public vignettes).

    python benchmarks/questions.py [CASES.yaml]

Prints one row per case, then the median and maximum. Aims (issue 2): median
at most 12 questions; the emergency instruction within 8 questions.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from voiceassist.replay import TextPatient, load_cases, run_case
from voiceassist.triage.rules import load

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "spec" / "vignettes.yaml"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    rules, prompts = load()
    cases = load_cases(path, rules)
    patient = TextPatient(prompts)
    rows = []
    for case in cases:
        r = run_case(rules, prompts, case, patient)
        rows.append((case.id, r.level, r.questions, r.instruction_after, r.passed))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'level':<9}  questions  instruction after  pass")
    for cid, level, n, after, ok in rows:
        print(f"{cid:<{width}}  {level:<9}  {n:>9}  {'' if after is None else after:>17}  {ok}")
    counts = [r[2] for r in rows]
    emergency = [r[3] for r in rows if r[1] in ("ambulance", "emergency")]
    print()
    print(f"questions asked: median {statistics.median(counts):g}, max {max(counts)} (aim: median <= 12)")
    non_emergency = [r[2] for r in rows if r[1] not in ("ambulance", "emergency")]
    if non_emergency:
        print(f"  non-emergency cases: median {statistics.median(non_emergency):g}, "
              f"min {min(non_emergency)}, max {max(non_emergency)}")
    if emergency:
        print(f"emergency instruction spoken after: median {statistics.median(emergency):g}, "
              f"max {max(emergency)} questions (aim: <= 8)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
