import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The project's own example cases (the public vignettes): nothing here reads
# outside the repository, since a user's clone has nothing beside it.
VIGNETTES = ROOT / "examples" / "vignettes.yaml"
# The assistant's synthesised sentences, kept between tests, pytest-xdist's
# workers and runs: each sentence is synthesised once, not once a module.
# (A replay's outcome does not depend on which run synthesised them: the
# virtual microphone's clock ignores the speech's length.)
SPEECH_CACHE = ROOT / ".pytest_cache" / "speech"


@pytest.fixture(scope="session")
def rules_and_prompts():
    from voiceassist.triage.rules import load

    return load()


@pytest.fixture(scope="session")
def rules(rules_and_prompts):
    return rules_and_prompts[0]


@pytest.fixture(scope="session")
def prompts(rules_and_prompts):
    return rules_and_prompts[1]


@pytest.fixture(scope="session")
def recogniser():
    """The real pocketsphinx recogniser, loaded once a session (a worker)."""
    from voiceassist.speech.pocketsphinx_engine import PocketsphinxRecogniser

    return PocketsphinxRecogniser()


@pytest.fixture(scope="session")
def tts():
    """The real speech output (pyttsx3 + espeak-ng), with the shared cache."""
    from voiceassist.speech.tts import Synthesiser

    return Synthesiser(cache_dir=SPEECH_CACHE)


def run_cli(*args, cwd=None):
    """Run the installed command line as a user would, in a subprocess."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "voiceassist", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )


def _espeak(folder, text: str, voice: str = "en-us", speed: int = 175):
    """Real speech: espeak-ng writes a WAV (22,050 Hz), load_wav makes it 16 kHz mono."""
    import subprocess

    from voiceassist.speech.audio import load_wav

    path = folder / f"{abs(hash((text, voice, speed)))}.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
                       check=True, capture_output=True)
    return load_wav(path)


@pytest.fixture(scope="module")
def speak(tmp_path_factory):
    folder = tmp_path_factory.mktemp("espeak")
    return lambda text, voice="en-us", speed=175: _espeak(folder, text, voice, speed)


def silence(seconds: float):
    import numpy as np

    return np.zeros(int(seconds * 16000), np.int16)
