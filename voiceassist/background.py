"""Background tasks: work done beside a consultation, in daemon threads,
that can never print a traceback or outlive the program half-done.

Two ways a background thread used to break a user's session:
- it raised, and Python's default thread hook printed a traceback;
- the program ended while the thread was still importing a library: Python
  refuses new `atexit` registrations once it starts shutting down, so an
  import of `concurrent.futures.process` (which noisereduce's joblib pulls in)
  raised "can't register atexit after shutdown" from the thread, with a
  traceback (seen when `voiceassist run` found no microphone at once).

So every task of ours starts here: a failure is logged as one line and kept
(`failure()`), and the command line waits for tasks still running
(`wait()`) before it returns, while the interpreter is still whole.
`install_hooks()` gives threads that are not ours (libraries') the same
one-line report, and keeps a stop (Ctrl-C, the kiosk's SIGTERM) that lands
where Python cannot raise it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Callable

from .errors import with_kind

log = logging.getLogger(__name__)

_lock = threading.Lock()
_running: list[threading.Thread] = []
_failures: list[str] = []
# Set when the program is ending: a long task (preparing speech) stops early.
stopping = threading.Event()


class TaskFailed(RuntimeError):
    """A background task died: the consultation ends safely (one-line message)."""


def start(name: str, target: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
    """Run `target(*args, **kwargs)` in a daemon thread called `name`."""

    def run() -> None:
        try:
            target(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported in one line, and kept for the consultation
            message = f"background task {name} failed: {with_kind(exc)}"
            log.error(message)
            with _lock:
                _failures.append(message)
        finally:
            with _lock:
                if thread in _running:
                    _running.remove(thread)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _lock:
        _running.append(thread)
    thread.start()
    return thread


def failure() -> str | None:
    """The first background failure not yet taken, or None. Taking it clears
    it: one failure ends one consultation, not every one after it."""
    with _lock:
        return _failures.pop(0) if _failures else None


def wait(timeout_s: float = 10.0) -> bool:
    """Ask the tasks still running to stop, and wait for them; True when none is left."""
    stopping.set()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with _lock:
                running = list(_running)
            if not running:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            running[0].join(timeout=left)
    finally:
        stopping.clear()  # main() may be called again in the same process (tests)


def take_stop() -> None:
    """The program has acted on a stop (Ctrl-C, the kiosk's SIGTERM) and is
    ending: from now on SIGINT and SIGTERM are ignored. A stop can reach the
    program twice: once where it was raised and lost (a weakref callback),
    then sent again by `install_hooks`; and the kiosk also finds it between
    two stages of loading (kiosk._stop_if_asked). The copy that arrived after
    the first had been acted on ended the kiosk a second time, after it had
    printed "stopped" (CI: exit -2, once in twenty stops). Called from the
    main thread, in the `except KeyboardInterrupt` that takes the stop."""
    import signal

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    # A stop that landed inside code run from a string (exec: dataclasses and
    # pydantic build their classes so, often while the kiosk loads) sets
    # CPython's "unhandled KeyboardInterrupt" flag although it was caught
    # here, and `python -m voiceassist` then ends by killing itself with
    # SIGINT after printing "stopped" (CI: exit -2, 1 in 60 stops). The flag
    # is cleared each time a string is run: run one.
    exec("None")


def install_hooks() -> None:
    """Any thread that dies of an exception is reported in one line, not a
    traceback. A KeyboardInterrupt (Ctrl-C, or the kiosk's SIGTERM) that
    lands in a weakref callback or a __del__ cannot be raised there: Python
    prints "Exception ignored ... Traceback" and drops it, and the stop is
    lost (CI met it once in twenty kiosk stops). It is delivered again
    instead, quietly, as a SIGINT (or, when SIGINT is ignored, the kiosk's
    SIGTERM: `send_stop`) to the main thread from another thread
    (raised in the hook itself, it would land in the hook; sent to the
    thread, it also wakes a sleep or a read), and reaches its own code.

    The sending thread is started with `_thread`, which does not wait for it
    to run: `threading.Timer.start` does, in Python code inside the hook, and
    on a loaded machine the main thread was still waiting there when the stop
    was sent, so it landed in the hook and was lost again (3 of 36 stops with
    every core busy, measured; none after). A stop that lands in the hook all
    the same is sent once more."""
    import _thread
    import signal

    def send_stop(main: int) -> None:
        time.sleep(0.01)  # the main thread leaves the hook first
        # As a SIGINT, unless the program was started with SIGINT ignored (a
        # background job of a script, `nohup ... &`): then as the SIGTERM the
        # kiosk handles (kiosk.stop_on_sigterm). Neither, once the program
        # has acted on a stop (take_stop).
        handled = [s for s in (signal.SIGINT, signal.SIGTERM) if callable(signal.getsignal(s))]
        if handled:
            signal.pthread_kill(main, handled[0])

    def unraisable_hook(unraisable) -> None:
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            sys.__unraisablehook__(unraisable)
            return
        while True:
            try:
                _thread.start_new_thread(send_stop, (threading.main_thread().ident,))
                return
            except KeyboardInterrupt:
                pass  # the stop sent before landed here, in the hook: send it again

    sys.unraisablehook = unraisable_hook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        print(f"voiceassist: error: {name} stopped: {with_kind(args.exc_value) or args.exc_type.__name__}",
              file=sys.stderr, flush=True)
        log.debug("thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    threading.excepthook = hook
