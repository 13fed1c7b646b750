"""`voiceassist replay`: simulated patients from a cases file, answering by
text or with recorded voices (the simulated patient itself: voiceassist/replay/)."""

from __future__ import annotations

import sys

from .common import EXIT_FAILED, EXIT_OK, UserError, log, read_all

DEFAULT_SNR_DB = 10.0


def cmd_replay(args) -> int:
    from .. import replay

    if not args.bank and (args.speak_to or args.noise):
        raise UserError("--speak-to and --noise need --bank (recorded answers)")
    if args.snr is not None and not args.noise:
        raise UserError("--snr needs --noise WAV (the noise it sets the level of)")
    settings, rules, prompts = read_all(args)
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

    from .. import app, replay
    from ..bank import Bank
    from ..speech import audio
    from ..speech.playback import WavRecorderPlayer

    bank = Bank(args.bank)
    noise = audio.load_wav(args.noise) if args.noise else None
    snr_db = DEFAULT_SNR_DB if args.snr is None else args.snr
    parts = app.build(settings, prompts, log)
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
