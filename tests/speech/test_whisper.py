"""Whisper tiny.en (the whisper extra) and the pair that must agree with
pocketsphinx: the real model on the committed recordings, through the real
endpointer."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from voiceassist.bank import Bank, heard_by_endpointer
from voiceassist.dialogue import answers as answer_text
from voiceassist.speech.asr import Recognition, SpeechError, meaning_of
from voiceassist.speech.engines import create_recogniser
from voiceassist.speech.audio import load_wav

pytest.importorskip("faster_whisper", reason="the whisper extra is not installed")

BANKS = ROOT / "tests" / "fixtures" / "banks"
NOISE = ROOT / "tests" / "fixtures" / "noise"
PLACES = ("calf", "behind_knee", "heel", "thigh", "whole_leg")


@pytest.fixture(scope="module")
def whisper():
    from voiceassist.speech.whisper_engine import WhisperRecogniser

    return WhisperRecogniser()


@pytest.fixture(scope="module")
def combined(whisper, recogniser):
    from voiceassist.speech.combined_engine import CombinedRecogniser

    return CombinedRecogniser(recogniser, whisper)


def _kind(meaning):
    return ("choice", "pain_location") if meaning in PLACES else ("yes_no", None)


def _hear(rec, prompts, bank, clip, meaning, **noise):
    """(meaning heard or None, the Recognition) for one recording through the endpointer."""
    utterance, background = heard_by_endpointer(clip, None, speech_rms=bank.speech_rms, **noise)
    if utterance is None:
        return None, Recognition("", 0.0, rec.name)
    phrases, meanings = answer_text.grammar(prompts, *_kind(meaning))
    r = rec.recognise(utterance, phrases, background, meanings=meanings)
    parsed = answer_text.parse(r.text, answer_text.vocabulary(prompts, *_kind(meaning))) if r.text else None
    return (parsed.value if parsed else None), r


def _answers(bank):
    return [(m, clip) for m in ("yes", "no", "unknown") + PLACES for clip in bank.clips[m]]


@pytest.mark.slow
def test_every_answer_of_the_neural_voice(whisper, prompts):
    """piper_joe, clean: the answer and place phrases (47), right and at or
    above the dialogue's bar (0.35). Measured 45 of 47: Whisper alone hears
    two "thigh" phrases as "go back" or unsure (the pair gets them right)."""
    bank = Bank(BANKS / "piper_joe")
    heard = [(m, *_hear(whisper, prompts, bank, clip, m)) for m, clip in _answers(bank)]
    wrong = [(m, got, r.confidence) for m, got, r in heard if got != m or r.confidence < 0.35]
    assert len(heard) == 47 and len(wrong) <= 2, wrong


def test_the_numpy_decoder_scores_as_ctranslate2_does(whisper, prompts):
    """The phrases are scored by Whisper's decoder in numpy (faster than
    CTranslate2's `align` for a grammar); CTranslate2's own forced decoding of
    the same phrases must give the same token probabilities."""
    import ctranslate2

    from voiceassist.speech import whisper_engine as w
    from voiceassist.speech.whisper_decoder import Trie

    bank = Bank(BANKS / "espeak_us")
    utterance, _ = heard_by_endpointer(bank.clip("calf", 1), None, speech_rms=bank.speech_rms)
    phrases = ("my calf", "my heel", "my whole leg", "go back")
    samples = np.frombuffer(utterance, "<i2")
    frames = max(w._MIN_FRAMES, -(-len(samples) // w._HOP) + w._PAD_FRAMES)
    x = samples.astype(np.float32) / 32768.0
    mel = whisper._features(x, padding=frames * w._HOP - len(x) + w._HOP)[:, :frames]
    encoded = whisper._model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])), to_cpu=True)
    # align scores the text's tokens (it gives the end of the text no probability): compare those.
    tokens = [whisper._tokenizer.encode(" " + p, add_special_tokens=False).ids for p in phrases]
    aligned = whisper._model.align(ctranslate2.StorageView.from_array(np.repeat(np.asarray(encoded), 4, axis=0)),
                                   whisper._start, tokens, [frames] * 4)
    memory = whisper._decoder.cross_attention_memory(np.asarray(encoded)[0])
    for phrase, toks, result in zip(phrases, tokens, aligned):
        # The last token's probability alone: score it as the phrase's "ending".
        ours = whisper._decoder.score_trie(Trie(whisper._start, [toks[:-1]]), memory, 0.0, [toks[-1]],
                                           (np.inf, 1))[0]
        theirs = float(np.log(np.asarray(result.text_token_probs)).sum())
        # int8 (CTranslate2) against float32 (numpy): within 0.25 nats a token (measured at most 0.23).
        assert ours == pytest.approx(theirs, abs=0.25 * len(toks)), phrase


def test_speech_that_is_not_an_answer_is_not_taken_at_once(whisper, prompts):
    """The bank's out-of-grammar sentences ("banana sandwich please"), with
    both grammars: never taken at once. Judged as the dialogue judges a
    hearing (policy.hear): Whisper's fitted model gives the chance its
    meaning is wrong, read against its fair bar. (Whisper's own confidence
    decided until the acceptance models: "the weather is nice today" at the
    place question is "don't know" at 0.86, which the model puts at 10%
    wrong, a read-back.)"""
    from voiceassist.dialogue.evidence import default_models

    model = default_models()["whisper"]
    taken = []
    for voice in ("piper_joe", "espeak_us", "espeak_gb_f"):
        bank = Bank(BANKS / voice)
        for clip in bank.clips["out_of_grammar"]:
            utterance, background = heard_by_endpointer(clip, None, speech_rms=bank.speech_rms)
            for kind in (("yes_no", None), ("choice", "pain_location")):
                phrases, meanings = answer_text.grammar(prompts, *kind)
                r = whisper.recognise(utterance, phrases, background, meanings=meanings)
                meaning, p_wrong = model.judge(r.evidence, None)
                if r.text and p_wrong <= model.bars.for_meaning(meaning).fair:
                    taken.append((voice, r.text, round(p_wrong, 4)))
    assert not taken


def test_silence_and_a_too_short_sound_are_nothing(whisper, combined):
    for rec in (whisper, combined):
        r = rec.recognise(b"\0" * 800, ["yes", "no"])
        assert r.text == "" and r.confidence == 0.0


def test_the_benchmarks_compute_whisper_as_asked(prompts):
    """voice.py's "whisper@float32": tiny.en computed in float32 (the product
    uses int8), hearing the neural voice's answers as the product does."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import whisper_base

    rec = whisper_base.recogniser("whisper", "float32")
    assert rec._model.compute_type == "float32"
    bank = Bank(BANKS / "piper_joe")
    for meaning in ("yes", "no", "calf"):
        assert _hear(rec, prompts, bank, bank.clips[meaning][0], meaning)[0] == meaning


