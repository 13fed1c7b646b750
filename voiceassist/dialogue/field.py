"""Collecting one answer: the question now asked, turn by turn, until it is
settled (VoiceXML's field: prompt, grammar, reprompts, confirmation).

`Field` asks the form's question now asked (form.py) and weighs what is
heard (question_state.py, policy.py): it asks again after a silence or a
mishearing with more help each time, asks a red flag again while its answer
is not sure, reads an answer back ("I heard no. Is that right?"), asks
"Do you want to stop?" when a stop is not sure, and obeys "repeat", "help",
"slower" and the like. Every prompt goes through `_ask`, where the cap on
prompts per question is kept: at the cap the answer is "unclear".

When the question is settled (answered, a stop, nobody answering, "go
back"), it says so to the dialogue (manager.py) through `settle`, and
returns the dialogue's turn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Mapping

from ..triage.engine import NO, UNCLEAR, UNKNOWN, YES
from ..triage.rules import Prompts, Rules
from . import answers as answer_text, asking
from .events import Heard, Listen, Silence, Turn
from .evidence import EngineModel
from .form import Form
from .policy import ACCEPT, CHANGING, READ_BACK, DialogueSettings, Hearing, Stage, hear
from .question_state import CHECKING, QuestionState


@dataclass(frozen=True)
class Answered:
    """The question's answer is taken; `say` comes before what follows."""

    value: str
    heard: str
    confidence: float
    say: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stopped:
    """The person asked to stop, surely enough."""


@dataclass(frozen=True)
class GaveUp:
    """Silence after silence: nobody is answering. `heard_yes`: a yes to
    the question was heard, however faintly."""

    heard_yes: bool


@dataclass(frozen=True)
class GoBack:
    """"Go back": the last answer is to be asked again."""


Settled = Answered | Stopped | GaveUp | GoBack
PromptKey = tuple[str, tuple[str, ...]]  # a question and the findings it asks about


