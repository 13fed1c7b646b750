"""The caption screen: what the kiosk's screen shows while a consultation runs.

    consultation ──► CaptionBoard (thread-safe state, version counter)
                          │  wait_for_change()
                          ▼
                     CaptionServer (captions_server.py) ──► the kiosk's browser

Privacy: a consultation is health information. `CaptionBoard.reset()` drops
everything of the previous person; the server (captions_server.py) keeps
nothing and serves loopback only.
"""

from __future__ import annotations

import collections
import logging
import secrets
import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .session.ports import Caption

log = logging.getLogger(__name__)

KINDS = ("say", "question", "instruction")
SAID_KEPT = 3  # sentences kept in `said`


class CaptionBoard:
    """What the screen shows, safe to update from any thread.

    Every change bumps `version` and wakes `wait_for_change`. States:
    "idle" (the welcome screen), "consulting", "outcome".

    - `assistant(text, "question")` sets the question shown in large print.
      A new question (a different text) clears `heard`, and drops from
      `said` what came before the previous question, so what is on screen is
      about this question. `said` keeps the last few sentences spoken, the
      question included (the page does not show it twice); the question
      given both by the kiosk (kind "question") and by the session's
      captions (kind "say") is kept once.
    - `heard(text)` drops a trailing confidence ("yes (0.93)" and
      "no (0.88, while I was speaking)" show as "yes", "no"): a public
      screen shows the word only.
    - `assistant(text, "instruction")` is an emergency instruction spoken
      before the outcome (more questions may follow): it is kept in `alert`
      and shown as the emergency banner until `reset()`.
    - `hint` (constructor), e.g. "You can say repeat, help, go back, or
      stop", is shown at the foot of the screen while consulting.
    - `status` is about the machine (microphone, speech output, a setting
      the kiosk cannot start with), not the person, so it survives
      `reset()`; `status(None)` clears it. On the welcome screen it takes the
      place of the idle text (nobody is invited to speak to a kiosk that
      cannot hear), with `detail` in small print for the operator.
    - `emergency` ("In an emergency, call 999.") is shown on the welcome
      screen, also when the kiosk is out of order.
    """

    def __init__(self, idle_text: str = "Say “hello” to start.", hint: str | None = None,
                 said_kept: int = SAID_KEPT, emergency: str | None = None):
        self.idle_text = idle_text
        self.emergency = emergency
        self.hint = hint  # shown at the foot of the screen during a consultation
        self._cond = threading.Condition()
        self._said: collections.deque[str] = collections.deque(maxlen=said_kept)
        self._id = secrets.token_hex(4)  # lets the page tell a new board (server restart) apart
        self._version = 0
        self._status: str | None = None
        self._detail: str | None = None
        self._clear()

    def _clear(self) -> None:
        self._state = "idle"
        self._question: str | None = None
        self._heard: str | None = None
        self._alert: str | None = None
        self._outcome: dict[str, Any] | None = None
        self._said.clear()

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    # -- updates ----------------------------------------------------------------

    def reset(self) -> None:
        """A new person: back to the welcome screen, nothing of the last one kept."""
        with self._cond:
            self._clear()
            self._changed()

    def assistant(self, text: str, kind: str = "say") -> None:
        if kind not in KINDS:
            raise ValueError(f"caption kind must be one of {', '.join(KINDS)}, not {kind!r}")
        text = _clean(text)
        with self._cond:
            if self._state == "idle":
                self._state = "consulting"
            if kind == "question":
                if text != self._question:
                    self._heard = None
                    self._drop_said_through(self._question)
                self._question = text
            elif kind == "instruction":
                self._alert = text
            repeat = kind == "say" and text == self._question and text in self._said
            if not repeat and (not self._said or self._said[-1] != text):
                self._said.append(text)
            self._changed()

    def _drop_said_through(self, question: str | None) -> None:
        """Keep only what was said after the previous question."""
        items = list(self._said)
        if question in items:
            last = len(items) - 1 - items[::-1].index(question)
            self._said.clear()
            self._said.extend(items[last + 1:])

    def heard(self, text: str) -> None:
        with self._cond:
            if self._state == "idle":
                self._state = "consulting"
            self._heard = _clean(text)
            self._changed()

    def status(self, text: str | None, detail: str | None = None) -> None:
        with self._cond:
            self._status = _clean(text) if text else None
            self._detail = _clean(detail) if text and detail else None
            self._changed()

    def welcome(self, idle_text: str, emergency: str | None) -> None:
        """Set what the welcome screen says (once the prompts are loaded)."""
        with self._cond:
            self.idle_text, self.emergency = _clean(idle_text), _clean(emergency) if emergency else None
            self._changed()

    def outcome(self, level: str, instruction: str, sentences: list[str], emergency: bool) -> None:
        with self._cond:
            self._state = "outcome"
            self._question = None
            self._heard = None
            self._said.clear()  # from now on: what is said after the outcome (an offer, goodbye)
            self._outcome = {
                "level": str(level),
                "instruction": _clean(instruction),
                "sentences": [_clean(s) for s in sentences],
                "emergency": bool(emergency),
            }
            if emergency:
                self._alert = None  # the outcome's banner replaces it
            self._changed()

    # -- reading ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "board": self._id,
            "version": self._version,
            "state": self._state,
            "idle_text": self.idle_text,
            "emergency": self.emergency,
            "hint": self.hint,
            "question": self._question,
            "heard": self._heard,
            "said": list(self._said),
            "alert": self._alert,
            "status": self._status,
            "detail": self._detail,
            "outcome": None if self._outcome is None else {
                **self._outcome, "sentences": list(self._outcome["sentences"])},
        }

    def wait_for_change(self, version: int, timeout: float | None = None) -> dict[str, Any]:
        """The snapshot as soon as the version differs from `version`, or the
        current one when `timeout` seconds pass first."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version, timeout)
            return self._snapshot()


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def board_captions(board: CaptionBoard) -> Callable[[Caption], None]:
    """The session's captions (session/ports.py, Caption) onto the board.

    "assistant" -> `board.assistant`, as the question when the sentence asks
    one of the triage's questions (not a read-back or the offer), "heard" ->
    `board.heard` (the phrase only: no confidence on a public screen),
    "status" -> `board.status`. Anything else is ignored: a caption must
    never stop a consultation.
    """

    def captions(caption: Caption) -> None:
        if caption.who == "assistant":
            board.assistant(caption.text, "question" if caption.asks in ("yes_no", "choice") else "say")
        elif caption.who == "heard":
            board.heard(caption.text)
        elif caption.who == "status":
            board.status(caption.text)
        else:
            log.debug("caption from unknown source %r ignored", caption.who)

    return captions
