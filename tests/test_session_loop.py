"""The session and kiosk loops in the fast tier (issue 23): the real
dialogue, endpointer, session and kiosk, with a scripted recogniser and a
silent synthesiser (tests/fakes.py). What the real recognisers and speech
output do to the same loops is tested with them: tests/test_voice.py and
tests/test_kiosk.py (slow)."""

from __future__ import annotations

import pytest

from fakes import FlakyMicrophone, ScriptedPerson, ScriptedRecogniser, SilentTTS, burst
from voiceassist.bank import SpokenInput
from voiceassist.captions import CaptionBoard
from voiceassist.dialogue.manager import Dialogue
from voiceassist.kiosk import Kiosk
from voiceassist.replay import Case
from voiceassist.session import Caption, Consultation, Hooks
from voiceassist.speech.asr import Recognition
from voiceassist.speech.endpoint import EndpointSettings
from voiceassist.speech.mic import MicrophoneError
from voiceassist.speech.playback import SampleClockSpeaker
from voiceassist.speech.tts import RATE_STEP

CLOT = Case("clot", {"long_journey": "yes", "leg_swelling": "yes", "leg_warm": "yes", "pain_location": "calf"},
            {"level": "emergency", "causes": ["dvt"]})
STRAIN = Case("strain", {"sudden_exercise": "yes", "bruising": "yes", "hurts_to_walk": "yes", "pain_location": "calf"},
              {"level": "self_care", "causes": ["calf_strain"]})
QUICK = EndpointSettings(no_input_s=1.0)  # silence is given up on after a second of audio


def consultation(rules, prompts, case, quits_after=None, **kw):
    recogniser = ScriptedRecogniser()
    mouth = SpokenInput()
    person = ScriptedPerson(rules, prompts, case, mouth, recogniser, quits_after)
    captions = []
    c = Consultation(Dialogue(rules, prompts, models={}), recogniser, kw.pop("tts", None) or SilentTTS(),
                     SampleClockSpeaker(), mouth, QUICK, captions=captions.append,
                     barge_in=False, hooks=Hooks(before_listen=person.before_listen), **kw)
    return c, recogniser, captions


def test_a_consultation_reaches_the_outcome_its_answers_lead_to(rules, prompts):
    c, recogniser, captions = consultation(rules, prompts, CLOT)
    final = c.run()
    assert c.error is None and final.done
    assert final.assessment.level == "emergency" and "dvt" in final.assessment.top_ids()
    assert Caption("heard", "yes", confidence=1.0) in captions
    # Which sentence asks is known from the turn, not found by matching the prompts' text.
    asked = [c for c in captions if c.who == "assistant" and c.asks]
    assert asked[0] == Caption("assistant", prompts.text("questions", rules.questions[0].id, "ask"), asks="yes_no")
    assert prompts.say("welcome") in [c.text for c in captions if c.who == "assistant" and not c.asks]
    assert recogniser.grammars and not recogniser.script  # every scripted answer was asked for


def test_the_kiosk_transcript_and_the_replay_result_read_the_same_captions(rules, prompts, tmp_path):
    """One record per line, whoever writes it down: the replay's transcript
    and what it says was spoken are the session's captions, heard answers
    with their confidence, exactly as a kiosk transcript has them."""
    from voiceassist.replay import Recorder

    recorder, captions = Recorder(rules, CLOT), []
    recogniser, mouth = ScriptedRecogniser(), SpokenInput()
    person = ScriptedPerson(rules, prompts, CLOT, mouth, recogniser)
    dialogue = Dialogue(rules, prompts, models={})
    Consultation(dialogue, recogniser, SilentTTS(), SampleClockSpeaker(), mouth, QUICK,
                 captions=lambda caption: (captions.append(caption), recorder.caption(caption)), barge_in=False,
                 hooks=Hooks(before_listen=person.before_listen, before_speak=recorder.turn)).run()
    result = recorder.finish(dialogue)
    assert result.transcript == [caption.transcript_line() for caption in captions]
    assert "heard: yes (1.00)" in result.transcript
    assert result.spoken == [caption.text for caption in captions if caption.who == "assistant"]
    assert result.passed


def test_silence_ends_the_consultation_safely(rules, prompts):
    """Nobody answers: after max_no_input silences the consultation ends with
    the safety net, never a hang."""
    c, recogniser, captions = consultation(rules, prompts, CLOT, quits_after=0)
    final = c.run()
    assert c.error is None and final.done and final.ending == "gave_up"
    assert Caption("heard", "(silence)") in captions
    said = " ".join(final.say)
    assert prompts.say("safety_net") in said or prompts.say("gave_up") in said


