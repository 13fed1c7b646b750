"""The application's parts, built from the Settings: the recogniser, speech
output and endpointing (`build`), the loudspeaker (`choose_speaker`) and the
dialogue's bars (`dialogue_settings`), the same for `run`, `kiosk` and
`replay`. Every problem is a one-line error, raised before anything is
said: a grammar word the model does not know, no model for the engine
asked for, espeak-ng missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .settings import Settings
from . import background
from .speech.asr import Recogniser, SpeechError
from .speech.engines import create_recogniser
from .speech.endpoint import EndpointSettings
from .triage.rules import Prompts, Rules


@dataclass
class VoiceParts:
    recogniser: Recogniser
    tts: object
    endpoint: EndpointSettings


def every_phrase(prompts: Prompts) -> list[str]:
    return sorted(set(prompts.answer_phrases) | set(prompts.command_phrases)
                  | {p for options in prompts.option_phrases.values() for p in options})


def check_vocabulary(recogniser: Recogniser, prompts: Prompts) -> None:
    """vosk drops a grammar word it does not know with only a log line; a
    missing word here is a start-up error instead."""
    missing = recogniser.missing_words(every_phrase(prompts))
    if missing:
        raise SpeechError(
            f"{prompts.path}: the {recogniser.name} model does not know these words: "
            f"{', '.join(sorted(set(missing)))} (change the phrases or use another model)"
        )


def every_sentence(rules: Rules, prompts: Prompts) -> list[str]:
    """The fixed sentences, to synthesise ahead of time so questions start at once."""
    return prompts.fixed_sentences(rules)


def endpoint_settings(settings: Settings) -> EndpointSettings:
    return EndpointSettings(
        vad_aggressiveness=settings.vad_aggressiveness,
        end_silence_ms=settings.end_silence_ms,
        no_input_s=settings.no_input_s,
        max_utterance_s=settings.max_utterance_s,
    )


def dialogue_settings(settings: Settings):
    from .dialogue.policy import DialogueSettings

    return DialogueSettings(reject_below=settings.reject_below, confirm_below=settings.confirm_below,
                            red_flag_no_accept=settings.red_flag_no_accept)


def choose_speaker(settings: Settings, log: Callable[[str], None]):
    """The loudspeaker the settings name; with none at all, the words are
    only shown (a speaker that plays on the clock of the audio read, so
    barge-in and timing still behave)."""
    from .speech.playback import Player, SampleClockSpeaker, output_devices

    if output_devices():
        return Player(settings.output_device, gain=settings.volume)
    log("no speaker found: the assistant's words are shown on screen only")
    return SampleClockSpeaker(settings.volume)


def build(settings: Settings, prompts: Prompts, log: Callable[[str], None], fixed_only: bool = False) -> VoiceParts:
    """fixed_only: only the fixed sentences may reach the speech cache on disk (the kiosk)."""
    from .speech.tts import Synthesiser

    recogniser = create_recogniser(settings.engine, settings.model, log=log, start_task=background.start)
    check_vocabulary(recogniser, prompts)
    tts = Synthesiser(voice=settings.voice, rate_wpm=settings.rate, cache_dir=settings.tts_cache, fixed_only=fixed_only)
    return VoiceParts(recogniser, tts, endpoint_settings(settings))
