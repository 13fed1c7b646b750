"""How many questions a consultation takes, how soon the emergency
instruction is spoken, and how long the outcome is, over a cases file
(default: the public vignettes).

    python benchmarks/questions.py [CASES.yaml]

Prints one row per case, then the median and maximum. Aims (issue 2): median
at most 12 questions; the emergency instruction within 8 questions. Aim
(triage.md, issue 21): an outcome of at most 14 sentences, from the first word
after the last question to the offer to repeat, 10 or fewer if possible.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from voiceassist.dialogue.outcome import count_sentences
from voiceassist.replay import TextPatient, load_cases, run_case
from voiceassist.triage.rules import load

DEFAULT = Path(__file__).resolve().parents[1] / "examples" / "vignettes.yaml"


def outcome_sentences_heard(transcript: list[str], offer: str) -> int:
    """Sentences said after the last answer, up to the offer to repeat."""
    end = transcript.index(f"assistant: {offer}")
    start = max(i for i in range(end) if transcript[i].startswith("patient: ")) + 1
    return count_sentences([line.partition(": ")[2] for line in transcript[start:end]])


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    rules, prompts = load()
    cases = load_cases(path, rules)
    patient = TextPatient(prompts)
    rows = []
    for case in cases:
        r = run_case(rules, prompts, case, patient)
        said = outcome_sentences_heard(r.transcript, prompts.say("offer_repeat"))
        rows.append((case.id, r.level, r.questions, r.instruction_after, said, r.passed))
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'level':<9}  questions  instruction after  outcome sentences  pass")
    for cid, level, n, after, said, ok in rows:
        print(f"{cid:<{width}}  {level:<9}  {n:>9}  {'' if after is None else after:>17}  {said:>17}  {ok}")
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
    said = [r[4] for r in rows]
    print(f"outcome sentences: median {statistics.median(said):g}, max {max(said)} (aim: <= 14, 10 or fewer)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
