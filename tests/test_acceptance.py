"""Read back by evidence (issue 24): the chance a heard answer is wrong, from
what the engines measured, decides whether it is taken, read back or asked
again. The models are fitted on the tuning set's rows and checked here on the
report set's (benchmarks/calibration/, benchmarks/acceptance.py)."""

import csv
import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceassist.dialogue import answers as answer_text
from voiceassist.dialogue.evidence import default_models, load
from voiceassist.dialogue.manager import Dialogue, Heard
from voiceassist.dialogue.policy import CHANGING, DialogueSettings, hear

from conftest import ROOT

PAIR = "pocketsphinx+whisper"
ROWS = ROOT / "benchmarks" / "calibration"


def rows(name):
    with (ROWS / f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def judged(model, row):
    """(meaning, chance wrong) of a committed calibration row, as the dialogue judges it."""
    return model.judge(row, float(row["measured_snr"]) if row["measured_snr"] else None)


def evidence(ps_meaning, ps_conf, w_meaning, w_post, w_margin, w_in=1.0, score=-5.0):
    return {"pocketsphinx_meaning": ps_meaning, "pocketsphinx_confidence": ps_conf, "pocketsphinx_score": score,
            "whisper_meaning": w_meaning, "whisper_posterior": w_post, "whisper_margin": w_margin,
            "whisper_in_grammar": w_in, "agreed": float(ps_meaning == w_meaning)}


@pytest.fixture(scope="module")
def yes_no(prompts):
    return answer_text.vocabulary(prompts, "yes_no")


def test_the_packaged_models_load_with_ordered_bars():
    models = load()
    assert {PAIR, "whisper"} <= set(models) and "pocketsphinx" not in models  # see acceptance.py NOT_ADOPTED
    for model in models.values():
        assert 0 <= model.bars.firm <= model.bars.fair <= model.bars.weak < 1
        assert model.bars.firm <= model.bars.vote <= model.bars.weak


def test_the_models_are_the_fit_of_the_committed_rows(tmp_path):
    """benchmarks/acceptance.py on the committed tuning rows writes the committed models."""
    import subprocess
    import sys

    import yaml

    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "acceptance.py")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    committed = yaml.safe_load((ROOT / "voiceassist" / "dialogue" / "acceptance.yaml").read_text())
    assert "bars (chance wrong): " + str(committed["engines"][PAIR]["bars"]) in out.stdout


def test_on_the_report_set_no_firm_hearing_flips_a_yes_or_no():
    """A red flag's answer is taken on one hearing only when firm: on voices and
    noise the fit never saw (and fan at 20 and 10 dB, babble at 20 dB, levels it
    never saw either), no firm yes was a no, nor a no a yes."""
    models = default_models()
    assert {"fan 10 dB", "fan 20 dB", "babble 20 dB"} <= {r["condition"] for r in rows("report")}
    for engine, model in models.items():
        for r in rows("report"):
            if r["meant"] not in ("yes", "no") or not (r["pocketsphinx_meaning"] or r["whisper_meaning"]):
                continue
            meaning, p_wrong = judged(model, r)
            if p_wrong <= model.bars.for_meaning(meaning).firm and meaning in ("answer:yes", "answer:no"):
                assert meaning == f"answer:{r['meant']}", (engine, r["voice"], r["condition"], r["file"])


def test_a_sure_answer_is_taken_when_the_other_engine_is_lost(yes_no):
    """pocketsphinx heard a command at near-zero confidence; Whisper is sure of
    "no". Capped at 0.69 as a disagreement, it used to be read back."""
    heard = Heard("go back", 0.69, 30.0, engine=PAIR, agreed=False,
                  evidence=evidence("command:go_back", 0.0005, "answer:no", 0.9999, 12.0))
    h = hear(heard, yes_no, DialogueSettings(), default_models())
    assert (h.kind, h.value) == ("answer", "no") and h.fair


def test_split_evidence_on_a_red_flag_is_not_taken(rules, prompts):
    """The engines disagree, neither sure: the clot question is asked again, not answered."""
    d = Dialogue(rules, prompts)
    turn = d.start()
    while turn.listen.question != "clot_signs":
        turn = d.handle(Heard("my calf" if turn.listen.kind == "choice" else "no"))
    split = Heard("no", 0.69, 9.0, engine=PAIR, agreed=False,
                  evidence=evidence("answer:no", 0.99, "answer:yes", 0.8, 1.2))
    turn = d.handle(split)
    assert "leg_swelling" not in d.answers and turn.listen.question == "clot_signs"


