"""pocketsphinx (the built-in engine) on real speech from espeak-ng voices.

Figures measured with this code (pocketsphinx 5.1.1, espeak-ng 1.51, 175 wpm)
are in the comments; thresholds sit a little below them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from voiceassist.speech.asr import Recognition, SpeechError
from voiceassist.speech.engines import create_recogniser
from voiceassist.speech.audio import SAMPLE_RATE, active_rms, blocks, load_wav, mix_at_snr, pink_noise
from voiceassist.speech.endpoint import Endpointer, Utterance
from voiceassist.speech import vosk_models as models

from conftest import silence  # the espeak `speak` fixture is in tests/conftest.py

OUT_OF_GRAMMAR = ["banana sandwich please", "the weather is nice", "what time is it", "my name is john"]
# Pieces of phrases: the recogniser must never answer with a piece like this.
PARTIAL = ["my", "the whole", "back of my", "all of", "i don't", "behind the"]
PROMPTS = Path(__file__).resolve().parents[2] / "voiceassist" / "prompts" / "en.yaml"




@pytest.fixture(scope="module")
def prompts() -> dict:
    with open(PROMPTS, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def rec(recogniser):
    return recogniser


@pytest.fixture(scope="module")
def grammars(prompts) -> dict[str, dict[str, str]]:
    """phrase -> answer key, for the yes/no/unknown question and the pain-location question."""
    return {
        "yes_no": {p: key for key, phrases in prompts["answers"].items() for p in phrases},
        "pain_location": {p: key for key, phrases in prompts["options"]["pain_location"].items() for p in phrases},
    }


def padded(x: np.ndarray) -> bytes:
    """300 ms of silence either side, as the endpointer's pre-roll and trailing silence give."""
    pad = np.zeros(4800, np.int16)
    return np.concatenate([pad, x, pad]).tobytes()


def score_voice(rec, speak, grammars, voice):
    """(phrases heard as the right answer, exact phrase, total, failures)."""
    right = exact = total = 0
    failures = []
    for keys in grammars.values():
        grammar = list(keys)
        for phrase in grammar:
            r = rec.recognise(padded(speak(phrase, voice)), grammar)
            assert r.text == "" or r.text in keys  # never a partial path
            total += 1
            exact += r.text == phrase
            if keys.get(r.text) == keys[phrase] and r.confidence >= 0.5:
                right += 1
            else:
                failures.append((phrase, r.text, r.confidence))
    return right, exact, total, failures


@pytest.mark.slow
def test_every_answer_and_location_phrase(rec, speak, grammars):
    """en-us+f2: all 47 phrases give the right answer with confidence >= 0.5
    (46 exactly; "yeah" comes back as "yes", the same answer)."""
    right, exact, total, failures = score_voice(rec, speak, grammars, "en-us+f2")
    assert total == 47
    assert right == total, failures
    assert exact >= 45


@pytest.mark.slow
@pytest.mark.parametrize("voice, minimum", [
    ("en-us", 45),      # measured 45/47: "knee" alone low (0.37), "whole leg" heard as "lower leg"
    ("en-us+m3", 43),   # measured 46/47: "whole leg" low
    ("en-us+f3", 39),   # measured 43/47: "whole leg" heard as "lower leg" (3 phrases); "correct" low
    ("en-gb", 36),      # measured 41/47: British vowels fit the US model worst
])
def test_other_voices(rec, speak, grammars, voice, minimum):
    right, _, total, failures = score_voice(rec, speak, grammars, voice)
    assert right >= minimum, failures


@pytest.mark.parametrize("voice", ["en-us", "en-us+f2", "en-us+m3"])
def test_no_is_not_go(rec, speak, grammars, voice):
    r = rec.recognise(padded(speak("no", voice)), list(grammars["yes_no"]))
    assert r.text == "no" and r.confidence >= 0.5, r


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-us+f2"])
def test_out_of_grammar_speech_is_rejected_or_unsure(rec, speak, grammars, voice):
    """Through the endpointer, as a microphone's audio goes.  Measured: none
    of these 4 sentences x 2 grammars reaches 0.5 for any of the 3 voices.
    (Padded with digital silence instead, en-us's "what time is it" reached
    0.65 as "not really" and 0.87 as "my thigh": that audio is not what a
    live session hears.)"""
    from voiceassist.bank import heard_by_endpointer

    sure = []
    for sentence in OUT_OF_GRAMMAR:
        utterance, background = heard_by_endpointer(speak(sentence, voice))
        assert utterance is not None, sentence
        for keys in grammars.values():
            r = rec.recognise(utterance, list(keys), background)
            assert r.text == "" or r.text in keys
            if r.text and r.confidence >= 0.5:
                sure.append((sentence, r.text, r.confidence))
            if sentence in OUT_OF_GRAMMAR[:2]:  # the two sentences of the brief: always low or ""
                assert r.text == "" or r.confidence < 0.5, (sentence, r)
    assert len(sure) <= 1, sure


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-us+f3"])
def test_partial_utterance_never_gives_a_partial_phrase(rec, speak, grammars, voice):
    for keys in grammars.values():
        for piece in PARTIAL:
            r = rec.recognise(padded(speak(piece, voice)), list(keys))
            assert r.text == "" or r.text in keys, (piece, r)
            assert all(a in keys for a in r.alternatives)


