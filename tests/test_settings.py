"""Settings: defaults < config file < environment < flags, validated by one
schema. Every bad value is one line naming where it came from (the file and
key, the variable or the flag), refused before any model loads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from voiceassist.settings import Settings, SettingsError, load_settings
from voiceassist.speech import tts

from conftest import ROOT, VIGNETTES, run_cli


def settings(flags=None, config_text=None, env=None, tmp_path=None):
    path = None
    if config_text is not None:
        path = tmp_path / "config.yaml"
        path.write_text(config_text)
    return load_settings(flags, str(path) if path else None, environ=env or {})


def error(**kw) -> str:
    with pytest.raises(SettingsError) as err:
        settings(**kw)
    message = str(err.value)
    assert "\n" not in message
    return message


# -- the emergency number: text, 2 to 6 digits, a leading zero kept ----------------


@pytest.mark.parametrize("written, number", [("000", "000"), ("0112", "0112"), ('"000"', "000"), ("112", "112"),
                                              ("'911'", "911")])
def test_the_config_files_emergency_number_is_the_text_written(tmp_path, written, number):
    assert settings(config_text=f"emergency_number: {written}\n", tmp_path=tmp_path).emergency_number == number


def test_check_says_what_the_person_is_told_to_call(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("emergency_number: 000\n")
    out = run_cli("check", "--config", config)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ") and out.stdout.rstrip().endswith("the person is told to call 000")
    assert str(config) in out.stdout


def test_the_number_reaches_what_is_said(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("emergency_number: 000\n")
    case = tmp_path / "clot.yaml"
    case.write_text("id: clot\nanswers: {breathless: yes, leg_swelling: yes, pain_location: calf}\n")
    out = run_cli("replay", case, "--text", "--config", config)
    assert out.returncode == 0, out.stderr
    said = out.stdout.lower()
    assert "call 000 now" in said and "999" not in said and "call 0 " not in said


@pytest.mark.parametrize("source", ["flag", "env", "file"])
@pytest.mark.parametrize("bad", ["", "9", "1234567", "ninenine", "99 9"])
def test_a_bad_emergency_number_is_one_line_naming_its_source(tmp_path, source, bad):
    if source == "flag":
        message = error(flags={"emergency_number": bad})
        assert message.startswith("--emergency-number: ")
    elif source == "env":
        message = error(env={"VOICEASSIST_EMERGENCY_NUMBER": bad})
        assert message.startswith("$VOICEASSIST_EMERGENCY_NUMBER: ")
    else:
        message = error(config_text=f"emergency_number: '{bad}'\n", tmp_path=tmp_path)
        assert message.startswith(f"{tmp_path / 'config.yaml'}: emergency_number: ")
    assert "must be 2 to 6 digits" in message


def test_an_empty_emergency_number_flag_is_refused_at_once():
    out = run_cli("text", "--emergency-number", "")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == ("voiceassist: error: --emergency-number: the emergency number must be 2 to 6 "
                                  "digits (such as 999, 112 or 000), not ''")


# -- unknown and misspelt names ------------------------------------------------------


def test_a_misspelt_environment_variable_is_named_with_the_one_meant():
    assert error(env={"VOICEASSIST_RAT": "130"}) == \
        "$VOICEASSIST_RAT: unknown setting (did you mean $VOICEASSIST_RATE?)"


def test_the_variables_that_are_not_settings_are_not_errors(tmp_path):
    (tmp_path / "config.yaml").write_text("voice: en-gb\n")
    env = {"VOICEASSIST_CONFIG": str(tmp_path / "config.yaml"), "OTHER_RAT": "1",
           "VOICEASSIST_ALSA_IN": "x", "VOICEASSIST_ALSA_OUT": "y", "VOICEASSIST_RATE": "130"}
    s = load_settings(None, None, environ=env)
    assert (s.rate, s.voice) == (130, "en-gb")


def test_an_unknown_key_in_the_config_file_is_named(tmp_path):
    assert error(config_text="rat: 130\n", tmp_path=tmp_path) == \
        f"{tmp_path / 'config.yaml'}: rat: unknown setting (did you mean rate?)"


def test_a_misspelt_variable_stops_a_command_before_anything_loads():
    out = subprocess.run([sys.executable, "-m", "voiceassist", "text"], input="", capture_output=True, text=True,
                         env={**os.environ, "VOICEASSIST_RAT": "130"}, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == "voiceassist: error: $VOICEASSIST_RAT: unknown setting (did you mean $VOICEASSIST_RATE?)"


# -- types and ranges ------------------------------------------------------------------


@pytest.mark.parametrize("flags, where", [
    ({"rate": 300}, "--rate: should be less than or equal to 260"),
    ({"rate": 79}, "--rate: should be greater than or equal to 80"),
    ({"caption_port": 99999}, "--caption-port: should be less than or equal to 65535"),
    ({"idle_timeout_s": -1.0}, "--idle-timeout-s: should be greater than 0"),
    ({"end_silence_ms": 100}, "--end-silence-ms: should be greater than or equal to 300"),
    ({"no_input_s": 0.0}, "--no-input-s: should be greater than 0"),
    ({"engine": "google"}, "--engine: should be 'auto', 'vosk'"),
    ({"input_device": ""}, "--input-device: is empty"),
    ({"log_file": "/proc/nope/x.log"}, "--log-file: the folder '/proc/nope' does not exist"),
])
def test_each_flag_is_typed_and_ranged(flags, where):
    assert error(flags=flags).startswith(where)


@pytest.mark.parametrize("env, where", [
    ({"VOICEASSIST_RATE": "fast"}, "$VOICEASSIST_RATE: should be a valid integer"),
    ({"VOICEASSIST_BARGE_IN": "maybe"}, "$VOICEASSIST_BARGE_IN: should be a valid boolean"),
    ({"VOICEASSIST_VOLUME": "9"}, "$VOICEASSIST_VOLUME: should be less than or equal to 4"),
    ({"VOICEASSIST_VAD_AGGRESSIVENESS": "4"}, "$VOICEASSIST_VAD_AGGRESSIVENESS: should be less than or equal to 3"),
])
def test_each_variable_is_typed_and_ranged(env, where):
    assert error(env=env).startswith(where)


def test_the_config_file_is_typed_like_the_environment(tmp_path):
    s = settings(config_text="rate: 140\nbarge_in: no\nidle_timeout_s: 120\nstart_phrases: [Hello, yes]\n"
                             "input_device: 1\n", tmp_path=tmp_path)
    assert (s.rate, s.barge_in, s.idle_timeout_s, s.start_phrases, s.input_device) == \
        (140, False, 120.0, ["hello", "yes"], "1")
    assert error(config_text="rate: loud\n", tmp_path=tmp_path).startswith(
        f"{tmp_path / 'config.yaml'}: rate: should be a valid integer")


def test_later_sources_win(tmp_path):
    s = settings(flags={"rate": 170}, config_text="rate: 140\nvoice: en-gb\n",
                 env={"VOICEASSIST_RATE": "150", "VOICEASSIST_VOICE": "en-us"}, tmp_path=tmp_path)
    assert (s.rate, s.voice) == (170, "en-us")


def test_bad_config_files_are_one_line(tmp_path):
    assert error(config_text="- rate\n", tmp_path=tmp_path).endswith("expected a mapping of setting: value")
    assert error(config_text="rate: 100\nrate: 120\n", tmp_path=tmp_path).endswith(
        "line 2: duplicate key 'rate' (first given on line 1)")
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(None, str(tmp_path / "missing.yaml"), environ={})


def test_the_thresholds_keep_their_order(tmp_path):
    assert "reject_below < confirm_below <= red_flag_no_accept" in error(
        config_text="reject_below: 0.8\n", tmp_path=tmp_path)
    assert "reject_below < confirm_below <= red_flag_no_accept" in error(
        env={"VOICEASSIST_CONFIRM_BELOW": "0.95"})
    s = settings(env={"VOICEASSIST_CONFIRM_BELOW": "0.9"})
    assert s.confirm_below == s.red_flag_no_accept == 0.9


def test_the_rate_and_its_limits_are_defined_once():
    field = Settings.model_fields["rate"]
    limits = {type(m).__name__: m for m in field.metadata}
    assert field.default == tts.DEFAULT_RATE == Settings().rate
    assert (limits["Ge"].ge, limits["Le"].le) == (tts.RATE_MIN, tts.RATE_MAX)
    assert tts.clamp_rate(250) == 250  # what the settings accept is what is spoken
    assert tts.Synthesiser(rate_wpm=settings(flags={"rate": 250}).rate, disk_cache=False).rate_wpm == 250


# -- bad input on the command line: refused before any model loads -----------------------


def test_snr_without_noise_is_refused():
    out = run_cli("replay", VIGNETTES, "--bank", ROOT / "tests" / "fixtures" / "banks" / "espeak_us", "--snr", "5")
    assert out.returncode == 2 and "speech recognition" not in out.stderr
    assert out.stderr.strip() == "voiceassist: error: --snr needs --noise WAV (the noise it sets the level of)"


def test_replay_into_a_closed_pipe_stops_quietly():
    cmd = f"{sys.executable} -m voiceassist replay {VIGNETTES} --text --json | head -1"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout)["case"] == "dvt_long_flight"
    assert out.stderr == ""
    assert out.returncode == 141  # as `yes | head -1`: the reader stopped it, nothing failed


def start_kiosk(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "voiceassist", "kiosk", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def read_until(proc, needle: str, timeout: float = 60.0) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if needle in line or time.monotonic() > deadline:
            break
    return lines


def stop(proc) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, rest


@pytest.mark.parametrize("args, env, line", [
    (["--caption-port", "99999"], {"VOICEASSIST_CAPTION_PORT": "0"},
     "voiceassist: error: --caption-port: should be less than or equal to 65535, not 99999"),
    (["--caption-port", "0", "--log-file", "/proc/nope/x.log"], {},
     "voiceassist: error: --log-file: the folder '/proc/nope' does not exist"),
    (["--caption-port", "0", "--idle-timeout-s", "-1"], {},
     "voiceassist: error: --idle-timeout-s: should be greater than 0, not -1.0"),
    (["--caption-port", "0"], {"VOICEASSIST_RAT": "130"},
     "voiceassist: error: $VOICEASSIST_RAT: unknown setting (did you mean $VOICEASSIST_RATE?)"),
])
def test_a_kiosk_with_a_bad_setting_shows_it_and_waits(args, env, line):
    """No restart storm and no browser error page: the caption screen says
    the kiosk is out of order, with the reason and how to call for help, and
    the process waits (before loading any model) until it is stopped."""
    proc = start_kiosk(*args, env=env)
    try:
        lines = read_until(proc, "out of order")
        assert line in lines, lines
        assert not any("speech recognition" in x for x in lines)
        url = next(x.split("caption screen: ")[1].split()[0] for x in lines if "caption screen: " in x)
        time.sleep(0.5)
        assert proc.poll() is None  # still up
        state = json.load(urllib.request.urlopen(url + "state", timeout=10))
        assert state["state"] == "idle" and state["status"] == "This kiosk is out of order."
        assert state["detail"] == line.removeprefix("voiceassist: error: ")
        assert state["emergency"] == "In an emergency, call your local emergency number."
    finally:
        code, rest = stop(proc)
    assert code == 0 and "Traceback" not in rest and rest.strip().endswith("voiceassist: stopped")


def test_a_kiosk_that_cannot_start_its_recogniser_shows_the_number_set(tmp_path):
    """Settings fine, no vosk model: out of order, with the number the
    operator set."""
    proc = start_kiosk("--caption-port", "0", "--engine", "vosk", "--model", str(tmp_path),
                       "--emergency-number", "000")
    try:
        lines = read_until(proc, "out of order")
        url = next(x.split("caption screen: ")[1].split()[0] for x in lines if "caption screen: " in x)
        state = json.load(urllib.request.urlopen(url + "state", timeout=10))
        assert state["status"] == "This kiosk is out of order." and str(tmp_path) in state["detail"]
        assert state["emergency"] == "In an emergency, call 000."
    finally:
        code, _ = stop(proc)
    assert code == 0
