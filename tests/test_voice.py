"""Spoken consultations through the real recogniser (pocketsphinx, its
built-in US-English model), the real endpointer and the real speech output.
Only the person and the microphone are replaced: by recordings from the
committed fixture banks, delivered block by block."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceassist.bank import Bank, SampleClockSpeaker, SpokenInput
from voiceassist.dialogue.manager import Dialogue
from voiceassist.replay import Case, load_cases, run_case_voice
from voiceassist.session import Consultation, Hooks
from voiceassist.speech import audio
from voiceassist.speech.playback import WavRecorderPlayer

from conftest import ROOT, VIGNETTES, run_cli

FIXTURES = ROOT / "tests" / "fixtures"
BANKS = FIXTURES / "banks"
NOISE = FIXTURES / "noise"


@pytest.fixture(scope="module")
def cases(rules):
    return load_cases(VIGNETTES, rules)


def replay(rules, prompts, case, bank, recogniser, tts, **kw):
    result = run_case_voice(rules, prompts, case, bank, recogniser, tts, **kw)
    assert result.error is None
    return result


# ---------------------------------------------------------------- every vignette


@pytest.mark.slow
@pytest.mark.parametrize("bank_name", ["piper_joe", "espeak_us"])
@pytest.mark.parametrize("noise_name", [None, "fan"])
def test_every_vignette_spoken(bank_name, noise_name, rules, prompts, cases, recogniser, tts):
    """Every public vignette reaches its expected outcome: clean, and with fan
    noise (a committed recording) in the microphone at 10 dB SNR. Measured
    20/20 for both voices in fan noise at 20, 10 and 6 dB (benchmarks/README.md)."""
    bank = Bank(BANKS / bank_name)
    noise = audio.load_wav(NOISE / f"{noise_name}.wav") if noise_name else None
    results = [replay(rules, prompts, c, bank, recogniser, tts, noise=noise, snr_db=10.0 if noise_name else None, seed=n)
               for n, c in enumerate(cases)]
    failed = [(r.case.id, r.level, r.causes) for r in results if not r.passed]
    assert not failed
    assert not [r for r in results if r.safety_failure(rules.levels)]
    assert not [f for r in results for f in _red_flag_flips(rules, r)]


@pytest.mark.slow
@pytest.mark.parametrize("bank_name", ["espeak_gb_f", "espeak_029"])
def test_accented_voices_reach_every_outcome(bank_name, rules, prompts, cases, recogniser, tts):
    """British and Caribbean voices, which pocketsphinx's US model fits worst.
    The British voice's "whole leg" is never understood with confidence: three
    misses on the place used to end 6 of 20 consultations early (measured); now
    two unclear answers that sound alike are checked with the person, and a
    question still not understood is taken as "I don't know" (said in the
    outcome) while the consultation goes on.  The Caribbean voice's one-word
    answers were all rejected while the phone loop kept its whole language
    score: 14 of 20 passed, 37 questions skipped (measured); now 20 of 20.

    The British voice with pocketsphinx alone (the engine without Whisper)
    reaches 16 of 20 since "back" and "undo" left the commands: a smaller
    grammar lifts pocketsphinx's confidences a little (0.32 -> 0.35 for its
    "that's right" heard as "not really", now at the floor instead of under
    it), and 4 consultations end more urgent than expected, none less."""
    bank = Bank(BANKS / bank_name)
    results = [replay(rules, prompts, c, bank, recogniser, tts, seed=n) for n, c in enumerate(cases)]
    assert not [r for r in results if r.safety_failure(rules.levels)]
    missed = {"espeak_gb_f": 4, "espeak_029": 0}[bank_name]
    assert len([r.case.id for r in results if not r.passed]) <= missed
    assert [r.case.id for r in results if r.ending != "completed"] == []
    skipped = [r for r in results if any(t["answer"] == "unknown" and t["heard"] == "" for t in r.turns)]
    assert all(prompts.say("unclear") in r.spoken for r in skipped)


def _red_flag_flips(rules, result):
    red = {q.id for q in rules.questions if q.red_flag}
    return [t for t in result.turns
            if t["question"] in red and {t["meant"], t["answer"]} == {"yes", "no"} and t["attempts"] == 1]


@pytest.mark.slow
@pytest.mark.parametrize("bank_name, at_least", [("piper_joe", 0), ("espeak_us", 0)])
def test_in_babble_at_10_db_it_stays_safe(bank_name, at_least, rules, prompts, cases, recogniser, tts):
    """Other people talking (a committed recording) at 10 dB SNR: the hardest
    noise for a recogniser, since it is speech too. Whatever is misheard, no
    red-flag answer flips polarity on one hearing (a barge-in by the babble
    included), and consultations end at the expected level or a more urgent
    one, or in the safe ending that tells the person what to do.
    `at_least`: exact outcomes. pocketsphinx alone in babble sends most people
    to emergency care since an emergency sign it cannot hear twice alike
    counts as yes (issue 20); the floor is raised again as the acceptance is
    calibrated on measured evidence (issue 24)."""
    bank = Bank(BANKS / bank_name)
    noise = audio.load_wav(NOISE / "babble.wav")
    results = [replay(rules, prompts, c, bank, recogniser, tts, noise=noise, snr_db=10.0, seed=n)
               for n, c in enumerate(cases)]
    less_urgent = []
    for r in results:
        assert not _red_flag_flips(rules, r), (r.case.id, _red_flag_flips(rules, r))
        if r.ending == "completed":
            if r.safety_failure(rules.levels):
                less_urgent.append((r.case.id, r.case.expect["level"], r.level))
        else:
            assert r.ending in ("gave_up", "stopped")
            assert prompts.say("safety_net") in r.spoken or prompts.text("levels", r.level) in r.spoken
    assert len(less_urgent) <= 1, less_urgent
    assert not [c for c in less_urgent if c[1] in ("emergency", "ambulance")]  # never a missed emergency
    assert sum(bool(r.passed) for r in results) >= at_least


# ---------------------------------------------------------------- audio paths


def test_wav_in_another_rate_and_channel_count(tmp_path, rules, prompts, recogniser, tts):
    """A bank recorded at 44.1 kHz stereo works: the project converts."""
    import soxr

    for path in (BANKS / "piper_joe").glob("*.wav"):
        mono = audio.load_wav(path).astype(np.float32) / 32768
        stereo = np.stack([mono, mono * 0.8], axis=1)
        audio_44k = soxr.resample(stereo, 16000, 44100)
        out = tmp_path / path.name
        import wave

        with wave.open(str(out), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(44100)
            w.writeframes((np.clip(audio_44k, -1, 1) * 32767).astype("<i2").tobytes())
    case = Case("dvt", {"leg_swelling": "yes", "long_journey": "yes", "pain_location": "calf"},
                {"level": "emergency", "causes": ["dvt"]})
    result = replay(rules, prompts, case, Bank(tmp_path), recogniser, tts)
    assert result.passed


@pytest.mark.slow
def test_a_case_sounds_the_same_whatever_was_replayed_before_it(rules, prompts, cases, recogniser, tts):
    """Each simulated person starts at the first recording of every phrase. The
    bank used to keep one rotation for everybody, so a case's answers (and, in
    noise, its outcome) changed with the cases replayed before it."""
    bank = Bank(BANKS / "piper_joe")
    first, second = cases[0], cases[1]
    alone = replay(rules, prompts, second, Bank(BANKS / "piper_joe"), recogniser, tts)
    replay(rules, prompts, first, bank, recogniser, tts)
    after = replay(rules, prompts, second, bank, recogniser, tts)
    assert after.transcript == alone.transcript


def test_a_wav_in_the_wrong_format_is_one_line(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "yes.wav").write_text("this is not audio")
    (bank / "no.wav").write_bytes((BANKS / "piper_joe" / "no.wav").read_bytes())
    out = run_cli("replay", VIGNETTES, "--bank", bank, "--engine", "pocketsphinx")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "yes.wav" in lines[0]


def test_silence_only_reaches_the_safe_ending(rules, prompts, recogniser, tts):
    case = Case("silent", {})
    result = replay(rules, prompts, case, Bank(BANKS / "piper_joe"), recogniser, tts, silent=True)
    assert result.ending == "gave_up"
    assert result.spoken.count(prompts.text("questions", "pe_signs", "ask")) == 3
    assert prompts.say("no_input")[0] in result.spoken
    assert prompts.say("safety_net") in result.spoken
    assert result.spoken[-1] == prompts.say("goodbye")


def test_noise_only_ends_safely(rules, prompts, recogniser, tts):
    """Loud babble and nobody answering: the consultation ends safely, in bounded
    time, never taking the noise for an answer."""
    case = Case("noise", {})
    noise = audio.load_wav(NOISE / "babble.wav")
    result = replay(rules, prompts, case, Bank(BANKS / "piper_joe"), recogniser, tts, silent=True,
                    noise=noise, snr_db=0.0)
    assert result.ending == "gave_up"
    assert result.turns == []  # no answer was taken from the noise
    assert prompts.say("safety_net") in result.spoken


@pytest.mark.parametrize("bank_name", ["piper_joe", "espeak_us"])
def test_speech_outside_the_grammar_is_not_an_answer(bank_name, rules, prompts, recogniser):
    """"banana sandwich please" to a yes/no question is a no-match, never yes or no."""
    from voiceassist.dialogue.manager import Heard

    bank = Bank(BANKS / bank_name)
    for clip in bank.clips["out_of_grammar"]:
        padded = np.concatenate([np.zeros(4800, np.int16), clip, np.zeros(16000, np.int16)])
        dialogue = Dialogue(rules, prompts)
        turn = dialogue.start()
        result = recogniser.recognise(padded.tobytes(), turn.listen.grammar)
        turn = dialogue.handle(Heard(result.text, result.confidence))
        assert dialogue.answers == {}, (result.text, result.confidence)
        assert turn.listen.question == "pe_signs"


# ---------------------------------------------------------------- barge-in


class EchoRoom:
    """A room where the microphone also hears the loudspeaker, as on a kiosk
    without hardware echo cancellation: `delay_s` of device latency, then the
    direct sound at `echo` gain and a decaying reverberant tail (seeded)."""

    def __init__(self, mouth: SpokenInput, echo: float, delay_s: float = 0.08, reverb_s: float = 0.15, seed: int = 3):
        self.mouth, self.echo = mouth, echo
        self.speaker = SampleClockSpeaker()
        self.playing = np.zeros(0, np.float32)
        self.pos = 0
        rng = np.random.default_rng(seed)
        tail = int(reverb_s * 16000)
        self.room = np.concatenate([
            np.zeros(int(delay_s * 16000)), [1.0],
            rng.normal(0, 0.02, tail) * np.exp(-np.arange(tail) / (tail / 5)),
        ]).astype(np.float32)

    # speaker side
    gain = property(lambda self: self.speaker.gain)

    def set_gain(self, g):
        return self.speaker.set_gain(g)

    def play(self, samples, rate):
        dry = audio.to_mono16k(np.asarray(samples), rate).astype(np.float32)
        self.playing = np.convolve(dry, self.room)[: len(dry) + len(self.room)]
        self.pos = 0
        self.speaker.play(samples, rate)

    def stop(self):
        self.playing = np.zeros(0, np.float32)
        self.speaker.stop()

    def is_playing(self):
        return self.speaker.is_playing()

    def advance(self, seconds):
        return self.speaker.advance(seconds)

    # microphone side
    def read(self, timeout=None):
        block = np.frombuffer(self.mouth.read(timeout), np.int16).astype(np.float32)
        echo = self.playing[self.pos:self.pos + len(block)]
        self.pos += len(block)
        block[: len(echo)] += echo * self.echo
        return np.clip(block, -32768, 32767).astype("<i2").tobytes()


def test_barge_in_stops_playback_and_takes_the_answer(tmp_path, rules, prompts, recogniser, tts):
    """The person answers while the assistant is still speaking: playback stops
    at once and the answer counts."""
    case = Case("impatient", {"leg_swelling": "yes", "pain_location": "calf"},
                {"level": "emergency", "causes": ["dvt"]})
    speaker = WavRecorderPlayer(tmp_path / "said.wav")
    asking = set()  # the sentences that ask (a question, "Where is the pain worst? Say calf, ...")
    result = replay(rules, prompts, case, Bank(BANKS / "piper_joe"), recogniser, tts, barge_in=True,
                    speaker=speaker, captions=lambda c: c.asks and asking.add(f"assistant: {c.text}"))
    speaker.close()
    # The answers count: the emergency instruction is spoken and nothing is
    # lowered. (The level itself may come out higher: the bank's "i haven't",
    # cut into by the assistant's voice, is heard as a sure "i have", and a
    # sure yes to a red flag is acted on.)
    assert result.emergency and not result.safety_failure(rules.levels), result.transcript
    assert result.stats.barge_ins >= 3
    # Each answer is said as its question starts: not over the greeting or
    # "I want to be sure I heard you." before it, where nothing is listened for.
    # (One not taken over the question is said again after it: two lines.)
    after = [result.transcript[n - 1] for n, line in enumerate(result.transcript) if line.startswith("patient:")]
    assert all(line in asking for line in after if line.startswith("assistant:")), "\n".join(result.transcript)
    # The replay's transcript is made of the session's own captions: what was
    # heard, with its confidence, and that it came over a question.
    assert sum("while I was speaking" in line for line in result.transcript) == result.stats.barge_ins
    from voiceassist.session import SENTENCE_PAUSE_S

    full = sum(len(tts.synthesise(s)[0]) / tts.synthesise(s)[1] + SENTENCE_PAUSE_S for s in result.spoken)
    assert speaker.written_seconds < full - 3  # whole questions were cut short


def test_the_assistant_does_not_interrupt_itself(rules, prompts, recogniser, tts):
    """The microphone hears the assistant's own voice, loud: that is never
    taken for a barge-in, and the consultation goes on as normal."""
    bank = Bank(BANKS / "piper_joe")
    case = Case("echo", {"leg_swelling": "yes", "pain_location": "calf"}, {"level": "emergency", "causes": ["dvt"]})
    room = EchoRoom(SpokenInput(bank.speech_rms), echo=0.5)
    from voiceassist.replay import BankPatient, Recorder

    recorder = Recorder(rules, case)
    patient = BankPatient(bank, room.mouth, case, recorder)
    dialogue = Dialogue(rules, prompts)
    c = Consultation(dialogue, recogniser, tts, room, room, captions=recorder.caption,
                     hooks=Hooks(before_listen=patient.before_listen, before_speak=recorder.turn))
    final = c.run()
    result = recorder.finish(dialogue)
    assert c.stats.barge_ins == 0
    assert result.passed, result.transcript


def test_a_slow_recogniser_is_asked_about_barge_ins_only_past_its_quick_screen(rules, prompts, recogniser):
    """Speech over a question is tried every 0.3 s, and babble is speech. A
    recogniser with a quick screen (pocketsphinx, for the pair with Whisper)
    is asked in full only when the screen heard an answer, then not again
    before another second of speech, except at the end of it, and is given
    what the screen heard. Without this, whole consultations in babble took
    5 times as long with the pair."""
    from voiceassist.bank import heard_by_endpointer
    from voiceassist.session import BARGE_IN_RECHECK_S, BargeIn
    from voiceassist.speech.asr import Recognition

    class SlowThatSaysNo:
        """Stands in for the slow part only: what is counted is when it is asked."""
        name, model_dir, screen = "slow", "", recogniser

        def __init__(self):
            self.asked_at, self.screened = [], []

        def recognise(self, audio, grammar, background=b"", meanings=None, screened=None):
            self.asked_at.append(round(len(audio) / 32000, 2))
            self.screened.append(screened)
            return Recognition("", 0.0, self.name)

    bank = Bank(BANKS / "piper_joe")
    yes, _ = heard_by_endpointer(bank.clip("yes"), None, speech_rms=bank.speech_rms)
    slow = SlowThatSaysNo()
    dialogue = Dialogue(rules, prompts)
    listen = dialogue.start().listen
    speaker = SampleClockSpeaker()
    c = Consultation(dialogue, slow, None, speaker, SpokenInput(bank.speech_rms), captions=lambda *a: None)
    barge_in = BargeIn(c.listening, dialogue, speaker, listen)
    audio = yes + bytes(32000 * 3)  # "yes", then 3 s more of the same utterance
    step = 9600  # 0.3 s
    for end in range(len(yes), len(audio), step):
        assert barge_in.heard_in(audio[:end]) is None
    assert barge_in.heard_in(audio, final=True) is None
    first = round(len(yes) / 32000, 2)
    assert slow.asked_at[0] == first  # the screen heard "yes": asked at once
    gaps = np.diff(slow.asked_at[:-1])
    assert len(slow.asked_at) >= 3 and all(g >= BARGE_IN_RECHECK_S - 0.01 for g in gaps), slow.asked_at
    assert slow.asked_at[-1] == round(len(audio) / 32000, 2)  # and at the end of the speech
    # What the screen heard is handed over, not decoded a second time.
    assert all(s is not None and s.text == "yes" for s in slow.screened), slow.screened

    not_an_answer = BargeIn(c.listening, dialogue, speaker, listen)
    slow.asked_at.clear()
    assert not_an_answer.heard_in(bytes(32000), final=True) is None  # a second of silence: the screen hears nothing
    assert slow.asked_at == []


# ---------------------------------------------------------------- devices


def test_no_microphone_is_one_line_and_offers_the_keyboard():
    """These machines have no sound card: `voiceassist run` says so and how to
    use the keyboard, without a traceback."""
    out = run_cli("run", "--engine", "pocketsphinx")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr
    assert "voiceassist text" in lines[-1] and "microphone" in lines[-1].lower()


@pytest.mark.slow
def test_replay_bank_json(tmp_path):
    out = run_cli("replay", VIGNETTES, "--bank", BANKS / "piper_joe", "--engine", "pocketsphinx", "--json",
                  "--speak-to", tmp_path)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[-1]["summary"]["passed"] == 20
    turn = lines[0]["turns"][0]
    assert turn["heard"] in ("no", "nope", "not really", "no it isn't", "no i don't", "i haven't", "no i haven't")
    assert 0 < turn["confidence"] <= 1
    wav = tmp_path / "dvt_long_flight.wav"
    assert wav.exists() and audio.load_wav(wav).size > 16000 * 10