def test_endpointer_then_recogniser_in_noise(rec, speak, grammars):
    """Microphone-like stream: silence, "my calf", silence, with pink noise at 15 dB SNR."""
    speech = speak("my calf", "en-us").astype(float)
    speech *= (32768 * 10 ** (-25 / 20)) / active_rms(speech)
    stream = np.concatenate([silence(1.0), speech.astype(np.int16), silence(2.0)])
    noisy = mix_at_snr(stream, pink_noise(5 * SAMPLE_RATE, np.random.default_rng(1)) * 1000, 15, np.random.default_rng(2))
    ep = Endpointer()
    events = []
    for block in blocks(noisy, 30):
        events += ep.feed(block)
    utts = [e for e in events + ep.flush() if isinstance(e, Utterance)]
    assert len(utts) == 1
    r = rec.recognise(utts[0].audio, list(grammars["pain_location"]))
    assert r.text == "my calf" and r.confidence >= 0.5, r


@pytest.mark.slow
def test_one_word_answers_are_not_held_to_a_higher_bar(rec):
    """"yes", "nope", "calf", "thigh": the one-word answers and places of the 5
    fixture voices, through the endpointer.  Measured: 50 of 65 understood at
    the dialogue's bar (0.35), none taken as another answer; 31 when the
    phone loop kept its whole language score, which held short answers to a
    higher bar than long ones (the Caribbean voice's "yes", "yeah" and "yep"
    were all rejected; now 0.76, 0.35, 0.59)."""
    import json

    from voiceassist.bank import STEM_MEANING, Bank, heard_by_endpointer
    from voiceassist.dialogue import answers
    from voiceassist.triage.rules import load

    _, prompts_obj = load()
    vocab = {"answers": answers.vocabulary(prompts_obj, "yes_no"),
             "pain_location": answers.vocabulary(prompts_obj, "choice", "pain_location")}
    understood, misread, total = 0, [], 0
    for folder in sorted(BANK.parent.iterdir()):
        bank = Bank(folder)
        for name, phrase in json.loads((folder / "phrases.json").read_text())["files"].items():
            if phrase["kind"] not in vocab or " " in phrase["text"]:
                continue
            utterance, background = heard_by_endpointer(load_wav(folder / name), speech_rms=bank.speech_rms)
            r = rec.recognise(utterance, list(vocab[phrase["kind"]]), background)
            heard = answers.parse(r.text, vocab[phrase["kind"]]) if r.text and r.confidence >= 0.35 else None
            total += 1
            if heard is not None and heard.value == STEM_MEANING.get(phrase["id"], phrase["id"]):
                understood += 1
            elif heard is not None and heard.kind != "command":
                misread.append((folder.name, phrase["text"], r.text, r.confidence))
    assert total == 65
    assert understood >= 44, understood
    assert misread == []


def test_result_shape_silence_and_cache(rec, grammars):
    grammar = list(grammars["yes_no"])
    r = rec.recognise(b"\0" * 32000, grammar)
    assert isinstance(r, Recognition) and r.engine == "pocketsphinx"
    assert r.text == "" or r.text in grammar
    assert 0.0 <= r.confidence <= 1.0
    assert rec.recognise(b"", grammar).text == ""
    n = len(rec._searches)
    t = time.perf_counter()
    rec.recognise(b"\0" * 32000, [p.upper() for p in grammar])  # same grammar once normalised
    assert len(rec._searches) == n
    assert time.perf_counter() - t < 2.0  # no search is rebuilt (a generous bound; ~0.1 s measured)


def test_vocabulary_checks(rec):
    assert rec.missing_words(["yes", "my calf", "i don't know"]) == []
    assert rec.missing_words(["yes", "zzyzxq", "my qqwerty calf"]) == ["qqwerty", "zzyzxq"]
    with pytest.raises(SpeechError, match="zzyzxq"):
        rec.recognise(b"\0" * 3200, ["yes", "zzyzxq"])
    with pytest.raises(SpeechError):
        rec.recognise(b"\0" * 3200, [])
    with pytest.raises(SpeechError, match="letters and apostrophes"):
        rec.recognise(b"\0" * 3200, ["yes", "no!"])


