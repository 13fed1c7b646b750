"""Kiosk mode: people one after another, faults, and privacy between them.
Real recogniser, real speech output, real caption board and server; the
people are recordings spoken into a virtual microphone."""

from __future__ import annotations

import gc
import json
import logging
import urllib.request

import numpy as np
import pytest

from voiceassist.bank import Bank, SpokenInput
from voiceassist.speech.playback import SampleClockSpeaker
from voiceassist.captions import CaptionBoard
from voiceassist.captions_server import CaptionServer
from voiceassist.dialogue.manager import Dialogue
from voiceassist.kiosk import Kiosk
from voiceassist.replay import BankPatient, Case, Recorder, TextPatient, run_case
from voiceassist.session import Hooks

from conftest import ROOT, SPEECH_CACHE
from fakes import FlakyMicrophone

pytestmark = pytest.mark.slow  # each test runs whole consultations through the recogniser

# The kiosk's own speech cache, shared between runs: only kiosk synthesisers
# (fixed_only) write to it, so it never holds a person's sentences and the
# privacy checks below can look at it.
KIOSK_SPEECH_CACHE = SPEECH_CACHE.with_name("speech-kiosk")

BANK = ROOT / "tests" / "fixtures" / "banks" / "piper_joe"

CLOT = Case("clot", {"long_journey": "yes", "leg_swelling": "yes", "leg_warm": "yes", "pain_location": "calf"},
            {"level": "emergency", "causes": ["dvt"]})
STRAIN = Case("strain", {"sudden_exercise": "yes", "bruising": "yes", "hurts_to_walk": "yes", "pain_location": "calf"},
              {"level": "self_care", "causes": ["calf_strain"]})
WALKS_AWAY = Case("walks_away", {"pain_location": "thigh"})


class Visitors:
    """People arriving one after another: each says "hello" when the kiosk
    waits, then answers as their case says. `quits_after` answers, a person
    stops answering (walked away)."""

    def __init__(self, bank: Bank, mouth: SpokenInput, rules, cases, quits_after=None):
        self.bank, self.mouth, self.rules = bank, mouth, rules
        self.queue = list(cases)
        self.quits_after = quits_after or {}
        self.current = None
        self.answers = 0
        self.arrivals = -1
        self.outcomes: list = []  # (case id, final turn)
        self.waits: list[dict] = []  # what was observable each time the kiosk waited
        self.on_wait = None

    def arrive(self) -> None:
        if self.on_wait:
            self.on_wait(self)
        if not self.queue:
            raise KeyboardInterrupt  # nobody left: the test is over
        self.current = self.queue.pop(0)
        self.recorder = Recorder(self.rules, self.current)
        self.patient = BankPatient(self.bank, self.mouth, self.current, self.recorder)
        self.answers = 0
        self.arrivals += 1
        self.mouth.speak(self.bank.clip("start", self.arrivals))  # "hello", "start", "i need help" in turn

    def before_listen(self, listen) -> None:
        limit = self.quits_after.get(self.current.id)
        if limit is not None and self.answers >= limit:
            return  # silence
        self.answers += 1
        self.patient.before_listen(listen)

    def before_speak(self, turn) -> None:
        if turn.done or (turn.listen is not None and turn.listen.kind == "offer"):
            if turn.assessment is not None and (not self.outcomes or self.outcomes[-1][0] != self.current.id):
                self.outcomes.append((self.current.id, turn.assessment))


def make_kiosk(rules, prompts, recogniser, visitors, mouth, board, **kw):
    from voiceassist.speech.tts import Synthesiser

    tts = kw.pop("tts", None) or Synthesiser(cache_dir=KIOSK_SPEECH_CACHE, fixed_only=True)
    from voiceassist.app import every_sentence

    tts.warm(every_sentence(rules, prompts), progress=False)
    kiosk = Kiosk(rules, prompts, recogniser, tts, kw.pop("speaker", SampleClockSpeaker()), mouth, board,
                  hooks=Hooks(before_listen=visitors.before_listen, before_speak=visitors.before_speak),
                  sleep=lambda s: None, **kw)
    kiosk.on_waiting = visitors.arrive
    return kiosk, tts