def test_the_benchmarks_refuse_a_compute_type_for_an_engine_without_whisper():
    """voice.py's "pocketsphinx@float32" was built as Whisper alone and
    measured under pocketsphinx's name."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import whisper_base

    with pytest.raises(SystemExit, match="no Whisper to compute in 'pocketsphinx'"):
        whisper_base.recogniser("pocketsphinx", "float32")


def test_a_missing_model_is_one_line(tmp_path):
    from voiceassist.speech.whisper_engine import WhisperRecogniser

    with pytest.raises(SpeechError) as err:
        WhisperRecogniser(tmp_path)
    assert "no Whisper model at" in str(err.value) and "\n" not in str(err.value)


def test_auto_takes_both_engines_when_whisper_is_installed(monkeypatch, tmp_path):
    monkeypatch.setenv("VOSK_MODEL_PATH", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    said = []
    rec = create_recogniser("auto", log=said.append)
    assert rec.name == "pocketsphinx+whisper"
    assert said[0].startswith("speech recognition: pocketsphinx+whisper")


# ---------------------------------------------------------------- the pair


def _scores(phrases, posterior, best, in_grammar=1.0):
    from voiceassist.speech.whisper_engine import PhraseScores

    return PhraseScores(tuple(phrases), np.asarray(posterior, float), best, in_grammar, "")


YES_NO = ["yes", "yeah", "no", "repeat"]
MEANINGS = meaning_of(YES_NO, ["answer:yes", "answer:yes", "answer:no", "command:repeat"])


def test_agreement_on_the_meaning_is_taken():
    """pocketsphinx heard "yes", Whisper "yeah": the same answer, both sure of it."""
    from voiceassist.speech.combined_engine import combine

    r = combine(Recognition("yes", 0.6, "pocketsphinx"), _scores(YES_NO, [0.2, 0.7, 0.05, 0.05], 1), MEANINGS)
    assert r.text == "yes" and r.confidence == pytest.approx(1 - 0.4 * 0.1) and r.agreed is True


def test_a_disagreement_is_reported_not_hidden_in_the_confidence():
    """Babble heard as a confident "no" by pocketsphinx, as "yes" by Whisper:
    the more believable is offered, with its own confidence, and the pair says
    the engines disagreed. What that needs (a read-back) is the dialogue's
    decision, whatever its bars (tests/test_acceptance.py): the confidence is
    no longer capped below a bar kept in step by a comment (issue 23)."""
    from voiceassist.speech.combined_engine import combine

    r = combine(Recognition("no", 1.0, "pocketsphinx"), _scores(YES_NO, [0.9, 0.0, 0.1, 0.0], 0), MEANINGS)
    assert r.text == "no" and r.confidence == 1.0 and r.agreed is False and r.evidence["agreed"] == 0.0
    assert "yes" in r.alternatives  # the dialogue sees the contest (confirmed in noise too)


def test_pocketsphinx_rejected_candidate_counts_when_whisper_agrees():
    """A strong accent: pocketsphinx's "calf" fell below its own floor, Whisper heard it too."""
    from voiceassist.speech.combined_engine import combine

    phrases = ["calf", "heel"]
    r = combine(Recognition("", 0.05, "pocketsphinx", ["calf"]), _scores(phrases, [0.95, 0.05], 0),
                meaning_of(phrases, None))
    assert r.text == "calf" and r.confidence >= 0.9


