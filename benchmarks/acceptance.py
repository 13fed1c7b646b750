"""Fit the acceptance models on the tuning set, check them on the report set.

    python benchmarks/acceptance.py [--tuning CSV...] [--report CSV...] [--write]

The rows are calibration.py's: every single answer of a set's voices, heard by
the pair in every condition, with each engine's evidence. The rows the
committed models were fitted on are committed too (benchmarks/calibration/
tuning.csv and report.csv: calibration.py --thin, clean, fan 6 dB, babble 10
and 6 dB; answers, commands and speech that is not an answer; on the report
set every voice clean, us_f2, scot_m3, joe_high_fast and rp_f4 in noise, and
every voice in fan 20 and 10 dB and babble 20 dB). tuning-not-fitted.csv holds
the tuning voices in fan 20 and 10 dB and babble 20 dB, kept out of the fit
(fitting on them too loosened the fair bar and took more answers wrongly:
benchmarks/README.md, "Rows at 20 and 10 dB"); the tests hold the bars to
them. From them, for each
engine the dialogue can run (the pair, pocketsphinx alone, Whisper alone: the
evidence of each engine is the same whether it runs alone or in the pair),
logistic models of "the meaning heard is the one meant" are fitted on the
tuning rows (voiceassist/dialogue/evidence.py says which), and the bars of
policy.Grade chosen on the tuning rows alone:

- firm (one hearing takes a red flag's answer): for each answer of the
  yes/no question, the largest chance of being wrong at or below which no
  tuning hearing of that answer was wrong, at most 2% (noise makes "I have"
  of "I haven't", not the reverse); for any other meaning, the same over
  every answer of that question;
- fair (one hearing takes any other answer): wrong at most 1% of the time
  at or below it, on the tuning rows;
- weak (read back): at most 50% wrong;
- repeat (how far two hearings of one answer are from independent,
  evidence.Bars.all_wrong): from every recording heard in two conditions
  with the same meaning both times, so that the pairs predicted to be both
  wrong are as many as were.

Printed: the reliability of each model (the chance it gives against how often
the tuning and the report hearings were wrong), and per condition how many
answers each grade would take at once and how many of those were wrong.
With --write, voiceassist/dialogue/acceptance.yaml is written.

The ridge penalty of each engine's models is chosen by leave-one-voice-out
cross-validation on the tuning rows (the lowest log loss on a voice left out
of the fit), so how far the quiet room's evidence may differ from the noisy
rooms' is the tuning voices' to say, not a fixed guess.

The fit is ridge-penalised logistic regression by Newton's method (IRLS) in
numpy: a dozen lines, where scikit-learn and scipy would add about 150 MB to
the locked test install for a fit run once a release.
"""

from __future__ import annotations

import argparse
import csv
import glob
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voiceassist.dialogue.evidence import features  # noqa: E402

OUT = ROOT / "voiceassist" / "dialogue" / "acceptance.yaml"
# The inputs of each model (evidence.features names them).
PS = ("ps_logit", "ps_score", "noise", "noise_ps_logit")
WHISPER = ("w_logit", "w_margin", "w_in", "noise", "noise_w_logit", "noise_w_margin")
PAIR = ("ps_logit", "ps_score", "w_logit", "w_margin", "w_in", "noise", "noise_ps_logit", "noise_w_logit",
        "noise_w_margin")
# The ridge penalty of each engine's models, chosen from these by leave-one-voice-out
# cross-validation on the tuning rows (`choose_l2`): a fixed 1.0 shrank the quiet
# room's evidence towards the noisy rooms' (quiet tuning answers put at 6.4% wrong
# on average where 2.8% were).
L2_CHOICES = (3.0, 1.0, 0.3, 0.1, 0.03, 0.01)
NOT_ANSWER_WEIGHT = 0.25  # about one sentence in twenty that is not an answer, as a consultation hears them
FIRM_MAX, FAIR_WRONG, WEAK_MAX = 0.02, 0.01, 0.5
FIRM_MEANINGS = ("answer:yes", "answer:no", "answer:unknown")  # each gets its own firm bar (evidence.Bars)


def read(patterns: list[str]) -> list[dict]:
    rows = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            with open(path, newline="") as f:
                rows += list(csv.DictReader(f))
    return rows


def heard_anything(row: dict) -> bool:
    return bool(row.get("pocketsphinx_meaning") or row.get("whisper_meaning"))