def serve(kiosk, n):
    try:
        kiosk.serve(consultations=n)
    except KeyboardInterrupt:
        pass


def test_three_people_in_a_row(rules, prompts, recogniser, caplog):
    """A clot case, a self-care case, and one who walks away: each outcome is
    right, the kiosk resets between them, and nothing of the first person can
    be reached once the next one has started (state, caption page, logs)."""
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT, STRAIN, WALKS_AWAY], quits_after={"walks_away": 3})
    board = CaptionBoard(idle_text=prompts.text("kiosk", "idle"))
    server = CaptionServer(board, port=0).start()
    seen = []
    # The first person's own sentences: why the outcome fits them.
    personal = [s for s in run_case(rules, prompts, CLOT, TextPatient(prompts)).spoken if "because" in s]
    assert personal

    def on_wait(v):
        gc.collect()
        page = json.loads(urllib.request.urlopen(server.url + "state", timeout=5).read())
        seen.append({
            "page": page,
            "dialogues": sum(isinstance(o, Dialogue) for o in gc.get_objects()),
            "dynamic_cached": any(tts.is_cached(s) for s in personal),
        })

    visitors.on_wait = on_wait
    kiosk, tts = make_kiosk(rules, prompts, recogniser, visitors, mouth, board)
    caplog.set_level(logging.DEBUG)
    try:
        serve(kiosk, 4)  # the fourth wait finds nobody left
    finally:
        server.stop()

    assert [cid for cid, _ in visitors.outcomes] == ["clot", "strain", "walks_away"]
    clot, strain, walked = (a for _, a in visitors.outcomes)
    assert clot.level == "emergency" and "dvt" in clot.top_ids()
    assert strain.level == "self_care" and strain.top_ids()[0] == "calf_strain"
    assert kiosk.stats.endings == {"completed": 2, "gave_up": 1}

    # Each time the kiosk waited for the next person, it had forgotten the last.
    assert len(seen) == 4
    for state in seen:
        page = state["page"]
        assert page["state"] == "idle" and not page["question"] and not page["heard"]
        assert not page["outcome"] and not page["said"]
        assert state["dialogues"] == 0  # no consultation object survives the reset
        assert state["dynamic_cached"] is False  # the speech cache forgot the person's sentences

    # The log: counts and timings only, never what anyone said.
    text = " ".join(r.getMessage() for r in caplog.records).lower()
    for word in ("swollen", "calf", "yes", "emergency", "dvt", "clot", "self_care"):
        assert word not in text, word
    assert "consultation 3 ended: gave_up" in text


def test_transcripts_only_when_the_operator_asks(tmp_path, rules, prompts, recogniser):
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT])
    board = CaptionBoard()
    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mouth, board, transcripts=tmp_path / "t")
    serve(kiosk, 1)
    (transcript,) = (tmp_path / "t").iterdir()
    assert prompts.text("levels", "emergency") in transcript.read_text()


def test_microphone_unplugged_and_back(rules, prompts, recogniser):
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT, STRAIN])
    board = CaptionBoard()
    statuses = []
    original = board.status
    board.status = lambda text: (statuses.append(text), original(text))
    mic = FlakyMicrophone(mouth, fail_at=400)
    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mic, board)
    serve(kiosk, 2)
    assert prompts.text("kiosk", "mic_lost") in statuses and None in statuses[statuses.index(prompts.text("kiosk", "mic_lost")):]
    assert kiosk.stats.mic_failures == 1 and mic.reopens == 4
    assert [a.level for _, a in visitors.outcomes] == ["emergency", "self_care"]


