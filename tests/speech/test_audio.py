"""Audio conversion: real WAV files in the formats microphones and tools write."""

from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest

from voiceassist.speech.audio import (SAMPLE_RATE, AudioFormatError, active_rms, blocks, load_wav,
                                      mix_at_snr, save_wav, to_mono16k)


def _write_pcm(path, data: np.ndarray, rate: int, width: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if data.ndim == 1 else data.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def _sine(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.sin(2 * np.pi * freq * t)


def test_44k1_stereo_loads_as_16k_mono(tmp_path):
    left = (_sine(1.0, 44100) * 16000).astype(np.int16)
    stereo = np.stack([left, left // 2], axis=1)
    path = tmp_path / "stereo.wav"
    _write_pcm(path, stereo, 44100, 2)
    x = load_wav(path)
    assert x.dtype == np.int16 and x.ndim == 1
    assert len(x) == SAMPLE_RATE
    # channels averaged: amplitude 0.75 of the left one
    assert 0.7 * 16000 < np.abs(x[1000:-1000]).max() < 0.8 * 16000


def test_8k_8bit_loads_as_16k(tmp_path):
    u8 = (128 + _sine(0.5, 8000) * 100).astype(np.uint8)  # 8-bit WAV is unsigned
    path = tmp_path / "phone.wav"
    _write_pcm(path, u8, 8000, 1)
    x = load_wav(path)
    assert len(x) == SAMPLE_RATE // 2
    assert abs(int(np.mean(x))) < 200  # centred: the 128 offset is removed
    assert 0.95 * 25600 < np.abs(x[500:-500]).max() < 1.05 * 25600  # 100/128 of full scale


def test_24bit_and_float_wavs_from_sox(tmp_path):
    for args in (["-b", "24"], ["-e", "floating-point", "-b", "32"], ["-b", "32"]):
        path = tmp_path / "sox.wav"
        subprocess.run(["sox", "-n", "-r", "22050", "-c", "2", *args, str(path), "synth", "0.25", "sine", "300"],
                       check=True, capture_output=True)
        x = load_wav(path)
        assert len(x) == SAMPLE_RATE // 4, args
        assert np.abs(x).max() > 20000, args


def test_save_and_load_roundtrip_is_exact(tmp_path):
    x = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 3000).astype(np.int16)
    save_wav(tmp_path / "a.wav", x)
    assert np.array_equal(load_wav(tmp_path / "a.wav"), x)


@pytest.mark.parametrize("content, problem", [
    (b"this is a text file, not audio\n", "not a WAV file"),
    (b"", "empty"),
])
def test_non_wav_files_are_refused_with_one_line(tmp_path, content, problem):
    path = tmp_path / "notes.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFormatError) as err:
        load_wav(path)
    message = str(err.value)
    assert "\n" not in message and "notes.wav" in message and problem in message


def test_truncated_wav_is_refused(tmp_path):
    x = (_sine(0.5, 16000) * 8000).astype(np.int16)
    path = tmp_path / "cut.wav"
    save_wav(path, x)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioFormatError, match="truncated"):
        load_wav(path)
    path.write_bytes(data[:30])  # cut inside the header
    with pytest.raises(AudioFormatError):
        load_wav(path)


def test_to_mono16k_accepts_float_and_int_arrays():
    f = np.stack([_sine(0.5, 48000), _sine(0.5, 48000)], axis=1).astype(np.float32) * 0.5
    x = to_mono16k(f, 48000)
    assert x.dtype == np.int16 and len(x) == 8000
    assert 0.45 * 32768 < np.abs(x[200:-200]).max() < 0.55 * 32768
    i32 = (_sine(0.1, 16000) * 2**30).astype(np.int32)
    assert np.abs(to_mono16k(i32, 16000)).max() == pytest.approx(16384, abs=2)


def test_blocks_are_30ms_and_the_last_is_padded():
    x = np.arange(1000, dtype=np.int16)
    out = list(blocks(x, 30))
    assert [len(b) for b in out] == [960, 960, 960]  # 480 samples each
    assert np.array_equal(np.frombuffer(b"".join(out), np.int16)[:1000], x)
    assert not any(np.frombuffer(out[-1], np.int16)[1000 - 960:])


def test_mix_at_snr_hits_the_requested_ratio():
    rng = np.random.default_rng(3)
    speech = np.concatenate([np.zeros(8000), _sine(1.0, 16000) * 8000, np.zeros(8000)]).astype(np.int16)
    noise = rng.standard_normal(5000) * 1000  # shorter than speech: it is looped
    for snr in (0, 10, 20):
        mixed = mix_at_snr(speech, noise, snr, np.random.default_rng(snr))
        added = mixed.astype(float) - speech
        measured = 20 * np.log10(active_rms(speech) / np.sqrt(np.mean(added ** 2)))
        assert measured == pytest.approx(snr, abs=0.2)
    loud = mix_at_snr(speech * 4, noise, -10, rng)  # would clip: scaled down instead
    assert np.abs(loud).max() <= 32767


def test_a_streaming_writers_wav_and_other_formats_load(tmp_path):
    """libsndfile reads what the hand-written parser did not: a length left
    unknown by a streaming writer (arecord to a pipe), FLAC."""
    import soundfile

    x = (_sine(0.5, 16000) * 8000).astype(np.int16)
    path = tmp_path / "stream.wav"
    save_wav(path, x)
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = b"\xff\xff\xff\xff"  # RIFF and data sizes unknown
    path.write_bytes(bytes(data))
    assert np.array_equal(load_wav(path), x)
    soundfile.write(tmp_path / "a.flac", x, 16000)
    assert np.array_equal(load_wav(tmp_path / "a.flac"), x)


def test_wav_io_is_libsndfiles():
    """One WAV reader and writer (libsndfile), not a hand-written RIFF parser."""
    import inspect

    from voiceassist.speech import audio, playback, tts

    for module in (audio, tts, playback):
        source = inspect.getsource(module)
        assert "import wave" not in source and "struct.unpack" not in source, module.__name__
