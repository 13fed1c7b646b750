"""The caption board and its server: state, reset, loopback only."""

import json
import urllib.request

import pytest

from voiceassist.captions import CaptionBoard, CaptionServer, board_captions


def test_reset_drops_everything_of_the_person():
    board = CaptionBoard(idle_text="Say hello to start.")
    board.assistant("Is the painful leg swollen?", kind="question")
    board.heard("yes")
    board.status("The microphone is not working. Trying again.")
    board.outcome("emergency", "Go to an emergency department now.", ["Go to an emergency department now."], True)
    snap = board.snapshot()
    assert snap["state"] == "outcome" and snap["outcome"]["emergency"] is True
    board.reset()
    snap = board.snapshot()
    assert snap["state"] == "idle"
    assert not snap["question"] and not snap["heard"] and not snap["outcome"] and not snap["said"]
    assert "swollen" not in json.dumps(snap) and "emergency department" not in json.dumps(snap)


def test_session_captions_adapter():
    board = CaptionBoard()
    captions = board_captions(board)
    captions("assistant", "Hello.")
    captions("heard", "yes")
    snap = board.snapshot()
    assert "Hello." in snap["said"] and snap["heard"] == "yes"


def test_server_serves_state_on_loopback_only():
    board = CaptionBoard()
    with CaptionServer(board, port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        board.assistant("Where is the pain worst?", kind="question")
        state = json.loads(urllib.request.urlopen(server.url + "state", timeout=5).read())
        assert state["question"] == "Where is the pain worst?"
        page = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert "<html" in page.lower()
    with pytest.raises(ValueError):
        CaptionServer(board, host="0.0.0.0", port=0)
