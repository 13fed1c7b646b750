"""One spoken consultation: the imperative shell around the dialogue manager.

    audio in ─► endpointer ─► recogniser (grammar of the current question)
        ▲                              │ text + confidence
        │                              ▼
    speaker ◄── TTS ◄────────── dialogue manager

The same loop serves a live microphone, the replay patient's recordings
(`replay --bank`) and the kiosk. Time is counted in audio samples read, so a
replay runs as fast as the machine allows and behaves exactly as live.

Barge-in: while the assistant speaks, the microphone is still read. Speech
that the dialogue would take as an answer to the current question on one
hearing (Dialogue.hearing(...).fair: the acceptance policy, dialogue/policy.py)
stops the playback and is taken as the answer (VoiceXML's "hotword"
barge-in). The microphone also hears the assistant's own voice, and
a recogniser with a closed grammar will force even that onto "yes" or "stop".
So before recognising, the assistant's own voice is taken out: we know
exactly what is playing, so the best-fitting delay and gain of it (FFT
cross-correlation, up to ECHO_MAX_LAG_S of device latency) are found and it
is subtracted. When little is left, nobody spoke over it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from . import background
from .dialogue.manager import Dialogue, Heard, Listen, Silence, Timeout, Turn
from .speech.asr import Recogniser, Recognition
from .speech.audio import active_rms, seconds_of, to_mono16k
from .speech.endpoint import EndpointSettings, Endpointer, NoInput, SpeechStarted, Utterance

log = logging.getLogger(__name__)

BLOCK_MS = 30
BARGE_IN_MIN_S = 0.25  # of speech before a barge-in is tried
BARGE_IN_EVERY_S = 0.3  # how often a barge-in in progress is tried
BARGE_IN_RECHECK_S = 1.0  # a slow recogniser that said no is asked again after this much more speech
SENTENCE_PAUSE_S = 0.3  # between sentences, so that each one sinks in
# Listened to before the first sentence: the endpointer learns the room's
# noise floor, and the recogniser gets a noise profile for the first answer
# (frames of speech, if the person is still talking, are not taken).
ROOM_LISTEN_S = 0.5
ECHO_MAX_LAG_S = 0.3  # output + input latency the echo canceller allows for
ECHO_RESIDUAL = 0.55  # below this share of the microphone's level, what is heard is mostly our own voice:
# a reverberant room leaves ~0.4 after the best delay and gain are taken out; a person speaking
# over the echo at its level leaves ~0.7, at half its level ~0.58.


class TooManyTurns(RuntimeError):
    """A consultation that goes on and on is a bug, never a hang."""


class AudioIn(Protocol):
    def read(self, timeout: float | None = None) -> bytes | None: ...


class Speaker(Protocol):
    def play(self, samples: np.ndarray, rate: int) -> None: ...
    def stop(self) -> None: ...
    def is_playing(self) -> bool: ...
    def set_gain(self, gain: float) -> float: ...
    @property
    def gain(self) -> float: ...


Captions = Callable[[str, str], None]  # (who, text): "assistant" / "heard" / "status"


def print_captions(who: str, text: str) -> None:
    label = {"assistant": "assistant", "heard": "  heard", "status": "  ..."}.get(who, who)
    print(f"{label}: {text}", flush=True)


@dataclass
class Stats:
    latencies_s: list[float] = field(default_factory=list)  # end of answer -> next sentence ready
    barge_ins: int = 0
    first_sentence_ready_s: float | None = None
    first_question_ready_s: float | None = None


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
        tts,
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
        self.recogniser = recogniser
        self.tts = tts
        self.speaker = speaker
        self.audio_in = audio_in
        self.endpoint = endpoint or EndpointSettings()
        self.captions = captions
        self.barge_in = barge_in
        self.hooks = hooks or Hooks()
        self.stats = Stats()
        self.started = started if started is not None else time.monotonic()
        self._answer_end: float | None = None
        self.max_turns = max_turns or dialogue.turn_bound  # a bug guard: the dialogue bounds itself
        self.turns = 0
        # Listening time since the person last said anything (the assistant's
        # own speech does not count): past idle_timeout_s they have walked
        # away, and the consultation ends safely.
        self.idle_timeout_s = idle_timeout_s
        self.idle_s = 0.0
        # One endpointer for the whole consultation: its noise floor follows
        # the room from one answer to the next.
        self.endpointer = Endpointer(self.endpoint)
        self.error: Exception | None = None  # what ended the consultation early, if anything

    # -- the loop ---------------------------------------------------------------

    def run(self) -> Turn:
        """The whole consultation. It never raises: an error (a device gone, a
        background task that died, a bug) ends it safely, saying what to do
        from what is known, and is kept in `error` for the caller's one line.
        "slower" or "louder" last only as long as it: the next person starts
        at the usual rate and volume."""
        rate, gain = self.tts.rate_wpm, self.speaker.gain
        try:
            return self._run()
        except Exception as exc:  # noqa: BLE001 - the person must still hear what to do
            self.error = exc
            log.error("consultation ended by an error: %s: %s", type(exc).__name__, exc)
            return self._end_safely()
        finally:
            self.tts.set_rate(rate)
            self.speaker.set_gain(gain)

    def _run(self) -> Turn:
        self._hear_room()
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
            self.act(turn.action)

    def _end_safely(self) -> Turn:
        """After an error: the emergency instruction if one was reached, else
        the safety net, on screen always and spoken while speech works."""
        try:
            turn = self.dialogue.fail()
        except Exception:  # noqa: BLE001 - the dialogue itself broke: the safety net needs no state
            p = self.dialogue.prompts
            turn = Turn([p.say("error"), p.say("safety_net"), p.say("not_a_diagnosis")], None, done=True,
                        ending="error")
        speaking = True
        try:
            if self.hooks.before_speak:
                self.hooks.before_speak(turn)
        except Exception:  # noqa: BLE001
            pass
        for sentence in turn.say:
            self.captions("assistant", sentence)
            if not speaking:
                continue
            try:
                samples, rate = self._synthesise(sentence)
                self.speaker.play(samples, rate)
                while self.speaker.is_playing():
                    self._read_block()
            except Exception:  # noqa: BLE001 - the device that failed may be this one: captions only
                speaking = False
        return turn

    def act(self, action: str | None) -> None:
        if action == "slower":
            self.tts.set_rate(self.tts.rate_wpm - 20)
        elif action == "faster":
            self.tts.set_rate(self.tts.rate_wpm + 20)
        elif action == "louder":
            self.speaker.set_gain(self.speaker.gain * 1.4)
        elif action == "quieter":
            self.speaker.set_gain(self.speaker.gain / 1.4)

    # -- speaking ---------------------------------------------------------------

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
        watcher = _BargeIn(self, listen) if interruptible else None
        for n, sentence in enumerate(turn.say):
            samples, rate = self._synthesise(sentence)
            if n == 0:
                self._sentence_ready(turn)
            self.captions("assistant", sentence)
            self.speaker.play(samples, rate)
            if watcher is not None:
                watcher.playing(samples, rate)
            while self.speaker.is_playing():
                block = self._read_block()
                if watcher is not None and block is not None:
                    heard = watcher.feed(block)
                    if heard is not None:
                        self.speaker.stop()
                        self.stats.barge_ins += 1
                        return heard
        return None

    def _synthesise(self, sentence: str) -> tuple[np.ndarray, int]:
        try:
            samples, rate = self.tts.synthesise(sentence)
            if len(samples):
                samples = np.concatenate([samples, np.zeros(int(SENTENCE_PAUSE_S * rate), samples.dtype)])
            return samples, rate
        except Exception as exc:  # speech output failing must not lose the consultation
            log.error("speech output failed: %s", exc)
            self.captions("status", "(speech output is not working; please read the screen)")
            return np.zeros(0, np.int16), 16000

    def _sentence_ready(self, turn: Turn) -> None:
        now = time.monotonic()
        if self._answer_end is not None:
            self.stats.latencies_s.append(now - self._answer_end)
            self._answer_end = None
        if self.stats.first_sentence_ready_s is None:
            self.stats.first_sentence_ready_s = now - self.started
        if self.stats.first_question_ready_s is None and turn.listen is not None:
            # The first question is the last sentence of the first turn; it is
            # ready when its audio is (cached sentences cost nothing).
            self.stats.first_question_ready_s = now - self.started

    def _read_block(self) -> bytes | None:
        block = self.audio_in.read(timeout=0.5)
        seconds = seconds_of(block) if block else 0.0
        advance = getattr(self.speaker, "advance", None)
        if advance is not None:
            advance(seconds if block else BLOCK_MS / 1000)
        return block

    # -- listening --------------------------------------------------------------

    def _hear_room(self) -> None:
        heard = 0.0
        while heard < ROOM_LISTEN_S:
            block = self._read_block()
            if block is None:  # no audio (a microphone being reconnected): do not hold up the greeting
                return
            heard += seconds_of(block)
            self.endpointer.feed(block)

    def listen(self, listen: Listen) -> Heard | Silence | Timeout:
        if self.hooks.before_listen:
            self.hooks.before_listen(listen)
        endpointer = self.endpointer
        endpointer.reset()
        while True:
            if self.idle_timeout_s is not None and self.idle_s > self.idle_timeout_s:
                self.captions("status", "(no answer for a long time: ending)")
                return Timeout()
            block = self._read_block()
            if block is None:
                continue
            self.idle_s += seconds_of(block)  # time waiting for the person, not speaking
            for event in endpointer.feed(block):
                if isinstance(event, NoInput):
                    self.captions("heard", "(silence)")
                    return Silence()
                if isinstance(event, Utterance):
                    self._answer_end = time.monotonic()
                    self.idle_s = 0.0  # the person is there, understood or not
                    return self._recognise(event.audio, listen)

    def _recognise(self, audio: bytes, listen: Listen) -> Heard:
        result: Recognition = self.recogniser.recognise(audio, listen.grammar, self.endpointer.background(),
                                                        meanings=listen.meanings)
        if result.text:
            self.captions("heard", f"{result.text} ({result.confidence:.2f})")
        else:
            self.captions("heard", "(not understood)")
        return self._heard(result, audio)

    def _heard(self, result: Recognition, audio: bytes) -> Heard:
        """What the dialogue gets: the answer with its SNR (in noise a confident
        answer is still confirmed) and the recogniser's near-misses."""
        return Heard(result.text, result.confidence, self._snr_db(audio), tuple(result.alternatives),
                     result.agreed, result.engine, dict(result.evidence))

    def _snr_db(self, audio: bytes) -> float:
        """The answer's active speech level above the endpointer's noise floor."""
        rms = active_rms(np.frombuffer(audio, np.int16))
        level = 20 * np.log10(max(rms, 1e-3) / 32768.0)
        return float(level - self.endpointer.floor_db)


