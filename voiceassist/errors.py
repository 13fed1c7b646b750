"""The one-line text of an exception, wherever one is shown or logged.

A person at a kiosk, the journal and a terminal all get one line, never a
traceback: the message with its whitespace (a library's newlines included)
folded, or the exception's class name when it has no message.
"""

from __future__ import annotations


def one_line(exc: BaseException | None) -> str:
    """`exc`'s message on one line; its class name when the message is empty."""
    if exc is None:
        return ""
    return " ".join(str(exc).split()) or type(exc).__name__


def with_kind(exc: BaseException | None) -> str:
    """"ValueError: the message": for a fault that is ours, not the user's,
    where the kind of exception says where to look."""
    if exc is None:
        return ""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
