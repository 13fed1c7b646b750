"""One settings object: defaults < config file < environment < flags.

The config file is YAML (`--config FILE`, else $VOICEASSIST_CONFIG, else
~/.config/voiceassist/config.yaml if it exists). Every setting can also be
given as an environment variable VOICEASSIST_<NAME> (upper case) and most
as a command-line flag. A bad value is a one-line error naming where it
came from.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml


class SettingsError(ValueError):
    pass


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@dataclass
class Settings:
    # Rules and wording
    rules: str | None = None
    prompts: str | None = None
    emergency_number: str | None = None
    # Recognition
    engine: str = "auto"  # auto | vosk | pocketsphinx
    model: str | None = None  # a vosk model folder
    # Audio devices (index or part of the name)
    input_device: str | None = None
    output_device: str | None = None
    # Speech output
    voice: str | None = None  # an espeak-ng voice, e.g. en-gb
    rate: int = 150  # words per minute; slow and clear by default
    volume: float = 1.0  # software gain for "louder" / "quieter"
    tts_cache: str = field(default_factory=lambda: str(_cache_home() / "voiceassist" / "tts"))
    # Listening: tolerant of slow and hesitant speakers (wyoming-satellite #273)
    end_silence_ms: int = 1000
    no_input_s: float = 8.0
    max_utterance_s: float = 12.0
    vad_aggressiveness: int = 2
    barge_in: bool = True
    # Confidence (reject < confirm < accept) and reprompts
    reject_below: float = 0.35
    confirm_below: float = 0.70
    red_flag_no_accept: float = 0.90
    # Kiosk
    start_phrases: list | None = None  # default: the prompts' kiosk.start
    idle_timeout_s: float = 90.0
    transcripts: str | None = None  # a folder; only when the operator opts in
    caption_port: int = 8765
    log_file: str | None = None

    def merged(self, values: Mapping[str, Any], origin: str) -> "Settings":
        known = {f.name: f for f in fields(self)}
        out = dataclasses.replace(self)
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in known:
                raise SettingsError(f"{origin}: unknown setting {key!r}")
            if value is None:
                continue
            setattr(out, name, _coerce(name, value, getattr(self, name), known[name], origin))
        out.check(origin)
        return out

    def check(self, origin: str = "settings") -> None:
        from .speech.asr import ENGINES

        if self.engine not in ENGINES:
            raise SettingsError(f"{origin}: engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if not 80 <= self.rate <= 260:
            raise SettingsError(f"{origin}: rate must be between 80 and 260 words a minute")
        for name in ("reject_below", "confirm_below", "red_flag_no_accept"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{origin}: {name} must be between 0 and 1")
        if self.end_silence_ms < 300 or self.no_input_s <= 0 or self.max_utterance_s <= 1:
            raise SettingsError(f"{origin}: listening times are too short")


def _coerce(name: str, value: Any, default: Any, f, origin: str) -> Any:
    target = type(default) if default is not None else str
    if name == "start_phrases" or isinstance(default, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise SettingsError(f"{origin}: {name} must be a list")
        return [str(v).lower() for v in value]
    try:
        if target is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        return target(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{origin}: {name} must be a {target.__name__}, not {value!r}") from None


def config_path(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("VOICEASSIST_CONFIG")
    if env:
        return Path(env)
    default = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "voiceassist" / "config.yaml"
    return default if default.exists() else None


def load_settings(flags: Mapping[str, Any] | None = None, config: str | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    settings = Settings()
    path = config_path(config)
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise SettingsError(f"{path}: config file not found") from None
        except yaml.YAMLError as exc:
            raise SettingsError(f"{path}: malformed YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{path}: expected a mapping of setting: value")
        settings = settings.merged(data, str(path))
    environ = os.environ if environ is None else environ
    names = {f.name for f in fields(Settings)}
    from_env = {
        k[len("VOICEASSIST_"):].lower(): v
        for k, v in environ.items()
        if k.startswith("VOICEASSIST_") and k[len("VOICEASSIST_"):].lower() in names
    }
    if from_env:
        settings = settings.merged(from_env, "environment")
    if flags:
        settings = settings.merged({k: v for k, v in flags.items() if k in names}, "command line")
    return settings
