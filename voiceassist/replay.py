"""The simulated patient (shared/spec/replay.md).

A case gives the answers a person would give; the patient answers each
prompt of the real dialogue manager from them. With `--text` it answers with
the canonical phrase as text; with `--bank DIR` it speaks recordings that go
through the same endpointer and recogniser as a microphone.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable


from .dialogue.manager import Dialogue, Heard, Listen, Settings, Turn
from .triage.engine import EMERGENCY_LEVELS
from .triage.rules import ANSWERS, ConfigError, Prompts, Rules
from .errors import with_kind
from .yamlfile import read_yaml


@dataclass
class Case:
    id: str
    answers: dict[str, str]
    expect: dict[str, Any] | None = None
    story: str = ""


def yaml_word(value: Any) -> str:
    # PyYAML (YAML 1.1) reads bare yes/no as booleans: they mean the answers.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def load_cases(path: str | Path, rules: Rules) -> list[Case]:
    """Read and check a cases file. Raises ConfigError (one line) on bad input."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ConfigError(path, "", "expected a case or a list of cases")
    cases = []
    for n, item in enumerate(data):
        entry = f"case {n + 1}"
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(path, entry, "a case needs an id")
        entry = f"case {item['id']}"
        raw = item.get("answers") or {}
        if not isinstance(raw, dict):
            raise ConfigError(path, entry, "answers must be a mapping of finding id to answer")
        answers: dict[str, str] = {}
        for fid, value in raw.items():
            finding = rules.findings.get(fid)
            if finding is None:
                raise ConfigError(path, entry, f"unknown finding id {fid!r}")
            value = yaml_word(value)
            allowed = finding.options + ("unknown",) if finding.kind == "choice" else ANSWERS
            if value not in allowed:
                raise ConfigError(path, entry, f"{fid}: {value!r} is not one of {list(allowed)}")
            answers[fid] = value
        expect = item.get("expect")
        if expect is not None:
            if not isinstance(expect, dict) or expect.get("level") not in rules.levels:
                raise ConfigError(path, entry, f"expect.level must be one of {list(rules.levels)}")
            for cid in expect.get("causes") or []:
                if cid not in rules.causes:
                    raise ConfigError(path, entry, f"unknown cause id {cid!r}")
        cases.append(Case(str(item["id"]), answers, expect, str(item.get("story", ""))))
    return cases


def meant(case: Case, listen: Listen) -> str:
    """What the patient means to answer (replay.md, "How the patient answers")."""
    if listen.kind == "offer":
        return "no"
    values = [case.answers.get(f) for f in listen.findings]
    if listen.kind == "choice":
        answer = values[0] or "unknown"
    elif "yes" in values:
        answer = "yes"
    elif "unknown" in values:
        answer = "unknown"
    else:
        answer = "no"
    if listen.kind == "confirm":
        return "yes" if listen.confirming == answer else "no"
    return answer


@dataclass(frozen=True)
class Mishearing:
    """A schedule of answers the patient is misheard on, so that what noise
    does to the dialogue can be reproduced without a particular noise file
    (`replay --mishear first,readbacks`). A misheard answer is the wrong one:
    yes for no, no for yes or "I don't know", another place for a place.

    - `first`: the first answer to every question;
    - `again`: every answer to a question after its first;
    - `readbacks`: every answer to "I heard ... Is that right?";
    - `rate:R`: each answer with chance R (`seed` makes it reproducible).
    """

    first: bool = False
    again: bool = False
    readbacks: bool = False
    rate: float = 0.0
    seed: int = 0

    @classmethod
    def parse(cls, spec: str, seed: int = 0) -> "Mishearing":
        kw: dict[str, Any] = {"seed": seed}
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            name, _, value = part.partition(":")
            if name in ("first", "again", "readbacks") and not value:
                kw[name] = True
            elif name == "rate":
                try:
                    kw["rate"] = float(value)
                except ValueError:
                    kw["rate"] = -1.0
                if not 0.0 <= kw["rate"] <= 1.0:
                    raise ValueError(f"--mishear rate must be between 0 and 1, not {value!r}")
            else:
                raise ValueError(f"--mishear: unknown schedule {part!r} (use first, again, readbacks, rate:R)")
        return cls(**kw)

    def chooser(self, case_id: str = "") -> Callable[[Listen, int], bool]:
        """A fresh schedule for one patient: (prompt, answers already given to its question) -> misheard?
        Each case draws its own chances, the same on every run."""
        rng = random.Random(f"{self.seed}:{case_id}")

        def misheard(listen: Listen, nth: int) -> bool:
            if listen.kind == "offer":
                return False
            chance = rng.random()  # drawn for every answer, so the schedule does not shift
            if listen.kind == "confirm":
                if self.readbacks:
                    return True
            elif (self.first and nth == 0) or (self.again and nth > 0):
                return True
            return chance < self.rate

        return misheard


