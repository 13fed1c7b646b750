"""`voiceassist kiosk`: consultations one after another, unattended (the
kiosk itself: voiceassist/kiosk.py). Here is its start-up as an operator
sees it: the caption screen first, before anything else can fail; a problem
an operator must fix shown on the screen as "out of order"; and a stop
(SIGTERM from systemd) as clean while loading as during a consultation."""

from __future__ import annotations

import logging
import threading

from .. import background
from ..errors import one_line
from .common import EXIT_OK, UserError, log, read_all, read_settings, user_errors


def cmd_kiosk(args) -> int:
    """Unattended kiosk: runs until stopped (systemd restarts it if it dies)."""
    from contextlib import ExitStack

    # First of all: systemd may stop the kiosk while it is still loading the
    # recognisers, and that stop must be as clean as one during a consultation.
    stop_on_sigterm()
    with ExitStack() as cleanup:
        try:
            _serve_kiosk(args, cleanup)
        except KeyboardInterrupt:
            background.take_stop()  # first: a copy of this stop must not end the kiosk again
            log("stopped")
    return EXIT_OK


KIOSK_STARTING = "Getting ready. Please wait."
# Set by SIGTERM. The KeyboardInterrupt it raises can land inside a library
# being imported, and a library's bare `except:` may swallow it: the kiosk
# looks again after each stage of loading.
_stop_asked = threading.Event()


def _stop_if_asked() -> None:
    if _stop_asked.is_set():
        raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread, wherever it is
    (one that lands where Python cannot raise it is delivered again:
    background.install_hooks)."""
    import signal

    def stop(*_) -> None:
        _stop_asked.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _serve_kiosk(args, cleanup) -> None:
    """Start the caption screen first, then everything else. A problem an
    operator must fix (a setting, the rules, a missing model or voice, a log
    file that cannot be written) is shown on the screen and in the journal,
    and the kiosk then waits to be stopped: exiting would only have systemd
    start it again and again, with a browser error page on the screen."""
    from .. import app
    from ..captions import CaptionBoard
    from ..kiosk import Kiosk
    from ..speech.mic import Microphone, MicrophoneError

    board = CaptionBoard(idle_text=KIOSK_STARTING)
    try:
        settings = read_settings(args)
    except user_errors() as exc:
        _serve_captions(board, _fallback_caption_port(args), cleanup)
        _out_of_order(board, exc, prompts=None)
    _serve_captions(board, settings.caption_port, cleanup)
    prompts = None
    try:
        _log_to(settings.log_file)
        settings, rules, prompts = read_all(args, settings)
        board.welcome(KIOSK_STARTING, prompts.text("kiosk", "emergency"))
        parts = app.build(settings, prompts, log, fixed_only=True)  # privacy: fixed sentences only on disk
        _stop_if_asked()
        parts.tts.warm(app.every_sentence(rules, prompts))
    except user_errors() as exc:
        _out_of_order(board, exc, prompts)
    _stop_if_asked()
    board.welcome(prompts.text("kiosk", "idle"), prompts.text("kiosk", "emergency"))
    mic = Microphone(settings.input_device)
    cleanup.callback(mic.close)
    try:
        mic.open()
    except MicrophoneError as exc:  # keep running: the kiosk retries until one is plugged in
        log(f"{exc} (retrying)")
        board.status(prompts.text("kiosk", "mic_lost"))
    speaker = app.choose_speaker(settings, log)
    kiosk = Kiosk(
        rules, prompts, parts.recogniser, parts.tts, speaker, mic, board, parts.endpoint,
        start_phrases=settings.start_phrases, idle_timeout_s=settings.idle_timeout_s,
        transcripts=settings.transcripts,
        dialogue_settings=app.dialogue_settings(settings),
        barge_in=settings.barge_in,
    )
    kiosk.serve()


def _serve_captions(board, port: int, cleanup) -> None:
    from ..captions_server import CaptionServer

    try:
        server = CaptionServer(board, port=port).start()
    except OSError as exc:  # the port is taken, most often by another kiosk
        _out_of_order(board, UserError(f"cannot serve the caption screen on port {port}: {exc.strerror or exc} "
                                       "(choose another with --caption-port)"), prompts=None)
    cleanup.callback(server.stop)
    log(f"caption screen: {server.url} (for example: chromium --kiosk {server.url})")


def _fallback_caption_port(args) -> int:
    """The caption port when the settings as a whole are invalid: the first
    source that gives a valid one (flag, environment, config file), else the
    default, so that the screen can still say what is wrong."""
    import os

    from ..settings import Settings, config_path, read_config

    candidates = [getattr(args, "caption_port", None), os.environ.get("VOICEASSIST_CAPTION_PORT")]
    try:
        path = config_path(getattr(args, "config", None))
        candidates.append(read_config(path).get("caption_port") if path else None)
    except Exception:  # noqa: BLE001 - the error itself is reported by the caller
        pass
    for value in candidates:
        if value is not None:
            try:
                return Settings(caption_port=value).caption_port
            except ValueError:  # pydantic's ValidationError: not this one
                continue
    return Settings().caption_port


def _out_of_order(board, exc: BaseException, prompts) -> None:
    """Say what is wrong (journal and screen), then wait to be stopped."""
    import time

    from ..triage.rules import load_prompts, load_rules

    line = one_line(exc)
    if prompts is None:  # the packaged wording; the emergency number set is not known
        prompts = load_prompts(load_rules())
        emergency = prompts.text("kiosk", "emergency_unknown")
    else:
        emergency = prompts.text("kiosk", "emergency")
    board.welcome(prompts.text("kiosk", "idle"), emergency)
    board.status(prompts.text("kiosk", "out_of_order"), detail=line)
    log(f"error: {line}")
    log("the kiosk is out of order until this is fixed; then: systemctl restart voiceassist-kiosk@USER")
    while True:  # until SIGTERM (KeyboardInterrupt)
        _stop_if_asked()
        time.sleep(1)


def _log_to(log_file: str | None) -> None:
    try:
        logging.basicConfig(filename=log_file, level=logging.INFO, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except OSError as exc:
        raise UserError(f"cannot write the log file {log_file}: {exc.strerror or exc}") from None
