"""Command line: run (default), text, replay, kiosk, models, review, check.

Here: the arguments each command takes, and `main`, which runs the command
and turns what can go wrong into an exit status. Every error a user can
cause (a missing file, malformed YAML, an unknown id, no microphone, no
model) ends with one line on stderr and exit status 2, never a traceback.
The commands themselves are in commands/, one module for each kind.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .commands.common import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_FAILED, user_errors
from .commands.consult import cmd_run, cmd_text
from .commands.kiosk import cmd_kiosk
from .commands.replay import DEFAULT_SNR_DB, cmd_replay
from .commands.tools import cmd_check, cmd_models, cmd_review
from .errors import one_line, with_kind
from .speech.engines import ENGINES
from .speech.tts import DEFAULT_RATE, RATE_MAX, RATE_MIN


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


COMMANDS = {"run": cmd_run, "kiosk": cmd_kiosk, "check": cmd_check, "text": cmd_text, "replay": cmd_replay,
            "models": cmd_models, "review": cmd_review}


def main(argv: list[str] | None = None) -> int:
    from . import background

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args(["run"] + list(sys.argv[1:] if argv is None else argv))
    background.install_hooks()
    try:
        return COMMANDS[args.command](args)
    except user_errors() as exc:
        print(f"voiceassist: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader went away (`replay ... --json | head -1`): stop quietly,
        # and let no flush at exit fail on the closed pipe again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        background.take_stop()
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
