"""What a replayed case came to (`Result`, built turn by turn by `Recorder`
from the real dialogue), and the report of a run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..dialogue.manager import Dialogue, Listen, Turn
from ..session.ports import Caption
from ..triage.engine import EMERGENCY_LEVELS
from ..triage.rules import Rules
from .cases import Case, meant


@dataclass
class Result:
    case: Case
    level: str = ""
    causes: list[str] = field(default_factory=list)
    emergency: bool = False
    turns: list[dict] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    questions: int = 0  # answers filled
    instruction_after: int | None = None  # answers filled when the instruction was first spoken
    error: str | None = None
    ending: str | None = None
    stats: Any = None  # voice timing figures (replay --bank)
    # What the consultation cost the person: prompts heard per question
    # ((question, findings) -> count; a read-back is a prompt of its question).
    prompts: Counter = field(default_factory=Counter)

    @property
    def extra_prompts(self) -> int:
        """Prompts beyond one per question asked: read-backs, asks again, repeats."""
        return sum(self.prompts.values()) - len(self.prompts)

    @property
    def most_prompts(self) -> int:
        return max(self.prompts.values(), default=0)

    @property
    def passed(self) -> bool | None:
        exp = self.case.expect
        if exp is None:
            return None
        if self.error:
            return False
        return self.level == exp["level"] and all(c in self.causes for c in exp.get("causes") or [])

    def safety_failure(self, levels: tuple[str, ...]) -> bool:
        exp = self.case.expect
        if exp is None:
            return False
        if not self.level:
            return True
        return levels.index(self.level) > levels.index(exp["level"])

    def over_triaged(self, levels: tuple[str, ...]) -> bool:
        """Ended more urgent than expected: the cost of a safe reading."""
        exp = self.case.expect
        return bool(exp and self.level) and levels.index(self.level) < levels.index(exp["level"])

    def json(self) -> dict:
        return {
            "case": self.case.id,
            "outcome": {"level": self.level, "causes": self.causes, "emergency": self.emergency},
            "turns": self.turns,
            "spoken": self.spoken,
            "questions": self.questions,
            "prompts": sum(self.prompts.values()),
            "extra_prompts": self.extra_prompts,
            "most_prompts": self.most_prompts,
            "instruction_after": self.instruction_after,
            "error": self.error,
            "pass": self.passed,
        }


class Recorder:
    """Builds a case's Result: what was said and heard from the session's
    captions (the records the caption screen and the kiosk's transcripts are
    made of), what was answered from the turns of the real dialogue."""

    def __init__(self, rules: Rules, case: Case):
        self.rules, self.case = rules, case
        self.result = Result(case)

    def caption(self, caption: Caption) -> None:
        self.result.transcript.append(caption.transcript_line())
        if caption.who == "assistant":
            self.result.spoken.append(caption.text)

    def patient(self, text: str) -> None:
        self.caption(Caption("patient", text))

    def turn(self, turn: Turn) -> None:
        r = self.result
        if turn.listen is not None and turn.listen.kind != "offer":
            r.prompts[(turn.listen.question, turn.listen.findings)] += 1
        for f in turn.filled:
            r.questions += 1
            kind = self.rules.question(f.question).kind
            r.turns.append({
                "question": f.question, "findings": list(f.findings),
                "meant": meant(self.case, Listen(f.question, f.findings, kind, ())),
                "prompts": f.attempts,
                "heard": f.heard, "answer": f.answer,
                "confidence": round(f.confidence, 3), "attempts": f.attempts,
            })
        if turn.instruction and r.instruction_after is None:
            r.instruction_after = r.questions
        if turn.done:
            r.ending = turn.ending

    def finish(self, dialogue: Dialogue) -> Result:
        a = dialogue.assessment()
        r = self.result
        r.level, r.causes, r.emergency = a.level, a.top_ids(), a.level in EMERGENCY_LEVELS
        return r


def summary(results: Iterable[Result], levels: tuple[str, ...]) -> dict:
    results = list(results)
    answers = sum(len(r.turns) for r in results)
    correct = sum(1 for r in results for t in r.turns if t["meant"] == t["answer"])
    return {
        "cases": len(results),
        "passed": sum(1 for r in results if r.passed),
        "failed": sum(1 for r in results if r.passed is False),
        "safety_failures": sum(1 for r in results if r.safety_failure(levels)),
        "answers": answers,
        "answers_correct": correct,
    }


def print_results(results: list[Result], levels: tuple[str, ...], as_json: bool, out) -> None:
    for r in results:
        if as_json:
            out.write(json.dumps(r.json()) + "\n")
            continue
        out.write(f"--- {r.case.id}" + (f": {r.case.story}" if r.case.story else "") + "\n")
        for line in r.transcript:
            out.write(f"  {line}\n")
        verdict = {True: "PASS", False: "FAIL", None: "DONE"}[r.passed]
        detail = f"level {r.level}, causes {', '.join(r.causes) or 'none'}, {r.questions} answers"
        if r.case.expect:
            detail += f" (expected {r.case.expect['level']}: {', '.join(r.case.expect.get('causes') or [])})"
        if r.error:
            detail += f"; error: {r.error}"
        if r.safety_failure(levels):
            detail += "; SAFETY FAILURE: less urgent than expected"
        out.write(f"{verdict} {r.case.id}: {detail}\n")
    s = summary(results, levels)
    if as_json:
        out.write(json.dumps({"summary": s}) + "\n")
    else:
        out.write(
            f"\n{s['passed']} passed, {s['failed']} failed"
            f" ({s['cases']} cases, {s['safety_failures']} safety failures,"
            f" {s['answers_correct']}/{s['answers']} answers understood)\n"
        )