def test_agreement_in_babble_is_weighed_less_than_in_a_quiet_room(yes_no):
    """The same agreement is put at a higher chance of being wrong in babble,
    and a good one (pocketsphinx 0.99, Whisper 0.95) is firm in a quiet room
    only. A very strong one (0.999 and 0.99) is firm in babble too since the
    fit of the rows without "back" and "undo": every such agreement in babble
    was right (tuning 54 of 54, report 56 of 56)."""
    pair = default_models()[PAIR]
    for ps, w, margin in ((0.999, 0.99, 5.0), (0.99, 0.95, 3.0)):
        both = evidence("answer:no", ps, "answer:no", w, margin)
        _, quiet = pair.judge(both, 60.0)
        _, babble = pair.judge(both, 7.0)
        assert quiet < babble
    assert quiet <= pair.bars.firm < babble


@pytest.mark.parametrize("settings", [DialogueSettings(confirm_below=0.6), DialogueSettings(confirm_below=0.8)])
@pytest.mark.parametrize("snr", [None, 40.0, 10.0])
def test_a_disagreement_is_never_taken_on_the_confidence_bars_alone(rules, prompts, settings, snr):
    """Issue 23: the pair's agreement used to reach the dialogue only as a
    capped confidence kept in step with confirm_below by a comment; with
    confirm_below at 0.6 a disagreement was taken. Whatever the bars, an answer
    the engines disagree on (no model for the engine here) is read back."""
    d = Dialogue(rules, prompts, settings, models={})
    turn = d.start()
    while turn.listen.question != "pain_location":
        turn = d.handle(Heard("no"))
    turn = d.handle(Heard("my calf", 0.69, snr, agreed=False))
    assert turn.listen.kind == "confirm" and "pain_location" not in d.answers


def _hearing(value, p):
    from voiceassist.dialogue.evidence import Bars
    from voiceassist.dialogue.policy import Hearing

    return Hearing(value, "answer", p, Bars(firm=0.0064, fair=0.077, weak=0.5))


@pytest.mark.parametrize("first, second, counts", [
    (0.03, 0.16, True),  # both wrong: 0.5%, within the firm bar
    (0.03, 0.25, False),  # 0.75%: not
    (0.07, 0.07, True),
    (0.09, 0.05, True),  # the first too faint to be a vote: the second counts alone
])
def test_a_second_hearing_that_agrees_is_a_vote_when_both_wrong_is_unlikely(first, second, counts):
    """A red flag's "no" heard twice in babble, at 3% and then 16% wrong: the
    chance both are wrong is within the firm bar, so it is a no, not a fifth
    prompt and an ambulance for a person who said no every time (measured on
    the report set's babble). The product is read only against a pending vote."""
    from voiceassist.dialogue.policy import Vote, vote

    pending = _hearing("no", first)
    now = _hearing("no", second)
    got = vote(now, pending if vote(pending) is Vote.NO else None)
    if first > 0.08:  # not a vote itself: nothing pending, the second stands alone
        assert got is Vote.NO
        return
    assert (got is Vote.NO) == counts
    # A hearing that disagrees is never made a vote by the pending one.
    assert vote(_hearing("yes", second), pending) is (Vote.YES if second <= 0.08 else Vote.UNHEARD)


# us_f2 (report set) saying "no I haven't" in a quiet room, heard as "i haven't":
# both engines agree on "no", Whisper's second meaning is "yes" at 2.7 nats.
I_HAVENT = {"pocketsphinx_meaning": "answer:no", "pocketsphinx_confidence": 1.0, "pocketsphinx_score": 3.589,
            "whisper_meaning": "answer:no", "whisper_posterior": 0.893, "whisper_margin": 2.688,
            "whisper_in_grammar": 0.9663, "whisper_second_meaning": "answer:yes", "agreed": 1.0}


def test_each_answer_has_its_own_firm_bar():
    """Noise turns a no into a yes ("I haven't" heard as "I have"), not back:
    on the tuning set no hearing of "no" was wrong where hearings of "yes"
    already were, so "no" is firm up to a higher chance than "yes"."""
    bars = default_models()[PAIR].bars
    no, yes = bars.for_meaning("answer:no"), bars.for_meaning("answer:yes")
    assert yes.firm < no.firm <= 0.02 and no.vote > yes.vote
    assert bars.for_meaning("option:calf") == bars and no.fair == bars.fair


def _fixed_chance(p_wrong, bars=None):
    """The pair's model, as if every hearing the engines agreed on were wrong
    with chance `p_wrong`; its bars as fitted: "no" firm up to 2%, "yes" 0.6%."""
    from voiceassist.dialogue.evidence import Bars, EngineModel, Logistic

    z = math.log((1 - p_wrong) / p_wrong)
    bars = bars or Bars(firm=0.006, fair=0.077, weak=0.5, firm_by_meaning={"answer:no": 0.02})
    return {PAIR: EngineModel(PAIR, {"whisper": Logistic(z, {})}, bars, agreed=Logistic(z, {}))}


