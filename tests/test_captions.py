"""The caption screen's state (CaptionBoard) and its loopback server."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from importlib import resources

import pytest

from voiceassist.captions import CaptionBoard, board_captions
from voiceassist.captions_server import CaptionServer
from voiceassist.session import Caption

IDLE = "Say “hello” to start."
QUESTION = "Is the pain mostly in your calf?"
INSTRUCTION = "Go to an emergency department now. Do not wait to see if it gets better."


# -- the board ---------------------------------------------------------------------


def test_new_board_is_idle_and_json_serialisable():
    b = CaptionBoard(idle_text=IDLE)
    s = b.snapshot()
    assert s["state"] == "idle" and s["idle_text"] == IDLE and s["version"] == 0
    assert s["question"] is s["heard"] is s["status"] is s["outcome"] is None
    assert s["said"] == []
    assert json.loads(json.dumps(s)) == s


def test_question_heard_said_and_versions():
    b = CaptionBoard(idle_text=IDLE)
    b.assistant("Hello. I will ask you some questions.")
    assert b.snapshot()["state"] == "consulting"
    b.assistant(QUESTION, kind="question")
    b.heard("yes")
    s = b.snapshot()
    assert s["question"] == QUESTION and s["heard"] == "yes"
    assert s["said"][-1] == QUESTION
    assert s["version"] == 3
    # A new question clears what was heard for the last one, and the old sentences.
    b.assistant("Does it hurt when you walk?", kind="question")
    s = b.snapshot()
    assert s["heard"] is None and s["said"] == ["Does it hurt when you walk?"]
    # The same question again (a reprompt) keeps what was heard.
    b.heard("(not understood)")
    b.assistant("Does it hurt when you walk?", kind="question")
    assert b.snapshot()["heard"] == "(not understood)"


def test_what_is_said_before_a_question_stays_with_it():
    """The kiosk captions sentences as they are spoken: a reprompt's apology
    comes before the question it belongs to."""
    b = CaptionBoard()
    b.assistant(QUESTION, kind="question")
    b.heard("nope")
    b.assistant("Sorry, I did not catch that.")
    b.assistant("You can say yes, no, or I don't know.")
    b.assistant("Is your calf where it hurts most?", kind="question")
    s = b.snapshot()
    assert s["said"] == ["Sorry, I did not catch that.", "You can say yes, no, or I don't know.",
                         "Is your calf where it hurts most?"]
    assert s["heard"] is None


def test_heard_shows_the_words_without_confidence():
    """The board gets the phrase alone (Caption.text): the confidence never reaches it."""
    b = CaptionBoard()
    captions = board_captions(b)
    for caption, shown in [(Caption("heard", "yes", confidence=0.93), "yes"),
                           (Caption("heard", "yeah", confidence=0.91, while_speaking=True), "yeah"),
                           (Caption("heard", "(silence)"), "(silence)"),
                           (Caption("heard", "  i   don't know "), "i don't know")]:
        captions(caption)
        assert b.snapshot()["heard"] == shown


def test_outcome_starts_a_fresh_caption_list():
    b = CaptionBoard()
    b.assistant(QUESTION, kind="question")
    b.outcome("doctor", "See a doctor.", ["See a doctor."], False)
    assert b.snapshot()["said"] == []
    b.assistant("Would you like me to say that again?")
    b.heard("no")
    s = b.snapshot()
    assert s["state"] == "outcome" and s["said"] == ["Would you like me to say that again?"] and s["heard"] == "no"


def test_said_keeps_the_last_few_sentences():
    b = CaptionBoard(said_kept=3)
    for n in range(6):
        b.assistant(f"sentence {n}")
    assert b.snapshot()["said"] == ["sentence 3", "sentence 4", "sentence 5"]


def test_the_kiosk_and_the_session_captions_do_not_say_a_question_twice():
    b = CaptionBoard()
    b.assistant(QUESTION, kind="question")  # the kiosk, before the turn is spoken
    board_captions(b)(Caption("assistant", QUESTION, asks="yes_no"))  # the session, as it speaks it
    assert b.snapshot()["said"] == [QUESTION]


def test_instruction_is_an_alert_kept_while_questions_go_on():
    b = CaptionBoard()
    b.assistant(INSTRUCTION, kind="instruction")
    b.assistant("Is your leg warm?", kind="question")
    s = b.snapshot()
    assert s["alert"] == INSTRUCTION and s["question"] == "Is your leg warm?"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        CaptionBoard().assistant("hi", kind="shout")


def test_status_set_and_cleared():
    b = CaptionBoard()
    b.status("The microphone is not working. Trying again…")
    assert b.snapshot()["status"] == "The microphone is not working. Trying again…"
    b.status(None)
    assert b.snapshot()["status"] is None


def test_outcome():
    b = CaptionBoard()
    b.assistant(QUESTION, kind="question")
    b.heard("yes")
    sentences = [INSTRUCTION, "The most likely serious cause is a clot.", INSTRUCTION]
    b.outcome("emergency", INSTRUCTION, sentences, True)
    sentences.append("changed afterwards")  # the board keeps its own copy
    s = b.snapshot()
    assert s["state"] == "outcome" and s["question"] is None and s["heard"] is None
    assert s["outcome"] == {"level": "emergency", "instruction": INSTRUCTION,
                            "sentences": sentences[:3], "emergency": True}


def test_reset_drops_everything_of_the_previous_person():
    b = CaptionBoard(idle_text=IDLE)
    b.assistant("My name is Ann, I said.")
    b.assistant(INSTRUCTION, kind="instruction")
    b.assistant(QUESTION, kind="question")
    b.heard("yes")
    b.outcome("emergency", INSTRUCTION, [INSTRUCTION, "A blood clot is likely."], True)
    before = b.version
    b.reset()
    s = b.snapshot()
    assert s["version"] > before
    assert s["state"] == "idle" and s["idle_text"] == IDLE
    assert s["question"] is s["heard"] is s["outcome"] is s["alert"] is None and s["said"] == []
    text = json.dumps(s)
    for old in ("Ann", "calf", "emergency department", "clot", "yes"):
        assert old not in text


def test_status_is_about_the_machine_and_survives_reset():
    b = CaptionBoard()
    b.status("Speech is not working: please read the screen.")
    b.reset()
    assert b.snapshot()["status"] == "Speech is not working: please read the screen."


def test_the_welcome_screen_carries_the_emergency_number():
    b = CaptionBoard(idle_text="Getting ready.", emergency=None)
    assert b.snapshot()["emergency"] is None
    v = b.version
    b.welcome(IDLE, "In an emergency, call 000.")
    s = b.snapshot()
    assert s["version"] > v and (s["idle_text"], s["emergency"]) == (IDLE, "In an emergency, call 000.")
    b.reset()  # the machine's, not the person's: kept
    assert b.snapshot()["emergency"] == "In an emergency, call 000."


def test_a_fault_has_a_detail_for_the_operator():
    b = CaptionBoard(idle_text=IDLE)
    b.status("This kiosk is out of order.", detail="config.yaml: rate: should be less than or equal to 260, not '300'")
    s = b.snapshot()
    assert s["status"] == "This kiosk is out of order." and s["detail"].startswith("config.yaml: rate")
    b.status("The microphone is not working.")  # a new status has no old detail
    assert b.snapshot()["detail"] is None
    b.status(None)
    assert b.snapshot()["status"] is b.snapshot()["detail"] is None


def test_wait_for_change():
    b = CaptionBoard()
    v = b.version
    t0 = time.monotonic()
    assert b.wait_for_change(v, timeout=0.2)["version"] == v  # nothing changed: the timeout
    assert time.monotonic() - t0 >= 0.19
    b.heard("yes")
    assert b.wait_for_change(v, timeout=5)["heard"] == "yes"  # already changed: at once
    threading.Timer(0.1, b.assistant, args=(QUESTION, "question")).start()
    t0 = time.monotonic()
    s = b.wait_for_change(b.version, timeout=5)
    assert s["question"] == QUESTION and time.monotonic() - t0 < 2


def test_board_is_thread_safe():
    b = CaptionBoard()
    seen: list[int] = []

    def watch():
        v = 0
        while v < 800:
            v = b.wait_for_change(v, timeout=5)["version"]
            seen.append(v)

    watcher = threading.Thread(target=watch)
    watcher.start()

    def work(n):
        for i in range(200):
            b.assistant(f"{n}-{i}", kind="question" if i % 2 else "say")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    watcher.join(10)
    assert b.version == 800
    assert seen == sorted(seen) and seen[-1] == 800


def test_board_captions_adapter():
    b = CaptionBoard()
    captions = board_captions(b)
    captions(Caption("assistant", "Hello."))
    captions(Caption("heard", "yes", confidence=0.93, agreed=False))
    assert b.snapshot()["heard"] == "yes"  # no confidence on a public screen
    captions(Caption("heard", "no", confidence=0.88, while_speaking=True))
    assert b.snapshot()["heard"] == "no"
    captions(Caption("heard", "(not understood)"))
    assert b.snapshot()["heard"] == "(not understood)"
    captions(Caption("status", "(speech output is not working; please read the screen)"))
    captions(Caption("something else", "ignored"))
    s = b.snapshot()
    assert s["said"] == ["Hello."] and s["status"].startswith("(speech output")


# -- the server --------------------------------------------------------------------


@pytest.fixture
def served():
    board = CaptionBoard(idle_text=IDLE)
    server = CaptionServer(board, port=0, keepalive_s=0.3).start()
    yield board, server
    server.stop()


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.headers, r.read()


def test_server_binds_to_loopback_only(served):
    _, server = served
    assert server.url.startswith("http://127.0.0.1:")
    assert server._httpd.socket.getsockname()[0] == "127.0.0.1"


@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.168.1.20", "::", "example.org"])
def test_remote_hosts_are_refused_unless_allowed(host):
    with pytest.raises(ValueError, match="loopback"):
        CaptionServer(CaptionBoard(), host=host, port=0)


def test_allow_remote_binds_where_asked():
    server = CaptionServer(CaptionBoard(), host="0.0.0.0", port=0, allow_remote=True).start()
    try:
        assert server._httpd.socket.getsockname()[0] == "0.0.0.0"
        port = server._httpd.server_address[1]
        assert get(f"http://127.0.0.1:{port}/state")[0] == 200
    finally:
        server.stop()


def test_localhost_is_loopback():
    server = CaptionServer(CaptionBoard(), host="localhost", port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.stop()


def test_state_is_the_snapshot(served):
    board, server = served
    board.assistant(QUESTION, kind="question")
    status, headers, body = get(server.url + "state")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(body) == board.snapshot()


def test_page_and_its_files(served):
    _, server = served
    status, headers, body = get(server.url)
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in html
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    for path, ctype in (("style.css", "text/css"), ("app.js", "text/javascript")):
        status, headers, _ = get(server.url + path)
        assert status == 200 and headers["Content-Type"].startswith(ctype)


@pytest.mark.parametrize("path", ["nothing", "../pyproject.toml", "%2e%2e/captions.py", "web/index.html",
                                  "captions.py"])
def test_nothing_else_is_served(served, path):
    _, server = served
    with pytest.raises(urllib.error.HTTPError) as err:
        get(server.url + path)
    assert err.value.code == 404


def test_post_is_refused_and_its_body_never_read(served, capfd, caplog):
    _, server = served
    host, port = server._httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("POST", "/state", body=b"my secret symptoms", headers={"Content-Type": "text/plain"})
    assert conn.getresponse().status == 405
    conn.close()
    out, err = capfd.readouterr()
    assert "secret" not in out + err and "secret" not in caplog.text


def test_requests_for_other_host_names_are_refused(served):
    """DNS rebinding: a web page from elsewhere must not read the consultation."""
    _, server = served
    with pytest.raises(urllib.error.HTTPError) as err:
        get(server.url + "state", headers={"Host": "evil.example:8765"})
    assert err.value.code == 403
    assert get(server.url + "state", headers={"Host": f"localhost:{server._httpd.server_address[1]}"})[0] == 200


def test_no_access_log(served, capfd, caplog):
    board, server = served
    board.assistant(QUESTION, kind="question")
    get(server.url)
    get(server.url + "state")
    with pytest.raises(urllib.error.HTTPError):
        get(server.url + "missing?calf=yes")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert "calf" not in caplog.text and "GET" not in caplog.text


def read_event(resp) -> tuple[list[str], dict | None]:
    """One SSE event: its comment lines and its data (None for a comment only)."""
    comments, data = [], None
    while True:
        line = resp.readline().decode()
        assert line, "the stream ended"
        line = line.rstrip("\n")
        if line == "":
            if data is not None or comments:
                return comments, data
            continue
        if line.startswith(":"):
            comments.append(line)
        elif line.startswith("data: "):
            data = json.loads(line[6:])


def open_events(server):
    host, port = server._httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/events")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    return conn, resp


def test_events_send_one_snapshot_per_change_and_keep_alives(served):
    board, server = served
    conn, resp = open_events(server)
    try:
        _, first = read_event(resp)
        assert first == board.snapshot()
        board.assistant(QUESTION, kind="question")
        _, data = read_event(resp)
        assert data["question"] == QUESTION and data["version"] == first["version"] + 1
        board.heard("yes")
        _, data = read_event(resp)
        assert data["heard"] == "yes"
        # Nothing changes: a keep-alive comment (every 0.3 s here, 15 s by default).
        comments, data = read_event(resp)
        assert data is None and comments == [": keep-alive"]
        board.reset()
        _, data = read_event(resp)
        assert data["state"] == "idle" and QUESTION not in json.dumps(data)
    finally:
        conn.close()


def test_keepalive_default_is_15_s():
    assert CaptionServer(CaptionBoard(), port=0).keepalive_s == 15


def test_stop_ends_streams_and_frees_the_port():
    board = CaptionBoard()
    server = CaptionServer(board, port=0).start()
    port = server._httpd.server_address[1]
    conn, resp = open_events(server)
    read_event(resp)
    t0 = time.monotonic()
    server.stop()
    assert time.monotonic() - t0 < 3
    assert resp.readline() == b""  # the stream ended; the page reconnects by itself
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # The same port can be served again at once (the kiosk restarting).
    again = CaptionServer(CaptionBoard(), port=port).start()
    try:
        assert get(again.url + "state")[0] == 200
    finally:
        again.stop()


def test_web_files_ship_with_the_package_and_load_nothing_from_outside():
    web = resources.files("voiceassist").joinpath("web")
    names = {p.name for p in web.iterdir()}
    assert {"index.html", "style.css", "app.js"} <= names
    for name in ("index.html", "style.css", "app.js"):
        text = web.joinpath(name).read_text()
        assert not re.search(r"https?://", text), f"{name} refers to another host"
        assert "@import" not in text and "@font-face" not in text
        assert "innerHTML" not in text
    html = web.joinpath("index.html").read_text()
    assert 'lang="en"' in html
    assert 'aria-live="assertive"' in html and 'aria-live="polite"' in html
    css = web.joinpath("style.css").read_text()
    assert "clamp(" in css and "sans-serif" in css
    assert not re.search(r"font-weight:\s*(100|200|300|lighter)", css)


def test_a_caption_is_a_record_its_console_line_is_made_from():
    """What was heard reaches the screen and the transcript as fields, never
    as text with "(0.93)" appended to be parsed back (issue 23)."""
    assert Caption("heard", "yes", confidence=0.93).line() == "yes (0.93)"
    assert Caption("heard", "no", confidence=0.88, agreed=False, while_speaking=True).line() == \
        "no (0.88, the engines disagreed, while I was speaking)"
    assert Caption("heard", "(silence)").line() == "(silence)"
