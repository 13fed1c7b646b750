"""No traceback, ever, from any thread: every command a user can run into a
missing device, a missing model or bad input with ends in one clear line.

These machines have no sound card, so `run` and `kiosk` meet a missing
microphone for real. A background thread that printed a traceback when the
program ended early (noisereduce's import racing the interpreter's shutdown)
was intermittent, so the slow tests run the commands many times over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, VIGNETTES

BANKS = ROOT / "tests" / "fixtures" / "banks"


def voiceassist(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "voiceassist", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One speech cache for every run here, as a user's machine keeps one."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "malformed.yaml").write_text("- id: x\n  answers: {leg_swelling: yes\n")
    (d / "unknown_finding.yaml").write_text("- id: x\n  answers: {leg_swollen: yes}\n")
    (d / "rules.yaml").write_text("levels: [ambulance\n")
    bank = d / "bank"
    bank.mkdir()
    (bank / "yes.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really a wav")
    (bank / "no.wav").write_bytes(b"")
    return d


def commands(bad: Path) -> dict[str, list]:
    """Each command as a user would type it, meeting one problem."""
    return {
        "run, no microphone": ["run", "--engine", "pocketsphinx"],
        "run, no vosk model": ["run", "--engine", "vosk"],
        "replay, no vosk model": ["replay", VIGNETTES, "--bank", BANKS / "espeak_us", "--engine", "vosk"],
        "replay, not a model": ["replay", VIGNETTES, "--bank", BANKS / "espeak_us", "--model", bad],
        "replay, missing file": ["replay", bad / "nothing.yaml"],
        "replay, malformed YAML": ["replay", bad / "malformed.yaml"],
        "replay, unknown finding": ["replay", bad / "unknown_finding.yaml"],
        "replay, broken WAVs": ["replay", VIGNETTES, "--bank", bad / "bank"],
        "replay, noise not a WAV": ["replay", VIGNETTES, "--bank", BANKS / "espeak_us", "--noise", ROOT / "README.md"],
        "text, malformed rules": ["text", "--rules", bad / "rules.yaml"],
        "check, malformed rules": ["check", bad / "rules.yaml"],
        "models path, none": ["models", "path"],
        "models download, no network": ["models", "download"],
    }


# What the one line must name, for the commands whose problem comes after
# other files are read (the cases, the rules, the bank).
MEANT = {
    "replay, broken WAVs": ["bank/", ".wav"],
    "replay, noise not a WAV": ["README.md"],
    "replay, no vosk model": ["vosk"],
    "replay, not a model": ["model"],
}


def assert_one_line_error(out, what):
    assert "Traceback" not in out.stderr, (what, out.stderr)
    assert out.returncode == 2, (what, out.returncode, out.stderr)
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("voiceassist: error: "), (what, out.stderr)


def test_every_command_meets_bad_input_in_one_line(bad_inputs, env):
    cases = commands(bad_inputs)
    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(cases, pool.map(lambda a: voiceassist(*a, env=env), cases.values())))
    for what, out in results.items():
        assert_one_line_error(out, what)
    # Each line is about the problem the command met, not an earlier one (a
    # cases file that is missing would also be one line, and test nothing).
    for what, words in MEANT.items():
        last = results[what].stderr.strip().splitlines()[-1]
        assert all(w in last for w in words), (what, last)
    assert "microphone" in results["run, no microphone"].stderr.splitlines()[-1].lower()
    assert "voiceassist text" in results["run, no microphone"].stderr.splitlines()[-1]


def run_kiosk_without_microphone(env, seconds_after: float = 1.0, after: str = "retrying") -> tuple[int, str]:
    """Start the kiosk, wait until it prints `after` (by default: that the
    microphone is missing, and it keeps retrying), let it run a little, then
    stop it as systemd does."""
    proc = subprocess.Popen([sys.executable, "-m", "voiceassist", "kiosk", "--caption-port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    lines = []
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        lines.append(line)
        if after in line or time.monotonic() > deadline:
            break
    time.sleep(seconds_after)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, "".join(lines) + rest


def test_kiosk_without_microphone_keeps_trying_then_stops_cleanly(env):
    code, stderr = run_kiosk_without_microphone(env)
    assert "Traceback" not in stderr, stderr
    assert "No microphone found" in stderr and "(retrying)" in stderr
    assert stderr.strip().splitlines()[-1] == "voiceassist: stopped"
    assert code == 0


@pytest.mark.slow
def test_run_without_microphone_twenty_times_in_a_row(env):
    """The issue's own check: 20 runs, two at a time (a busy machine is where
    the race showed), never a traceback."""
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda _: voiceassist("run", env=env), range(20)))
    for out in outs:
        assert_one_line_error(out, "run")


def test_kiosk_stopped_while_it_loads_the_recognisers_stops_cleanly(env):
    """systemd may stop the kiosk at any moment, also while Whisper loads."""
    code, stderr = run_kiosk_without_microphone(env, seconds_after=0, after="speech recognition")
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "voiceassist: stopped"
    assert code == 0


@pytest.mark.slow
def test_kiosk_without_microphone_twenty_times_in_a_row(env):
    """Stopped at every stage: loading, serving the captions, retrying."""
    stages = ["speech recognition", "caption screen", "retrying"]
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda n: run_kiosk_without_microphone(env, 0.2 * (n % 4), stages[n % 3]), range(20)))
    for code, stderr in outs:
        assert "Traceback" not in stderr, stderr
        assert code == 0, stderr


@pytest.mark.slow
def test_every_command_meets_bad_input_in_one_line_again_and_again(bad_inputs, env):
    cases = list(commands(bad_inputs).items()) * 3
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda c: (c[0], voiceassist(*c[1], env=env)), cases))
    for what, out in outs:
        assert_one_line_error(out, what)


SHUTDOWN_RACE = textwrap.dedent("""
    import atexit, importlib, sys, time
    from voiceassist import background
    # What PortAudio's exit handler does: it releases the interpreter for a
    # while, so a thread still importing runs on into the shutdown.
    atexit.register(time.sleep, 1.0)

    def import_later():
        time.sleep(0.3)  # the program ends meanwhile (no microphone)
        importlib.import_module("concurrent.futures.process")  # what noisereduce's joblib imports

    background.start("import-noisereduce", import_later)
    if sys.argv[1] == "wait":
        background.wait()
