"""One spoken consultation: the turn loop around the dialogue manager, and
its safe ending.

    audio in ─► endpointer ─► recogniser (grammar of the current question)
        ▲                              │ text, confidence, agreement, evidence
        │                              ▼
    speaker ◄── TTS ◄────────── dialogue manager

listening.py hears, speaking.py speaks, barge_in.py hears over a question;
this module only runs the turns. The same loop serves a live microphone,
the replay patient's recordings (`replay --bank`) and the kiosk.

Whatever goes wrong (a device gone, a background task that died, a bug),
the consultation ends safely (`Consultation.run`): the emergency instruction
if one was reached, else the safety net, on screen always and spoken while
speech works.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from .. import background
from ..dialogue.manager import Dialogue, Heard, Listen, Silence, Timeout, Turn
from ..speech.asr import Recogniser
from ..speech.endpoint import EndpointSettings
from .barge_in import BargeIn
from .listening import Listening
from .ports import AudioIn, Captions, Speaker, Synthesiser, print_captions
from .speaking import Speaking
from .stats import Stats

log = logging.getLogger("voiceassist.session")


class TooManyTurns(RuntimeError):
    """A consultation that goes on and on is a bug, never a hang."""


@dataclass
class Hooks:
    """What the replay patient and the kiosk need to know about."""

    before_listen: Callable[[Listen], None] | None = None
    before_speak: Callable[[Turn], None] | None = None


class Consultation:
    def __init__(
        self,
        dialogue: Dialogue,
        recogniser: Recogniser,
        tts: Synthesiser,
        speaker: Speaker,
        audio_in: AudioIn,
        endpoint: EndpointSettings | None = None,
        captions: Captions = print_captions,
        barge_in: bool = True,
        hooks: Hooks | None = None,
        started: float | None = None,
        max_turns: int | None = None,
        idle_timeout_s: float | None = None,
    ):
        self.dialogue = dialogue
        self.tts, self.speaker = tts, speaker
        self.barge_in = barge_in  # the person may interrupt a question
        self.hooks = hooks or Hooks()
        self.stats = Stats()
        self.started = started if started is not None else time.monotonic()
        self.max_turns = max_turns or dialogue.turn_bound  # a bug guard: the dialogue bounds itself
        self.turns = 0
        self.listening = Listening(recogniser, audio_in, speaker, endpoint or EndpointSettings(), captions,
                                   self.stats, idle_timeout_s)
        self.speaking = Speaking(tts, speaker, captions, self.stats, self.listening.read_block, self.started)
        self.error: Exception | None = None  # what ended the consultation early, if anything

    def run(self) -> Turn:
        """The whole consultation. It never raises: an error (a device gone, a
        background task that died, a bug) ends it safely, saying what to do
        from what is known, and is kept in `error` for the caller's one line.
        "slower" or "louder" last only as long as it: the next person starts
        at the usual rate and volume."""
        rate, gain = self.tts.rate_wpm, self.speaker.gain
        try:
            return self._turns()
        except Exception as exc:  # noqa: BLE001 - the person must still hear what to do
            self.error = exc
            log.error("consultation ended by an error: %s: %s", type(exc).__name__, exc)
            return self._end_safely()
        finally:
            self.tts.set_rate(rate)
            self.speaker.set_gain(gain)

    def _turns(self) -> Turn:
        self.listening.hear_room()
        turn = self.dialogue.start()
        while True:
            self.turns += 1
            if self.turns > self.max_turns:
                raise TooManyTurns(f"the consultation did not end after {self.max_turns} turns")
            failed = background.failure()
            if failed:
                raise background.TaskFailed(failed)
            if self.hooks.before_speak:
                self.hooks.before_speak(turn)
            barged = self.speak(turn)
            if turn.done:
                return turn
            event = barged or self.listen(turn.listen)
            turn = self.dialogue.handle(event)
            self.speaking.act(turn.action)

    def speak(self, turn: Turn) -> Heard | None:
        """Say the turn's sentences; return the answer if the person barged in.

        Only questions can be interrupted: the emergency instruction and the
        outcome are always heard to the end (VoiceXML's bargein="false"), so
        that a noise or an echo taken for "yes" can never cut them off."""
        listen = turn.listen
        interruptible = (
            self.barge_in and listen is not None and listen.kind in ("yes_no", "choice", "confirm")
            and not turn.instruction and turn.assessment is None
        )
        watcher = BargeIn(self.listening, self.dialogue, self.speaker, listen) if interruptible else None
        return self.speaking.say(turn.say, listen, watcher)

    def listen(self, listen: Listen) -> Heard | Silence | Timeout:
        if self.hooks.before_listen:
            self.hooks.before_listen(listen)
        return self.listening.listen(listen)

    def _end_safely(self) -> Turn:
        """After an error: the emergency instruction if one was reached, else
        the safety net, on screen always and spoken while speech works."""
        try:
            turn = self.dialogue.fail()
        except Exception:  # noqa: BLE001 - the dialogue itself broke: the safety net needs no state
            p = self.dialogue.prompts
            turn = Turn([p.say("error"), p.say("safety_net"), p.say("not_a_diagnosis")], None, done=True,
                        ending="error")
        try:
            if self.hooks.before_speak:
                self.hooks.before_speak(turn)
        except Exception:  # noqa: BLE001
            pass
        self.speaking.say_whatever_fails(turn.say)
        return turn
