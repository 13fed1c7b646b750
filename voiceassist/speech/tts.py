"""Speech output: text -> 16-bit mono samples, with pyttsx3 (espeak-ng), cached.

pyttsx3 is only used to *synthesise*: ``save_to_file`` + ``runAndWait`` into a
temporary WAV, which is read back, so the audio can be cached and played (and
interrupted) by :mod:`voiceassist.speech.playback`. pyttsx3's own player
(``aplay`` through ``os.system``) blocks and cannot be stopped.

pyttsx3 and libespeak-ng are process-global and not thread-safe, and
``runAndWait`` is known to hang or to raise "run loop already started" (pyttsx3
issues #126, #131, #219). So every call goes to one daemon thread that owns the
engine; callers wait for it with a timeout and get a :class:`TTSError` with a
one-line message if it does not answer. While a timed-out call is still stuck,
later calls fail at once with the same kind of error instead of queueing behind
it; if it ever returns, synthesis works again.

Every sentence is cached in memory (LRU) and on disk (one WAV per sentence under
``~/.cache/voiceassist/tts``), keyed by engine, voice, rate and text, so a
question that was said once, or pre-synthesised by :meth:`Synthesiser.warm` at
start-up, starts at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import soundfile

log = logging.getLogger(__name__)

ENGINE = "pyttsx3-espeak"
CACHE_FORMAT = 1  # bump to invalidate every disk cache entry
# The speaking rate and its limits, for every part of the program (settings,
# "slower" and "faster"): slow and clear by default.
RATE_MIN, RATE_MAX = 80, 260  # words per minute
DEFAULT_RATE = 150
RATE_STEP = 20  # one "slower" / "faster"
DEFAULT_TIMEOUT_S = 20.0  # per sentence; synthesis takes ~10-50 ms normally
MEMORY_ITEMS = 512


class TTSError(RuntimeError):
    """Speech synthesis failed; ``str(error)`` is one line for the user."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voiceassist" / "tts"


def clamp_rate(wpm: float) -> int:
    return int(max(RATE_MIN, min(RATE_MAX, round(wpm))))


# --------------------------------------------------------------------------- engine thread


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
                samples, sr = _read_wav(path) if os.path.getsize(path) > 44 else (np.zeros(0, np.int16), 0)
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


# --------------------------------------------------------------------------- WAV helpers


def _read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """espeak-ng's 16-bit WAV (or a cached one) as int16 mono samples."""
    try:
        x, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise TTSError(f"{path}: {exc.error_string.rstrip('.')}") from None
    if x.shape[1] > 1:
        x = x.mean(axis=1).astype(np.int16)
    return np.ascontiguousarray(x[:, 0] if x.ndim == 2 else x), rate


