"""Speech output: text -> 16-bit mono samples, with pyttsx3 (espeak-ng), cached.

pyttsx3 is only used to *synthesise*: ``save_to_file`` + ``runAndWait`` into a
temporary WAV, which is read back, so the audio can be cached and played (and
interrupted) by :mod:`voiceassist.speech.playback`. pyttsx3's own player
(``aplay`` through ``os.system``) blocks and cannot be stopped.

pyttsx3 and libespeak-ng are process-global and not thread-safe: every call
goes to the one thread that owns the engine (espeak_worker.py), and fails as
a one-line :class:`TTSError` if it does not answer in time.

Every sentence is cached in memory (LRU) and on disk (one WAV per sentence under
``~/.cache/voiceassist/tts``), keyed by engine, voice, rate and text, so a
question that was said once, or pre-synthesised by :meth:`Synthesiser.warm` at
start-up, starts at once.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .audio import AudioFormatError, read_pcm16, save_wav
from .espeak_worker import TTSError, _engine_thread, _synthesise_job  # noqa: F401 - TTSError is this module's too

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
# Synthesisers with a working folder, and the deletions of those closed. One
# still alive as the program ends (held by a traceback, or a global) was never
# collected, or collected once the engine thread (a daemon) had stopped: its
# folder stayed in /tmp and its close waited out the timeout. _close_at_exit.
_open: "weakref.WeakSet[Synthesiser]" = weakref.WeakSet()
_removing: list[Future] = []


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voiceassist" / "tts"


def clamp_rate(wpm: float) -> int:
    return int(max(RATE_MIN, min(RATE_MAX, round(wpm))))


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
    _tmpdir: str | None = None  # on the class: __del__ also meets objects a stop left half-made

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
            samples, rate = read_pcm16(path)
        except (OSError, AudioFormatError) as exc:
            log.warning("ignoring unreadable TTS cache file %s: %s", path, exc)
            return None
        return (samples, rate) if samples.size else None

    def _save_disk(self, key: str, samples: np.ndarray, rate: int) -> None:
        path = self._disk_path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_wav(path, samples.astype(np.int16, copy=False), rate, atomic=True)
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
            _open.add(self)
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
            from tqdm import tqdm  # a dependency

            # disable=None: on a terminal only, never "\r" updates into a log or the journal
            bar = tqdm(total=len(todo), desc="Preparing speech", unit="sentence", delay=1.0, leave=False,
                       disable=None)
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

    def close(self, wait: bool = True) -> None:
        # The folder goes on the engine thread, after the sentence in flight (a kiosk
        # stopped mid-sentence: deleted at once, pyttsx3 printed a traceback).
        tmpdir, self._tmpdir = self._tmpdir, None
        _open.discard(self)
        if tmpdir is not None:
            removed = _engine_thread().post(lambda _: shutil.rmtree(tmpdir, ignore_errors=True))
            _removing[:] = [f for f in _removing if not f.done()] + [removed]
            if wait:
                wait_for([removed], self.timeout_s)  # stuck or slow: it goes when the sentence ends, or stays

    def __enter__(self) -> "Synthesiser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # Never waits: the garbage collector can run this inside a call to the
        # engine thread, which holds its lock (waiting there deadlocked a test run).
        self.close(wait=False)


@atexit.register
def _close_at_exit() -> None:
    """Close every Synthesiser still alive, and let the engine thread delete
    the folders of those closed without waiting, before the program ends
    (then the engine thread, a daemon, stops: a folder still to delete stays)."""
    for tts in list(_open):
        tts.close(wait=False)
    wait_for(_removing, 5.0)
