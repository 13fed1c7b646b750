"""What every command shares: the settings, rules and prompts from the
arguments, a line to the user on stderr, the errors a user can cause or
meet (each reported in one line, exit status 2), and the exit statuses."""

from __future__ import annotations

import sys

from ..triage.rules import ConfigError, load

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # as `yes | head -1` ends: 128 + SIGPIPE, without a word


class UserError(Exception):
    """Bad input or a missing component: one line for the user, exit 2."""


SETTING_FLAGS = ("rules", "prompts", "emergency_number", "engine", "model", "voice", "rate", "end_silence_ms",
                 "no_input_s", "input_device", "output_device", "idle_timeout_s", "transcripts", "caption_port",
                 "start_phrases", "log_file")


def read_settings(args):
    """Defaults < config file < environment < the command's flags."""
    from ..settings import load_settings

    flags = {k: getattr(args, k) for k in SETTING_FLAGS if getattr(args, k, None) is not None}
    return load_settings(flags, getattr(args, "config", None))


def read_all(args, settings=None) -> tuple:
    """The settings, the rules and the prompts (with the emergency number set)."""
    settings = settings or read_settings(args)
    rules, prompts = load(settings.rules, settings.prompts)
    if settings.emergency_number:
        prompts = prompts.with_emergency_number(settings.emergency_number)
    return settings, rules, prompts


def log(line: str) -> None:
    print(f"voiceassist: {line}", file=sys.stderr, flush=True)


def user_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can cause or meet: each is reported in one line."""
    from ..bank import BankError
    from ..settings import SettingsError

    errors: list[type[BaseException]] = [ConfigError, UserError, SettingsError, BankError]
    for module, name in [("speech.asr", "SpeechError"), ("speech.tts", "TTSError"), ("speech.mic", "MicrophoneError"),
                         ("speech.playback", "AudioDeviceError"), ("speech.audio", "AudioFormatError")]:
        try:
            errors.append(getattr(__import__(f"voiceassist.{module}", fromlist=[name]), name))
        except ImportError:
            pass
    return tuple(errors)