def test_walking_away_mid_consultation_times_out_safely(rules, prompts):
    c, _, captions = consultation(rules, prompts, CLOT, quits_after=2, idle_timeout_s=0.5)
    final = c.run()
    assert final.done and final.ending == "timed_out"
    assert Caption("status", "(no answer for a long time: ending)") in captions


def test_a_voice_command_changes_the_rate_for_this_person_only(rules, prompts):
    tts = SilentTTS()
    c, recogniser, _ = consultation(rules, prompts, CLOT, tts=tts)
    before = tts.rate_wpm
    turn = c.dialogue.start()
    c.listening.hear_room()
    recogniser.then("slower")
    c.listening.audio_in.speak(burst())
    turn = c.dialogue.handle(c.listening.listen(turn.listen))
    c.speaking.act(turn.action)
    assert turn.action == "slower" and tts.rate_wpm == before - RATE_STEP


def test_a_broken_microphone_ends_safely_with_the_error_kept(rules, prompts):
    class Unplugged:
        def read(self, timeout=None):
            raise MicrophoneError("The microphone stopped delivering audio")

        def reopen(self):
            raise MicrophoneError("No microphone found")

    captions = []
    c = Consultation(Dialogue(rules, prompts, models={}), ScriptedRecogniser(), SilentTTS(), SampleClockSpeaker(),
                     Unplugged(), QUICK, captions=captions.append, barge_in=False)
    final = c.run()
    assert isinstance(c.error, MicrophoneError) and final.done and final.ending == "error"
    assert Caption("assistant", prompts.say("error")) in captions  # shown, though the loop could not read audio


def test_the_scripted_recogniser_keeps_the_contract():
    r = ScriptedRecogniser(["yes", Recognition("no", 0.4, "scripted")])
    assert r.recognise(b"", ["Yes", "no"]).text == "yes"
    assert r.recognise(b"", ["yes", "no"]).confidence == 0.4
    assert r.recognise(b"", ["yes", "no"]).text == ""  # the script has run out: nothing heard
    r.then("maybe")
    with pytest.raises(AssertionError):
        r.recognise(b"", ["yes", "no"])


# ---------------------------------------------------------------- the kiosk


class Visitors:
    """People one after another: each says a start phrase when the kiosk waits,
    then answers as their case says."""

    def __init__(self, rules, prompts, cases, mouth, recogniser, quits_after=None):
        self.rules, self.prompts, self.mouth, self.recogniser = rules, prompts, mouth, recogniser
        self.queue, self.quits_after = list(cases), quits_after or {}
        self.person = None
        self.waits: list[dict] = []
        self.board = None
        self.tts = None

    def arrive(self) -> None:
        self.waits.append({"page": self.board.snapshot(), "forgotten": self.tts.forgotten})
        if not self.queue:
            raise KeyboardInterrupt  # nobody left
        case = self.queue.pop(0)
        self.person = ScriptedPerson(self.rules, self.prompts, case, self.mouth, self.recogniser,
                                     self.quits_after.get(case.id))
        self.recogniser.then(" ".join(self.prompts.start_phrases[0].lower().split()))
        self.mouth.speak(burst(seed=99))

    def before_listen(self, listen) -> None:
        self.person.before_listen(listen)


def kiosk(rules, prompts, cases, audio_in=None, mouth=None, quits_after=None, board=None, **kw):
    recogniser = ScriptedRecogniser()
    mouth = mouth or SpokenInput()
    visitors = Visitors(rules, prompts, cases, mouth, recogniser, quits_after)
    board = board or CaptionBoard(idle_text=prompts.text("kiosk", "idle"))
    tts = SilentTTS()
    visitors.board, visitors.tts = board, tts
    kw.setdefault("endpoint", QUICK)
    k = Kiosk(rules, prompts, recogniser, tts, SampleClockSpeaker(), audio_in or mouth, board,
              barge_in=False, hooks=Hooks(before_listen=visitors.before_listen), sleep=lambda s: None, **kw)
    k.on_waiting = visitors.arrive
    return k, visitors


def serve(k, n):
    try:
        k.serve(consultations=n)
    except KeyboardInterrupt:
        pass


