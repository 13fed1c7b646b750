"""Audio output: the WAV sink used by replay, and the PortAudio player.

Tests that open a real PortAudio stream run in a subprocess whose ALSA
configuration (ALSA_CONFIG_PATH) defines virtual devices, so they work on a
machine without a sound card and never make a developer's speakers beep:
``type file`` writes what PortAudio plays into a raw file, ``type null`` discards
it. Neither is paced in real time: a stream plays as fast as PortAudio can go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from voiceassist.speech.playback import (
    GAIN_MAX,
    GAIN_MIN,
    AudioDeviceError,
    Player,
    WavRecorderPlayer,
    resample,
)

ROOT = Path(__file__).resolve().parents[2]


def tone(seconds: float, rate: int, freq: float = 440.0, amp: int = 12000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amp).astype(np.int16)


def read_wav(path: Path) -> tuple[np.ndarray, int, int, int]:
    with wave.open(str(path), "rb") as w:
        return (np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate(), w.getnchannels(),
                w.getsampwidth())


# --------------------------------------------------------------------------- WavRecorderPlayer


def test_recorder_writes_what_would_be_heard(tmp_path: Path):
    x = tone(1.0, 22050)
    with WavRecorderPlayer(tmp_path / "case" / "spoken.wav", rate=16000) as p:
        p.play(x, 22050)
        assert p.is_playing()
        assert p.wait() is True
        assert not p.is_playing()
    y, rate, channels, width = read_wav(tmp_path / "case" / "spoken.wav")
    assert (rate, channels, width) == (16000, 1, 2)
    assert np.array_equal(y, resample(x, 22050, 16000))
    assert abs(len(y) - 16000) <= 1


def test_recorder_stop_mid_sentence_truncates(tmp_path: Path):
    x = tone(1.0, 16000)
    p = WavRecorderPlayer(tmp_path / "out.wav")
    p.play(x, 16000)
    assert p.advance(0.3) == pytest.approx(0.3)
    assert p.is_playing() and p.position == pytest.approx(0.3)
    p.stop()  # barge-in
    assert not p.is_playing()
    p.advance(1.0)  # nothing more is written
    p.close()
    y, *_ = read_wav(tmp_path / "out.wav")
    assert np.array_equal(y, x[:4800])


def test_recorder_next_sentence_cuts_the_current_one(tmp_path: Path):
    a, b = tone(1.0, 16000, 300), tone(0.5, 16000, 600)
    p = WavRecorderPlayer(tmp_path / "out.wav")
    p.play(a, 16000)
    p.advance(0.25)
    p.play(b, 16000)
    p.wait()
    p.close()
    y, *_ = read_wav(tmp_path / "out.wav")
    assert np.array_equal(y, np.concatenate([a[:4000], b]))


def test_recorder_wait_with_timeout_plays_in_sample_time(tmp_path: Path):
    p = WavRecorderPlayer(tmp_path / "out.wav")
    p.play(tone(1.0, 16000), 16000)
    assert p.wait(timeout=0.4) is False
    assert p.position == pytest.approx(0.4)
    assert p.wait(timeout=10) is True
    assert p.written_seconds == pytest.approx(1.0)
    p.close()


def test_recorder_timeline_with_silence(tmp_path: Path):
    x = tone(0.5, 16000)
    p = WavRecorderPlayer(tmp_path / "out.wav", record_silence=True)
    p.advance(0.25)  # idle
    p.play(x, 16000)
    p.advance(1.0)  # 0.5 s of speech then 0.5 s of silence
    p.close()
    y, *_ = read_wav(tmp_path / "out.wav")
    assert len(y) == 16000 + 4000
    assert not y[:4000].any() and np.array_equal(y[4000:12000], x) and not y[12000:].any()
    assert p.elapsed == pytest.approx(1.25)


def test_recorder_gain_is_clipped_not_wrapped(tmp_path: Path):
    x = tone(0.2, 16000, amp=30000)
    p = WavRecorderPlayer(tmp_path / "out.wav", gain=1.0)
    assert p.set_gain(2.0) == 2.0
    p.play(x, 16000)
    p.close()  # close lets the sentence finish
    y, *_ = read_wav(tmp_path / "out.wav")
    assert y.max() == 32767 and y.min() == -32768
    assert np.all(np.sign(y[x != 0]) == np.sign(x[x != 0]))  # no wrap-around


def test_gain_is_clamped():
    p = Player(gain=100)
    assert p.gain == GAIN_MAX
    assert p.set_gain(0) == GAIN_MIN
    assert p.set_gain(1.4) == 1.4


def test_recorder_accepts_float_and_stereo(tmp_path: Path):
    p = WavRecorderPlayer(tmp_path / "out.wav")
    stereo = np.stack([np.full(1600, 0.5, np.float32), np.full(1600, 0.5, np.float32)], axis=1)
    p.play(stereo, 16000)
    p.close()
    y, *_ = read_wav(tmp_path / "out.wav")
    assert len(y) == 1600 and abs(int(y[800]) - 16384) < 2


def test_recorder_empty_file_is_valid(tmp_path: Path):
    WavRecorderPlayer(tmp_path / "out.wav").close()
    y, rate, *_ = read_wav(tmp_path / "out.wav")
    assert len(y) == 0 and rate == 16000


# --------------------------------------------------------------------------- Player: errors


def run_py(code: str, alsa_conf: str | None, tmp_path: Path) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    if alsa_conf is not None:
        conf = tmp_path / "asound.conf"
        conf.write_text(alsa_conf)
        env["ALSA_CONFIG_PATH"] = str(conf)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


NO_DEVICES = "</usr/share/alsa/alsa.conf>\n"  # the stock configuration: no device without a sound card


def test_player_without_any_device_is_one_line_error(tmp_path: Path):
    pytest.importorskip("sounddevice")
    res = run_py(
        """
        import json, numpy as np
        from voiceassist.speech.playback import Player, AudioDeviceError, output_devices
        out = {"devices": output_devices()}
        for dev in (None, "speaker", 3):
            try:
                Player(device=dev).play(np.zeros(1600, np.int16), 16000)
                out[str(dev)] = "played"
            except AudioDeviceError as e:
                out[str(dev)] = str(e)
        print(json.dumps(out))
        """,
        NO_DEVICES,
        tmp_path,
    )
    if res["devices"]:
        pytest.skip(f"this machine has audio outputs: {res['devices']}")
    for dev in ("None", "speaker", "3"):
        assert res[dev] == "No audio output device found; use text mode or --speak-to DIR"


def test_player_without_portaudio_says_install_libportaudio2(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import sounddevice -> ImportError
    p = Player()
    with pytest.raises(AudioDeviceError) as err:
        p.play(np.zeros(160, np.int16), 16000)
    assert "libportaudio2" in str(err.value) and "\n" not in str(err.value)
    p.stop()  # nothing to stop: no error
    assert not p.is_playing() and p.wait(0) is True


def test_player_when_portaudio_library_is_missing(tmp_path: Path):
    res = run_py(
        """
        import ctypes.util, json, sys
        ctypes.util.find_library = lambda name: None   # as on a machine without libportaudio2
        import numpy as np
        from voiceassist.speech import playback, mic    # both import without PortAudio
        try:
            playback.Player().play(np.zeros(160, np.int16), 16000)
        except playback.AudioDeviceError as e:
            print(json.dumps({"error": str(e)}))
        """,
        None,
        tmp_path,
    )
    assert res["error"] == "PortAudio library not found: apt-get install libportaudio2"


# --------------------------------------------------------------------------- Player: real stream

VIRTUAL = """
</usr/share/alsa/alsa.conf>
pcm.!default {{ type plug slave.pcm "vnull" }}
pcm.vnull {{ type null }}
pcm.vout {{ type file slave.pcm "null" file "{out}" format "raw" }}
pcm.speaker16k {{ type plug slave {{ pcm "vout" format S16_LE rate 16000 channels 1 }} }}
"""


def test_player_plays_through_a_real_portaudio_stream(tmp_path: Path):
    pytest.importorskip("sounddevice")
    out = tmp_path / "played.raw"
    res = run_py(
        """
        import json, numpy as np
        from voiceassist.speech.playback import Player, output_devices
        x = (np.sin(np.arange(16000) * 2 * np.pi * 300 / 16000) * 20000).astype(np.int16)
        p = Player(device="speaker16k", gain=0.5)
        p.play(x, 16000)
        finished = p.wait(10)
        res = {"devices": output_devices(), "finished": finished, "playing": p.is_playing(),
               "position": p.position}
        p.close()
        print(json.dumps(res))
        """,
        VIRTUAL.format(out=out),
        tmp_path,
    )
    assert "speaker16k" in res["devices"]
    assert res["finished"] is True and res["playing"] is False and res["position"] == 1.0
    y = np.fromfile(out, "<i2")
    start = int(np.flatnonzero(y)[0]) - 1  # PortAudio primes the device with silence first
    x = (np.sin(np.arange(16000) * 2 * np.pi * 300 / 16000) * 20000).astype(np.int16)
    assert np.abs(y[start : start + 16000].astype(int) - np.round(x * 0.5).astype(int)).max() <= 1


def test_player_stop_cuts_a_real_stream(tmp_path: Path):
    pytest.importorskip("sounddevice")
    res = run_py(
        """
        import json, time, numpy as np
        from voiceassist.speech.playback import Player
        x = np.zeros(22050 * 300, np.int16)    # five minutes: the stop comes long before the end
        x[::50] = 1000
        p = Player(device="vnull")
        p.play(x, 22050)
        playing = p.is_playing()
        p.stop()
        res = {"playing_before": playing, "playing_after": p.is_playing(), "position": p.position,
               "wait": p.wait(0)}
        p.play(x[:2205], 22050)                  # and it can play again afterwards
        res["second"] = p.wait(10)
        print(json.dumps(res))
        """,
        VIRTUAL.format(out=tmp_path / "unused.raw"),
        tmp_path,
    )
    assert res["playing_before"] is True and res["playing_after"] is False
    assert res["position"] < 300 and res["wait"] is True and res["second"] is True
