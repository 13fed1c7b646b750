"""pyttsx3 (espeak-ng) on one thread of its own, for speech output (tts.py).

pyttsx3 and libespeak-ng are process-global and not thread-safe, and
``runAndWait`` is known to hang or to raise "run loop already started" (pyttsx3
issues #126, #131, #219). So every call goes to one daemon thread that owns the
engine; callers wait for it with a timeout and get a :class:`TTSError` with a
one-line message if it does not answer. While a timed-out call is still stuck,
later calls fail at once with the same kind of error instead of queueing behind
it; if it ever returns, synthesis works again.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable

import numpy as np

from .audio import AudioFormatError, read_pcm16

log = logging.getLogger("voiceassist.speech.tts")


class TTSError(RuntimeError):
    """Speech synthesis failed; ``str(error)`` is one line for the user."""


class _EngineThread:
    """One daemon thread that owns the pyttsx3 engine and runs jobs in order."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable, Future]] = queue.SimpleQueue()
        self._engine = None
        self._default_voice = ""
        self._voices: list | None = None
        self._stuck: Future | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="voiceassist-tts", daemon=True)
        self._thread.start()

    # ---- called from any thread
    def call(self, fn: Callable, timeout: float, what: str):
        with self._lock:
            if self._stuck is not None and not self._stuck.done():
                raise TTSError(f"Speech synthesis is stuck (pyttsx3 has not returned from {what}); restart voiceassist")
            self._stuck = None
            fut: Future = Future()
            self._jobs.put((fn, fut))
        try:
            return fut.result(timeout=timeout)
        except FutureTimeout:
            with self._lock:
                self._stuck = fut
            raise TTSError(
                f"Speech synthesis timed out after {timeout:g} s (pyttsx3/espeak-ng hung on {what}); restart voiceassist"
            ) from None

    def post(self, fn: Callable) -> Future:
        """Queue a job without waiting for it or taking the lock: safe where
        `call` is not, in a __del__ the garbage collector runs inside `call`
        (SimpleQueue.put is reentrant) or on this thread."""
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut

    # ---- engine thread
    def _loop(self) -> None:
        while True:
            fn, fut = self._jobs.get()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(self))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

    def engine(self):
        if self._engine is None:
            self._engine = _start_engine()
            self._default_voice = str(self._engine.getProperty("voice") or "")
        # A run loop left open by an earlier failure makes every later
        # runAndWait raise "run loop already started": close it first.
        if getattr(self._engine, "_inLoop", False):
            log.warning("pyttsx3 run loop was left open; ending it")
            try:
                self._engine.endLoop()
            except Exception:  # noqa: BLE001
                self._engine._inLoop = False
            # endLoop leaves the driver marked busy: a new voice would only be
            # queued, and the next sentence refused ("espeak-ng refused
            # voice"). runAndWait ends so; an empty one here would speak the
            # last sentence again, into a file that is gone.
            self._engine.proxy.setBusy(False)
        return self._engine

    def resolve_voice(self, voice: str | None) -> str:
        """An espeak-ng voice id pyttsx3 accepts, from an id, a language code or
        a name, with an optional ``+variant``: "en-gb+f3" -> "gmw/en+f3"."""
        eng = self.engine()
        if not voice:
            return self._default_voice
        base, plus, variant = voice.strip().partition("+")
        want = base.lower()
        if self._voices is None:
            self._voices = list(eng.getProperty("voices"))
        found = None
        for match in (
            lambda v: v.id.lower() == want,
            lambda v: v.id.lower().rsplit("/", 1)[-1] == want,
            lambda v: want in [str(lang).lower() for lang in (v.languages or [])],
            lambda v: str(v.name).lower() in (want, want.replace("_", " ")),
        ):
            found = next((v for v in self._voices if match(v)), None)
            if found:
                break
        if found is None:
            names = sorted({v.id.rsplit("/", 1)[-1] for v in self._voices if v.id.rsplit("/", 1)[-1].startswith("en")})
            raise TTSError(f"Unknown voice '{voice}'; English voices: {', '.join(names)}")
        return found.id.lower() + (plus + variant.lower() if variant else "")


def _quiet_print(*args, **kwargs) -> None:
    log.debug("pyttsx3: %s", " ".join(str(a) for a in args))


def _start_engine():
    try:
        import pyttsx3
    except ImportError:
        raise TTSError("pyttsx3 is not installed: pip install pyttsx3") from None
    try:
        engine = pyttsx3.init("espeak")
    except (OSError, RuntimeError, ImportError) as exc:
        if "espeak" in str(exc).lower() or isinstance(exc, OSError):
            raise TTSError("espeak-ng not found (pyttsx3 needs libespeak-ng): apt-get install espeak-ng") from None
        raise TTSError(f"Cannot start pyttsx3: {exc}") from None
    # save_to_file prints "Audio saved to ..." on stdout; send it to the log.
    import pyttsx3.drivers.espeak as driver

    driver.print = _quiet_print
    # The driver starts "busy" and queues property changes until a run loop
    # runs once; an empty runAndWait makes setProperty take effect at once.
    engine.runAndWait()
    return engine


def _synthesise_job(text: str, voice: str | None, rate: int, tmpdir: str) -> Callable:
    def job(worker: _EngineThread) -> tuple[np.ndarray, int, str]:
        eng = worker.engine()
        voice_id = worker.resolve_voice(voice)
        espeak = _espeak_module()
        # pyttsx3 runs libespeak-ng in its asynchronous mode: SetParameter is
        # queued to espeak's own thread, and the espeak_Cancel that pyttsx3
        # calls when its loop ends (if espeak is still busy) resets the rate.
        # Without waiting for espeak to be idle, rate changes randomly get lost.
        espeak.Synchronize()
        eng.setProperty("voice", voice_id)
        if str(eng.getProperty("voice") or "").lower() != voice_id:
            raise TTSError(f"espeak-ng refused voice '{voice}' ({voice_id})")
        eng.setProperty("rate", int(rate))
        espeak.Synchronize()
        fd, path = tempfile.mkstemp(suffix=".wav", dir=tmpdir)
        os.close(fd)
        try:
            for attempt in (1, 2):
                os.truncate(path, 0)
                eng.save_to_file(text, path)
                eng.runAndWait()
                try:
                    samples, sr = read_pcm16(path) if os.path.getsize(path) > 44 else (np.zeros(0, np.int16), 0)
                except AudioFormatError as exc:
                    raise TTSError(str(exc)) from None
                if samples.size:
                    return samples, sr, voice_id
                log.warning("pyttsx3 wrote an empty file for %r (attempt %d)", text, attempt)
            raise TTSError(f"pyttsx3 wrote no audio for {text[:40]!r}")
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass

    return job


def _espeak_module():
    import pyttsx3.drivers._espeak as espeak

    return espeak


_worker: _EngineThread | None = None
_worker_lock = threading.Lock()


def _engine_thread() -> _EngineThread:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _EngineThread()
        return _worker