def test_the_kiosk_serves_people_one_after_another_and_forgets_each(rules, prompts):
    """idle -> consultation -> forget -> idle, three times: each outcome is
    right, and each time the kiosk waits its screen shows nobody's answers
    and the speech cache has been told to forget the last person."""
    k, visitors = kiosk(rules, prompts, [CLOT, STRAIN, CLOT], quits_after={}, idle_timeout_s=30)
    serve(k, 4)
    assert k.stats.consultations == 3 and k.stats.endings == {"completed": 3} and k.stats.errors == 0
    assert len(visitors.waits) == 4
    for n, wait in enumerate(visitors.waits):
        page = wait["page"]
        assert page["state"] == "idle" and not page["question"] and not page["heard"]
        assert not page["outcome"] and not page["said"]
        assert wait["forgotten"] == n + 1  # reset once before the first, then after each person


def test_the_kiosk_ends_an_abandoned_consultation_and_carries_on(rules, prompts):
    """The first person walks away after two answers: the idle timeout ends
    their consultation safely, and the next person is served as usual."""
    k, visitors = kiosk(rules, prompts, [CLOT, STRAIN], quits_after={"clot": 2}, idle_timeout_s=4.0,
                        endpoint=EndpointSettings(no_input_s=3.0))
    serve(k, 3)
    assert k.stats.endings == {"timed_out": 1, "completed": 1} and k.stats.errors == 0


def test_the_kiosk_waits_out_a_missing_microphone(rules, prompts):
    """The microphone is unplugged before anyone comes: the screen says so,
    it is reopened with back-off, and the next person is served."""
    statuses = []

    class Board(CaptionBoard):
        def status(self, text, detail=None):
            statuses.append(text)
            super().status(text, detail)

    mouth = SpokenInput()
    flaky = FlakyMicrophone(mouth, fail_at=5, stays_out=2)
    k, visitors = kiosk(rules, prompts, [STRAIN], audio_in=flaky, mouth=mouth, board=Board(), idle_timeout_s=30)
    serve(k, 2)
    assert k.stats.mic_failures == 1 and flaky.reopens == 3
    assert prompts.text("kiosk", "mic_lost") in statuses and statuses[-1] is None
    assert k.stats.endings == {"completed": 1}


def test_speech_over_a_question_cuts_it_short_only_when_the_dialogue_would_take_it(rules, prompts):
    """Barge-in asks the dialogue's policy (Dialogue.hearing(...).fair), not a
    confidence literal: an answer the engines disagree on never stops the
    question, however confident; the same answer agreed on does (issue 23)."""
    from voiceassist.session import BargeIn

    recogniser = ScriptedRecogniser()
    dialogue = Dialogue(rules, prompts, models={})
    listen = dialogue.start().listen
    captions = []
    c = Consultation(dialogue, recogniser, SilentTTS(), SampleClockSpeaker(), SpokenInput(), QUICK,
                     captions=captions.append)
    watcher = BargeIn(c.listening, dialogue, c.speaker, listen)
    speech = burst().tobytes()
    recogniser.then(Recognition("yes", 0.99, "scripted", agreed=False))
    assert watcher.heard_in(speech, final=True) is None
    recogniser.then(Recognition("yes", 0.99, "scripted", agreed=True))
    heard = watcher.heard_in(speech, final=True)
    assert heard is not None and heard.text == "yes" and heard.agreed is True
    assert Caption("heard", "yes", confidence=0.99, agreed=True, while_speaking=True) in captions


def test_speech_over_the_greeting_is_not_an_answer_to_the_question_after_it():
    """Babble over the greeting was heard as a sure "yes i do" and taken for
    the first question's answer, a red flag: the person, who had said
    nothing, was told to call 999 (report set, babble at 10 dB). Speech is
    listened for over a question from the sentence that asks it on."""
    import numpy as np

    from voiceassist.dialogue.events import Heard, Listen
    from voiceassist.session.speaking import Speaking
    from voiceassist.session.stats import Stats

    class OneSecondEach:
        def synthesise(self, sentence):
            return np.zeros(16000, np.int16), 16000

    class HearsYesAtOnce:
        """Anything heard at all is a sure yes (the babble of the report)."""
        def playing(self, samples, rate):
            pass

        def feed(self, block):
            return Heard("yes i do", 0.999)

    speaker = SampleClockSpeaker()
    captions = []

    def read_block():
        speaker.advance(0.03)
        return bytes(960)

    speaking = Speaking(OneSecondEach(), speaker, captions.append, Stats(), read_block, started=0.0)
    question = "Are you short of breath, or do you have chest pain?"
    listen = Listen("pe_signs", ("breathless",), "yes_no", ("yes", "no"), red_flag=True, prompt=question)
    heard = speaking.say(["Hello.", "Answer yes, no, or I don't know.", question], listen, HearsYesAtOnce())
    assert heard is not None
    assert [c.text for c in captions] == ["Hello.", "Answer yes, no, or I don't know.", question]