def test_speech_outside_the_grammar_lowers_even_an_agreement():
    from voiceassist.speech.combined_engine import combine

    r = combine(Recognition("yes", 0.9, "pocketsphinx"), _scores(YES_NO, [1.0, 0, 0, 0], 0, in_grammar=0.05),
                MEANINGS)
    assert r.text == "" or r.confidence < 0.35


def test_disagreement_on_speech_whisper_doubts_is_not_read_back():
    """pocketsphinx forced "thank you" onto "no"; Whisper's best phrase is
    "yes", but its free transcription explains the audio far better than
    any phrase: not understood, not "I heard no. Is that right?". The
    phrases stay first in `alternatives`, and the evidence whole, for the
    dialogue's safety rules."""
    from voiceassist.speech.combined_engine import DOUBTED_IN_GRAMMAR, combine

    doubted = _scores(YES_NO, [0.9, 0.0, 0.1, 0.0], 0, in_grammar=DOUBTED_IN_GRAMMAR - 0.01)
    r = combine(Recognition("no", 1.0, "pocketsphinx"), doubted, MEANINGS)
    assert r.text == "" and r.alternatives[:2] == ["no", "yes"] and r.agreed is False
    assert r.evidence["pocketsphinx_meaning"] == "answer:no" and r.evidence["whisper_meaning"] == "answer:yes"


def test_the_pair_hands_on_each_engines_evidence():
    """Recognition.evidence: what each engine heard and how sure it was, for a
    caller that weighs the answer itself (the dialogue's acceptance)."""
    from voiceassist.speech.asr import EVIDENCE
    from voiceassist.speech.combined_engine import combine

    ps = Recognition("no", 0.8, "pocketsphinx", evidence={"pocketsphinx_confidence": 0.8, "pocketsphinx_score": -11.0})
    r = combine(ps, _scores(YES_NO, [0.6, 0.3, 0.09, 0.01], 0, in_grammar=0.95), MEANINGS)
    e = r.evidence
    assert set(e) <= set(EVIDENCE)
    assert e["agreed"] == 0.0
    assert (e["pocketsphinx_meaning"], e["whisper_meaning"], e["whisper_second_meaning"]) == \
        ("answer:no", "answer:yes", "answer:no")
    assert e["pocketsphinx_confidence"] == 0.8 and e["pocketsphinx_score"] == -11.0
    assert e["whisper_posterior"] == pytest.approx(0.9) and e["whisper_in_grammar"] == pytest.approx(0.95)
    assert e["whisper_margin"] == pytest.approx(np.log(0.9 / 0.09), abs=1e-3)  # by meaning, not by phrase
    agreed = combine(Recognition("yeah", 0.7, "pocketsphinx"), _scores(YES_NO, [1.0, 0, 0, 0], 0), MEANINGS)
    assert agreed.evidence["agreed"] == 1.0 and agreed.evidence["whisper_margin"] == 30.0


def test_each_engine_gives_its_evidence_on_real_speech(whisper, recogniser, prompts):
    from voiceassist.speech.asr import EVIDENCE

    bank = Bank(BANKS / "espeak_us")
    utterance, background = heard_by_endpointer(bank.clip("no"), None)
    phrases, meanings = answer_text.grammar(prompts, "yes_no")
    for engine, keys in ((recogniser, {"pocketsphinx_confidence", "pocketsphinx_score", "pocketsphinx_meaning"}),
                         (whisper, {"whisper_posterior", "whisper_margin", "whisper_in_grammar", "whisper_meaning"})):
        r = engine.recognise(utterance, phrases, background, meanings=meanings)
        assert keys <= set(r.evidence) <= set(EVIDENCE), engine.name
        assert r.evidence[next(k for k in keys if k.endswith("meaning"))] == "answer:no"


