"""The person's effort in a replayed consultation: prompts heard, extra prompts, time.

Counted from what the replay's Recorder keeps of the dialogue's turns: every
turn with a `listen` is a prompt the person hears and answers, counted for
its question (`Result.prompts`, keyed by the listen's question and findings;
a read-back is a prompt of its question; the offer to repeat the outcome is
not counted). And on the virtual microphone's sample clock: the seconds of
audio the consultation read (the assistant speaking, and listening), not the
machine's time (`ClockedSpeaker`).
"""

from __future__ import annotations

import statistics

from voiceassist.bank import SampleClockSpeaker
from voiceassist.triage.engine import UNCLEAR


def consultation(result) -> dict:
    """One consultation's effort:
    prompts: every question, read-back and ask-again the person heard;
    questions: the distinct questions among them; extra = prompts - questions;
    most: the most prompts spent on one question;
    answers: answers the dialogue took (filled); right_first: those right,
    whose question was prompted once; wrong: those taken as something the
    person did not mean; unclear: those never understood, taken at the cap of
    prompts as the safe reading (triage.md, "Unknown answers")."""
    prompts = result.prompts
    filled = result.turns
    return {
        "prompts": sum(prompts.values()),
        "questions": len(prompts),
        "extra": sum(prompts.values()) - len(prompts),
        "most": max(prompts.values(), default=0),
        "answers": len(filled),
        "right_first": sum(t["meant"] == t["answer"] and prompts[(t["question"], tuple(t["findings"]))] == 1
                           for t in filled),
        "wrong": sum(t["meant"] != t["answer"] != UNCLEAR for t in filled),
        "unclear": sum(t["answer"] == UNCLEAR != t["meant"] for t in filled),
        "seconds": getattr(result, "seconds", None),
        "speaking_seconds": getattr(result, "speaking_seconds", None),
    }


def summary(efforts: list[dict]) -> dict:
    """Median and max over consultations; shares over all answers."""
    def med_max(key):
        values = [e[key] for e in efforts if e[key] is not None]
        return (statistics.median(values), max(values)) if values else (None, None)

    answers = sum(e["answers"] for e in efforts)
    return {
        "prompts": med_max("prompts"), "extra": med_max("extra"), "most": max(e["most"] for e in efforts),
        "right_first": sum(e["right_first"] for e in efforts) / max(1, answers),
        "wrong": sum(e["wrong"] for e in efforts) / max(1, answers),
        "unclear": sum(e["unclear"] for e in efforts) / max(1, answers),
        "seconds": med_max("seconds"),
    }


class ClockedSpeaker(SampleClockSpeaker):
    """The replay's speaker, counting the seconds of audio the consultation
    reads (Consultation advances it by every block it reads) and those it
    spent speaking."""

    def __init__(self, gain: float = 1.0):
        super().__init__(gain)
        self.seconds = 0.0
        self.speaking_seconds = 0.0

    def advance(self, seconds: float) -> float:
        self.seconds += seconds
        played = super().advance(seconds)
        self.speaking_seconds += played
        return played


def run(rules, prompts, case, bank, parts, **replay_args):
    """replay.run_case_voice, with the time counted: the Result gets
    `seconds` and `speaking_seconds`."""
    from voiceassist.replay import run_case_voice

    speaker = ClockedSpeaker()
    result = run_case_voice(rules, prompts, case, bank, parts.recogniser, parts.tts, endpoint=parts.endpoint,
                            speaker=speaker, **replay_args)
    result.seconds, result.speaking_seconds = round(speaker.seconds, 1), round(speaker.speaking_seconds, 1)
    return result
