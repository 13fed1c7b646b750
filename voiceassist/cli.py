"""Command line: run (default), text, replay, kiosk, models, check.

Every error a user can cause (a missing file, malformed YAML, an unknown id,
no microphone, no model) ends with one line on stderr and exit status 2,
never a traceback.

One concern, the command line, though over 400 lines: each command's
start-up (the kiosk's screen shown before anything else can fail, its
out-of-order screen) is what a user of that command sees.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from .errors import one_line, with_kind
from .speech.engines import ENGINES
from .speech.tts import DEFAULT_RATE, RATE_MAX, RATE_MIN
from .triage.rules import ConfigError, load

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # as `yes | head -1` ends: 128 + SIGPIPE, without a word
DEFAULT_SNR_DB = 10.0


class UserError(Exception):
    """Bad input or a missing component: one line for the user, exit 2."""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="settings file (YAML; default ~/.config/voiceassist/config.yaml)")
    p.add_argument("--rules", metavar="FILE", help="triage rules YAML (default: the packaged rules)")
    p.add_argument("--prompts", metavar="FILE", help="prompts YAML (default: the packaged English prompts)")
    p.add_argument("--emergency-number", metavar="NUMBER",
                   help="number to call for an ambulance, 2 to 6 digits (default: the prompts', 999)")


def _voice(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=ENGINES,
                   help="recogniser (default auto: vosk when a model is found, else pocketsphinx and Whisper "
                        "together when installed, else pocketsphinx)")
    p.add_argument("--model", metavar="PATH", help="a vosk model folder (also $VOSK_MODEL_PATH)")
    p.add_argument("--voice", metavar="NAME", help="espeak-ng voice for speech output, e.g. en-gb or en-us")
    p.add_argument("--rate", type=int, metavar="WPM",
                   help=f"speaking rate in words a minute, {RATE_MIN} to {RATE_MAX} (default {DEFAULT_RATE})")
    p.add_argument("--end-silence-ms", type=int, metavar="MS",
                   help="silence that ends an answer (default 1000; longer for slow speakers)")
    p.add_argument("--no-input-s", type=float, metavar="S", help="wait this long for an answer (default 8)")


def _devices(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-device", metavar="DEV",
                   help="microphone: its number as `python -m sounddevice` lists it, or part of its name")
    p.add_argument("--output-device", metavar="DEV",
                   help="speaker: its number as `python -m sounddevice` lists it, or part of its name")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voiceassist",
        description="Offline voice triage for pain in the back of the leg. This is not a diagnosis.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="a spoken consultation with the microphone and speaker (the default)")
    _common(run)
    _voice(run)
    _devices(run)

    text = sub.add_parser("text", help="a consultation by keyboard")
    _common(text)

    replay = sub.add_parser("replay", help="run simulated patients from a cases YAML file")
    replay.add_argument("cases", metavar="CASES.yaml")
    mode = replay.add_mutually_exclusive_group()
    mode.add_argument("--text", action="store_true", help="the patient answers with text (the default)")
    mode.add_argument("--bank", metavar="DIR", help="the patient answers with recordings from DIR")
    replay.add_argument("--json", action="store_true", help="one JSON object per case, then a summary")
    replay.add_argument("--speak-to", metavar="DIR", help="also write what the assistant says, per case, as WAV")
    replay.add_argument("--realtime", action="store_true", help="pace recordings like a microphone")
    replay.add_argument("--noise", metavar="WAV", help="with --bank: background noise mixed into the microphone")
    replay.add_argument("--snr", type=float, metavar="DB",
                        help=f"with --noise: speech-to-noise ratio (default {DEFAULT_SNR_DB:g})")
    replay.add_argument("--mishear", metavar="SCHEDULE",
                        help="answers the patient is misheard on, comma-separated: first (each question's first "
                             "answer), again (its later answers), readbacks (answers to 'Is that right?'), rate:R "
                             "(each answer with chance R); with --text every answer is heard as in a noisy room")
    replay.add_argument("--seed", type=int, default=0, help="with --mishear rate:R: the random seed (default 0)")
    _common(replay)
    _voice(replay)

    kiosk = sub.add_parser("kiosk", help="unattended: consultations one after another, with a caption screen")
    _common(kiosk)
    _voice(kiosk)
    _devices(kiosk)
    kiosk.add_argument("--idle-timeout-s", type=float, metavar="S",
                       help="end an abandoned consultation after this long without an answer (default 90)")
    kiosk.add_argument("--transcripts", metavar="DIR",
                       help="keep a transcript of every consultation in DIR (off by default: privacy)")
    kiosk.add_argument("--caption-port", type=int, metavar="PORT", help="port of the caption screen on 127.0.0.1 (default 8765)")
    kiosk.add_argument("--start-phrases", metavar="LIST", help="comma-separated phrases that start a consultation")
    kiosk.add_argument("--log-file", metavar="FILE", help="log counts and timings here (default: standard error)")

    models = sub.add_parser("models", help="the vosk speech models: list, download, path")
    models.add_argument("action", choices=["list", "download", "path"])
    models.add_argument("--name", default="vosk-model-small-en-us-0.15", help="model to download")
    models.add_argument("--system", action="store_true",
                        help="download into /var/lib/voiceassist/models, for every user (the kiosk's too; needs sudo)")

    review = sub.add_parser("review", help="write the clinical review sheet (Markdown) from the rules and prompts")
    review.add_argument("--cases", action="append", default=[], metavar="CASES.yaml",
                        help="add the spoken transcript of every case in this file (repeatable)")
    review.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    _common(review)

    check = sub.add_parser("check", help="validate the settings, rules and prompts; say the emergency number")
    check.add_argument("rules_file", nargs="?", metavar="RULES")
    check.add_argument("prompts_file", nargs="?", metavar="PROMPTS")
    check.add_argument("--config", metavar="FILE", help="settings file to check (default: the one the others read)")
    check.add_argument("--emergency-number", metavar="NUMBER", help="check this emergency number too")
    return parser


SETTING_FLAGS = ("rules", "prompts", "emergency_number", "engine", "model", "voice", "rate", "end_silence_ms",
                 "no_input_s", "input_device", "output_device", "idle_timeout_s", "transcripts", "caption_port",
                 "start_phrases", "log_file")


def _settings(args):
    from .settings import load_settings

    flags = {k: getattr(args, k) for k in SETTING_FLAGS if getattr(args, k, None) is not None}
    return load_settings(flags, getattr(args, "config", None))


def _load(args, settings=None) -> tuple:
    """The settings, the rules and the prompts (with the emergency number set)."""
    settings = settings or _settings(args)
    rules, prompts = load(settings.rules, settings.prompts)
    if settings.emergency_number:
        prompts = prompts.with_emergency_number(settings.emergency_number)
    return settings, rules, prompts


def _log(line: str) -> None:
    print(f"voiceassist: {line}", file=sys.stderr, flush=True)


def cmd_check(args) -> int:
    from .settings import config_path

    settings = _settings(args)
    if args.rules_file or args.prompts_file:
        settings = settings.model_copy(update={"rules": args.rules_file or settings.rules,
                                               "prompts": args.prompts_file or settings.prompts})
    settings, rules, prompts = _load(args, settings)
    config = config_path(getattr(args, "config", None))
    print(
        f"ok: {rules.path}: {len(rules.findings)} findings, {len(rules.questions)} questions,"
        f" {len(rules.causes)} causes, {len(rules.disposition_rules)} disposition rules;"
        f" {prompts.path}: {len(prompts.answer_phrases) + len(prompts.command_phrases)} phrases;"
        f" settings: {config or 'defaults'}; the person is told to call {prompts.emergency_number}"
    )
    return EXIT_OK


def cmd_text(args) -> int:
    from .dialogue.manager import Dialogue, Heard, Silence

    _, rules, prompts = _load(args)
    dialogue = Dialogue(rules, prompts)
    turn = dialogue.start()
    print("(Type your answer and press Enter. An empty line counts as silence. Ctrl-D stops.)")
    while True:
        for line in turn.say:
            print(line)
        if turn.done:
            return EXIT_OK
        try:
            typed = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            typed = prompts.canonical("stop")
        event = Heard(typed, 1.0) if typed.strip() else Silence()
        turn = dialogue.handle(event)


def cmd_run(args) -> int:
    """A live spoken consultation with the default microphone and speaker."""
    import time

    from . import app, background
    from .dialogue.manager import Dialogue
    from .session import Consultation
    from .speech.mic import Microphone
    from .speech.tts import TTSError

    started = time.monotonic()
    settings, rules, prompts = _load(args)
    # The microphone first: without one, say so at once, before loading a model.
    mic = Microphone(settings.input_device).open()
    try:
        parts = app.build(settings, prompts, _log)
        speaker = app.choose_speaker(settings, _log)
        sentences = app.every_sentence(rules, prompts)
        parts.tts.warm(sentences[:2] + [prompts.text("questions", rules.questions[0].id, "ask")], progress=False)

        def warm_the_rest() -> None:
            try:
                parts.tts.warm(sentences, progress=False, stop=background.stopping.is_set)
            except TTSError as exc:  # each sentence is tried again when it is said; captions carry on
                logging.getLogger(__name__).warning("speech not prepared ahead: %s", exc)

        background.start("warm-speech", warm_the_rest)
        consultation = Consultation(
            Dialogue(rules, prompts, app.dialogue_settings(settings)), parts.recogniser, parts.tts, speaker, mic,
            parts.endpoint,
            barge_in=settings.barge_in, started=started,
        )
        consultation.run()
        speaker.wait(30)
    finally:
        mic.close()
    if consultation.error is not None:
        # The safety advice has been said and shown; the reason is one line.
        print(f"voiceassist: error: {one_line(consultation.error)}", file=sys.stderr)
        return EXIT_BAD_INPUT if isinstance(consultation.error, _user_errors()) else EXIT_FAILED
    return EXIT_OK


def cmd_replay(args) -> int:
    from . import replay

    if not args.bank and (args.speak_to or args.noise):
        raise UserError("--speak-to and --noise need --bank (recorded answers)")
    if args.snr is not None and not args.noise:
        raise UserError("--snr needs --noise WAV (the noise it sets the level of)")
    settings, rules, prompts = _load(args)
    cases = replay.load_cases(args.cases, rules)
    try:
        mishearing = replay.Mishearing.parse(args.mishear, args.seed) if args.mishear else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.bank:
        results = _replay_bank(args, settings, rules, prompts, cases, mishearing)
    else:
        patient = replay.TextPatient(prompts, mishearing)
        results = [replay.run_case(rules, prompts, case, patient) for case in cases]
    replay.print_results(results, rules.levels, args.json, sys.stdout)
    return EXIT_OK if all(r.passed is not False for r in results) else EXIT_FAILED


def _replay_bank(args, settings, rules, prompts, cases, mishearing=None):
    from pathlib import Path

    from . import app, replay
    from .bank import Bank
    from .speech import audio
    from .speech.playback import WavRecorderPlayer

    bank = Bank(args.bank)
    noise = audio.load_wav(args.noise) if args.noise else None
    snr_db = DEFAULT_SNR_DB if args.snr is None else args.snr
    parts = app.build(settings, prompts, _log)
    results = []
    for case in cases:
        speaker = None
        if args.speak_to:
            speaker = WavRecorderPlayer(Path(args.speak_to) / f"{case.id}.wav")
        try:
            results.append(replay.run_case_voice(
                rules, prompts, case, bank, parts.recogniser, parts.tts, endpoint=parts.endpoint,
                speaker=speaker, noise=noise, snr_db=snr_db if noise is not None else None,
                realtime=args.realtime, mishearing=mishearing, settings=app.dialogue_settings(settings),
                allow_barge_in=settings.barge_in,
            ))
        finally:
            if speaker is not None:
                speaker.close()
    return results


def cmd_kiosk(args) -> int:
    """Unattended kiosk: runs until stopped (systemd restarts it if it dies)."""
    import signal
    from contextlib import ExitStack

    # First of all: systemd may stop the kiosk while it is still loading the
    # recognisers, and that stop must be as clean as one during a consultation.
    def stop(*_) -> None:
        _stop_asked.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with ExitStack() as cleanup:
        try:
            _serve_kiosk(args, cleanup)
        except KeyboardInterrupt:
            _log("stopped")
    return EXIT_OK


KIOSK_STARTING = "Getting ready. Please wait."
# Set by SIGTERM. The KeyboardInterrupt it raises can land inside a library
# being imported, and a library's bare `except:` may swallow it: the kiosk
# looks again after each stage of loading.
_stop_asked = threading.Event()


def _stop_if_asked() -> None:
    if _stop_asked.is_set():
        raise KeyboardInterrupt


def _serve_kiosk(args, cleanup) -> None:
    """Start the caption screen first, then everything else. A problem an
    operator must fix (a setting, the rules, a missing model or voice, a log
    file that cannot be written) is shown on the screen and in the journal,
    and the kiosk then waits to be stopped: exiting would only have systemd
    start it again and again, with a browser error page on the screen."""
    from . import app
    from .captions import CaptionBoard
    from .kiosk import Kiosk
    from .speech.mic import Microphone, MicrophoneError

    board = CaptionBoard(idle_text=KIOSK_STARTING)
    try:
        settings = _settings(args)
    except _user_errors() as exc:
        _serve_captions(board, _fallback_caption_port(args), cleanup)
        _out_of_order(board, exc, prompts=None)
    _serve_captions(board, settings.caption_port, cleanup)
    prompts = None
    try:
        _log_to(settings.log_file)
        settings, rules, prompts = _load(args, settings)
        board.welcome(KIOSK_STARTING, prompts.text("kiosk", "emergency"))
        parts = app.build(settings, prompts, _log, fixed_only=True)  # privacy: fixed sentences only on disk
        _stop_if_asked()
        parts.tts.warm(app.every_sentence(rules, prompts))
    except _user_errors() as exc:
        _out_of_order(board, exc, prompts)
    _stop_if_asked()
    board.welcome(prompts.text("kiosk", "idle"), prompts.text("kiosk", "emergency"))
    mic = Microphone(settings.input_device)
    cleanup.callback(mic.close)
    try:
        mic.open()
    except MicrophoneError as exc:  # keep running: the kiosk retries until one is plugged in
        _log(f"{exc} (retrying)")
        board.status(prompts.text("kiosk", "mic_lost"))
    speaker = app.choose_speaker(settings, _log)
    kiosk = Kiosk(
        rules, prompts, parts.recogniser, parts.tts, speaker, mic, board, parts.endpoint,
        start_phrases=settings.start_phrases, idle_timeout_s=settings.idle_timeout_s,
        transcripts=settings.transcripts,
        dialogue_settings=app.dialogue_settings(settings),
        barge_in=settings.barge_in,
    )
    kiosk.serve()


def _serve_captions(board, port: int, cleanup) -> None:
    from .captions_server import CaptionServer

    try:
        server = CaptionServer(board, port=port).start()
    except OSError as exc:  # the port is taken, most often by another kiosk
        _out_of_order(board, UserError(f"cannot serve the caption screen on port {port}: {exc.strerror or exc} "
                                       "(choose another with --caption-port)"), prompts=None)
    cleanup.callback(server.stop)
    _log(f"caption screen: {server.url} (for example: chromium --kiosk {server.url})")


def _fallback_caption_port(args) -> int:
    """The caption port when the settings as a whole are invalid: the first
    source that gives a valid one (flag, environment, config file), else the
    default, so that the screen can still say what is wrong."""
    import os

    from .settings import Settings, config_path, read_config

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

    from .triage.rules import load_prompts, load_rules

    line = one_line(exc)
    if prompts is None:  # the packaged wording; the emergency number set is not known
        prompts = load_prompts(load_rules())
        emergency = prompts.text("kiosk", "emergency_unknown")
    else:
        emergency = prompts.text("kiosk", "emergency")
    board.welcome(prompts.text("kiosk", "idle"), emergency)
    board.status(prompts.text("kiosk", "out_of_order"), detail=line)
    _log(f"error: {line}")
    _log("the kiosk is out of order until this is fixed; then: systemctl restart voiceassist-kiosk@USER")
    while True:  # until SIGTERM (KeyboardInterrupt)
        _stop_if_asked()
        time.sleep(1)


def _log_to(log_file: str | None) -> None:
    try:
        logging.basicConfig(filename=log_file, level=logging.INFO, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except OSError as exc:
        raise UserError(f"cannot write the log file {log_file}: {exc.strerror or exc}") from None


def cmd_models(args) -> int:
    from .speech import vosk_models as models

    if args.action == "list":
        found = models.find_model()
        print("vosk models are looked for in:")
        for place in models.search_paths():
            print(f"  {place}")
        print(f"found: {found}" if found else "found: none (pocketsphinx, built in, is used)")
        return EXIT_OK
    if args.action == "path":
        found = models.find_model()
        if not found:
            raise UserError("no vosk model found (voiceassist models download, or --model PATH)")
        print(found)
        return EXIT_OK
    path = models.download(args.name, system=args.system)
    print(f"downloaded and checked: {path}")
    return EXIT_OK


def cmd_review(args) -> int:
    from .review import review

    _, rules, prompts = _load(args)
    sheet = review(rules, prompts, args.cases)
    if args.output:
        Path(args.output).write_text(sheet, encoding="utf-8")
    else:
        sys.stdout.write(sheet)
    return EXIT_OK


COMMANDS = {"run": cmd_run, "kiosk": cmd_kiosk, "check": cmd_check, "text": cmd_text, "replay": cmd_replay,
            "models": cmd_models, "review": cmd_review}


def _user_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can cause or meet: each is reported in one line."""
    from .bank import BankError
    from .settings import SettingsError

    errors: list[type[BaseException]] = [ConfigError, UserError, SettingsError, BankError]
    for module, name in [("speech.asr", "SpeechError"), ("speech.tts", "TTSError"), ("speech.mic", "MicrophoneError"),
                         ("speech.playback", "AudioDeviceError"), ("speech.audio", "AudioFormatError")]:
        try:
            errors.append(getattr(__import__(f"voiceassist.{module}", fromlist=[name]), name))
        except ImportError:
            pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    from . import background

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args(["run"] + list(sys.argv[1:] if argv is None else argv))
    background.install_excepthook()
    try:
        return COMMANDS[args.command](args)
    except _user_errors() as exc:
        print(f"voiceassist: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (`replay ... --json | head -1`): stop quietly,
        # and let no flush at exit fail on the closed pipe again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a bug: one line for the person, the details with --verbose
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"voiceassist: internal error: {with_kind(exc)}"
              f"{'' if args.verbose else ' (run with --verbose for details)'}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        # Nothing may still be importing a library when the interpreter shuts
        # down (background.py says why).
        background.wait()


if __name__ == "__main__":
    sys.exit(main())
