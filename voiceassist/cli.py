"""Command line: run (default), text, replay, kiosk, models, check.

Every error a user can cause (a missing file, malformed YAML, an unknown id,
no microphone, no model) ends with one line on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .triage.rules import ConfigError, load

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UserError(Exception):
    """Bad input or a missing component: one line for the user, exit 2."""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", metavar="FILE", help="triage rules YAML (default: the packaged rules)")
    p.add_argument("--prompts", metavar="FILE", help="prompts YAML (default: the packaged English prompts)")
    p.add_argument("--emergency-number", metavar="NUMBER", help="number to call for an ambulance (default 999)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voiceassist",
        description="Offline voice triage for pain in the back of the leg. This is not a diagnosis.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    _common(replay)

    check = sub.add_parser("check", help="validate the rules and prompts")
    check.add_argument("rules_file", nargs="?", metavar="RULES")
    check.add_argument("prompts_file", nargs="?", metavar="PROMPTS")
    return parser


def _load(args) -> tuple:
    rules, prompts = load(getattr(args, "rules", None), getattr(args, "prompts", None))
    if getattr(args, "emergency_number", None):
        prompts.data["emergency_number"] = args.emergency_number
    return rules, prompts


def cmd_check(args) -> int:
    rules, prompts = load(args.rules_file, args.prompts_file)
    print(
        f"ok: {rules.path}: {len(rules.findings)} findings, {len(rules.questions)} questions,"
        f" {len(rules.causes)} causes, {len(rules.disposition_rules)} disposition rules;"
        f" {prompts.path}: {len(prompts.answer_phrases) + len(prompts.command_phrases)} phrases"
    )
    return EXIT_OK


def cmd_text(args) -> int:
    from .dialogue.manager import Dialogue, Heard, Silence

    rules, prompts = _load(args)
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


def cmd_replay(args) -> int:
    from . import replay

    rules, prompts = _load(args)
    cases = replay.load_cases(args.cases, rules)
    if args.bank:
        raise UserError("--bank is not available yet: the voice layer is not built (use --text)")
    patient = replay.TextPatient(prompts)
    results = [replay.run_case(rules, prompts, case, patient) for case in cases]
    replay.print_results(results, rules.levels, args.json, sys.stdout)
    return EXIT_OK if all(r.passed is not False for r in results) else EXIT_FAILED


COMMANDS = {"check": cmd_check, "text": cmd_text, "replay": cmd_replay}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command = args.command or "text"
    if args.command is None:
        args = parser.parse_args(["text"] + list(argv or sys.argv[1:]))
    try:
        return COMMANDS[command](args)
    except (ConfigError, UserError) as exc:
        print(f"voiceassist: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