def wrong(value: str, listen: Listen, options: tuple[str, ...]) -> str:
    """The answer a mishearing puts in the patient's mouth."""
    if listen.kind == "choice":
        places = [o for o in options if o != value]
        return places[0] if value == "unknown" else places[(options.index(value)) % len(places)]
    return "no" if value in ("yes", "unknown") else "yes"


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


class Patient:
    """What a simulated patient says to each prompt: what they mean, or, on
    the mishearing schedule, the wrong answer."""

    def __init__(self, rules: Rules, case: Case, mishearing: Mishearing | None = None):
        self.rules, self.case = rules, case
        self.misheard = mishearing.chooser(case.id) if mishearing else None
        self.answered: Counter[tuple[str, tuple[str, ...]]] = Counter()

    def answer(self, listen: Listen) -> tuple[str, bool]:
        """(what is said, whether it is a mishearing)."""
        value = meant(self.case, listen)
        if self.misheard is None or listen.kind == "offer":
            return value, False
        key = (listen.question, listen.findings)
        nth = self.answered[key]
        if listen.kind != "confirm":
            self.answered[key] += 1
        if not self.misheard(listen, nth):
            return value, False
        options = self.rules.findings[listen.findings[0]].options if listen.kind == "choice" else ()
        return wrong(value, listen, options), True


# With a mishearing schedule the typed patient stands for a recogniser in a
# noisy room: every answer comes with the evidence babble at 10 dB gives, and
# a misheard one is just as confident (measured: a "yes" heard as "no" at 0.997).
NOISY_ROOM = {"confidence": 0.95, "snr_db": 10.0, "agreed": True}


class TextPatient:
    """Answers with the canonical phrase as text: at full confidence, or as
    heard in a noisy room when some answers are misheard."""

    def __init__(self, prompts: Prompts, mishearing: Mishearing | None = None):
        self.prompts, self.mishearing = prompts, mishearing

    def for_case(self, rules: Rules, case: Case) -> Patient:
        return Patient(rules, case, self.mishearing)

    def reply(self, patient: Patient, listen: Listen) -> Heard:
        value, _ = patient.answer(listen)
        finding = listen.findings[0] if listen.kind == "choice" else None
        text = self.prompts.canonical(value, finding)
        return Heard(text, **NOISY_ROOM) if self.mishearing else Heard(text, 1.0)


class Recorder:
    """Builds a case's Result from the turns of the real dialogue."""

    def __init__(self, rules: Rules, case: Case, on_say: Callable[[list[str]], None] | None = None):
        self.rules, self.case, self.on_say = rules, case, on_say
        self.result = Result(case)

    def turn(self, turn: Turn) -> None:
        r = self.result
        if turn.listen is not None and turn.listen.kind != "offer":
            r.prompts[(turn.listen.question, turn.listen.findings)] += 1
        r.spoken += turn.say
        r.transcript += [f"assistant: {s}" for s in turn.say]
        if self.on_say:
            self.on_say(turn.say)
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

    def patient(self, text: str) -> None:
        self.result.transcript.append(f"patient: {text}")

    def finish(self, dialogue: Dialogue) -> Result:
        a = dialogue.assessment()
        r = self.result
        r.level, r.causes, r.emergency = a.level, a.top_ids(), a.level in EMERGENCY_LEVELS
        return r


