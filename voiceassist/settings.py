"""One settings object: defaults < config file < environment < flags.

The config file is YAML (`--config FILE`, else $VOICEASSIST_CONFIG, else
~/.config/voiceassist/config.yaml if it exists). Every setting can also be
given as an environment variable VOICEASSIST_<NAME> (upper case) and most
as a command-line flag.

The schema is the `Settings` model (pydantic): every value has a type and a
range, and each source is validated as it is laid over the ones before, so a
bad value is one line naming where it came from: the file and key, the
environment variable, or the flag. The config file's values are read as the
text written (like an environment variable's), so `emergency_number: 000` is
"000", never 0. An unknown key or VOICEASSIST_ variable is an error that
suggests the setting meant.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .dialogue.policy import DialogueSettings
from .speech.engines import ENGINES
from .speech.playback import GAIN_MAX, GAIN_MIN
from .speech.tts import DEFAULT_RATE, RATE_MAX, RATE_MIN, default_cache_dir
from .triage.rules import emergency_number
from .yamlfile import ConfigError, read_yaml

ENV_PREFIX = "VOICEASSIST_"
# VOICEASSIST_ variables that are not settings: the config file's place and
# the test suite's virtual sound card (tests/fixtures/alsa).
ENV_NOT_SETTINGS = ("CONFIG", "ALSA_IN", "ALSA_OUT")


class SettingsError(ValueError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Rules and wording
    rules: str | None = None
    prompts: str | None = None
    emergency_number: str | None = None  # default: the prompts' own (999)
    # Recognition
    engine: Literal[ENGINES] = "auto"  # type: ignore[valid-type]
    model: str | None = None  # a vosk model folder
    # Audio devices: a number as `python -m sounddevice` lists them, or part of a name
    input_device: str | None = None
    output_device: str | None = None
    # Speech output
    voice: str | None = None  # an espeak-ng voice, e.g. en-gb
    rate: int = Field(DEFAULT_RATE, ge=RATE_MIN, le=RATE_MAX)  # words a minute
    volume: float = Field(1.0, ge=GAIN_MIN, le=GAIN_MAX)  # software gain for "louder" / "quieter"
    tts_cache: str = Field(default_factory=lambda: str(default_cache_dir()))
    # Listening: tolerant of slow and hesitant speakers (wyoming-satellite #273)
    end_silence_ms: int = Field(1000, ge=300, le=5000)
    no_input_s: float = Field(8.0, gt=0, le=120)
    max_utterance_s: float = Field(12.0, gt=1, le=60)
    vad_aggressiveness: int = Field(2, ge=0, le=3)
    barge_in: bool = True
    # Confidence: reject < confirm <= accept a "no" to a red flag at once. The
    # defaults are the dialogue's own (dialogue/policy.py, the one place they live).
    reject_below: float = Field(DialogueSettings.reject_below, ge=0, le=1)
    confirm_below: float = Field(DialogueSettings.confirm_below, ge=0, le=1)
    red_flag_no_accept: float = Field(DialogueSettings.red_flag_no_accept, ge=0, le=1)
    # Kiosk
    start_phrases: list[str] | None = None  # default: the prompts' kiosk.start
    idle_timeout_s: float = Field(90.0, gt=0, le=3600)
    transcripts: str | None = None  # a folder; only when the operator opts in
    caption_port: int = Field(8765, ge=0, le=65535)  # 0: any free port
    log_file: str | None = None

    @field_validator("emergency_number", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return None if value is None else emergency_number(value)

    @field_validator("input_device", "output_device", "voice", "model", "rules", "prompts", "transcripts",
                     "log_file", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty")
        return value

    @field_validator("start_phrases", mode="before")
    @classmethod
    def _phrases(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment or a flag: "hello, start"
            value = [v for v in value.split(",")]
        if isinstance(value, list):
            value = [" ".join(str(v).lower().split()) for v in value]
            if not all(value):
                raise ValueError("a start phrase is empty")
        return value

    @field_validator("log_file")
    @classmethod
    def _log_folder(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).expanduser().parent.is_dir():
            raise ValueError(f"the folder {str(Path(value).expanduser().parent)!r} does not exist")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> "Settings":
        if not self.reject_below < self.confirm_below <= self.red_flag_no_accept:
            raise ValueError(
                f"the confidence thresholds must be reject_below < confirm_below <= red_flag_no_accept, not "
                f"{self.reject_below:g}, {self.confirm_below:g}, {self.red_flag_no_accept:g}")
        return self

    def merged(self, values: Mapping[str, Any], where: Callable[[str], str],
               spelt: Callable[[str], str] = str) -> "Settings":
        """These settings with `values` laid over them, checked. In an error,
        `where(name)` names the source of a value ("--rate",
        "$VOICEASSIST_RATE", "config.yaml: rate") and `spelt(name)` how a
        setting is written there (for "did you mean")."""
        known = type(self).model_fields
        data = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {spelt(close[0])}?)" if close else ""
                raise SettingsError(f"{where(str(key))}: unknown setting{hint}")
            data[name] = value
        try:
            return type(self).model_validate({**self.model_dump(), **data})
        except ValidationError as exc:
            raise SettingsError(_one_line(exc, where)) from None


def _one_line(exc: ValidationError, where: Callable[[str], str]) -> str:
    err = exc.errors(include_url=False)[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    msg = err["msg"]
    if err["type"] == "value_error":  # ours: the message says it all
        msg = msg.removeprefix("Value error, ")
    else:
        msg = msg.replace("Input should be", "should be") + f", not {err['input']!r}"
    return f"{where(field) if field else where('settings')}: {msg}"


def config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = (os.environ if environ is None else environ).get(ENV_PREFIX + "CONFIG")
    if env:
        return Path(env)
    default = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "voiceassist" / "config.yaml"
    return default if default.exists() else None


def read_config(path: Path) -> dict[str, Any]:
    try:
        # As text: values are validated like environment variables (000 stays "000").
        data = read_yaml(path, all_text=True)
    except ConfigError as exc:
        problem = "config file not found" if exc.problem == "file not found" else exc.problem
        raise SettingsError(f"{exc.path}: {exc.entry + ': ' if exc.entry else ''}{problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting: value")
    return data


def from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The VOICEASSIST_<NAME> variables that are settings; any other
    VOICEASSIST_ variable is an error (a misspelt setting would otherwise be
    ignored without a word)."""
    values = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):] not in ENV_NOT_SETTINGS:
            values[key[len(ENV_PREFIX):].lower()] = value
    return values


def load_settings(flags: Mapping[str, Any] | None = None, config: str | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    settings = Settings()
    environ = os.environ if environ is None else environ
    path = config_path(config, environ)
    if path is not None:
        settings = settings.merged(read_config(path), lambda name: f"{path}: {name}")
    env_name = lambda name: f"${ENV_PREFIX}{name.upper()}"  # noqa: E731
    settings = settings.merged(from_environment(environ), env_name, env_name)
    if flags:
        flag = lambda name: f"--{name.replace('_', '-')}"  # noqa: E731
        settings = settings.merged(flags, flag, flag)
    return settings
