"""Kiosk mode: consultations one after another, unattended, for months.

    wait (listening, not talking) for a start phrase
      -> greet and run the consultation (captions on the screen)
      -> speak the outcome, offer to repeat it
      -> reset: nothing of that person is kept
      -> wait again

What keeps it running:
- a microphone that fails (unplugged) is reopened until it works again, with
  a message on the screen; the consultation carries on where it was;
- speech output that fails leaves the captions working;
- an error inside one consultation ends that consultation safely (the
  safety net is said and shown, by Consultation.run) and the kiosk carries
  on with the next;
- an idle timeout ends an abandoned consultation with the emergency summary.

Privacy: answers and audio live only in the consultation's objects, which are
dropped at reset; the speech cache forgets the consultation's own sentences;
the log holds counts and timings only. Transcripts are written only when the
operator names a folder for them.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from .captions import board_captions
from .dialogue.manager import Dialogue, DialogueSettings, Turn
from .session import AudioIn, Caption, Consultation, Hooks, Speaker
from .speech.endpoint import Endpointer, EndpointSettings, NoInput, Utterance
from .triage.engine import EMERGENCY_LEVELS
from .triage.rules import Prompts, Rules

log = logging.getLogger("voiceassist.kiosk")

MIC_RETRY_S = (0.5, 1, 2, 5)  # back-off while the microphone is gone


@dataclass
class KioskStats:
    """Counts and timings only: never what anyone said."""

    consultations: int = 0
    endings: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    mic_failures: int = 0
    speech_failures: int = 0


class RecoveringInput:
    """Wraps a microphone: when it fails, tell the screen, reopen it with
    back-off, and deliver nothing meanwhile (so no one is timed out while
    the microphone is away)."""

    def __init__(self, mic: AudioIn, on_status: Callable[[str | None], None], prompts: Prompts, stats: KioskStats,
                 sleep: Callable[[float], None] = time.sleep):
        self.mic, self.on_status, self.prompts, self.stats, self.sleep = mic, on_status, prompts, stats, sleep
        self.failed_since: float | None = None
        self.tries = 0

    def read(self, timeout: float | None = None) -> bytes | None:
        from .speech.mic import MicrophoneError

        if self.failed_since is not None:
            self.sleep(MIC_RETRY_S[min(self.tries, len(MIC_RETRY_S) - 1)])
            self.tries += 1
            try:
                self.mic.reopen()
            except MicrophoneError:
                return None
            log.info("microphone back after %.1f s", time.monotonic() - self.failed_since)
            self.failed_since, self.tries = None, 0
            self.on_status(None)
        try:
            return self.mic.read(timeout)
        except MicrophoneError as exc:
            self.stats.mic_failures += 1
            log.warning("microphone failed: %s", exc)
            self.failed_since = time.monotonic()
            self.on_status(self.prompts.text("kiosk", "mic_lost"))
            return None

    def reopen(self) -> "RecoveringInput":
        self.mic.reopen()
        return self


class SafeSpeaker:
    """Speech output that fails leaves the captions working."""

    def __init__(self, speaker: Speaker, on_status: Callable[[str | None], None], prompts: Prompts, stats: KioskStats):
        self.speaker, self.on_status, self.prompts, self.stats = speaker, on_status, prompts, stats
        self.broken = False

    @property
    def gain(self) -> float:
        return self.speaker.gain

    def set_gain(self, gain: float) -> float:
        return self.speaker.set_gain(gain)

    def play(self, samples, rate) -> None:
        try:
            self.speaker.play(samples, rate)
            if self.broken:
                self.broken = False
                self.on_status(None)
        except Exception as exc:  # any failure of the audio output
            self.stats.speech_failures += 1
            if not self.broken:
                log.warning("speech output failed: %s", exc)
                self.on_status(self.prompts.text("kiosk", "speech_lost"))
            self.broken = True

    def stop(self) -> None:
        try:
            self.speaker.stop()
        except Exception:
            pass

    def is_playing(self) -> bool:
        try:
            return not self.broken and self.speaker.is_playing()
        except Exception:
            return False

    def advance(self, seconds: float) -> float:
        try:
            return self.speaker.advance(seconds)
        except Exception:
            return 0.0

    def wait(self, timeout: float | None = None) -> bool:
        try:
            return self.speaker.wait(timeout)
        except Exception:
            return True


class Kiosk:
    def __init__(self, rules: Rules, prompts: Prompts, recogniser, tts, speaker: Speaker, audio_in: AudioIn,
                 board, endpoint: EndpointSettings | None = None, start_phrases: list[str] | None = None,
                 idle_timeout_s: float = 90.0, transcripts: str | Path | None = None,
                 dialogue_settings: DialogueSettings | None = None, barge_in: bool = True,
                 hooks: Hooks | None = None, sleep: Callable[[float], None] = time.sleep):
        self.rules, self.prompts = rules, prompts
        self.recogniser, self.tts = recogniser, tts
        self.board = board
        self.stats = KioskStats()
        self.speaker = SafeSpeaker(speaker, board.status, prompts, self.stats)
        self.audio_in = RecoveringInput(audio_in, board.status, prompts, self.stats, sleep)
        self.endpoint = endpoint or EndpointSettings()
        self.start_phrases = list(start_phrases or prompts.start_phrases)
        self.idle_timeout_s = idle_timeout_s
        self.transcripts = Path(transcripts) if transcripts else None
        self.dialogue_settings = dialogue_settings or DialogueSettings()
        self.barge_in = barge_in
        self.hooks = hooks or Hooks()
        self.on_waiting: Callable[[], None] | None = None  # tests and the soak benchmark

    # -- the loop -----------------------------------------------------------------

    def serve(self, consultations: int | None = None) -> None:
        """Serve people one after another; `consultations` limits it (tests)."""
        done = 0
        self.reset()
        while consultations is None or done < consultations:
            if not self.wait_for_start():
                continue
            self.consult()
            done += 1
            self.reset()

    def wait_for_start(self) -> bool:
        """Listen quietly until someone says a start phrase."""
        if self.on_waiting:
            self.on_waiting()
        endpointer = Endpointer(self.endpoint)
        while True:
            block = self.audio_in.read(timeout=0.5)
            if block is None:
                continue
            for event in endpointer.feed(block):
                if isinstance(event, NoInput):
                    endpointer.reset()
                elif isinstance(event, Utterance):
                    heard = self.recogniser.recognise(event.audio, self.start_phrases, endpointer.background())
                    # A false start costs little (a greeting, then a safe ending
                    # if nobody answers); a missed "hello" leaves a person
                    # standing there. So the reject threshold, not the confirm one.
                    if heard.text and heard.confidence >= self.dialogue_settings.reject_below:
                        return True
                    endpointer.reset()

    def consult(self) -> str:
        """One consultation; returns how it ended. Never raises."""
        started = time.monotonic()
        transcript: list[str] = [] if self.transcripts else None  # type: ignore[assignment]
        dialogue = Dialogue(self.rules, self.prompts, self.dialogue_settings)
        consultation = Consultation(
            dialogue, self.recogniser, self.tts, self.speaker, self.audio_in,
            self.endpoint, captions=self._captions(transcript), barge_in=self.barge_in,
            hooks=Hooks(before_listen=self.hooks.before_listen, before_speak=self._before_speak),
            idle_timeout_s=self.idle_timeout_s,
        )
        final = consultation.run()  # never raises: an error ends it safely, said and shown
        ending = final.ending or "completed"
        if consultation.error is not None:
            self.stats.errors += 1
            self.board.status(self.prompts.text("kiosk", "error"))
        self.stats.consultations += 1
        self.stats.endings[ending] = self.stats.endings.get(ending, 0) + 1
        # Counts and timings only: no answers, no level, no words.
        log.info("consultation %d ended: %s, %d turns, %.0f s", self.stats.consultations, ending,
                 consultation.turns, time.monotonic() - started)
        if transcript is not None:
            self._write_transcript(transcript)
        return ending

    def reset(self) -> None:
        """The next person must find it ready and learn nothing of the last."""
        self.board.reset()
        self.tts.forget_dynamic()
        gc.collect()

    # -- pieces ---------------------------------------------------------------------

    def _before_speak(self, turn: Turn) -> None:
        if turn.done and turn.assessment is not None:
            a = turn.assessment
            self.board.outcome(a.level, self.prompts.text("levels", a.level), list(turn.say), a.emergency)
        elif turn.instruction:
            for s in turn.say:
                if s in {self.prompts.text("levels", lvl) for lvl in EMERGENCY_LEVELS}:
                    self.board.assistant(s, kind="instruction")
        if turn.listen is not None and turn.listen.kind == "offer" and turn.assessment is not None:
            a = turn.assessment
            self.board.outcome(a.level, self.prompts.text("levels", a.level), list(turn.say[:-1]), a.emergency)
        if self.hooks.before_speak:
            self.hooks.before_speak(turn)

    def _captions(self, transcript: list[str] | None):
        on_board = board_captions(self.board)

        def captions(caption: Caption) -> None:
            on_board(caption)
            if transcript is not None:
                transcript.append(caption.transcript_line())

        return captions

    def _write_transcript(self, transcript: list[str]) -> None:
        try:
            self.transcripts.mkdir(parents=True, exist_ok=True)
            name = datetime.now().strftime("%Y%m%d-%H%M%S-%f") + ".txt"
            (self.transcripts / name).write_text("\n".join(transcript) + "\n", encoding="utf-8")
        except OSError as exc:
            log.warning("could not write a transcript: %s", exc)
