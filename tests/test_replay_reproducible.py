"""A replay in noise gives the same result every run.

pyttsx3's espeak-ng output is not deterministic: the same sentence comes out
tens of milliseconds longer or shorter with what the process synthesised
before. The replay's virtual microphone reads its noise on its own clock, so
how long the assistant spoke never moves the noise under an answer.
"""

import numpy as np
import pytest

from conftest import ROOT, VIGNETTES
from voiceassist.bank import BLOCK, Bank, SpokenInput
from voiceassist.speech.playback import SampleClockSpeaker
from voiceassist.speech import audio

FIXTURES = ROOT / "tests" / "fixtures"


def _heard_after(assistant_seconds: list[float]) -> list[bytes]:
    """What the microphone delivers while the assistant says sentences of
    these lengths, and then while the patient answers."""
    bank = Bank(FIXTURES / "banks" / "espeak_us")
    speaker = SampleClockSpeaker()
    mic = SpokenInput(bank.speech_rms, audio.load_wav(FIXTURES / "noise" / "babble.wav"), 10.0, seed=7,
                      assistant=speaker)
    for _ in range(10):  # the room, before the first sentence
        mic.read()
    heard = []
    for seconds in assistant_seconds:
        speaker.play(np.zeros(int(seconds * 16000), np.int16), 16000)
        while speaker.is_playing():
            mic.read()
            speaker.advance(BLOCK / 16000)
        mic.speak(bank.clip("yes"))
        heard.append(b"".join(mic.read() for _ in range(60)))
    return heard


def test_the_noise_under_an_answer_does_not_depend_on_how_long_the_assistant_spoke():
    assert _heard_after([2.31, 4.02, 1.5]) == _heard_after([2.37, 3.95, 1.58])


def test_without_the_assistant_the_noise_runs_on():
    """heard_by_endpointer and the single-answer tests: one continuous room."""
    bank = Bank(FIXTURES / "banks" / "espeak_us")
    noise = audio.load_wav(FIXTURES / "noise" / "fan.wav")
    a, b = SpokenInput(bank.speech_rms, noise, 10.0, seed=1), SpokenInput(bank.speech_rms, noise, 10.0, seed=1)
    assert [a.read() for _ in range(50)] == [b.read() for _ in range(50)]


@pytest.mark.slow
def test_a_noise_row_gives_the_same_turns_twice(rules, prompts):
    """Four vignettes in babble at 10 dB, replayed twice with the speech
    synthesiser in different states: every answer heard the same, with the
    same confidence, after the same number of attempts."""
    from voiceassist.replay import load_cases, run_case_voice
    from voiceassist.speech.pocketsphinx_engine import PocketsphinxRecogniser
    from voiceassist.speech.tts import Synthesiser

    cases = load_cases(VIGNETTES, rules)[:4]
    bank = Bank(FIXTURES / "banks" / "piper_joe")
    noise = audio.load_wav(FIXTURES / "noise" / "babble.wav")
    runs = []
    for primer in ([], ["Something else first, so that espeak-ng is in another state."]):
        tts = Synthesiser(disk_cache=False)
        for sentence in primer:
            tts.synthesise(sentence)
        recogniser = PocketsphinxRecogniser()
        runs.append([
            (r.level, r.causes, r.stats.barge_ins, [(t["heard"], t["confidence"], t["attempts"]) for t in r.turns])
            for r in (run_case_voice(rules, prompts, c, bank, recogniser, tts, noise=noise, snr_db=10.0, seed=n)
                      for n, c in enumerate(cases))
        ])
    assert runs[0] == runs[1]