def right(row: dict, meaning: str) -> bool:
    """A meaning ("answer:yes", "option:calf", "command:stop") is right when it
    is what was meant ("yes", "calf", "command:stop")."""
    return bool(meaning) and row["meant"] in (meaning, meaning.split(":", 1)[-1])


def x_of(row: dict, names: tuple[str, ...]) -> list[float]:
    snr = float(row["measured_snr"]) if row.get("measured_snr") else None
    f = features(row, snr)
    return [f[n] for n in names]


def weight(row: dict) -> float:
    """A sentence that is not an answer weighs NOT_ANSWER_WEIGHT: the sets say one
    for every two answers, where a consultation hears far fewer."""
    return NOT_ANSWER_WEIGHT if row["meant"] == "none" else 1.0


def fit(rows: list[dict], names: tuple[str, ...], target, l2: float) -> dict:
    X = np.array([[1.0] + x_of(r, names) for r in rows])
    y = np.array([1.0 if target(r) else 0.0 for r in rows])
    k = np.array([weight(r) for r in rows])
    w = np.zeros(X.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        hessian = X.T @ (X * (k * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, X.T @ (k * (y - p)) - penalty @ w)
        w += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return {"intercept": round(float(w[0]), 4), "weights": {n: round(float(v), 4) for n, v in zip(names, w[1:])}}


def fit_engine(engine: str, tuning: list[dict], l2: float) -> dict:
    rows = [r for r in tuning if heard_anything(r)]
    if engine == "pocketsphinx":
        return {"right": {"pocketsphinx": fit(rows, PS, lambda r: right(r, r["pocketsphinx_meaning"]), l2)}}
    if engine == "whisper":
        return {"right": {"whisper": fit(rows, WHISPER, lambda r: right(r, r["whisper_meaning"]), l2)}}
    agreed = [r for r in rows if float(r.get("agreed") or 0) >= 0.5]
    split = [r for r in rows if float(r.get("agreed") or 0) < 0.5]
    return {
        "agreed": fit(agreed, PAIR, lambda r: right(r, r["whisper_meaning"]), l2),
        "right": {
            "pocketsphinx": fit(split, PAIR, lambda r: right(r, r["pocketsphinx_meaning"]), l2),
            "whisper": fit(split, PAIR, lambda r: right(r, r["whisper_meaning"]), l2),
        },
    }


def log_loss(hearings: list[tuple[dict, str, float]]) -> float:
    """Mean -log of the chance given to what happened, weighed as `weight`."""
    total = sum(weight(r) for r, _, _ in hearings)
    return sum(weight(r) * -np.log(max(1 - p, 1e-6) if right(r, m) else max(p, 1e-6))
               for r, m, p in hearings) / max(total, 1e-9)


def choose_l2(engine: str, tuning: list[dict]) -> tuple[float, dict[float, float]]:
    """The ridge penalty of L2_CHOICES whose models, each fitted without one
    voice and judged on that voice, give the lowest log loss over all the
    voices (the report set is not looked at); and the log loss of each."""
    voices = sorted({r["voice"] for r in tuning})
    losses = {}
    for l2 in L2_CHOICES:
        hearings = []
        for voice in voices:
            spec = fit_engine(engine, [r for r in tuning if r["voice"] != voice], l2)
            hearings += judged(engine, spec, [r for r in tuning if r["voice"] == voice])
        losses[l2] = round(float(log_loss(hearings)), 4)
    return min(losses, key=lambda l2: (losses[l2], -l2)), losses


def judged(engine: str, spec: dict, rows: list[dict]) -> list[tuple[dict, str, float]]:
    """(row, meaning heard, chance wrong) for every row something was heard in."""
    from voiceassist.dialogue.evidence import Bars, EngineModel, Logistic

    def logistic(d):
        return Logistic(d["intercept"], d["weights"])

    model = EngineModel(engine, {k: logistic(v) for k, v in spec["right"].items()}, Bars(1, 1, 1),
                        logistic(spec["agreed"]) if "agreed" in spec else None)
    out = []
    for r in rows:
        if not heard_anything(r):
            continue
        snr = float(r["measured_snr"]) if r.get("measured_snr") else None
        meaning, p_wrong = model.judge(r, snr)
        if meaning:
            out.append((r, meaning, p_wrong))
    return out


def firm_below(hearings: list[tuple[dict, str, float]]) -> float:
    """The largest chance, at most FIRM_MAX, at or below which none of these
    hearings was wrong."""
    firm = 0.0
    for r, m, pw in sorted(hearings, key=lambda h: h[2]):
        if not right(r, m) or pw > FIRM_MAX:
            break
        firm = float(pw)
    return round(firm, 5)


def choose_bars(hearings: list[tuple[dict, str, float]]) -> dict:
    """firm from the hearings of the yes/no question (what a red flag is asked
    with): for each of its answers, just below the first hearing of that
    answer that was wrong (a sentence that is not an answer, heard as it,
    included); for any other meaning just below the first wrong answer of the
    question. fair from every hearing, the sentences that are not answers
    weighed as in a consultation."""
    yes_no = [h for h in hearings if h[0]["grammar"] == "yes_no"]
    firm = firm_below([h for h in yes_no if h[0]["meant"] != "none"])
    by_meaning = {m: max(firm, firm_below([h for h in yes_no if h[1] == m])) for m in FIRM_MEANINGS}
    by_meaning = {m: bar for m, bar in by_meaning.items() if bar != firm}
    fair, taken, wrong = firm, 0.0, 0.0
    for r, m, pw in sorted(hearings, key=lambda h: h[2]):
        taken += weight(r)
        wrong += 0.0 if right(r, m) else weight(r)
        if wrong / taken <= FAIR_WRONG:
            fair = max(fair, float(pw))
    bars = {"firm": firm, "fair": round(fair, 5), "weak": WEAK_MAX}
    bars |= {"firm_by_meaning": by_meaning} if by_meaning else {}
    bars["repeat"] = round(fit_repeat(*repeat_pairs(hearings)[1:]), 4)
    return bars


def repeat_pairs(hearings: list[tuple[dict, str, float]]) -> tuple[int, int, float, float]:
    """Two hearings of one recording (a voice, a phrasing) in two conditions,
    heard as the same meaning, each weak or better (what a question weighs
    together): (pairs, pairs both wrong, sum of hi * lo, sum of hi * (1 - lo)),
    hi and lo each pair's two chances of being wrong. With a repeat chance r
    a pair is both wrong with chance hi * (r + (1 - r) * lo) (Bars.all_wrong)."""
    by_recording: dict[tuple, list] = {}
    for h in hearings:
        r = h[0]
        if r["meant"] != "none" and h[2] <= WEAK_MAX:
            by_recording.setdefault((r["voice"], r["grammar"], r["file"]), []).append(h)
    pairs = wrong = 0
    independent = spread = 0.0
    for group in by_recording.values():
        for i, (row, meaning, p) in enumerate(group):
            for _, other, q in group[i + 1:]:
                if other == meaning:
                    hi, lo = max(p, q), min(p, q)
                    pairs, wrong = pairs + 1, wrong + (not right(row, meaning))
                    independent, spread = independent + hi * lo, spread + hi * (1 - lo)
    return pairs, wrong, independent, spread


def fit_repeat(wrong: int, independent: float, spread: float) -> float:
    """The repeat chance that predicts as many pairs both wrong as were."""
    return min(max((wrong - independent) / spread, 0.0), 0.5) if spread else 0.0


def repeat_check(hearings, repeat: float, title: str) -> None:
    pairs, wrong, independent, spread = repeat_pairs(hearings)
    print(f"\n{title}: {pairs} pairs of hearings of one recording in two conditions, one meaning heard; "
          f"both wrong: {wrong}; predicted, as independent chances: {independent:.2f}, with repeat "
          f"{repeat}: {independent + repeat * spread:.2f} (the repeat these pairs fit: "
          f"{fit_repeat(wrong, independent, spread):.4f})")


def reliability(hearings, title: str) -> None:
    edges = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0001]
    print(f"\n{title}\n\n| chance wrong (model) | hearings | wrong | wrong rate |\n|---|---|---|---|")
    for lo, hi in zip(edges, edges[1:]):
        sel = [h for h in hearings if lo <= h[2] < hi]
        if sel:
            bad = sum(not right(r, m) for r, m, _ in sel)
            print(f"| {lo:g} to {min(hi, 1):g} | {len(sel)} | {bad} | {bad / len(sel):.1%} |")


def firm_of(bars: dict, meaning: str) -> float:
    return bars.get("firm_by_meaning", {}).get(meaning, bars["firm"])


def per_condition(hearings, bars: dict, title: str) -> None:
    print(f"\n{title}: answers taken on one hearing (fair or firm), and wrong among them; "
          "yes/no flips (yes taken for no or no for yes) among the firm ones\n")
    print("| condition | answers | firm | fair | taken wrongly | firm yes/no flips |\n|---|---|---|---|---|---|")
    conditions = sorted({h[0]["condition"] for h in hearings}, key=lambda c: (c != "clean", c))
    for cond in conditions:
        sel = [h for h in hearings if h[0]["condition"] == cond and h[0]["meant"] != "none"]
        firm = [h for h in sel if h[2] <= firm_of(bars, h[1])]
        fair = [h for h in sel if firm_of(bars, h[1]) < h[2] <= bars["fair"]]
        taken_wrong = sum(not right(r, m) for r, m, _ in firm + fair)
        flips = sum(1 for r, m, _ in firm if r["meant"] in ("yes", "no") and m.split(":")[-1] in ("yes", "no")
                    and not right(r, m))
        answers = sum(1 for r in {id(h[0]): h[0] for h in sel}.values())
        print(f"| {cond} | {answers} | {len(firm)} | {len(fair)} | {taken_wrong} | {flips} |")
    nots = [h for h in hearings if h[0]["meant"] == "none"]
    taken = [h for h in nots if h[2] <= bars["fair"]]
    print(f"\nSentences that are not answers: {len(nots)} heard as a phrase, {len(taken)} of them taken at once.")


FITTED = ("pocketsphinx+whisper", "pocketsphinx", "whisper")
# pocketsphinx alone: its features cannot tell a fan from babble (only the
# measured SNR), so its model puts every yes or no heard in noise at 25-45%
# wrong, where in fan noise 10% are (tuning set, yes/no questions): no answer
# in any noise is firm or even a vote, every red flag reaches the cap and
# counts as yes, and in the fixtures' fan noise at 10 dB every public
# vignette ended "call an ambulance" (measured). It keeps its confidence bars
# (policy.by_confidence: never firm in noise, a red flag's "no" heard twice),
# measured safe before: no red flag lowered, clean or in noise.
NOT_ADOPTED = {"pocketsphinx": "cannot tell fan from babble; keeps its confidence bars"}
ADOPTED = tuple(e for e in FITTED if e not in NOT_ADOPTED)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tuning", nargs="+", default=[str(ROOT / "benchmarks/calibration/tuning.csv")])
    p.add_argument("--report", nargs="+", default=[str(ROOT / "benchmarks/calibration/report.csv")])
    p.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = p.parse_args()
    tuning, report = read(args.tuning), read(args.report)
    if not tuning:
        raise SystemExit("no tuning rows: run benchmarks/calibration.py --set tuning first")
    print(f"{len(tuning)} tuning rows, {len(report)} report rows")
    engines = {}
    for engine in FITTED:
        l2, losses = choose_l2(engine, tuning)
        spec = fit_engine(engine, tuning, l2) | {"ridge": l2}
        on_tuning = judged(engine, spec, tuning)
        spec["bars"] = choose_bars(on_tuning)
        if engine in ADOPTED:
            engines[engine] = spec
        print(f"\n## {engine}{'' if engine in ADOPTED else ' (fitted, not adopted: ' + NOT_ADOPTED[engine] + ')'}"
              f"\n\nridge penalty {l2} (leave-one-voice-out log loss by penalty: {losses})"
              f"\n\nbars (chance wrong): {spec['bars']}")
        reliability(on_tuning, f"{engine}, tuning set")
        repeat_check(on_tuning, spec["bars"]["repeat"], f"{engine}, tuning set")
        per_condition(on_tuning, spec["bars"], f"{engine}, tuning set")
        if report:
            on_report = judged(engine, spec, report)
            print(f"\nlog loss of every hearing, report set: {log_loss(on_report):.4f}")
            reliability(on_report, f"{engine}, report set")
            repeat_check(on_report, spec["bars"]["repeat"], f"{engine}, report set")
            per_condition(on_report, spec["bars"], f"{engine}, report set")
    if args.write:
        header = ("# The acceptance models: the chance a heard meaning is wrong, from each engine's evidence\n"
                  "# (voiceassist/dialogue/evidence.py). Written by benchmarks/acceptance.py from the tuning\n"
                  "# set's rows; do not edit by hand: fit again and say what changed.\n")
        OUT.write_text(header + yaml.safe_dump({"engines": engines}, sort_keys=False))
        print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
