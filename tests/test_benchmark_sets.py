"""benchmarks/sets.py: which conditions a benchmark's --conditions names."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import sets  # noqa: E402


def test_a_kind_names_the_sets_default_recording():
    assert sets.select(sets.conditions("tuning"), "babble 10 dB") == [("babble 10 dB", "babble_a", 10)]
    assert [c[0] for c in sets.select(sets.conditions("tuning"), "clean,fan")] == [
        "clean", "fan 20 dB", "fan 10 dB", "fan 6 dB"]


def test_a_recording_can_be_named_to_rerun_older_tables_like_for_like():
    """The tables measured before the sets existed used the fixtures' own
    babble loop, which is not the tuning set's default babble."""
    chosen = sets.select(sets.conditions("tuning"), "clean,babble.wav 10 dB")
    assert chosen == [("clean", None, None), ("babble.wav 10 dB", "babble", 10)]
    assert sets.noise_path("babble") == ROOT / "tests" / "fixtures" / "noise" / "babble.wav"


def test_a_recording_that_does_not_exist_is_a_clear_error_at_once():
    with pytest.raises(SystemExit, match="no noise 'nothing'"):
        sets.select(sets.conditions("tuning"), "nothing.wav 10 dB")


@pytest.mark.slow
@pytest.mark.parametrize("command, row", [("answers", "| us_f2 | clean | 47 |"), ("unanswered", "| pocketsphinx | 40 |")])
def test_the_single_answer_benchmarks_run_on_one_voice(command, row):
    """Each prints its table: `unanswered` once died of a line meant for
    `answers` (NameError), and no test ran it."""
    import subprocess

    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "voice.py"), command, "--set", "report",
                          "--engine", "pocketsphinx", "--banks", "us_f2", "--conditions", "clean"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert row in out.stdout, out.stdout
