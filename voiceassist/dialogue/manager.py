"""The dialogue manager: one consultation as a pure state machine.

It follows the classic voice-form model (VoiceXML's form interpretation
algorithm): select the next question that can still change the outcome,
collect an answer (prompt, listen with that question's grammar), process it
(fill, or raise no-input / no-match / help), with per-prompt counters for
escalating reprompts and a safe ending after repeated failure.

No audio, no clock, no printing: `start()` and `handle(event)` return a
`Turn` saying what to say and what to listen for next. The keyboard, the
replay patient and the microphone are thin adapters around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..triage import engine
from ..triage.engine import NO, UNKNOWN, YES, Assessment
from ..triage.rules import Prompts, Question, Rules
from . import answers as answer_text
from .outcome import outcome_sentences, stop_sentences


# ----------------------------------------------------------------- events


@dataclass(frozen=True)
class Heard:
    """Something was said (or typed). Confidence 1.0 for the keyboard.
    `snr_db`: how far the answer stood above the room's noise, when known.
    `alternatives`: other phrases the recogniser nearly chose, best first."""

    text: str
    confidence: float = 1.0
    snr_db: float | None = None
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Silence:
    """The no-input timeout passed without speech."""


@dataclass(frozen=True)
class Timeout:
    """The kiosk's idle timeout: the person has walked away."""


# ----------------------------------------------------------------- output


@dataclass(frozen=True)
class Listen:
    question: str  # question id, or "confirm" / "offer_repeat"
    findings: tuple[str, ...]
    kind: str  # yes_no | choice | confirm | offer
    grammar: tuple[str, ...]
    red_flag: bool = False
    mode: str = "ask"  # ask | again | follow_up | confirm | offer
    confirming: str | None = None  # the answer being confirmed
    prompt: str = ""  # the sentence that asks for this answer
    raises_level: bool = False  # a yes could make the outcome more urgent
    meanings: tuple[str, ...] = ()  # what each grammar phrase means ("answer:yes"), for the recogniser


@dataclass(frozen=True)
class Filled:
    question: str
    findings: tuple[str, ...]
    answer: str
    heard: str
    confidence: float
    attempts: int


@dataclass
class Turn:
    say: list[str]
    listen: Listen | None
    done: bool = False
    assessment: Assessment | None = None
    action: str | None = None  # slower | faster | louder | quieter: for the voice layer
    filled: list[Filled] = field(default_factory=list)
    instruction: bool = False  # an emergency instruction is among `say`
    ending: str | None = None  # completed | stopped | gave_up | timed_out | error


@dataclass
class Settings:
    """Confidence thresholds (VoiceXML-style reject / confirm / accept) and
    the reprompt limits."""

    reject_below: float = 0.35  # below: not understood (no-match)
    confirm_below: float = 0.70  # below: "I heard no. Is that right?"
    red_flag_no_accept: float = 0.90  # a "no" to a red flag below this is confirmed
    # In noise the recogniser's confidence cannot be trusted (babble is taken
    # for "yes" at 1.0, measured): below this SNR every red-flag answer is confirmed.
    reliable_snr_db: float = 25.0
    max_no_input: int = 3  # the third silence in a row on one prompt ends safely
    max_no_match: int = 3
    # A hopeless room: this many no-inputs and no-matches in the whole
    # consultation, and more of them than answers understood.
    max_failures: int = 12
    offer_repeat: bool = True
    max_repeats: int = 3


# ----------------------------------------------------------------- manager


@dataclass
class _Snapshot:
    answers: dict
    via: dict
    announced: str | None
    followups: list
    again_done: set
    question: Question
    finding: str | None  # a follow-up's finding


