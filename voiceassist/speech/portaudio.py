"""The one import of sounddevice (PortAudio), for the microphone and the
speaker alike: a machine without PortAudio gets a one-line error saying what
to install, raised as the caller's own error type, never an ImportError or
OSError traceback."""

from __future__ import annotations


def sounddevice(error: type[Exception], hint: str = ""):
    """The sounddevice module, or `error` (one line, `hint` after it)."""
    after = f". {hint}" if hint else ""
    try:
        import sounddevice as sd
    except OSError:  # sounddevice raises OSError on import when libportaudio is missing
        raise error(f"PortAudio library not found: apt-get install libportaudio2{after}") from None
    except ImportError:
        raise error(f"sounddevice (PortAudio) is not available: pip install sounddevice, "
                    f"apt-get install libportaudio2{after}") from None
    return sd
