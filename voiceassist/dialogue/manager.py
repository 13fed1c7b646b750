"""The dialogue manager: one consultation as a pure state machine.

It follows the classic voice-form model (VoiceXML's form interpretation
algorithm): select the next question that can still change the outcome
(triage/selection.py), collect an answer (prompt, listen with that question's
grammar), process it (policy.py decides: take it, read it back, or ask
again), with escalating reprompts and a hard cap on prompts per question.

`Dialogue` is the consultation: what comes after each answer (the emergency
instruction as soon as it is due, the next question, the outcome and the
offer to say it again), "go back", and every ending. The rooms it uses:
- form.py: what has been answered, and which question comes next;
- field.py: collecting one answer, turn by turn, under the cap;
- question_state.py: what has been heard of it (policy.py weighs it);
- asking.py: the sentences and the `Listen` of each prompt;
- outcome.py: the outcome's sentences.

What is bounded, and where the safe reading is taken:
- no question takes more than `DialogueSettings.max_prompts` prompts (asks, asks
  again, read-backs, repeats), whatever happens; at the cap the answer is
  "unclear" (triage/engine.py: a red flag counts as yes, nothing else lowers
  the level) and the consultation goes on;
- `max_no_input` silences in a row end the consultation safely (nobody is
  there): the emergency instruction if one was reached, else the safety net;
- after an emergency instruction at most one more question, and only one that
  could tell `ambulance` from `emergency`; then the outcome.

No audio, no clock, no printing: `start()` and `handle(event)` return a
`Turn`. The keyboard, the replay patient and the microphone are thin adapters.
"""

from __future__ import annotations

from typing import Mapping

from ..triage import engine
from ..triage.engine import YES, Assessment
from ..triage.rules import Prompts, Rules
from . import asking
from .events import Filled, Heard, Listen, Silence, Timeout, Turn
from .evidence import EngineModel, default_models
from .field import Answered, Field, GaveUp, GoBack, Settled
from .form import Form
from .outcome import outcome_sentences, stop_sentences
from .policy import DialogueSettings, Hearing

__all__ = ["Dialogue", "Filled", "Heard", "Listen", "DialogueSettings", "Silence", "Timeout", "Turn"]