def _write_wav_atomic(path: Path, samples: np.ndarray, rate: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    soundfile.write(str(tmp), samples.astype(np.int16, copy=False), rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- public API


class Synthesiser:
    """Text to speech with pyttsx3 (espeak-ng), cached in memory and on disk.

    >>> tts = Synthesiser(rate_wpm=150)
    >>> samples, rate = tts.synthesise("Does your calf hurt?")   # int16 mono, 22050 Hz

    ``voice``: an espeak-ng voice: id ("gmw/en-us"), language ("en-gb") or name,
    with an optional variant ("en-gb+f3"); None = espeak-ng's default.
    ``cache_dir``: None = ``~/.cache/voiceassist/tts`` (``$XDG_CACHE_HOME``);
    ``disk_cache=False`` keeps the cache in memory only.
    """

    engine_name = ENGINE

    def __init__(
        self,
        voice: str | None = None,
        rate_wpm: int = DEFAULT_RATE,
        cache_dir: Path | None = None,
        *,
        disk_cache: bool = True,
        memory_items: int = MEMORY_ITEMS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        fixed_only: bool = False,
    ) -> None:
        self.voice = voice
        # Privacy: with fixed_only, only the fixed sentences (those given to
        # warm()) are written to disk; sentences made for one consultation
        # ("This fits because your leg is swollen") stay in memory until
        # forget_dynamic() drops them.
        self.fixed_only = fixed_only
        self._fixed: set[str] = set()
        self._rate = clamp_rate(rate_wpm)
        self.cache_dir: Path | None = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        if not disk_cache:
            self.cache_dir = None
        self.timeout_s = float(timeout_s)
        self._memory: OrderedDict[str, tuple[np.ndarray, int]] = OrderedDict()
        self._memory_items = max(1, int(memory_items))
        self._lock = threading.Lock()
        self._tmpdir: str | None = None
        self.stats = {"memory_hits": 0, "disk_hits": 0, "synthesised": 0}

    # ---- rate
    @property
    def rate_wpm(self) -> int:
        return self._rate

    def set_rate(self, wpm: float) -> int:
        """Set the speaking rate, clamped to RATE_MIN-RATE_MAX wpm; returns the rate set."""
        self._rate = clamp_rate(wpm)
        return self._rate

    def change_rate(self, delta: float = -RATE_STEP) -> int:
        """"slower" = change_rate(-20), "faster" = change_rate(+20)."""
        return self.set_rate(self._rate + delta)

    # ---- cache
    def cache_key(self, text: str, rate_wpm: int | None = None) -> str:
        rate = self._rate if rate_wpm is None else clamp_rate(rate_wpm)
        key = {"format": CACHE_FORMAT, "engine": self.engine_name, "voice": (self.voice or "").strip().lower(),
               "rate": rate, "text": text.strip()}
        return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

    def _remember(self, key: str, samples: np.ndarray, rate: int) -> None:
        samples.flags.writeable = False
        with self._lock:
            self._memory[key] = (samples, rate)
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)

    def _disk_path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key[:40]}.wav" if self.cache_dir is not None else None

    def _load_disk(self, key: str) -> tuple[np.ndarray, int] | None:
        path = self._disk_path(key)
        if path is None or not path.is_file():
            return None
        try:
            samples, rate = _read_wav(path)
        except (OSError, TTSError) as exc:
            log.warning("ignoring unreadable TTS cache file %s: %s", path, exc)
            return None
        return (samples, rate) if samples.size else None

    def _save_disk(self, key: str, samples: np.ndarray, rate: int) -> None:
        path = self._disk_path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_wav_atomic(path, samples, rate)
        except OSError as exc:
            log.warning("TTS disk cache disabled (%s): %s", path.parent, exc)
            self.cache_dir = None

    def is_cached(self, text: str) -> bool:
        key = self.cache_key(text)
        if key in self._memory:
            return True
        path = self._disk_path(key)
        return path is not None and path.is_file()

    # ---- synthesis
    def synthesise(self, text: str) -> tuple[np.ndarray, int]:
        """Samples (read-only int16 mono array) and their sample rate."""
        text = " ".join(str(text).split())
        if not text:
            return np.zeros(0, np.int16), 22050
        key = self.cache_key(text)
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                self.stats["memory_hits"] += 1
                return hit
        hit = self._load_disk(key)
        if hit is not None:
            self.stats["disk_hits"] += 1
            self._remember(key, *hit)
            return hit
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="voiceassist-tts-")
        job = _synthesise_job(text, self.voice, self._rate, self._tmpdir)
        samples, rate, _ = _engine_thread().call(job, self.timeout_s, f"'{text[:40]}'")
        self.stats["synthesised"] += 1
        self._remember(key, samples, rate)
        if not self.fixed_only or text in self._fixed:
            self._save_disk(key, samples, rate)
        return samples, rate

    def forget_dynamic(self) -> int:
        """Drop from memory every sentence that is not a fixed one; returns
        how many were dropped. The kiosk calls it after each consultation."""
        keep = {self.cache_key(t) for t in self._fixed}
        with self._lock:
            gone = [k for k in self._memory if k not in keep]
            for k in gone:
                del self._memory[k]
        return len(gone)

    def warm(self, sentences: Iterable[str], progress: bool = True, stop: Callable[[], bool] | None = None) -> int:
        """Pre-synthesise sentences (at start-up, so questions start at once).
        A progress bar appears only if this takes more than a second. `stop`,
        asked between sentences, ends it early. Returns how many sentences
        were not cached yet."""
        todo = [s for s in dict.fromkeys(" ".join(str(s).split()) for s in sentences) if s]
        self._fixed.update(todo)
        fresh = 0
        bar = None
        if progress:
            try:
                from tqdm import tqdm

                # disable=None: on a terminal only, never "\r" updates into a log or the journal
                bar = tqdm(total=len(todo), desc="Preparing speech", unit="sentence", delay=1.0, leave=False,
                           disable=None)
            except ImportError:
                bar = None
        try:
            for s in todo:
                if stop is not None and stop():
                    break
                if not self.is_cached(s):
                    fresh += 1
                self.synthesise(s)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return fresh

    def voice_id(self) -> str:
        """The espeak-ng voice id the engine uses for ``self.voice``."""
        return _engine_thread().call(lambda w: w.resolve_voice(self.voice), self.timeout_s, "voice lookup")

    def close(self) -> None:
        if self._tmpdir is not None:
            try:
                for name in os.listdir(self._tmpdir):
                    os.unlink(os.path.join(self._tmpdir, name))
                os.rmdir(self._tmpdir)
            except OSError:
                pass
            self._tmpdir = None

    def __enter__(self) -> "Synthesiser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
