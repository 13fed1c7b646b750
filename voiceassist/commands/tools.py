"""The commands around the consultations: `check` (the settings, rules and
prompts are valid), `models` (the vosk speech models), `review` (the
clinical review sheet)."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import EXIT_OK, UserError, read_all, read_settings


def cmd_check(args) -> int:
    from ..settings import config_path

    settings = read_settings(args)
    if args.rules_file or args.prompts_file:
        settings = settings.model_copy(update={"rules": args.rules_file or settings.rules,
                                               "prompts": args.prompts_file or settings.prompts})
    settings, rules, prompts = read_all(args, settings)
    config = config_path(getattr(args, "config", None))
    print(
        f"ok: {rules.path}: {len(rules.findings)} findings, {len(rules.questions)} questions,"
        f" {len(rules.causes)} causes, {len(rules.disposition_rules)} disposition rules;"
        f" {prompts.path}: {len(prompts.answer_phrases) + len(prompts.command_phrases)} phrases;"
        f" settings: {config or 'defaults'}; the person is told to call {prompts.emergency_number}"
    )
    return EXIT_OK


def cmd_models(args) -> int:
    from ..speech import vosk_models as models

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
    from ..review import review

    _, rules, prompts = read_all(args)
    sheet = review(rules, prompts, args.cases)
    if args.output:
        Path(args.output).write_text(sheet, encoding="utf-8")
    else:
        sys.stdout.write(sheet)
    return EXIT_OK