def test_a_red_flag_no_heard_alike_again_and_again_counts_a_mishearing_that_repeats(rules, prompts):
    """A red flag's "no" heard at 13% wrong every time, with the committed
    bars: as independent chances two such hearings are both wrong 1.7% of
    the time, within the firm bar for "no" (1.9%), and the red flag was
    settled as no. One voice mishears one phrasing the same way again (on
    the tuning set 13 pairs of hearings of one recording were both wrong
    where independent chances predicted 7.2; acceptance.py fits the
    repeat), so two are 2.1%: not a no. Asked to the cap, it counts as yes."""
    bars = default_models()[PAIR].bars
    no = bars.for_meaning("answer:no")
    assert 0.13 ** 2 <= no.firm < no.all_wrong([0.13, 0.13])
    d = Dialogue(rules, prompts, models=_fixed_chance(0.13, bars))
    turn = d.start()
    question = turn.listen.question
    both = {"pocketsphinx_meaning": "answer:no", "whisper_meaning": "answer:no", "agreed": 1.0}
    while turn.listen is not None and turn.listen.question == question:
        turn = d.handle(Heard("no", 0.9, 60.0, engine=PAIR, agreed=True, evidence=both))
    assert [f.answer for f in turn.filled if f.question == question] == ["unclear"]


@pytest.mark.parametrize("said, answered", [("no", "no"), ("yes", None)])
def test_a_red_flag_is_answered_at_once_within_its_answers_firm_bar(rules, prompts, said, answered):
    """A "no" heard at 1% wrong answers a red flag at once; a "yes" as
    doubtful is asked once more ("I haven't" heard as "I have" is what noise
    does). One firm bar for both asked every such "no" twice."""
    d = Dialogue(rules, prompts, models=_fixed_chance(0.01))
    turn = d.start()
    while turn.listen.question != "clot_signs":
        turn = d.handle(Heard("my calf" if turn.listen.kind == "choice" else "no"))
    both = {"pocketsphinx_meaning": f"answer:{said}", "whisper_meaning": f"answer:{said}", "agreed": 1.0}
    turn = d.handle(Heard(said, 0.99, 60.0, engine=PAIR, agreed=True, evidence=both))
    assert d.answers.get("leg_swelling") == answered
    assert (turn.listen.question == "clot_signs") == (answered is None)


def test_the_quiet_room_i_havent_is_a_firm_no():
    """The measured hearing that cost us_f2 a prompt on every red flag."""
    pair = default_models()[PAIR]
    meaning, p_wrong = pair.judge(I_HAVENT, 79.0)
    assert meaning == "answer:no" and p_wrong <= pair.bars.for_meaning(meaning).firm


def test_on_the_tuning_set_no_hearing_under_its_meanings_firm_bar_is_wrong():
    """The bars are what acceptance.py chose: a hand edit that loosens one shows
    here. The tuning rows kept out of the fit (fan at 20 and 10 dB, babble at 20
    dB: SNRs between the quiet room and the 5-11 dB the fit saw) are held to it too."""
    for engine, model in default_models().items():
        for r in rows("tuning") + rows("tuning-not-fitted"):
            if r["grammar"] != "yes_no" or not (r["pocketsphinx_meaning"] or r["whisper_meaning"]):
                continue
            meaning, p_wrong = judged(model, r)
            if meaning.startswith("answer:") and p_wrong <= model.bars.for_meaning(meaning).firm:
                assert meaning == f"answer:{r['meant']}", (engine, r["voice"], r["condition"], r["file"])


@pytest.mark.parametrize("said, taken", [("unknown", False), ("no", False), ("yes", True)])
def test_an_i_dont_know_that_could_lower_the_level_is_taken_only_when_firm(rules, prompts, said, taken):
    """"I don't know" counts as no for the level (triage.md, "Unknown
    answers"), so heard wrongly it lowers the level as a wrong "no" does: on a
    question whose yes could make the outcome more urgent, both need the firm
    bar and are read back below it. A yes there is taken on the fair bar."""
    d = Dialogue(rules, prompts, models=_fixed_chance(0.05))
    turn = d.start()
    while not (turn.listen.raises_level and not turn.listen.red_flag and turn.listen.kind == "yes_no"):
        turn = d.handle(Heard("my calf" if turn.listen.kind == "choice" else "no"))
    question = turn.listen.question
    both = {"pocketsphinx_meaning": f"answer:{said}", "whisper_meaning": f"answer:{said}", "agreed": 1.0}
    turn = d.handle(Heard(said, 0.95, 60.0, engine=PAIR, agreed=True, evidence=both))
    assert (turn.listen.kind != "confirm") == taken, (question, turn.listen)


