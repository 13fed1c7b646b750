"""`voiceassist run` (a spoken consultation, the default) and `voiceassist
text` (one by keyboard)."""

from __future__ import annotations

import logging
import sys

from ..errors import one_line
from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, log, read_all, user_errors


def cmd_text(args) -> int:
    from ..dialogue.manager import Dialogue, Heard, Silence

    _, rules, prompts = read_all(args)
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

    from .. import app, background
    from ..dialogue.manager import Dialogue
    from ..session import Consultation
    from ..speech.mic import Microphone
    from ..speech.tts import TTSError

    started = time.monotonic()
    settings, rules, prompts = read_all(args)
    # The microphone first: without one, say so at once, before loading a model.
    mic = Microphone(settings.input_device).open()
    try:
        parts = app.build(settings, prompts, log)
        speaker = app.choose_speaker(settings, log)
        sentences = app.every_sentence(rules, prompts)
        parts.tts.warm(sentences[:2] + [prompts.text("questions", rules.questions[0].id, "ask")], progress=False)

        def warm_the_rest() -> None:
            try:
                parts.tts.warm(sentences, progress=False, stop=background.stopping.is_set)
            except TTSError as exc:  # each sentence is tried again when it is said; captions carry on
                # The command line's logger, by the name its lines have always had.
                logging.getLogger("voiceassist.cli").warning("speech not prepared ahead: %s", exc)

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
        return EXIT_BAD_INPUT if isinstance(consultation.error, user_errors()) else EXIT_FAILED
    return EXIT_OK
