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