class Dialogue:
    def __init__(self, rules: Rules, prompts: Prompts, settings: Settings | None = None):
        self.rules, self.prompts = rules, prompts
        self.settings = settings or Settings()
        self.answers: dict[str, str] = {}
        self.via: dict[str, str] = {}  # finding -> shared question that answered it
        self.history: list[_Snapshot] = []
        self.announced: str | None = None  # the emergency level already told
        self.followups: list[str] = []
        self.again_done: set[str] = set()
        self.listen: Listen | None = None
        self.question: Question | None = None
        self.finding: str | None = None  # set when the prompt follows up one finding
        self.pending: tuple[str, Listen] | None = None  # (answer, original prompt) to confirm
        self.confirm_retried: set[tuple[str, tuple[str, ...]]] = set()  # questions asked again after a failed confirmation
        self.no_input = self.no_match = self.failures = 0
        self.attempts = 0
        self.repeats = 0
        self.outcome: list[str] = []
        self.skipped: set[str] = set()  # findings taken as unknown because the answer was not understood
        self.guess: tuple[Listen, answer_text.Parsed] | None = None  # the last unclear answer's likely meaning
        self.done = False

    # -- public -----------------------------------------------------------

    def start(self) -> Turn:
        say = [self.prompts.say("welcome"), self.prompts.say("how_to_answer")]
        return self._advance(say)

    def handle(self, event: Heard | Silence | Timeout) -> Turn:
        if self.done:
            return Turn([], None, done=True, assessment=self.assessment())
        if isinstance(event, Timeout):
            return self._end("timed_out", [self.prompts.say("gave_up")])
        if isinstance(event, Silence):
            return self._failed("no_input")
        listen = self.listen
        assert listen is not None
        vocab = answer_text.vocabulary(self.prompts, listen.kind, listen.findings[0] if listen.findings else None)
        parsed = answer_text.parse(event.text, vocab)
        last_guess, self.guess = self.guess, None
        if parsed is None or (event.confidence < self.settings.reject_below and not self._keeps(parsed)):
            return self._not_understood(event, parsed, vocab, last_guess)
        if parsed.kind == "command":
            if parsed.value == "stop" and listen.kind != "offer" and self._unsure(event):
                if self._doubtful(parsed, event, vocab):
                    return self._failed("no_match")
                # Stopping loses the whole consultation: in noise or when
                # unsure (babble is taken for "stop", measured), ask first.
                # If that comes while confirming an answer, a "no" goes back
                # to the question itself.
                question = self.pending[1] if listen.kind == "confirm" and self.pending else listen
                return self._ask_confirm("stop", question)
            return self._command(parsed.value)
        value = parsed.value
        if listen.kind == "offer":
            return self._offer(value)
        if listen.kind == "confirm":
            if value == YES and self._doubtful(parsed, event, vocab):
                return self._failed("no_match")
            return self._confirm(value, event)
        return self._answer(value, event, self._noisy(event) and self._contested(parsed, event, vocab))

    def assessment(self) -> Assessment:
        return engine.assess(self.rules, self.answers)

    def fail(self) -> Turn:
        """Something outside the dialogue broke: end now, with what to do
        from the answers so far (the emergency instruction if one was reached)."""
        return self._end("error", [self.prompts.say("error")])

    # -- answers ------------------------------------------------------------

    def _keeps(self, parsed: answer_text.Parsed) -> bool:
        """A "yes" to a red flag is never dropped, however unsure the recogniser."""
        return bool(self.listen and self.listen.red_flag and parsed == answer_text.Parsed("answer", YES))

    def _not_understood(self, event: Heard, parsed, vocab: dict, last_guess) -> Turn:
        """Not understood.  In a quiet room, a second unclear answer in a row
        that sounds like the same answer as the first is asked about ("I heard
        yes. Is that right?") instead of being rejected again: a strong accent
        gets a low confidence on every phrase (measured: a Caribbean English
        voice's "yes", "yeah" and "yep" all rejected).  Not in noise, where
        babble can sound like the same answer twice."""
        guess = parsed
        if guess is None and event.alternatives:  # the recogniser's rejected candidate
            guess = answer_text.parse(event.alternatives[0], vocab)
        if (guess is not None and guess.kind != "command" and not self._noisy(event)
                and self.listen.kind in ("yes_no", "choice")):
            if last_guess == (self.listen, guess):
                return self._ask_confirm(guess.value, self.listen)
            self.guess = (self.listen, guess)
        return self._failed("no_match")

    def _noisy(self, event: Heard) -> bool:
        return event.snr_db is not None and event.snr_db < self.settings.reliable_snr_db

    def _unsure(self, event: Heard) -> bool:
        return event.confidence < self.settings.red_flag_no_accept or self._noisy(event)

    def _doubtful(self, parsed: answer_text.Parsed, event: Heard, vocab: dict) -> bool:
        """Unsure, and another meaning nearly chosen: not to be taken where
        nothing checks it afterwards, a confirmation's yes (it takes the
        answer) and "stop" (it ends the consultation).  Asked again instead.
        Two engines that disagree give this (combined_engine.py): in babble,
        a Caribbean voice's "yes" was heard as "quit" by one and "yes" by the
        other, and a "no" to "Do you want to stop now?" as a yes (measured)."""
        return event.confidence < self.settings.confirm_below and self._contested(parsed, event, vocab)

    @staticmethod
    def _contested(parsed: answer_text.Parsed, event: Heard, vocab: dict) -> bool:
        """Another answer was nearly chosen: "i have" with "i haven't" close
        behind.  Babble masks the short "n't", and the recogniser is then as
        sure of the wrong one (measured: confidence 1.0).  For a command, any
        answer nearly chosen."""
        for alternative in event.alternatives:
            other = answer_text.parse(alternative, vocab)
            if other is not None and other.kind != "command" and other != parsed:
                return True
        return False

    def _answer(self, value: str, event: Heard, contested: bool = False) -> Turn:
        listen = self.listen
        s = self.settings
        c = event.confidence
        noisy = self._noisy(event)
        if contested:
            needs_confirm = True
        elif noisy and ((listen.red_flag and value in (YES, NO)) or (listen.raises_level and value == NO)):
            # In noise a confident "no" can be a "yes" (measured in babble):
            # a no that could hide a more urgent outcome is confirmed.
            needs_confirm = True
        elif listen.red_flag and value == NO:
            needs_confirm = c < s.red_flag_no_accept
        else:
            needs_confirm = c < s.confirm_below
        if needs_confirm:
            return self._ask_confirm(value, listen)
        return self._accept(value, event.text, c)

    def _accept(self, value: str, heard: str, confidence: float, say: tuple[str, ...] = (),
                understood: bool = True) -> Turn:
        q, finding = self.question, self.finding
        assert q is not None
        self.pending = None
        if understood:
            self.skipped.difference_update((finding,) if finding else q.findings)
        else:
            self.skipped.update((finding,) if finding else q.findings)
        if value == UNKNOWN and q.red_flag and finding is None and q.id not in self.again_done:
            # triage.md: an unknown red flag is asked once more in other words.
            self.again_done.add(q.id)
            return self._prompt([], q, mode="again")
        filled = Filled(q.id, (finding,) if finding else q.findings, value, heard, confidence, self.attempts)
        self.history.append(
            _Snapshot(
                dict(self.answers), dict(self.via), self.announced,
                list(self.followups), set(self.again_done), q, finding,
            )
        )
        if finding is not None:
            self.answers[finding] = value
            self.via.pop(finding, None)
        else:
            for f in q.findings:
                self.answers[f] = value
                if q.shared and value == YES:
                    self.via[f] = q.id
            if q.shared and value == YES and q.follow_up:
                self.followups = list(q.findings)
        turn = self._advance(list(say))
        turn.filled.insert(0, filled)
        return turn

    def _ask_confirm(self, value: str, original: Listen) -> Turn:
        self.pending = (value, original)
        # A new prompt with its own count of silences and misunderstandings:
        # the question's answer was heard, so the person is getting through.
        self.no_input = self.no_match = 0
        if value == "stop":
            text = self.prompts.say("confirm_stop")
        else:
            text = self.prompts.say("confirm", answer=self._answer_name(value, original))
        phrases, meanings = answer_text.grammar(self.prompts, "confirm")
        self.listen = Listen(
            original.question, original.findings, "confirm", phrases, original.red_flag,
            mode="confirm", confirming=value, prompt=text, meanings=meanings,
        )
        self.attempts += 1
        return Turn([text], self.listen)

    def _answer_name(self, value: str, listen: Listen) -> str:
        if listen.kind == "choice" and value != UNKNOWN:
            return self.prompts.text("option_names", listen.findings[0], value)
        return self.prompts.text("answer_names", value)

    def _confirm(self, value: str, event: Heard) -> Turn:
        assert self.pending is not None
        pending, original = self.pending
        if value == YES and pending == "stop":
            self.pending = None
            self.listen = original
            return self._command("stop")
        if value == YES:
            return self._accept(pending, pending, event.confidence)
        return self._back_to_question()

    def _offer(self, value: str) -> Turn:
        if value == YES and self.repeats < self.settings.max_repeats:
            self.repeats += 1
            return Turn(self.outcome + [self.listen.prompt], self.listen, assessment=self.assessment())
        return self._finish_offer()

    def _finish_offer(self) -> Turn:
        self.done = True
        return Turn([self.prompts.say("goodbye")], None, done=True, assessment=self.assessment(), ending="completed")

    # -- commands -------------------------------------------------------------

    def _command(self, cmd: str) -> Turn:
        p = self.prompts
        if cmd == "repeat":
            if self.listen.kind == "offer":
                return self._offer(YES)
            return self._reprompt([])
        if cmd == "help":
            return self._reprompt(self._help())
        if cmd == "go_back":
            return self._go_back()
        if cmd == "stop":
            if self.listen.kind == "offer":
                return self._finish_offer()
            return self._end("stopped", [p.say("stop")])
        # slower / faster / louder / quieter: the voice layer acts on it.
        turn = self._reprompt([p.say(cmd)])
        turn.action = cmd
        return turn

    def _help(self) -> list[str]:
        p = self.prompts
        listen = self.listen
        out = []
        if listen.kind in ("yes_no", "choice") and self.question is not None:
            out.append(p.text("questions", self.question.id, "help"))
        if listen.kind == "confirm":
            out.append(p.say("confirm_help"))
        elif listen.kind == "choice":
            out.append(p.say("help_choice"))
        else:
            out.append(p.say("help_yes_no"))
        out.append(p.say("help_commands"))
        return out

    def _go_back(self) -> Turn:
        if self.listen.kind == "offer" or not self.history:
            say = [] if self.listen.kind == "offer" else [self.prompts.say("first_question")]
            return self._reprompt(say)
        snap = self.history.pop()
        self.answers, self.via = snap.answers, snap.via
        self.announced = snap.announced
        self.followups, self.again_done = snap.followups, snap.again_done
        self.pending = None
        mode = "follow_up" if snap.finding else "ask"
        return self._prompt([self.prompts.say("going_back")], snap.question, mode=mode, finding=snap.finding)

    # -- failures -----------------------------------------------------------

    def _failed(self, kind: str) -> Turn:
        """A silence (kind "no_input") or an answer not understood ("no_match"):
        say so and ask again, with more help each time, or end safely."""
        count = getattr(self, kind) + 1
        setattr(self, kind, count)
        self.failures += 1
        if self.listen.kind == "offer":
            return self._finish_offer()
        if self.failures >= self.settings.max_failures and self.failures > len(self.history):
            # Counted against the answers taken (history), so that a person who
            # is mostly understood finishes (a British voice reached 12 failures
            # in 17 answers, clean, measured).
            return self._give_up()
        if count >= getattr(self.settings, f"max_{kind}"):
            if kind == "no_match" and self._confirmation_can_be_retried():
                return self._retry_after_confirmation()
            return self._skip() if kind == "no_match" and self._skippable() else self._give_up()
        lines = self.prompts.say_list(kind)
        say = [lines[min(count, len(lines)) - 1]]
        help_ = self._help()
        if kind == "no_match":
            # First time: what can be said. Second time: why it is asked, too.
            say += help_[:-1] if count > 1 else help_[-2:-1]
        elif count > 1:  # a silence: what can be said, from the second one on
            say += help_[-2:-1]
        return self._reprompt(say)

    def _confirmation_can_be_retried(self) -> bool:
        """A confirmation the person keeps answering but is not understood on
        (a strong accent's short "yes" in fan noise, measured) goes back to its
        question, once, instead of ending or skipping: the question's own
        answers are often longer and better heard.  Not for "stop", and not
        for a red flag's "yes", which is kept as it is when the consultation
        ends (the emergency instruction is not delayed)."""
        if self.listen.kind != "confirm" or not self.pending:
            return False
        value, original = self.pending
        if value == "stop" or (original.red_flag and value == YES):
            return False
        return (original.question, original.findings) not in self.confirm_retried

    def _retry_after_confirmation(self) -> Turn:
        _, original = self.pending
        self.confirm_retried.add((original.question, original.findings))
        self.no_input = self.no_match = 0
        return self._back_to_question()

    def _back_to_question(self) -> Turn:
        """Leave the confirmation, and ask its question again."""
        _, original = self.pending
        self.pending = None
        self.listen = original
        return self._reprompt([self.prompts.say("try_again")])

    def _skippable(self) -> bool:
        """A question that is not a red flag can be left as "I don't know"."""
        return not self.question.red_flag and not (self.pending and self.pending[0] == "stop")

    def _skip(self) -> Turn:
        """The person keeps talking but is not understood: rather than end the
        consultation, take "I don't know" (triage.md: it counts as no for the
        level and lowers confidence in the causes) and go on, so the questions
        still to come are asked."""
        return self._accept(UNKNOWN, "", 0.0, (self.prompts.say("skipped"),), understood=False)

    def _give_up(self) -> Turn:
        # A red-flag "yes" waiting for confirmation is kept, never dropped.
        if self.pending and self.pending[1].red_flag and self.pending[0] == YES:
            q, finding = self.question, self.finding
            for f in ((finding,) if finding else q.findings):
                self.answers[f] = YES
        return self._end("gave_up", [self.prompts.say("gave_up")])

    def _end(self, why: str, say: list[str]) -> Turn:
        self.done = True
        a = self.assessment()
        lines = say + stop_sentences(self.rules, self.prompts, a)
        return Turn(lines, None, done=True, assessment=a, instruction=a.emergency, ending=why)

    # -- prompting ------------------------------------------------------------

    def _reprompt(self, say: list[str]) -> Turn:
        """Say `say`, then the current prompt again."""
        self.attempts += 1
        return Turn(say + [self.listen.prompt], self.listen)

    def _prompt(self, say: list[str], q: Question, mode: str = "ask", finding: str | None = None) -> Turn:
        p = self.prompts
        if self.question is not q or self.finding != finding:
            self.no_input = self.no_match = 0
            self.attempts = 0
        self.question, self.finding = q, finding
        if finding is not None:
            text = p.text("findings", finding, "ask")
            findings: tuple[str, ...] = (finding,)
        else:
            text = p.text("questions", q.id, "again" if mode == "again" else "ask")
            findings = q.findings
        kind = q.kind
        phrases, meanings = answer_text.grammar(p, kind, findings[0] if kind == "choice" else None)
        raises = engine.can_change_level(self.rules, {k: v for k, v in self.answers.items() if k not in findings}, q)
        self.listen = Listen(q.id, findings, kind, phrases, q.red_flag, mode=mode, prompt=text,
                             raises_level=raises, meanings=meanings)
        self.attempts += 1
        return Turn(say + [text], self.listen)

    # -- selection ------------------------------------------------------------

    def _advance(self, say: list[str]) -> Turn:
        """Select the next prompt, or the outcome, after an answer."""
        # Follow-ups of a shared question come first.
        while self.followups:
            f = self.followups.pop(0)
            if self._follow_up_matters(f):
                return self._with_announcement(say, lambda s: self._prompt(s, self.rules.question_of(f), "follow_up", f))
        # After an emergency instruction too: the instruction has been said
        # (and is said again at the end, or on "stop"), and what is still
        # asked names the causes, a strained calf beside a clot.
        q = self._next_question()
        if q is None:
            return self._finish(say)
        return self._with_announcement(say, lambda s: self._prompt(s, q))

    def _with_announcement(self, say: list[str], then) -> Turn:
        """Speak the emergency instruction as soon as the deciding answer is in."""
        level = engine.level_of(self.rules, self.answers)[0]
        announce = level in engine.EMERGENCY_LEVELS and (
            self.announced is None or self.rules.more_urgent(level, self.announced)
        )
        if announce:
            first = self.announced is None
            self.announced = level
            say = say + [self.prompts.text("levels", level)]
            if first:
                say.append(self.prompts.say("more_questions"))
        turn = then(say)
        turn.instruction = turn.instruction or announce
        return turn

    def _unanswered(self) -> list[Question]:
        return [q for q in self.rules.questions if not all(f in self.answers for f in q.findings)]

    def _next_question(self) -> Question | None:
        """Red flags in their order; then anything that could still change the
        level; then the question that tells most about the causes in view.
        Questions that can change neither the level nor the named causes are
        skipped (triage.md, "Dialogue rules")."""
        best = None
        for n, q in enumerate(self._unanswered()):
            if q.red_flag or engine.can_change_level(self.rules, self.answers, q):
                return q
            if engine.can_change_causes(self.rules, self.answers, q):
                key = (-engine.relevance(self.rules, self.answers, q), n)
                if best is None or key < best[0]:
                    best = (key, q)
        return best[1] if best else None

    def _follow_up_matters(self, finding: str) -> bool:
        """A finding covered by a shared "yes" counts as yes until its own
        question says otherwise: ask only when a "no" would change something."""
        trial = {**self.answers, finding: NO}
        before, after = engine.assess(self.rules, self.answers), engine.assess(self.rules, trial)
        return before.level != after.level or before.top_ids() != after.top_ids()

    def _finish(self, say: list[str]) -> Turn:
        a = self.assessment()
        self.announced = a.level if a.emergency else self.announced
        self.outcome = outcome_sentences(self.rules, self.prompts, a, self.answers, self.via, bool(self.skipped))
        if self.settings.offer_repeat:
            text = self.prompts.say("offer_repeat")
            self.question, self.finding = None, None
            self.no_input = self.no_match = 0
            phrases, meanings = answer_text.grammar(self.prompts, "offer")
            self.listen = Listen("offer_repeat", (), "offer", phrases, prompt=text, meanings=meanings)
            return Turn(say + self.outcome + [text], self.listen, assessment=a, instruction=a.emergency)
        self.done = True
        return Turn(say + self.outcome, None, done=True, assessment=a, instruction=a.emergency, ending="completed")
