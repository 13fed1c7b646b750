"""What a hearing tells: the meaning heard, and the chance it is wrong.

Each recogniser reports what it measured (speech/asr.py, EVIDENCE): its own
confidence, Whisper's posterior and its margin over the next meaning, whether
the two engines of the pair heard the same meaning. No one figure of these is
a probability (pocketsphinx's confidence in babble is near 1.0 whether right
or wrong, measured), so the chance a heard meaning is wrong is estimated by
logistic models fitted on the tuning set's single answers in every condition
and checked on the report set (benchmarks/acceptance.py writes
acceptance.yaml beside this file; benchmarks/README.md has the reliability
tables).

For the pair, when the engines disagree each one's meaning is weighed and the
likelier is the one heard: with a large margin Whisper is right where
pocketsphinx is lost (measured: 18 of 18 on the tuning set, 5 of 5 on the
report set).

A hearing from an engine without a model (vosk, the keyboard, a scripted
recogniser in tests) has no estimate here; policy.py then grades its
confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Mapping

from ..yamlfile import read_yaml

SNR_WHEN_UNKNOWN = 40.0  # a recogniser fed without a noise floor: as in a quiet room


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def features(evidence: Mapping[str, float | str], snr_db: float | None) -> dict[str, float]:
    """The model's inputs, each scaled to about -2..2."""
    def num(key: str, default: float = 0.0) -> float:
        value = evidence.get(key)
        return default if value in (None, "") else float(value)

    snr = SNR_WHEN_UNKNOWN if snr_db is None else snr_db
    noise = min(max((30.0 - snr) / 20.0, 0.0), 1.0)  # 0 in a quiet room (30 dB and over), 1 at 10 dB and under
    x = {
        "agreed": num("agreed"),
        "ps_logit": _logit(num("pocketsphinx_confidence")) / 5,
        "ps_score": min(max(num("pocketsphinx_score", -30.0), -30.0), 10.0) / 10,
        "w_logit": _logit(num("whisper_posterior")) / 5,
        "w_margin": min(max(num("whisper_margin"), -5.0), 15.0) / 5,
        "w_in": num("whisper_in_grammar"),
        "noise": noise,
    }
    # In noise each engine's own measure means less (babble is heard as a
    # confident "yes" by both, measured): the model weighs them apart there.
    x.update({f"noise_{k}": noise * x[k] for k in ("ps_logit", "w_logit", "w_margin")})
    return x


@dataclass(frozen=True)
class Logistic:
    """P(the meaning is right) = 1 / (1 + exp(-(intercept + sum(weight * feature))))."""

    intercept: float
    weights: Mapping[str, float]

    def p_right(self, x: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * x[k] for k, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class Bars:
    """Chances of being wrong at or below which a hearing is (policy.py):
    firm: a red flag's answer taken on one hearing;
    vote: a red flag's answer that, heard alike twice, is taken (both
      wrong within firm, by `all_wrong`, when not given);
    fair: any other answer taken on one hearing (wrong at most 1% of the
      time, on the tuning set);
    weak: read back.
    calibrated: the chances are measured ones (a fitted model), so two
    hearings' chances can be weighed together; a recogniser's raw
    confidence is not.
    repeat: the chance that a wrong hearing of an answer is heard the same
      way again for a reason the chances do not see (one voice, one
      phrasing: rp_f4's "I have" was heard as "i haven't" in the quiet room
      and in fan noise), measured on the tuning set (acceptance.py). Two
      hearings are not two independent chances (`all_wrong`).
    firm_by_meaning: a meaning's own firm bar, where it has one ("answer:no"):
      noise turns one answer into another far more often than back (babble
      masks the "n't" of "I haven't": a no heard as "I have", never a yes
      heard as "no", on the tuning set), so one bar for every meaning is set
      by the likelier error and asks again after every other. `for_meaning`
      gives the bars a hearing of that meaning is read against."""

    firm: float
    fair: float
    weak: float
    vote: float = -1.0
    calibrated: bool = True
    firm_by_meaning: tuple[tuple[str, float], ...] = ()
    repeat: float = 0.0

    def __post_init__(self):
        if self.vote < 0:
            object.__setattr__(self, "vote", self.twice_within(self.firm))
        if isinstance(self.firm_by_meaning, Mapping):
            object.__setattr__(self, "firm_by_meaning", tuple(sorted(self.firm_by_meaning.items())))

    def all_wrong(self, chances: list[float]) -> float:
        """The chance that hearings of one answer, each with its chance of
        being wrong, are all wrong: the likeliest to be wrong is; then the
        rest are too, either because its mishearing repeats (`repeat`) or
        each on its own chance."""
        if not chances:
            return 1.0
        first, *rest = sorted(chances, reverse=True)
        if not rest:
            return first
        return first * (self.repeat + (1.0 - self.repeat) * math.prod(rest))

    def twice_within(self, bar: float) -> float:
        """The chance at or below which two hearings alike are both wrong
        within `bar` (all_wrong([v, v]) == bar; the square root when
        mishearings do not repeat)."""
        r = self.repeat
        if r <= 0:
            return math.sqrt(bar)
        return (-r + math.sqrt(r * r + 4 * (1 - r) * bar)) / (2 * (1 - r))

    def for_meaning(self, meaning: str) -> "Bars":
        """The bars for a hearing of `meaning` ("answer:no"): its own firm bar
        and the vote it implies, where it has one."""
        firm = dict(self.firm_by_meaning).get(meaning)
        if firm is None:
            return self
        return replace(self, firm=firm, vote=self.twice_within(firm), firm_by_meaning=())


@dataclass(frozen=True)
class EngineModel:
    """One engine's models: for a single engine, `right` weighs its meaning;
    for the pair, `agreed` weighs the meaning both heard, and `right` (keyed
    by engine) each one's meaning when they disagree."""

    engine: str
    right: Mapping[str, Logistic]  # "pocketsphinx" / "whisper": that engine's meaning is right
    bars: Bars
    agreed: Logistic | None = None

    def judge(self, evidence: Mapping[str, float | str], snr_db: float | None) -> tuple[str, float]:
        """(meaning heard, chance it is wrong); meaning "" when none was heard."""
        x = features(evidence, snr_db)
        meanings = {name: str(evidence.get(f"{name}_meaning") or "") for name in self.right}
        if self.agreed is not None and x["agreed"] >= 0.5:
            meaning = next(iter(meanings.values()))
            return meaning, 1.0 - self.agreed.p_right(x)
        best = max(((meanings[name], model.p_right(x)) for name, model in self.right.items() if meanings[name]),
                   key=lambda pair: pair[1], default=("", 0.0))
        return best[0], 1.0 - best[1]


def default_path() -> Path:
    return Path(str(resources.files("voiceassist.dialogue") / "acceptance.yaml"))


@cache
def default_models() -> dict[str, EngineModel]:
    return load()


def load(path: str | Path | None = None) -> dict[str, EngineModel]:
    """The fitted models by engine name (benchmarks/acceptance.py writes the file)."""
    data = read_yaml(Path(path) if path else default_path())
    models = {}
    for engine, spec in (data.get("engines") or {}).items():
        def logistic(d: Mapping) -> Logistic:
            return Logistic(float(d["intercept"]), {k: float(v) for k, v in d["weights"].items()})

        models[engine] = EngineModel(
            engine,
            {name: logistic(d) for name, d in spec["right"].items()},
            Bars(**{k: (v if isinstance(v, Mapping) else float(v)) for k, v in spec["bars"].items()}),
            logistic(spec["agreed"]) if spec.get("agreed") else None,
        )
    return models