@pytest.fixture
def no_models(tmp_path, monkeypatch):
    """A machine with no vosk model anywhere (and, here, no network)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VOSK_MODEL_PATH", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_auto_falls_back_to_pocketsphinx_and_says_so(no_models, monkeypatch):
    """No vosk model and no whisper extra (a core install): pocketsphinx alone, said in one line."""
    for module in ("ctranslate2", "faster_whisper", "faster_whisper.feature_extractor"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails, as when not installed
    lines = []
    r = create_recogniser("auto", log=lines.append)
    assert r.name == "pocketsphinx"
    assert len(lines) == 1 and "pocketsphinx" in lines[0] and "voiceassist models download" in lines[0]
    assert "voiceassist[whisper]" in lines[0]


def test_explicit_vosk_without_model_and_bad_engine(no_models):
    with pytest.raises(SpeechError) as err:
        create_recogniser("vosk", log=lambda m: None)
    msg = str(err.value)
    assert "voiceassist models download" in msg and "--model PATH" in msg and "\n" not in msg
    with pytest.raises(SpeechError, match="no vosk model at"):
        create_recogniser("auto", model_path=no_models, log=lambda m: None)  # a folder, but no model
    with pytest.raises(SpeechError, match="unknown speech engine"):
        create_recogniser("google", log=lambda m: None)
    assert models.find_model() is None and models.find_model(no_models) is None


def test_download_offline_says_so_in_one_line(no_models):
    t = time.perf_counter()
    with pytest.raises(SpeechError) as err:
        models.download(dest=no_models / "cache", progress=False, timeout=3.0)
    msg = str(err.value)
    assert "could not reach" in msg and "pocketsphinx" in msg and "\n" not in msg
    assert time.perf_counter() - t < 15
    assert not (no_models / "cache" / models.DEFAULT_MODEL).exists()


# ------------------------------------------------------------ noise reduction

BANK = Path(__file__).resolve().parents[1] / "fixtures" / "banks" / "espeak_us"
NOISE = Path(__file__).resolve().parents[1] / "fixtures" / "noise"


def _answers_in_noise(rec, prompts_obj, noise_name, with_background):
    """Every answer recording of the espeak_us bank, in noise at 10 dB SNR,
    through the endpointer after 3 s of the room: (right, wrong, of)."""
    from voiceassist.bank import Bank, heard_by_endpointer
    from voiceassist.dialogue import answers

    bank = Bank(BANK)
    noise = load_wav(NOISE / f"{noise_name}.wav")
    places = set(prompts_obj.option_phrases["pain_location"].values())
    right = wrong = total = 0
    for meaning, clips in bank.clips.items():
        if meaning == "out_of_grammar":
            continue
        vocab = answers.vocabulary(prompts_obj, "choice" if meaning in places else "yes_no", "pain_location")
        for i, clip in enumerate(clips):
            utterance, background = heard_by_endpointer(clip, room_s=3.0, speech_rms=bank.speech_rms,
                                                        noise=noise, snr_db=10.0, seed=7 * i + 1)
            assert utterance is not None
            r = rec.recognise(utterance, list(vocab), background if with_background else b"")
            heard = answers.parse(r.text, vocab) if r.text and r.confidence >= 0.35 else None
            total += 1
            right += heard is not None and heard.value == meaning
            wrong += heard is not None and heard.value != meaning
    return right, wrong, total


@pytest.mark.slow
@pytest.mark.parametrize("noise_name, right_at_least, wrong_at_most", [
    # 72 answers since "back" and "undo" left the commands (74 before: fan 61 right,
    # 2 wrong; babble 56 and 13, 57 and 9 when the endpointer judged single 30 ms frames)
    ("fan", 56, 4),      # measured 61/72 right, 2 wrong (without the background: 36 right, 11 wrong)
    ("babble", 52, 13),  # measured 57/72 right, 10 wrong (without: 36 right, 20 wrong)
])
def test_the_rooms_background_takes_the_noise_out(rec, noise_name, right_at_least, wrong_at_most):
    from voiceassist.triage.rules import load

    _, prompts_obj = load()
    right, wrong, total = _answers_in_noise(rec, prompts_obj, noise_name, with_background=True)
    assert total == 72
    assert right >= right_at_least and wrong <= wrong_at_most, (right, wrong)
    right_without, wrong_without, _ = _answers_in_noise(rec, prompts_obj, noise_name, with_background=False)
    assert right_without < right - 10 and wrong_without > wrong, (right_without, wrong_without)