class _BargeIn:
    """Watches the microphone while the assistant speaks."""

    def __init__(self, consultation: Consultation, listen: Listen):
        self.c = consultation
        self.listen = listen
        self.endpointer = Endpointer(consultation.endpoint)
        self.reference = np.zeros(0, np.float32)  # what the speaker plays, at 16 kHz
        self.pos = 0  # samples read from the microphone since this sentence began
        self.audio = bytearray()
        self.start = 0
        self.speaking = False
        self.next_try = BARGE_IN_MIN_S
        self.next_full_try = 0.0  # for a recogniser with a quick screen (_try)

    def playing(self, samples: np.ndarray, rate: int) -> None:
        self.reference = to_mono16k(np.asarray(samples), rate).astype(np.float32) * self.c.speaker.gain
        self.pos = 0
        self.speaking, self.audio = False, bytearray()
        self.endpointer.reset()

    def feed(self, block: bytes) -> Heard | None:
        events = self.endpointer.feed(block)
        self.pos += len(block) // 2
        for event in events:
            if isinstance(event, SpeechStarted):
                self.speaking, self.audio, self.next_try = True, bytearray(), BARGE_IN_MIN_S
                self.next_full_try = 0.0
                self.start = self.pos - len(block) // 2
            elif isinstance(event, Utterance):
                self.speaking = False
                heard = self._try(bytes(self.audio + block), final=True)
                if heard:
                    return heard
            elif isinstance(event, NoInput):
                self.endpointer.reset()
        if self.speaking:
            self.audio += block
            if seconds_of(self.audio) >= self.next_try:
                self.next_try += BARGE_IN_EVERY_S
                return self._try(bytes(self.audio))
        return None

    def _without_echo(self, audio: bytes) -> bytes | None:
        """The microphone's audio with our own voice taken out, or None when
        what was heard is (nearly) all our own voice."""
        mic = np.frombuffer(audio, np.int16).astype(np.float32)
        end = self.start + len(mic)
        max_lag = int(ECHO_MAX_LAG_S * 16000)
        lo = max(0, self.start - max_lag)
        ref = self.reference[lo:end]
        if ref.size == 0 or not np.any(ref):
            return audio
        ref = np.pad(ref, (0, max(0, end - lo - ref.size)))
        # corr[k] = sum_t ref[t + k] * mic[t]: how well the reference, from
        # sample k of the window on, explains what the microphone heard.
        n = 1 << int(np.ceil(np.log2(len(ref) + len(mic))))
        corr = np.fft.irfft(np.fft.rfft(ref, n) * np.conj(np.fft.rfft(mic, n)), n)
        offsets = np.arange(0, len(ref) - len(mic) + 1)  # where in `ref` the echo lines up
        if offsets.size == 0:
            return audio
        best = int(offsets[np.argmax(np.abs(corr[offsets]))])
        echo = ref[best:best + len(mic)]
        gain = float(np.dot(mic, echo) / (np.dot(echo, echo) + 1e-9))
        residual = mic - gain * echo
        if np.sqrt(np.mean(residual ** 2)) < ECHO_RESIDUAL * np.sqrt(np.mean(mic ** 2) + 1e-9):
            return None
        return np.clip(residual, -32768, 32767).astype("<i2").tobytes()

    def _try(self, audio: bytes, final: bool = False) -> Heard | None:
        clean = self._without_echo(audio)
        if clean is None:
            return None
        # The room as heard while listening; this endpointer's frames have our own voice in them.
        heard = (clean, self.listen.grammar, self.c.endpointer.background())
        # Speech over a question is tried every 0.3 s, and babble is speech: a
        # recogniser that is slow but sure screens it with its quick part
        # first (pocketsphinx, for the pair with Whisper), and once the slow
        # part has said no, asks it again only after another second of speech
        # or at the end of it, so that the microphone is never left behind.
        screen = getattr(self.c.recogniser, "screen", None)
        screened = {}
        if screen is not None:
            first = screen.recognise(*heard, meanings=self.listen.meanings)
            # Worth asking the slow part only if the quick one heard something the question accepts.
            if not first.text or not self.c.dialogue.hearing(self.c._heard(first, clean)).weak:
                return None
            if not final and seconds_of(audio) < self.next_full_try:
                return None
            self.next_full_try = seconds_of(audio) + BARGE_IN_RECHECK_S
            screened = {"screened": first}  # the slow part only: the quick one has just heard it
        result = self.c.recogniser.recognise(*heard, meanings=self.listen.meanings, **screened)
        # Like any answer, with its SNR and whether the engines agreed: babble
        # during a question was taken as a confident "yep". The question is
        # cut short only for what the dialogue would take on one hearing;
        # the dialogue then weighs it as it weighs every answer.
        answer = self.c._heard(result, clean)
        if result.text and self.c.dialogue.hearing(answer).fair:
            self.c._answer_end = time.monotonic()
            self.c.captions("heard", f"{result.text} ({result.confidence:.2f}, while I was speaking)")
            return answer
        return None