def run_case(rules: Rules, prompts: Prompts, case: Case, patient: TextPatient, settings: Settings | None = None) -> Result:
    """A consultation with typed answers (replay --text)."""
    recorder = Recorder(rules, case)
    dialogue = Dialogue(rules, prompts, settings)
    person = patient.for_case(rules, case)
    turn = dialogue.start()
    recorder.turn(turn)
    for _ in range(dialogue.turn_bound):  # a consultation that has not ended by then is a bug, not a hang
        if turn.done:
            break
        event = patient.reply(person, turn.listen)
        recorder.patient(event.text)
        turn = dialogue.handle(event)
        recorder.turn(turn)
    else:
        recorder.result.error = f"the consultation did not end after {dialogue.turn_bound} turns"
    return recorder.finish(dialogue)


class BankPatient:
    """Answers by speaking recordings from a bank into the virtual microphone.

    `silent=True` says nothing at all (the no-input path); `barge_in` answers
    while the assistant is still speaking, as an impatient person would. On a
    mishearing schedule it says the wrong recording: the real recogniser then
    hears a wrong answer, as it would mishear one in noise.
    """

    def __init__(self, bank, mouth, case: Case, recorder: Recorder, barge_in: bool = False, silent: bool = False,
                 person: Patient | None = None):
        self.bank, self.mouth, self.case, self.recorder = bank, mouth, case, recorder
        self.barge_in, self.silent = barge_in, silent
        self.person = person or Patient(recorder.rules, case)
        # Each person starts at the first variant of every phrase: a case
        # sounds the same whatever was replayed before it.
        self.said: Counter[str] = Counter()

    def say(self, meaning: str):
        clip = self.bank.clip(meaning, self.said[meaning])
        self.said[meaning] += 1
        return clip

    def _speak(self, listen: Listen) -> None:
        if self.silent or self.mouth.speaking:
            return
        value, misheard = self.person.answer(listen)
        self.recorder.patient(f"({self.bank.folder.name}: {value}{' - misheard on purpose' if misheard else ''})")
        self.mouth.speak(self.say(value))

    def before_speak(self, turn: Turn) -> None:
        if self.barge_in and turn.listen is not None and turn.listen.kind in ("yes_no", "choice"):
            self._speak(turn.listen)

    def before_listen(self, listen: Listen) -> None:
        self._speak(listen)


def run_case_voice(rules: Rules, prompts: Prompts, case: Case, bank, recogniser, tts, *,
                   endpoint=None, settings: Settings | None = None, speaker=None, noise=None, snr_db=None,
                   realtime: bool = False, barge_in: bool = False, silent: bool = False, seed: int = 0,
                   captions=None, mishearing: Mishearing | None = None):
    """A consultation with spoken answers: the same endpointer, recogniser,
    dialogue and speech output as a live session (replay --bank)."""
    from .bank import SpokenInput
    from .speech.playback import SampleClockSpeaker
    from .session import Consultation, Hooks

    recorder = Recorder(rules, case)
    speaker = speaker or SampleClockSpeaker()
    mouth = SpokenInput(bank.speech_rms, noise, snr_db, realtime=realtime, seed=seed, assistant=speaker)
    patient = BankPatient(bank, mouth, case, recorder, barge_in=barge_in, silent=silent,
                          person=Patient(rules, case, mishearing))
    dialogue = Dialogue(rules, prompts, settings)
    def on_turn(turn: Turn) -> None:
        recorder.turn(turn)
        patient.before_speak(turn)

    consultation = Consultation(
        dialogue, recogniser, tts, speaker, mouth, endpoint,
        captions=captions or (lambda caption: None), barge_in=True,
        hooks=Hooks(before_listen=patient.before_listen, before_speak=on_turn),
    )
    consultation.run()
    if consultation.error is not None:
        recorder.result.error = with_kind(consultation.error)
    result = recorder.finish(dialogue)
    result.stats = consultation.stats
    return result


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