""")


def test_a_background_import_does_not_outlive_the_program():
    """The cause of the traceback: a library still being imported in a thread
    when the program ends (Python then refuses the import's atexit hook).
    voiceassist's main() waits for its background tasks before returning."""
    out = subprocess.run([sys.executable, "-c", SHUTDOWN_RACE, "wait"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr


def test_a_thread_that_dies_is_one_line():
    script = textwrap.dedent("""
        import threading
        from voiceassist import background
        background.install_hooks()
        t = threading.Thread(target=lambda: 1 / 0, name="some-library-thread")
        t.start(); t.join()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip() == "voiceassist: error: some-library-thread stopped: ZeroDivisionError: division by zero"


def test_a_background_task_that_dies_ends_the_consultation_safely(rules, prompts, recogniser, tts):
    """A task of ours that dies (here: preparing speech) ends the consultation
    with the safety advice, said and shown, and one line of why."""
    from voiceassist import background
    from voiceassist.bank import Bank
    from voiceassist.replay import Case, run_case_voice

    def broken():
        raise OSError("disk full")

    background.start("warm-speech", broken).join()
    shown = []
    result = run_case_voice(rules, prompts, Case("clot", {"leg_swelling": "yes"}), Bank(BANKS / "espeak_us"),
                            recogniser, tts,
                            captions=lambda caption: shown.append(caption.text))
    assert result.ending == "error"
    assert result.error == "TaskFailed: background task warm-speech failed: OSError: disk full"
    assert prompts.say("error") in result.spoken and prompts.say("safety_net") in result.spoken
    assert prompts.say("safety_net") in shown
    assert background.failure() is None  # one failure ends one consultation, not the next


@pytest.mark.parametrize("stop, ctrl_c", [("SIGTERM", "handled"), ("SIGINT", "handled"), ("SIGTERM", "ignored")])
def test_a_stop_that_lands_in_a_weakref_callback_is_not_lost_nor_printed(stop, ctrl_c):
    """The race CI met once in twenty kiosk stops: SIGTERM's KeyboardInterrupt
    raised inside a weakref callback, where Python prints "Exception ignored
    ... Traceback" and drops it. Here the kiosk's SIGTERM, or a Ctrl-C in any
    command, is raised inside such a callback on purpose: the stop must still
    reach the program's own code, with nothing printed. `ctrl_c` ignored: the
    program started with SIGINT ignored, as a background job of a script or
    `nohup ... &` starts it (the stop was lost: it was sent again as a SIGINT)."""
    script = textwrap.dedent(f"""
        import signal, time, weakref
        signal.signal(signal.SIGINT, signal.{"SIG_IGN" if ctrl_c == "ignored" else "default_int_handler"})
        from voiceassist import background
        from voiceassist.commands.kiosk import stop_on_sigterm

        class Thing:
            pass

        background.install_hooks()
        stop_on_sigterm()
        thing = Thing()
        ref = weakref.ref(thing, lambda _: signal.raise_signal(signal.{stop}))
        try:
            del thing  # the callback runs, and the stop lands inside it
            time.sleep(120)  # a stop that only lands after this counts as lost
            print("the stop was lost")
        except KeyboardInterrupt:
            print("stopped")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=100)
    assert out.stdout.strip() == "stopped", out.stdout + out.stderr
    assert out.stderr == ""


def test_a_stop_that_reaches_the_kiosk_twice_ends_it_once():
    """CI met it once in twenty kiosk stops: the kiosk printed "stopped", then
    died of a SIGINT (exit -2). The SIGTERM's KeyboardInterrupt landed in a
    weakref callback and was lost, so install_hooks sent it again; but the
    kiosk had also seen the stop between two stages of loading, and acted on
    it. The copy arrived while the program was ending. Here both happen on
    purpose, and the copy arrives before the program has ended."""
    script = textwrap.dedent("""
        import signal, sys, time, weakref
        from voiceassist import cli
        from voiceassist.commands import kiosk

        class Thing:
            pass

        def serve(args, cleanup):
            thing = Thing()
            ref = weakref.ref(thing, lambda _: signal.raise_signal(signal.SIGTERM))
            del thing  # the stop lands in the callback: lost, and sent again shortly
            kiosk._stop_if_asked()  # but the kiosk sees it first, between two stages

        kiosk._serve_kiosk = serve
        code = cli.main(["kiosk", "--caption-port", "0"])
        time.sleep(1)  # the copy arrives while the program ends
        sys.exit(code)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=100)
    assert out.stderr == "voiceassist: stopped\n"
    assert out.returncode == 0


def test_a_stop_that_lands_in_code_run_from_a_string_ends_the_kiosk_cleanly(tmp_path):
    """CI met it once in sixty kiosk stops: "stopped", then exit -2. The
    SIGTERM landed inside exec (dataclasses and pydantic build their classes
    from strings while the kiosk loads); the kiosk caught it, but CPython
    remembered it as unhandled and `python -m` ended by killing itself with
    SIGINT. Here the stop lands there on purpose."""
    (tmp_path / "stop_in_exec.py").write_text(textwrap.dedent("""
        from voiceassist import cli
        from voiceassist.commands import kiosk

        def serve(args, cleanup):
            exec("import signal\\nsignal.raise_signal(signal.SIGTERM)")  # as a library builds a class

        kiosk._serve_kiosk = serve
        raise SystemExit(cli.main(["kiosk", "--caption-port", "0"]))
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "stop_in_exec"], capture_output=True, text=True, timeout=100, env=env)
    assert out.stderr == "voiceassist: stopped\n"
    assert out.returncode == 0


def test_other_ignored_exceptions_are_still_reported():
    script = textwrap.dedent("""
        from voiceassist import background

        class Broken:
            def __del__(self):
                raise ValueError("kept visible")

        background.install_hooks()
        Broken()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "kept visible" in out.stderr