def test_a_command_said_in_a_quiet_room_is_acted_on():
    """The calibration rows hold every voice's commands ("repeat", "stop"...),
    so the fit weighs a real command, not only speech forced onto one. A model
    fitted without them (it put a meaning's kind among its inputs) acted on 48
    of the report set's 64 quiet commands; the committed one must act on at
    least 90% (repeat and help on the weak bar, as the dialogue does)."""
    pair = default_models()[PAIR]
    said = [r for r in rows("report") if r["condition"] == "clean" and r["meant"].startswith("command:")]
    acted = 0
    for r in said:
        meaning, p_wrong = judged(pair, r)
        acted += meaning == r["meant"] and p_wrong <= pair.bars.weak
    assert len(said) >= 60 and acted >= 0.9 * len(said), (acted, len(said))


def test_in_a_quiet_room_most_red_flag_answers_are_firm():
    """A red flag's answer that is not firm is asked again: in a quiet room
    that is a prompt the person should not have to hear. With the ridge
    penalty fixed at 1 (before it was chosen by leave-one-voice-out
    cross-validation, acceptance.choose_l2) 139 of the report set's 160 quiet
    yes, no and "I don't know" answers were firm (87%); the committed models
    make 90% or more firm (151), none of them wrong."""
    pair = default_models()[PAIR]
    said = [r for r in rows("report") if r["condition"] == "clean" and r["grammar"] == "yes_no"
            and r["meant"] in ("yes", "no", "unknown")]
    firm = [(r, meaning) for r in said for meaning, p_wrong in [judged(pair, r)]
            if p_wrong <= pair.bars.for_meaning(meaning).firm]
    assert all(meaning == f"answer:{r['meant']}" for r, meaning in firm)
    assert len(said) >= 160 and len(firm) >= 0.9 * len(said), (len(firm), len(said))


@given(ps=st.floats(0.0, 1.0), w=st.floats(0.0, 1.0), margin=st.floats(0.0, 20.0), snr=st.floats(-5.0, 60.0),
       said=st.sampled_from(["yes", "no", "not really", "yeah", "i have", "i don't know", "stop", "repeat",
                             "quieter", "go back"]))
@settings(max_examples=300, deadline=None)
def test_a_hearing_over_the_assistants_voice_is_never_firm(yes_no, ps, w, margin, snr, said):
    """Babble over a red flag's question was heard as a sure "yeah" by both
    engines (0.996) and taken as its yes: the person, who had said nothing,
    was told to call 999 (report set, babble at 10 dB). No calibration row
    was heard over the assistant's voice: such a hearing is never firm
    alone, whatever its evidence, nor a command that changes something fair
    (a sure "quieter" heard over a question turned the voice down); "stop",
    "repeat" still cut a question short; otherwise judged as it would be."""
    parsed = answer_text.parse(said, yes_no)
    meaning = f"{parsed.kind}:{parsed.value}"
    for engine, ev in ((PAIR, evidence(meaning, ps, meaning, w, margin)), ("pocketsphinx", {})):
        after = Heard(said, ps, snr, engine=engine, agreed=True if ev else None, evidence=ev)
        over = replace(after, over_speech=True)
        h_after, h_over = (hear(x, yes_no, DialogueSettings(), default_models()) for x in (after, over))
        assert not h_over.firm
        assert (h_over.value, h_over.kind) == (h_after.value, h_after.kind)
        assert h_over.p_wrong >= h_after.p_wrong and h_over.weak == h_after.weak
        assert h_over.fair == (h_after.fair and h_over.value not in CHANGING)