class BrokenSpeaker(SampleClockSpeaker):
    def play(self, samples, rate):
        raise RuntimeError("PortAudio: device unavailable")


def test_speech_output_failing_leaves_the_captions(rules, prompts, recogniser):
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT, STRAIN])
    board = CaptionBoard()
    outcomes = []
    original = board.outcome
    board.outcome = lambda *a: (outcomes.append(a), original(*a))
    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mouth, board, speaker=BrokenSpeaker())
    serve(kiosk, 2)
    assert kiosk.stats.speech_failures > 0
    assert [a.level for _, a in visitors.outcomes] == ["emergency", "self_care"]
    assert outcomes and outcomes[0][3] is True  # the emergency outcome reached the screen


def test_an_error_in_one_consultation_does_not_stop_the_kiosk(rules, prompts, recogniser, monkeypatch):
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT, STRAIN])
    board = CaptionBoard()
    calls = {"n": 0}
    real_handle = Dialogue.handle

    def handle(self, event):
        calls["n"] += 1
        if calls["n"] == 6:  # in the middle of the first consultation
            raise ValueError("injected fault")
        return real_handle(self, event)

    monkeypatch.setattr(Dialogue, "handle", handle)
    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mouth, board)
    spoken = []
    record_outcome = visitors.before_speak
    visitors.before_speak = lambda turn: (turn.done and spoken.append(turn.say), record_outcome(turn))
    kiosk.hooks.before_speak = visitors.before_speak
    serve(kiosk, 2)
    assert kiosk.stats.errors == 1
    assert kiosk.stats.endings == {"error": 1, "completed": 1}
    # The first person still heard what to do (the fault came before the clot sign was asked).
    assert [cid for cid, _ in visitors.outcomes] == ["clot", "strain"]
    assert prompts.say("error") in spoken[0] and prompts.say("safety_net") in spoken[0]
    assert visitors.outcomes[1][1].level == "self_care"


def test_slower_and_louder_do_not_carry_over_to_the_next_person(rules, prompts, recogniser):
    from voiceassist.speech.tts import Synthesiser

    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [CLOT])
    speaker = SampleClockSpeaker()
    tts = Synthesiser(cache_dir=KIOSK_SPEECH_CACHE, fixed_only=True, rate_wpm=150)
    said = {"done": False}

    seen = []

    def before_listen(listen):
        seen.append((tts.rate_wpm, speaker.gain))
        if not said["done"]:
            said["done"] = True
            mouth.speak(bank.clip("slower"))
            return
        if said["done"] == 1:
            return visitors.before_listen(listen)
        said["done"] = 1
        mouth.speak(bank.clip("louder"))

    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mouth, CaptionBoard(), tts=tts, speaker=speaker)
    kiosk.hooks.before_listen = before_listen
    serve(kiosk, 1)
    assert any(rate == 130 for rate, _ in seen)  # "slower" took effect during the consultation
    assert tts.rate_wpm == 150 and speaker.gain == 1.0


def test_idle_timeout_ends_an_abandoned_consultation_safely(rules, prompts, recogniser):
    """With an idle timeout shorter than the reprompts, a person who walks away
    gets the emergency summary and the kiosk resets for the next one."""
    bank = Bank(BANK)
    mouth = SpokenInput(bank.speech_rms)
    visitors = Visitors(bank, mouth, rules, [WALKS_AWAY, STRAIN], quits_after={"walks_away": 2})
    board = CaptionBoard()
    said = []
    original = board.assistant
    board.assistant = lambda text, kind="say": (said.append(text), original(text, kind))
    kiosk, _ = make_kiosk(rules, prompts, recogniser, visitors, mouth, board, idle_timeout_s=5.0)
    serve(kiosk, 2)
    assert kiosk.stats.endings == {"timed_out": 1, "completed": 1}
    assert prompts.say("safety_net") in said
    assert visitors.outcomes[-1][1].level == "self_care"
