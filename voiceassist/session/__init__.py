"""One spoken consultation (loop.py), and what it hears and speaks with.

    ports.py      what it is given: AudioIn, Speaker, Synthesiser, captions
    listening.py  hear the room, listen for one answer, Recognition -> Heard
    speaking.py   synthesise, play, pause; slower / faster / louder / quieter
    barge_in.py   an answer spoken over a question, the assistant's echo taken out
    loop.py       Consultation: the turn loop and the safe ending
"""

from .barge_in import BARGE_IN_RECHECK_S, BargeIn
from .listening import BLOCK_MS, ROOM_LISTEN_S, Listening
from .loop import Consultation, Hooks, TooManyTurns
from .ports import AudioIn, Caption, Captions, Speaker, Synthesiser, print_captions
from .speaking import SENTENCE_PAUSE_S, Speaking
from .stats import Stats

__all__ = ["AudioIn", "BARGE_IN_RECHECK_S", "BLOCK_MS", "BargeIn", "Caption", "Captions", "Consultation", "Hooks",
           "Listening", "ROOM_LISTEN_S", "SENTENCE_PAUSE_S", "Speaker", "Speaking", "Stats", "Synthesiser",
           "TooManyTurns", "print_captions"]