def test_a_red_flag_meant_yes_is_never_settled_as_no_by_any_measured_hearing(rules, prompts):
    """Every "yes" and "I don't know" of every voice of both sets in every
    measured condition, said again and again and heard the same way each
    time (one accent misheard the same way twice, the worst case): a red
    flag is never settled as no. A rule that multiplied every "no" heard
    settled rp_f4's quiet "I have", heard as "i haven't" at 0.21, as no on the
    third hearing (0.21 cubed is within the firm bar; benchmarks/README.md,
    "A red flag's answer")."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from red_flags import settle

    tried = 0
    for name in ("tuning", "tuning-not-fitted", "report"):
        for r in rows(name):
            if r["grammar"] == "yes_no" and r["meant"] in ("yes", "unknown") and (
                    r["pocketsphinx_meaning"] or r["whisper_meaning"]):
                answer, _ = settle(rules, prompts, lambda said, r=r: r, r["meant"])
                assert answer != "no", (name, r["voice"], r["condition"], r["file"], r["text"])
                tried += 1
    assert tried >= 1500, tried


@pytest.mark.parametrize("said", ["quieter", "go back"])
def test_a_command_that_changes_something_heard_over_a_question_waits(rules, prompts, yes_no, said):
    """The person answering "no" over a question was heard as a sure
    "quieter" (the engines split) and the assistant turned its voice down:
    heard over the assistant's voice, such a command is not done; heard
    after the question, the same hearing is."""
    meaning = f"command:{answer_text.parse(said, yes_no).value}"
    after = Heard(said, 0.99, 60.0, engine=PAIR, agreed=True, evidence=evidence(meaning, 0.99, meaning, 0.99, 8.0))
    for heard, done in ((after, True), (replace(after, over_speech=True), False)):
        d = Dialogue(rules, prompts)
        first = d.start()
        d.handle(Heard("no", 1.0))  # a question answered, so there is one to go back to
        turn = d.handle(heard)
        changed = turn.action == said or turn.listen.question == first.listen.question
        assert changed == done, (heard.over_speech, turn.say)


# us_klatt (report set), babble at 10 dB, asked where the pain is worst: "behind
# my knee" heard by Whisper as "goodbye" (pocketsphinx: behind the knee), then the
# answer "no" to "Do you want to stop now?" heard by both as "i have".
GOODBYE = {"pocketsphinx_meaning": "option:behind_knee", "pocketsphinx_score": -13.286,
           "pocketsphinx_confidence": 0.4525, "whisper_posterior": 0.9329, "whisper_margin": 2.729,
           "whisper_in_grammar": 0.998, "whisper_meaning": "command:stop",
           "whisper_second_meaning": "option:behind_knee", "agreed": 0.0}
I_HAVE = {"pocketsphinx_meaning": "answer:yes", "pocketsphinx_score": 2.857, "pocketsphinx_confidence": 1.0,
          "whisper_posterior": 0.741, "whisper_margin": 1.104, "whisper_in_grammar": 0.994,
          "whisper_meaning": "answer:yes", "whisper_second_meaning": "answer:no", "agreed": 1.0}


@pytest.mark.parametrize("yes, stops", [(I_HAVE, False), ({**I_HAVE, "whisper_posterior": 0.999,
                                                            "whisper_margin": 9.0}, True)])
def test_stopping_needs_the_stop_and_the_yes_together_as_sure_as_a_red_flag(rules, prompts, yes, stops):
    """A doubtful "stop" (33% wrong) and a fair "yes" to "Do you want to stop
    now?" (7%) ended us_klatt's consultation as self-care where a doctor was
    due: both wrong is 2.4%, not within the firm bar. A yes that makes the
    pair sure still stops."""
    d = Dialogue(rules, prompts)
    turn = d.start()
    while turn.listen.kind != "choice":
        turn = d.handle(Heard("no"))
    question = turn.listen.question
    turn = d.handle(Heard("goodbye", 0.93, 7.9, engine=PAIR, agreed=False, evidence=GOODBYE))
    assert turn.listen.confirming == "stop"
    turn = d.handle(Heard("i have", 0.99, 10.8, engine=PAIR, agreed=True, evidence=yes))
    assert turn.done == stops
    if not stops:
        assert turn.listen.question == question and turn.listen.kind == "choice"


def test_stop_said_twice_is_weighed_as_one_word_that_may_repeat(rules, prompts):
    """"Stop" heard at 8% wrong (fair, not firm), and again at 8% to "Do you
    want to stop now?": as independent chances both are wrong 0.64%, within
    the firm bar (0.7%); one word heard twice may be one mishearing twice
    (Bars.all_wrong: 0.93%), so it is not a stop. A yes is another word."""
    bars = default_models()[PAIR].bars
    d = Dialogue(rules, prompts, models=_fixed_chance(0.08, bars))
    turn = d.start()
    assert 0.08 ** 2 <= bars.firm < bars.all_wrong([0.08, 0.08])
    stop = {"pocketsphinx_meaning": "command:stop", "whisper_meaning": "command:stop", "agreed": 1.0}
    heard = Heard("stop", 0.99, 60.0, engine=PAIR, agreed=True, evidence=stop)
    assert d.handle(heard).listen.confirming == "stop"
    turn = d.handle(heard)
    assert not turn.done and turn.listen.confirming == "stop"
