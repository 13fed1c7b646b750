"""The simulated patients: what they say to each prompt (`Patient`), as text
(`TextPatient`, replay --text) or spoken from a bank of recordings into the
virtual microphone (`BankPatient`, replay --bank)."""

from __future__ import annotations

from collections import Counter

from ..dialogue.manager import Heard, Listen, Turn
from ..session.ports import Caption
from ..triage.rules import Prompts, Rules
from .cases import Case, Mishearing, meant, wrong
from .report import Recorder


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
        self._impatient: Listen | None = None  # the question a barge_in person answers as it starts
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
        listen = turn.listen
        self._impatient = listen if self.barge_in and listen is not None and listen.kind in ("yes_no", "choice") else None

    def hearing(self, line: Caption) -> None:
        """Each sentence as the assistant starts saying it. The impatient
        person answers as the question starts: over what comes before it (the
        greeting, "I heard no.") no answer is listened for, and one said there
        was lost and said again after the question."""
        if self._impatient is not None and line.asks is not None:
            listen, self._impatient = self._impatient, None
            self._speak(listen)

    def before_listen(self, listen: Listen) -> None:
        self._speak(listen)