@pytest.mark.slow
def test_sentences_that_are_not_answers_are_seldom_read_back(combined, prompts):
    """Every voice's two sentences that are not answers ("banana sandwich
    please", "the weather is nice today"), with the yes/no and the place
    grammar: 20 tries. Measured: 6 reach the dialogue's 0.35 (a read-back or
    worse); 12 did before a doubted disagreement was rejected."""
    read_back = []
    for voice in ("piper_joe", "espeak_us", "espeak_gb_f", "espeak_us_m", "espeak_029"):
        bank = Bank(BANKS / voice)
        for clip in bank.clips["out_of_grammar"]:
            for meaning in ("yes", "calf"):  # the yes/no grammar, the place grammar
                got, r = _hear(combined, prompts, bank, clip, meaning)
                if got is not None and r.confidence >= 0.35:
                    read_back.append((voice, got, r.confidence))
    assert len(read_back) <= 7, read_back


@pytest.mark.slow
def test_accented_voices_in_babble_answers_the_pair_takes_at_once_are_right(combined, prompts):
    """The two accented voices' answers in babble at 10 dB: what the pair
    takes at once (both engines agreeing, 0.70 and above) is right. pocketsphinx alone took 12% of
    them wrongly (measured: benchmarks/README.md)."""
    babble = load_wav(NOISE / "babble.wav")
    wrong_at_once = total = 0
    for voice in ("espeak_gb_f", "espeak_029"):
        bank = Bank(BANKS / voice)
        for n, (m, clip) in enumerate(_answers(bank)):
            got, r = _hear(combined, prompts, bank, clip, m, noise=babble, snr_db=10.0, seed=n)
            total += 1
            # A disagreement is never taken at once (dialogue/policy.py), whatever its confidence.
            wrong_at_once += got != m and r.agreed is not False and r.confidence >= 0.70
    assert wrong_at_once <= 0.03 * total, (wrong_at_once, total)


# ---------------------------------------------------------------- as a user runs it


@pytest.mark.slow
def test_a_consultation_in_babble_with_the_pair_from_the_command_line(tmp_path):
    """`voiceassist replay --engine pocketsphinx+whisper`: the Caribbean voice,
    people talking at 10 dB, a clot with breathlessness (an ambulance)."""
    from conftest import VIGNETTES, run_cli

    import yaml

    case = next(c for c in yaml.safe_load(VIGNETTES.read_text()) if c["id"] == "dvt_with_pe_signs")
    cases = tmp_path / "one.yaml"
    cases.write_text(yaml.safe_dump([case]))
    out = run_cli("replay", cases, "--bank", BANKS / "espeak_029", "--engine", "pocketsphinx+whisper",
                  "--noise", NOISE / "babble.wav", "--snr", "10", "--json")
    assert out.returncode == 0, out.stderr
    assert "speech recognition: pocketsphinx+whisper" in out.stderr and "Traceback" not in out.stderr
    import json

    result = json.loads(out.stdout.splitlines()[0])
    assert result["outcome"]["level"] == "ambulance" and result["outcome"]["emergency"]


@pytest.mark.parametrize("engine", ["whisper", "pocketsphinx+whisper"])
def test_no_microphone_is_one_line_with_either_engine(engine):
    from conftest import run_cli

    out = run_cli("run", "--engine", engine)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "voiceassist text" in out.stderr.strip().splitlines()[-1]


def test_the_packaged_model_is_the_measured_one(tmp_path, monkeypatch):
    """The model package is pinned by hash at install; its files are checked
    again at load, so a damaged or replaced model is one line, not a quietly
    different recogniser."""
    from voiceassist.speech import whisper_engine

    real = whisper_engine.default_model_path()
    whisper_engine.check_packaged_model(real)  # what is installed is what was measured
    other = tmp_path / "model"
    other.mkdir()
    for name in ("tokenizer.json", "config.json", "vocabulary.txt"):
        (other / name).symlink_to(real / name)
    data = bytearray((real / "model.bin").read_bytes())
    data[-1] ^= 1  # one bit changed
    (other / "model.bin").write_bytes(bytes(data))
    monkeypatch.setattr(whisper_engine, "default_model_path", lambda: other)
    with pytest.raises(SpeechError) as err:
        whisper_engine.WhisperRecogniser()
    message = str(err.value)
    assert message.startswith(f"the Whisper model {other / 'model.bin'} is not the one voiceassist was measured with")
    assert "\n" not in message
