"""benchmarks/effort.py counts the person's effort from the dialogue's turns."""

from __future__ import annotations

import sys

from conftest import ROOT, VIGNETTES

sys.path.insert(0, str(ROOT / "benchmarks"))
import effort  # noqa: E402

from voiceassist.dialogue.manager import Heard  # noqa: E402
from voiceassist.replay import Recorder, TextPatient, load_cases, run_case  # noqa: E402


def test_typed_answers_take_one_prompt_a_question(rules, prompts):
    case = next(c for c in load_cases(VIGNETTES, rules) if c.id == "calf_strain")
    with effort.counting():
        result = run_case(rules, prompts, case, TextPatient(prompts))
    e = effort.consultation(result)
    assert e["prompts"] == e["questions"] == e["answers"] == e["right_first"] == result.questions
    assert (e["extra"], e["most"], e["wrong"]) == (0, 1, 0)


class Mishearing(TextPatient):
    """Heard as the opposite the first time each question is asked: every answer is read back."""

    def __init__(self, prompts):
        super().__init__(prompts)
        self.asked = set()

    def reply(self, case, listen):
        value, heard = super().reply(case, listen)
        if listen.kind == "yes_no" and listen.question not in self.asked:
            self.asked.add(listen.question)
            flipped = {"yes": "no", "no": "yes"}.get(value, value)
            return value, Heard(self.prompts.canonical(flipped, None), 0.5)
        return value, heard


def test_read_backs_and_asks_again_are_extra_prompts(rules, prompts):
    case = next(c for c in load_cases(VIGNETTES, rules) if c.id == "calf_strain")
    with effort.counting():
        result = run_case(rules, prompts, case, Mishearing(prompts))
    e = effort.consultation(result)
    confirms = sum(1 for lst in result.listens if lst.kind == "confirm")
    assert confirms > 0 and e["extra"] >= confirms
    assert e["prompts"] == e["questions"] + e["extra"] and e["most"] >= 2
    assert e["right_first"] < e["answers"]
    from voiceassist import replay
    assert replay.Recorder is Recorder
