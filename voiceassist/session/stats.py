"""What a consultation measures of itself: timings and counts, never words."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Stats:
    latencies_s: list[float] = field(default_factory=list)  # end of answer -> next sentence ready
    barge_ins: int = 0
    first_sentence_ready_s: float | None = None
    first_question_ready_s: float | None = None
    _answer_end = None  # when the last answer ended (time.monotonic), until the next sentence is ready

    def answered(self) -> None:
        """An answer has just been heard (listening or barge-in)."""
        self._answer_end = time.monotonic()

    def sentence_ready(self, started: float, asks: bool) -> None:
        """A turn's first sentence is ready to play; `asks`: the turn ends in a question."""
        now = time.monotonic()
        if self._answer_end is not None:
            self.latencies_s.append(now - self._answer_end)
            self._answer_end = None
        if self.first_sentence_ready_s is None:
            self.first_sentence_ready_s = now - started
        if self.first_question_ready_s is None and asks:
            # The first question is the last sentence of the first turn; it is
            # ready when its audio is (cached sentences cost nothing).
            self.first_question_ready_s = now - started