class Dialogue:
    def __init__(self, rules: Rules, prompts: Prompts, settings: DialogueSettings | None = None,
                 models: Mapping[str, EngineModel] | None = None):
        self.rules, self.prompts = rules, prompts
        self.settings = settings or DialogueSettings()
        self.models = default_models() if models is None else models  # the acceptance models, by engine
        self.form = Form(rules)  # the answers, and the question now asked
        self.field = Field(rules, prompts, self.settings, self.models, self.form, self._settled)
        self.repeats = 0
        self.outcome: list[str] = []
        self.done = False

    @property
    def answers(self) -> dict[str, str]:
        return self.form.answers

    @property
    def listen(self) -> Listen | None:
        """How the next answer is listened for."""
        return self.field.listen

    # -- public -----------------------------------------------------------

    def start(self) -> Turn:
        return self._advance([self.prompts.say("welcome"), self.prompts.say("how_to_answer")])

    def handle(self, event: Heard | Silence | Timeout) -> Turn:
        if self.done:
            return Turn([], None, done=True, assessment=self.assessment())
        if isinstance(event, Timeout):
            return self._end("timed_out", [self.prompts.say("gave_up")])
        if self.listen.kind == "offer":
            return self._offer(event)
        return self.field.handle(event)

    def hearing(self, event: Heard) -> Hearing:
        """What the question now asked makes of `event`, and the chance it is
        wrong (policy.hear). The session asks this too, for speech over a
        question (barge-in): it stops the question only for a fair hearing."""
        return self.field.hearing(event)

    def assessment(self) -> Assessment:
        return engine.assess(self.rules, self.answers)

    @property
    def turn_bound(self) -> int:
        """The most turns a consultation can take: every question, and every
        finding of a shared one asked on its own, at the cap of prompts, each
        of them gone back to once, then the outcome and its repeats. A loop
        past this is a bug; the shell's guard uses it."""
        prompts = sum(1 + (len(q.findings) if q.shared else 0) for q in self.rules.questions)
        return 2 * prompts * self.settings.max_prompts + self.settings.max_repeats + 2

    def fail(self) -> Turn:
        """Something outside the dialogue broke: end now, with what to do
        from the answers so far (the emergency instruction if one was reached)."""
        return self._end("error", [self.prompts.say("error")])

    # -- a question settled (field.py) --------------------------------------

    def _settled(self, how: Settled) -> Turn:
        if isinstance(how, Answered):
            return self._accept(how.value, how.heard, how.confidence, how.say)
        if isinstance(how, GoBack):
            return self._go_back()
        if isinstance(how, GaveUp):
            return self._give_up(how.heard_yes)
        return self._end("stopped", [self.prompts.say("stop")])

    def _accept(self, value: str, heard: str, confidence: float, say: tuple[str, ...] = ()) -> Turn:
        filled = Filled(self.form.question.id, self.form.asked, value, heard, confidence, self.field.attempts())
        self.form.record(value)
        turn = self._advance(list(say))
        turn.filled.insert(0, filled)
        return turn

    def _go_back(self) -> Turn:
        key = self.form.last_asked()
        if key is None:
            return self.field.reprompt([self.prompts.say("first_question")])
        if self.field.capped(key):
            return self.field.reprompt([self.prompts.say("cannot_go_back")])
        self.form.undo()
        return self.field.ask_afresh([self.prompts.say("going_back")])

    def _give_up(self, heard_yes: bool) -> Turn:
        """Silence after silence: nobody is answering. A red flag's yes heard
        on this question, however faintly, is not dropped: it was not
        understood, so it counts as yes (engine.py, "unclear")."""
        question = self.form.question
        if question is not None and question.red_flag and heard_yes:
            self.form.not_understood()
        return self._end("gave_up", [self.prompts.say("gave_up")])

    def _end(self, why: str, say: list[str]) -> Turn:
        self.done = True
        a = self.assessment()
        lines = say + stop_sentences(self.rules, self.prompts, a)
        return Turn(lines, None, done=True, assessment=a, instruction=a.emergency, ending=why)

    # -- what comes next ------------------------------------------------------

    def _advance(self, say: list[str]) -> Turn:
        """After an answer: the emergency instruction as soon as it is due,
        then the next question, or the outcome."""
        step = self.form.next()
        if step is None:
            return self._finish(say)
        if step.announce is not None:
            turn = self.field.ask_afresh(say + [self.prompts.text("levels", step.announce),
                                                self.prompts.say("one_more_question")])
            turn.instruction = True
            return turn
        return self.field.ask_afresh(say)

    def _finish(self, say: list[str]) -> Turn:
        a = self.assessment()
        self.form.finish(a)
        self.outcome = outcome_sentences(self.rules, self.prompts, a, self.answers, self.form.via, bool(a.unclear))
        if self.settings.offer_repeat:
            self.field.listen = asking.offer_listen(self.prompts)
            return Turn(say + self.outcome + [self.listen.prompt], self.listen, assessment=a, instruction=a.emergency)
        self.done = True
        return Turn(say + self.outcome, None, done=True, assessment=a, instruction=a.emergency, ending="completed")

    def _offer(self, event: Heard | Silence) -> Turn:
        """"Would you like me to say that again?": yes or "repeat" repeats it
        (at most max_repeats times); anything else ends."""
        if isinstance(event, Heard):
            # Weighed like any answer (policy.hear): a "go back" the engines disagree on is not taken.
            h = self.hearing(event)
            if h.value == "go_back" and h.fair:
                return self._go_back()  # "I meant no": the last answer is asked again
            wants = h.value == YES or h.value == "repeat"
            if wants and h.weak and self.repeats < self.settings.max_repeats:
                self.repeats += 1
                return Turn(self.outcome + [self.listen.prompt], self.listen, assessment=self.assessment())
        self.done = True
        return Turn([self.prompts.say("goodbye")], None, done=True, assessment=self.assessment(), ending="completed")
