"""Microphone: one-line errors, and real PortAudio input streams from virtual
ALSA devices (see test_playback.py): ``type file`` with an ``infile`` makes a
capture device that "records" the bytes of a file, as fast as PortAudio reads.
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

from voiceassist.speech.mic import Microphone, MicrophoneError, list_devices

ROOT = Path(__file__).resolve().parents[2]
YES = ROOT / "tests" / "fixtures" / "banks" / "piper_joe" / "yes.wav"


def run_py(code: str, alsa_conf: str, tmp_path: Path) -> dict:
    conf = tmp_path / "asound.conf"
    conf.write_text(alsa_conf)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "ALSA_CONFIG_PATH": str(conf)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def virtual_alsa(tmp_path: Path, infile16: Path, infile44: Path) -> str:
    return f"""
</usr/share/alsa/alsa.conf>
pcm.!default {{ type plug slave.pcm "vnull" }}
pcm.vnull {{ type null }}
pcm.usbmic {{ type file slave.pcm "null" file "/dev/null" infile "{infile16}" format "raw" }}
pcm.headset {{ type file slave.pcm "null" file "/dev/null" infile "{infile44}" format "raw" }}
"""


def wav_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 16000
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


@pytest.fixture
def alsa(tmp_path: Path) -> str:
    pytest.importorskip("sounddevice")
    yes16 = tmp_path / "yes16.raw"
    wav_pcm(YES).tofile(yes16)
    t = np.arange(3 * 44100) / 44100
    tone44 = tmp_path / "tone44.raw"
    (np.sin(2 * np.pi * 440 * t) * 10000).astype("<i2").tofile(tone44)
    return virtual_alsa(tmp_path, yes16, tone44)


# --------------------------------------------------------------------------- errors


def test_no_microphone_is_a_one_line_error():
    pytest.importorskip("sounddevice")
    if list_devices():
        pytest.skip(f"this machine has microphones: {list_devices()}")
    with pytest.raises(MicrophoneError) as err:
        Microphone().open()
    assert str(err.value) == "No microphone found. You can use the keyboard instead: voiceassist text"
    with pytest.raises(MicrophoneError, match="No microphone found"):
        Microphone("USB").open()


def test_without_portaudio_says_install_libportaudio2(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import sounddevice -> ImportError
    with pytest.raises(MicrophoneError) as err:
        Microphone().open()
    msg = str(err.value)
    assert "apt-get install libportaudio2" in msg and "\n" not in msg
    assert "voiceassist text" in msg
    with pytest.raises(MicrophoneError, match="libportaudio2"):
        list_devices()


def test_read_before_open_is_an_error():
    with pytest.raises(MicrophoneError, match="not open"):
        Microphone().read(0.01)


def test_bad_parameters():
    with pytest.raises(ValueError):
        Microphone(samplerate=44100)
    with pytest.raises(ValueError):
        Microphone(block_ms=0)


def test_unknown_device_name_lists_the_microphones(alsa, tmp_path: Path):
    res = run_py(
        """
        import json
        import sounddevice as sd
        from voiceassist.speech.mic import Microphone, MicrophoneError, list_devices
        out = {"devices": list_devices(),
               "numbers": {d["name"]: d["index"] for d in sd.query_devices() if d["max_input_channels"]}}
        for dev in ("blue yeti", 42, "42"):
            try:
                Microphone(dev).open()
            except MicrophoneError as e:
                out[str(dev)] = str(e)
        print(json.dumps(out))
        """,
        alsa,
        tmp_path,
    )
    assert {"usbmic", "headset", "vnull"} <= set(res["devices"])
    names = ", ".join(f"{name} ({number})" for name, number in res["numbers"].items())
    assert res["blue yeti"] == f"'blue yeti' matches no microphone; available: {names}"
    assert res["42"] == f"No microphone number 42; available: {names}"  # "42" is a number, not a name


def test_a_device_number_as_text_is_that_device(alsa, tmp_path: Path):
    """--input-device 1 and `input_device: 1` in a config file: the number
    `python -m sounddevice` lists, as the settings give it (text)."""
    res = run_py(
        """
        import json
        import sounddevice as sd
        from voiceassist.speech.mic import Microphone
        number = next(d["index"] for d in sd.query_devices() if d["name"] == "headset")
        with Microphone(str(number)) as mic:
            print(json.dumps({"name": mic.device_name, "block": len(mic.read(timeout=2.0))}))
        """,
        alsa,
        tmp_path,
    )
    assert res == {"name": "headset", "block": 960}


# --------------------------------------------------------------------------- real streams


def test_reads_16k_blocks_from_a_real_stream(alsa, tmp_path: Path):
    res = run_py(
        """
        import json
        from voiceassist.speech.mic import Microphone
        with Microphone("usbm", block_ms=30) as mic:     # by part of its name
            blocks = [mic.read(timeout=2.0) for _ in range(30)]
            res = {"name": mic.device_name, "rate": mic.device_rate, "sizes": sorted({len(b) for b in blocks}),
                   "dropped": mic.dropped, "overflows": mic.overflows}
        open("blocks.raw", "wb").write(b"".join(blocks))
        res["open_after_close"] = mic.is_open
        print(json.dumps(res))
        """.replace("blocks.raw", str(tmp_path / "blocks.raw")),
        alsa,
        tmp_path,
    )
    assert res["name"] == "usbmic" and res["rate"] == 16000
    assert res["sizes"] == [960]  # 30 ms of 16 kHz int16
    assert res["open_after_close"] is False
    got = np.fromfile(tmp_path / "blocks.raw", "<i2")
    want = wav_pcm(YES)
    n = min(len(got), len(want))
    assert n > 8000
    assert np.array_equal(got[:n], want[:n])  # the recording, sample for sample


def test_device_without_16k_is_resampled(alsa, tmp_path: Path):
    res = run_py(
        """
        import json, numpy as np, sounddevice as sd
        real_check = sd.check_input_settings
        def only_native_rate(device=None, samplerate=None, **kw):
            # as a USB headset that records at 44.1 kHz only
            if samplerate == 16000:
                raise sd.PortAudioError("Invalid sample rate")
            return real_check(device, samplerate=samplerate, **kw)
        sd.check_input_settings = only_native_rate
        from voiceassist.speech.mic import Microphone
        with Microphone("headset", block_ms=20) as mic:
            blocks = [mic.read(timeout=2.0) for _ in range(50)]
        x = np.frombuffer(b"".join(blocks), "<i2").astype(float)[1600:]
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        peak = float(np.fft.rfftfreq(len(x), 1 / 16000)[spectrum.argmax()])
        print(json.dumps({"rate": mic.device_rate, "sizes": sorted({len(b) for b in blocks}), "peak": peak}))
        """,
        alsa,
        tmp_path,
    )
    assert res["rate"] == 44100
    assert res["sizes"] == [640]  # exactly 20 ms at 16 kHz, whatever the resampler's chunking
    assert abs(res["peak"] - 440) < 5


def test_stream_dying_raises_and_reopen_recovers(alsa, tmp_path: Path):
    res = run_py(
        """
        import json
        from voiceassist.speech.mic import Microphone, MicrophoneError
        mic = Microphone("usbmic").open()
        first = len(mic.read(2.0))
        mic._stream.abort()                       # the stream goes inactive, as when unplugged
        error = None
        try:
            for _ in range(10000):
                mic.read(0.5)
        except MicrophoneError as e:
            error = str(e)
        mic.reopen()
        again = len(mic.read(2.0))
        mic.close()
        print(json.dumps({"first": first, "error": error, "again": again}))
        """,
        alsa,
        tmp_path,
    )
    assert res["first"] == 960 and res["again"] == 960
    assert res["error"] == "Microphone 'usbmic' stopped (unplugged?); You can use the keyboard instead: voiceassist text"


def test_shipped_virtual_alsa_config(tmp_path: Path):
    """tests/fixtures/alsa/virtual.conf: a microphone fed from a file and a speaker
    that writes to a file, for anyone who wants a real PortAudio stream."""
    pytest.importorskip("sounddevice")
    infile, outfile = tmp_path / "in.raw", tmp_path / "out.raw"
    wav_pcm(YES).tofile(infile)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "ALSA_CONFIG_PATH": str(ROOT / "tests" / "fixtures" / "alsa" / "virtual.conf"),
           "VOICEASSIST_ALSA_IN": str(infile), "VOICEASSIST_ALSA_OUT": str(outfile)}
    code = """
        import numpy as np
        from voiceassist.speech.mic import Microphone
        from voiceassist.speech.playback import Player
        with Microphone("vmic") as mic:
            heard = b"".join(mic.read(2.0) for _ in range(20))
        import sounddevice as sd
        # --output-device by its number, as `python -m sounddevice` lists it (text, as settings give it)
        player = Player(str(next(d["index"] for d in sd.query_devices() if d["name"] == "vspeaker")))
        player.play(np.frombuffer(heard, "<i2"), 16000)
        assert player.wait(10)
        player.close()
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    played = np.fromfile(outfile, "<i2")
    want = wav_pcm(YES)
    want = want[: min(len(want), 20 * 480)]
    # PortAudio primes the device with silence first: align on the first sound
    start = int(np.flatnonzero(played)[0]) - int(np.flatnonzero(want)[0])
    assert np.array_equal(played[start : start + len(want)], want)
