"""The dialogue manager: one consultation as a pure state machine.

It follows the classic voice-form model (VoiceXML's form interpretation
algorithm): select the next question that can still change the outcome
(triage/selection.py), collect an answer (prompt, listen with that question's
grammar), process it (policy.py decides: take it, read it back, or ask
again), with escalating reprompts and a hard cap on prompts per question.

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

from collections import Counter
from dataclasses import dataclass
from typing import Mapping

from ..triage import engine, selection
from ..triage.engine import NO, UNCLEAR, UNKNOWN, YES, Assessment
from ..triage.rules import Prompts, Question, Rules
from . import answers as answer_text, asking
from .events import Filled, Heard, Listen, Silence, Timeout, Turn
from .outcome import outcome_sentences, stop_sentences
from .evidence import EngineModel, default_models
from .policy import ACCEPT, READ_BACK, Hearing, DialogueSettings, Stage, hear
from .question_state import CHECKING, QuestionState

__all__ = ["Dialogue", "Filled", "Heard", "Listen", "DialogueSettings", "Silence", "Timeout", "Turn"]


@dataclass
class _Snapshot:
    """What "go back" restores."""

    answers: dict
    via: dict
    announced: str | None
    deciding_asked: bool
    followups: list
    question: Question
    finding: str | None  # a follow-up's finding


class Dialogue:
    def __init__(self, rules: Rules, prompts: Prompts, settings: DialogueSettings | None = None,
                 models: Mapping[str, EngineModel] | None = None):
        self.rules, self.prompts = rules, prompts
        self.settings = settings or DialogueSettings()
        self.models = default_models() if models is None else models  # the acceptance models, by engine
        self.answers: dict[str, str] = {}
        self.via: dict[str, str] = {}  # finding -> the shared question whose answer it came from
        self.history: list[_Snapshot] = []
        self.announced: str | None = None  # the emergency level already told
        self.deciding_asked = False  # the one question allowed after an emergency instruction
        self.followups: list[str] = []  # findings of a shared yes still to be asked one by one
        self.prompts_used: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self.question: Question | None = None
        self.finding: str | None = None  # set when the prompt follows up one finding
        self.listen: Listen | None = None
        self.current = QuestionState()  # the question now asked: its hearings so far
        self.repeats = 0
        self.outcome: list[str] = []
        self.done = False

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
        if isinstance(event, Silence):
            return self._unheard("no_input")
        self.current.no_input = 0
        listen = self.listen
        h = self.hearing(event)
        if h.kind == "command":
            return self._command(h)
        if listen.kind == "confirm":
            return self._confirmed(h, event)
        if listen.red_flag:
            return self._red_flag(h, event)
        verdict = self.current.verdict(h, listen.raises_level)
        if verdict == ACCEPT:
            return self._accept(h.value, event.text, event.confidence)
        if verdict == READ_BACK:
            return self._read_back(h.value)
        return self._unheard("no_match")

    def hearing(self, event: Heard) -> Hearing:
        """What the question now asked makes of `event`, and the chance it is
        wrong (policy.hear). The session asks this too, for speech over a
        question (barge-in): it stops the question only for a fair hearing."""
        listen = self.listen
        vocab = answer_text.vocabulary(self.prompts, listen.kind, listen.findings[0] if listen.kind == "choice" else None)
        return hear(event, vocab, self.settings, self.models)

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

    # -- hearing ----------------------------------------------------------

    def _red_flag(self, h: Hearing, event: Heard) -> Turn:
        step = self.current.red_flag_step(h)
        if not isinstance(step, Stage):
            return self._accept(step, event.text, event.confidence)
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

    def _confirmed(self, h: Hearing, event: Heard) -> Turn:
        """The answer to "I heard X. Is that right?" or "Do you want to stop?"."""
        listen = self.listen
        if listen.confirming == "stop":
            if h.value == YES and h.fair:
                return self._end("stopped", [self.prompts.say("stop")])
            return self._back([])
        if h.value == YES and self.current.confirms(h, event, listen.confirming):
            return self._accept(listen.confirming, listen.confirming, event.confidence)
        if h.value == NO and h.weak:
            self.current.reject(listen.confirming)
        # Anything else: the question itself is asked again. A new hearing of
        # the answer tells more than a yes or no to the read-back.
        return self._back([self.prompts.say("try_again")])

    # -- answers ------------------------------------------------------------

    def _accept(self, value: str, heard: str, confidence: float, say: tuple[str, ...] = ()) -> Turn:
        q, finding = self.question, self.finding
        filled = Filled(q.id, (finding,) if finding else q.findings, value, heard, confidence,
                        self.prompts_used[self._key(self.listen)])
        self.history.append(_Snapshot(dict(self.answers), dict(self.via), self.announced, self.deciding_asked,
                                      list(self.followups), q, finding))
        if finding is not None:
            self.answers[finding] = value
            self.via.pop(finding, None)
            if not self.followups:
                self._followed_up(q)
        elif not q.shared:
            self.answers[q.findings[0]] = value
        elif value == YES:
            self.answers.update(selection.shared_yes(self.rules, q))
            self.via.update({f: q.id for f in q.findings})
            if selection.follow_up_needed(self.rules, self.answers, q) and not self._emergency():
                # Finding by finding: none is yes until its own answer says so.
                self.answers.update({f: NO for f in q.findings})
                self.followups = list(q.findings)
        else:
            self.answers.update({f: value for f in q.findings})
            if value != NO:
                self.via.update({f: q.id for f in q.findings})
        turn = self._advance(list(say))
        turn.filled.insert(0, filled)
        return turn

    def _followed_up(self, q: Question) -> None:
        """The follow-ups of a shared yes are over. Every finding said no (or
        not asked, since its answer could change nothing): the shared
        question's yes still counts, as one finding, said back as what was
        asked. Otherwise the findings are what their own answers said."""
        if not any(self.answers.get(f) == YES for f in q.findings):
            self.answers.update(selection.shared_yes(self.rules, q))
            self.via.update({f: q.id for f in q.findings})
        else:
            for f in q.findings:
                self.via.pop(f, None)

    def _safe_reading(self) -> Turn:
        """The cap is reached: the answer was not understood ("unclear": a red
        flag counts as yes, any other answer cannot lower the level)."""
        key = "cap_red_flag" if self.question.red_flag else "cap_other"
        return self._accept(UNCLEAR, "", 0.0, (self.prompts.say(key),))

    def _emergency(self) -> bool:
        return engine.level_of(self.rules, self.answers)[0] in engine.EMERGENCY_LEVELS

    # -- prompting ----------------------------------------------------------

    @staticmethod
    def _key(listen: Listen) -> tuple[str, tuple[str, ...]]:
        return listen.question, listen.findings

    def _ask(self, say: list[str], listen: Listen) -> Turn:
        """Every prompt of a question goes through here: the cap."""
        key = self._key(listen)
        if self.prompts_used[key] >= self.settings.max_prompts:
            return self._safe_reading()
        self.prompts_used[key] += 1
        self.listen = listen
        return Turn(say + [listen.prompt], listen)

    def _question_listen(self) -> Listen:
        """The current question as it is asked at its stage."""
        return asking.question_listen(self.rules, self.prompts, self.answers, self.question, self.finding,
                                      self.current.stage)

    def _prompt(self, say: list[str], q: Question, finding: str | None = None) -> Turn:
        """Ask a question (or one finding of it) afresh."""
        self.question, self.finding = q, finding
        self.current = QuestionState()
        return self._ask(say, self._question_listen())

    def _read_back(self, value: str) -> Turn:
        original = self.listen if self.listen.kind != "confirm" else self.current.return_to
        self.current.return_to = original
        return self._ask([], asking.read_back_listen(self.prompts, original, value))

    def _back(self, say: list[str]) -> Turn:
        """From a read-back or "Do you want to stop?" back to the question."""
        self.current.return_to = None
        return self._ask(say, self._question_listen())

    def _reprompt(self, say: list[str]) -> Turn:
        """Say `say`, then the current prompt again."""
        return self._ask(say, self.listen)

    # -- failures -----------------------------------------------------------

    def _unheard(self, kind: str) -> Turn:
        """A silence ("no_input") or an answer not understood ("no_match"):
        say so and ask again, with more help each time."""
        count = self.current.count(kind)
        if kind == "no_input" and count >= self.settings.max_no_input:
            return self._give_up()
        return self._reprompt(asking.unheard_lines(self.prompts, kind, count, self._help()))

    def _give_up(self) -> Turn:
        """Silence after silence: nobody is answering. A red flag's yes heard
        on this question, however faintly, is not dropped: it was not
        understood, so it counts as yes (engine.py, "unclear")."""
        if self.question is not None and self.question.red_flag and self.current.heard_yes:
            self.answers.update({f: UNCLEAR for f in self.question.findings})
        return self._end("gave_up", [self.prompts.say("gave_up")])

    def _end(self, why: str, say: list[str]) -> Turn:
        self.done = True
        a = self.assessment()
        lines = say + stop_sentences(self.rules, self.prompts, a)
        return Turn(lines, None, done=True, assessment=a, instruction=a.emergency, ending=why)

    # -- commands -------------------------------------------------------------

    def _command(self, h: Hearing) -> Turn:
        p, cmd = self.prompts, h.value
        if not h.weak:
            return self._unheard("no_match")
        if cmd == "stop":
            if h.firm or self.listen.confirming == "stop":
                return self._end("stopped", [p.say("stop")])
            # Stopping loses the whole consultation: in noise or when unsure
            # (babble is taken for "stop", measured), ask first.
            if self.listen.kind != "confirm":
                self.current.return_to = self.listen
            return self._ask([], asking.stop_listen(p, self.listen))
        if cmd not in ("repeat", "help") and not h.fair:
            # Going back, or speaking slower, on a mishearing costs more than asking again.
            return self._unheard("no_match")
        if cmd == "repeat":
            return self._reprompt([])
        if cmd == "help":
            return self._reprompt(self._help())
        if cmd == "go_back":
            return self._go_back()
        # slower / faster / louder / quieter: the voice layer acts on it.
        turn = self._reprompt([p.say(cmd)])
        turn.action = cmd
        return turn

    def _help(self) -> list[str]:
        return asking.help_lines(self.prompts, self.listen, self.question)

    def _go_back(self) -> Turn:
        if not self.history:
            return self._reprompt([self.prompts.say("first_question")])
        snap = self.history[-1]
        key = (snap.question.id, (snap.finding,) if snap.finding else snap.question.findings)
        if self.prompts_used[key] >= self.settings.max_prompts:
            return self._reprompt([self.prompts.say("cannot_go_back")])
        self.history.pop()
        self.answers, self.via = snap.answers, snap.via
        self.announced, self.deciding_asked, self.followups = snap.announced, snap.deciding_asked, snap.followups
        return self._prompt([self.prompts.say("going_back")], snap.question, snap.finding)

    # -- selection ------------------------------------------------------------

    def _advance(self, say: list[str]) -> Turn:
        """After an answer: the emergency instruction as soon as it is due,
        then the next question, or the outcome."""
        level = engine.level_of(self.rules, self.answers)[0]
        if level in engine.EMERGENCY_LEVELS and (self.announced is None or self.rules.more_urgent(level, self.announced)):
            self.announced = level
            self.followups = []
            # Nothing but one question that could make it more urgent follows
            # the instruction (triage.md, "Emergencies").
            q = None if self.deciding_asked else selection.deciding_question(self.rules, self.answers)
            if q is None:
                return self._finish(say)  # the outcome opens with the instruction
            self.deciding_asked = True
            turn = self._prompt(say + [self.prompts.text("levels", level), self.prompts.say("one_more_question")], q)
            turn.instruction = True
            return turn
        if self.announced is not None:
            return self._finish(say)
        while self.followups:
            f = self.followups.pop(0)
            shared = self.rules.question_of(f)
            if selection.follow_up_matters(self.rules, self.answers, shared, f, self.followups):
                return self._prompt(say, shared, f)
            if not self.followups:
                self._followed_up(shared)
        q = selection.next_question(self.rules, self.answers)
        if q is None:
            return self._finish(say)
        return self._prompt(say, q)

    def _finish(self, say: list[str]) -> Turn:
        a = self.assessment()
        self.announced = a.level if a.emergency else self.announced
        self.outcome = outcome_sentences(self.rules, self.prompts, a, self.answers, self.via, bool(a.unclear))
        self.question, self.finding = None, None
        if self.settings.offer_repeat:
            self.listen = asking.offer_listen(self.prompts)
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