class Field:
    """The question now asked, from its first prompt until it is settled."""

    def __init__(self, rules: Rules, prompts: Prompts, settings: DialogueSettings,
                 models: Mapping[str, EngineModel], form: Form, settle: Callable[[Settled], Turn]):
        self.rules, self.prompts, self.settings, self.models = rules, prompts, settings, models
        self.form = form  # what is asked: the question now asked, and the answers so far
        self.settle = settle  # the dialogue's turn once the question is settled
        self.prompts_used: Counter[PromptKey] = Counter()
        self.listen: Listen | None = None  # how the next answer is listened for
        self.current = QuestionState()  # the question now asked: its hearings so far

    def hearing(self, event: Heard) -> Hearing:
        """What the question now asked makes of `event`, and the chance it is
        wrong (policy.hear)."""
        listen = self.listen
        vocab = answer_text.vocabulary(self.prompts, listen.kind, listen.findings[0] if listen.kind == "choice" else None)
        return hear(event, vocab, self.settings, self.models)

    def handle(self, event: Heard | Silence) -> Turn:
        if isinstance(event, Silence):
            return self._unheard("no_input")
        self.current.no_input = 0
        listen = self.listen
        h = self.hearing(event)
        if h.kind == "command":
            return self._command(h, event)
        if listen.kind == "confirm":
            return self._confirmed(h, event)
        if listen.red_flag:
            return self._red_flag(h, event)
        verdict = self.current.verdict(h, listen.raises_level)
        if verdict == ACCEPT:
            return self.settle(Answered(h.value, event.text, event.confidence))
        if verdict == READ_BACK:
            return self._read_back(h.value)
        return self._unheard("no_match")

    def ask_afresh(self, say: list[str]) -> Turn:
        """Ask the form's question now asked (or one finding of it) afresh."""
        self.current = QuestionState()
        return self._ask(say, self._question_listen())

    def reprompt(self, say: list[str]) -> Turn:
        """Say `say`, then the current prompt again."""
        return self._ask(say, self.listen)

    def capped(self, key: PromptKey) -> bool:
        """The question (or finding) `key` has had all its prompts."""
        return self.prompts_used[key] >= self.settings.max_prompts

    def attempts(self) -> int:
        """The prompts the question now listened for has taken."""
        return self.prompts_used[(self.listen.question, self.listen.findings)]

    # -- asking -------------------------------------------------------------

    def _ask(self, say: list[str], listen: Listen) -> Turn:
        """Every prompt of a question goes through here: the cap."""
        key = (listen.question, listen.findings)
        if self.capped(key):
            return self._safe_reading()
        self.prompts_used[key] += 1
        self.listen = listen
        return Turn(say + [listen.prompt], listen)

    def _safe_reading(self) -> Turn:
        """The cap is reached: the answer was not understood ("unclear": a red
        flag counts as yes, any other answer cannot lower the level)."""
        key = "cap_red_flag" if self.form.question.red_flag else "cap_other"
        return self.settle(Answered(UNCLEAR, "", 0.0, (self.prompts.say(key),)))

    def _question_listen(self) -> Listen:
        """The current question as it is asked at its stage."""
        return asking.question_listen(self.rules, self.prompts, self.form.answers, self.form.question,
                                      self.form.finding, self.current.stage)

    def _unheard(self, kind: str) -> Turn:
        """A silence ("no_input") or an answer not understood ("no_match"):
        say so and ask again, with more help each time."""
        count = self.current.count(kind)
        if kind == "no_input" and count >= self.settings.max_no_input:
            return self.settle(GaveUp(self.current.heard_yes))
        return self.reprompt(asking.unheard_lines(self.prompts, kind, count, self._help()))

    def _help(self) -> list[str]:
        return asking.help_lines(self.prompts, self.listen, self.form.question)

    # -- hearing ------------------------------------------------------------

    def _red_flag(self, h: Hearing, event: Heard) -> Turn:
        step = self.current.red_flag_step(h)
        if not isinstance(step, Stage):
            return self.settle(Answered(step, event.text, event.confidence))
        if step == self.current.stage:
            if h.value is None:
                return self._unheard("no_match")
            # Heard, but not surely enough to count: said so, not "I did not catch that".
            return self._ask([self.prompts.say("check")], self.listen)
        lead = "ask_another_way" if step == Stage.AGAIN and h.value != UNKNOWN else None
        if step in CHECKING:
            lead = "check"
        self.current.stage = step
        return self._ask([self.prompts.say(lead)] if lead else [], self._question_listen())

    def _read_back(self, value: str) -> Turn:
        original = self.listen if self.listen.kind != "confirm" else self.current.return_to
        self.current.return_to = original
        return self._ask([], asking.read_back_listen(self.prompts, original, value))

    def _confirmed(self, h: Hearing, event: Heard) -> Turn:
        """The answer to "I heard X. Is that right?" or "Do you want to stop?"."""
        listen = self.listen
        if listen.confirming == "stop":
            if h.value == YES and self.current.stops(h, event):
                return self.settle(Stopped())
            return self._back([])
        if h.value == YES and self.current.confirms(h, event, listen.confirming):
            return self.settle(Answered(listen.confirming, listen.confirming, event.confidence))
        if h.value == NO and h.weak:
            self.current.reject(listen.confirming)
        # Anything else: the question itself is asked again. A new hearing of
        # the answer tells more than a yes or no to the read-back.
        return self._back([self.prompts.say("try_again")])

    def _back(self, say: list[str]) -> Turn:
        """From a read-back or "Do you want to stop?" back to the question."""
        self.current.return_to = None
        return self._ask(say, self._question_listen())

    def _command(self, h: Hearing, event: Heard) -> Turn:
        p, cmd = self.prompts, h.value
        if not h.weak:
            return self._unheard("no_match")
        if cmd == "stop":
            if h.firm or (self.listen.confirming == "stop" and self.current.stops(h, event)):
                return self.settle(Stopped())
            # Stopping loses the whole consultation: in noise or when unsure
            # (babble is taken for "stop", measured), ask first.
            if self.listen.kind != "confirm":
                self.current.return_to = self.listen
            self.current.stop_heard = h
            return self._ask([], asking.stop_listen(p, self.listen))
        if cmd in CHANGING and not h.fair:
            # Going back, or speaking slower, on a mishearing costs more than asking again.
            return self._unheard("no_match")
        if cmd == "repeat":
            return self.reprompt([])
        if cmd == "help":
            return self.reprompt(self._help())
        if cmd == "go_back":
            return self.settle(GoBack())
        # slower / faster / louder / quieter: the voice layer acts on it.
        turn = self.reprompt([p.say(cmd)])
        turn.action = cmd
        return turn
