"""The endpointer alone: soft speech heard in noise, and noise alone not taken for speech.

    python benchmarks/endpointer.py --set tuning [--gates 30:6,150:6.5] [--voices ...] [--snr 6,10] [--alone fan,cafe]

heard: every recording of each voice (a bank's phrases and, for the corpus
voices, the sentences that are not answers), 5 placements in the set's fan
and babble (seeds 0-4), 1.5 s of the room first, as
voiceassist.bank.heard_by_endpointer does: how many the endpointer cut as an
utterance. Also how much longer each gate's utterance is than the frame
gate's (the end of an answer found later), median and 95th percentile.
false starts: 600 s of each of the set's noises alone at -30 and -20 dBFS:
how many times the endpointer started an utterance.

Each gate is an energy window and margin (EndpointSettings.energy_window_ms
and energy_margin_db), "150:6.5": 30 ms is one frame, "30:6" the gate before
the change, "150:6.5" the one after; ":silero" puts Silero VAD in
webrtcvad's place after the energy gate, ":both" beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sets  # noqa: E402


def gate(spec: str):
    """An Endpointer for "window:margin[:vad]": vad is webrtc (the endpointer's
    own), silero (Silero VAD, from faster-whisper's assets, in its place) or
    both (each must say speech)."""
    from voiceassist.speech.endpoint import EndpointSettings, Endpointer

    parts = spec.split(":")
    window, margin, vad = parts[0], parts[1] if len(parts) > 1 else "6", parts[2] if len(parts) > 2 else "webrtc"
    settings = EndpointSettings(energy_window_ms=int(window), energy_margin_db=float(margin))
    return Endpointer(settings) if vad == "webrtc" else SileroGate(settings, both=vad == "both")


def _silero_session():
    """Silero VAD v6, as faster-whisper ships it (assets/silero_vad_v6.onnx), one thread."""
    if not _SILERO:
        import faster_whisper
        import onnxruntime

        path = Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        _SILERO.append(onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"], sess_options=opts))
    return _SILERO[0]


_SILERO: list = []


class _Yes:
    def is_speech(self, pcm, rate) -> bool:
        return True


def SileroGate(settings, both: bool = False):
    """The endpointer with Silero VAD in place of webrtcvad (or, `both`, beside
    it): the energy gate as configured, then Silero's speech probability of
    the last 512-sample window (with its 64 samples of context, its state
    carried on), at least 0.5."""
    from voiceassist.speech.endpoint import Endpointer

    session = _silero_session()

    class Gate(Endpointer):
        def __init__(self):
            super().__init__(settings)
            if not both:
                self._vad = _Yes()  # the energy gate alone, then Silero
            self._audio = np.zeros(0, np.float32)
            self._state = np.zeros((2, 1, 128), np.float32)
            self._p = 0.0

        def _is_speech(self, pcm: bytes) -> bool:
            self._audio = np.concatenate([self._audio, np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0])
            while len(self._audio) >= 512 + 64:
                p, h, c = session.run(None, {"input": self._audio[None, :576], "h": self._state[:1],
                                             "c": self._state[1:]})
                self._state = np.concatenate([h, c])
                self._p = float(np.ravel(p)[0])
                self._audio = self._audio[512:]
            return super()._is_speech(pcm) and self._p >= 0.5

    return Gate()


def heard(voice: str, noise: np.ndarray, snr: float, window: str, placements: int = 5) -> tuple[int, int, list[int]]:
    """(recordings heard, tries, utterance lengths in samples, 0 when not heard)."""
    from voiceassist.bank import Bank, heard_by_endpointer
    from voiceassist.speech import audio
    folder = sets.voice_dir(voice)
    bank = Bank(folder)
    lengths = []
    for path in sorted(folder.glob("*.wav")):
        speech = audio.load_wav(path)
        for seed in range(placements):
            utterance, _ = heard_by_endpointer(speech, endpointer=gate(window), speech_rms=bank.speech_rms,
                                               noise=noise, snr_db=snr, seed=seed)
            lengths.append(len(utterance) // 2 if utterance else 0)
    return sum(1 for n in lengths if n), len(lengths), lengths


def false_starts(noise: np.ndarray, dbfs: float, window: str, seconds: float = 600.0) -> int:
    from voiceassist.speech.audio import blocks
    from voiceassist.speech.endpoint import SpeechStarted

    x = noise.astype(np.float64)
    x = x * (32768 * 10 ** (dbfs / 20)) / np.sqrt(np.mean(x ** 2))
    x = np.resize(x, int(seconds * 16000))
    endpointer = gate(window)
    starts = 0
    for block in blocks(np.clip(np.rint(x), -32768, 32767).astype(np.int16)):
        for event in endpointer.feed(block):
            starts += isinstance(event, SpeechStarted)
            if not isinstance(event, SpeechStarted):
                endpointer.reset()
    return starts


def main() -> None:
    from voiceassist.speech import audio

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", choices=sets.SETS, default="tuning")
    p.add_argument("--gates", default="30:6,150:6.5", help="window ms:margin dB, comma-separated (30:6: one frame)")
    p.add_argument("--alone", help="noises for the noise-alone runs (default: the set's fan and babble)")
    p.add_argument("--voices", help="comma-separated (default: every voice of the set)")
    p.add_argument("--snr", default="6,10")
    p.add_argument("--no-alone", action="store_true", help="skip the noise-alone runs")
    p.add_argument("--no-heard", action="store_true", help="only the noise-alone runs")
    args = p.parse_args()
    windows = args.gates.split(",")
    voices = args.voices.split(",") if args.voices else sets.voices(args.set)
    noises = {kind: sets.noise_names(args.set, kind)[0] for kind in ("fan", "babble")}
    alone = args.alone.split(",") if args.alone else list(noises.values())
    loaded = {name: audio.load_wav(sets.noise_path(name)) for name in [*noises.values(), *alone]}

    print(f"| voice | noise | SNR | " + " | ".join(f"heard, {w}" for w in windows) +
          " | " + " | ".join(f"longer than {windows[0]}: median / 95th pct." for w in windows[1:]) + " |")
    print("|---|---|---|" + "---|" * (2 * len(windows) - 1))
    for voice in [] if args.no_heard else voices:
        for kind, name in noises.items():
            for snr in (float(s) for s in args.snr.split(",")):
                got = [heard(voice, loaded[name], snr, w) for w in windows]
                cells = [f"{h}/{n}" for h, n, _ in got]
                base = got[0][2]
                for _, _, lengths in got[1:]:
                    both = [(b - a) / 16 for a, b in zip(base, lengths) if a and b]  # ms
                    both.sort()
                    cells.append(f"{statistics.median(both):.0f} / {both[int(0.95 * (len(both) - 1))]:.0f} ms"
                                 if both else "-")
                print(f"| {voice} | {name} | {snr:g} dB | " + " | ".join(cells) + " |", flush=True)
    if args.no_alone:
        return
    print("\n| noise alone, 600 s | level | " + " | ".join(f"speech starts, {w}" for w in windows) + " |")
    print("|---|---|" + "---|" * len(windows))
    for name in alone:
        noise = loaded[name]
        for dbfs in (-30.0, -20.0):
            print(f"| {name} | {dbfs:g} dBFS | " + " | ".join(str(false_starts(noise, dbfs, w)) for w in windows) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
