"""Calibration rows: every single answer of a set, heard in every condition, with its evidence.

    python benchmarks/calibration.py --set tuning [--engine pocketsphinx+whisper] [--voices ...] [--conditions ...]
    python benchmarks/calibration.py --summary benchmarks/out/calibration-tuning.csv
    python benchmarks/calibration.py --table benchmarks/out/calibration-tuning.csv benchmarks/out/calibration-report.csv

Each recording of a voice (every yes, no and "I don't know" with the yes/no
question's grammar, every pain-location phrase with the place question's,
and the ~20 sentences that are not answers with both) is said into the
virtual microphone after 1.5 s of the room and cut by the real endpointer
(as voiceassist.bank.heard_by_endpointer does), clean and with the set's fan
and babble at 20, 10 and 6 dB, then recognised once. One CSV row per try:

    set, voice, condition, noise, snr, grammar, file, meant, heard, text,
    confidence, measured_snr, and every key of Recognition.evidence

meant: "yes", "no", "unknown", a place, a command ("command:repeat"), or "none" for a sentence that is not
an answer; heard: the meaning of what the recogniser returned (a command as
"command:repeat"), "" when nothing was (not endpointed, or no phrase);
measured_snr: the utterance's active speech level above the endpointer's
noise floor, as a consultation computes it (session/listening.py, answer_snr_db).

The rows go to benchmarks/out/calibration-<set>.csv (not committed); a
reliability summary is printed (how often what was heard is wrong, by the
pair's confidence, by agreement, by each engine's own score, by measured
SNR). Fit an acceptance model on the tuning rows; check it on the report rows.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sets  # noqa: E402

from voiceassist.speech.asr import EVIDENCE  # noqa: E402

OUT = sets.ROOT / "benchmarks" / "out"
COLUMNS = ["set", "voice", "condition", "noise", "snr", "grammar", "file", "meant", "heard", "text", "confidence",
           "measured_snr", *EVIDENCE]


KINDS = ("answers", "commands", "not_answers")


def tries(voice: str, thin: bool = False, kinds: tuple[str, ...] = KINDS):
    """(file, grammar, meant, samples) of every try of one voice. `thin`: every
    yes, no and "I don't know", the first 3 phrasings of each place, each
    command once with one grammar in turn, and 10 of the 20 sentences that
    are not answers, each with one grammar in turn (53 tries a voice instead
    of 103: for a machine shared with others). `kinds`: which of KINDS."""
    from voiceassist.speech import audio

    folder = sets.voice_dir(voice)
    for name, grammar, meaning in sets.single_answers(voice) if "answers" in kinds else []:
        stem = Path(name).stem.rpartition("-")[2]
        if thin and grammar == "pain_location" and stem.isdigit() and int(stem) > 3:
            continue
        yield name, grammar, meaning, audio.load_wav(folder / name)
    # A command is said as itself: "command:repeat" is what it means, whatever the question.
    for n, (name, command) in enumerate(sets.commands(voice) if "commands" in kinds else []):
        for grammar in [list(sets.GRAMMARS)[n % 2]] if thin else sets.GRAMMARS:
            yield name, grammar, f"command:{command}", audio.load_wav(folder / name)
    for n, (sentence, samples) in enumerate(sets.not_answers(voice) if "not_answers" in kinds else []):
        if thin and n % 2:
            continue
        for grammar in [list(sets.GRAMMARS)[n // 2 % 2]] if thin else sets.GRAMMARS:
            yield f"not_answer:{sentence}", grammar, "none", samples


def rows(set_name: str, engine: str, voices: list[str], conditions: list, thin: bool = False,
         kinds: tuple[str, ...] = KINDS):
    from voice import _parts

    from voiceassist.bank import Bank, heard_by_endpointer
    from voiceassist.dialogue import answers as answer_text
    from voiceassist.session.listening import answer_snr_db
    from voiceassist.speech import audio
    from voiceassist.speech.endpoint import Endpointer

    rules, prompts, parts = _parts(engine)
    grammar = {g: answer_text.grammar(prompts, *k) for g, k in sets.GRAMMARS.items()}
    vocab = {g: answer_text.vocabulary(prompts, *k) for g, k in sets.GRAMMARS.items()}
    for voice in voices:
        bank = Bank(sets.voice_dir(voice))
        said = list(tries(voice, thin, kinds))
        for label, noise_name, snr in conditions:
            noise = audio.load_wav(sets.noise_path(noise_name)) if noise_name else None
            for n, (name, g, meant, samples) in enumerate(said):
                endpointer = Endpointer(parts.endpoint)
                utterance, background = heard_by_endpointer(samples, endpointer=endpointer, speech_rms=bank.speech_rms,
                                                            noise=noise, snr_db=snr, seed=n)
                row = {"set": set_name, "voice": voice, "condition": label, "noise": noise_name or "",
                       "snr": snr if snr is not None else "", "grammar": g, "file": name, "meant": meant,
                       "heard": "", "text": "", "confidence": "", "measured_snr": ""}
                if utterance is not None:
                    phrases, meanings = grammar[g]
                    r = parts.recogniser.recognise(utterance, phrases, background, meanings=meanings)
                    parsed = answer_text.parse(r.text, vocab[g]) if r.text else None
                    heard = "" if parsed is None else _meaning(f"{parsed.kind}:{parsed.value}")
                    row.update(heard=heard, text=r.text, confidence=r.confidence,
                               measured_snr=round(answer_snr_db(utterance, endpointer.floor_db), 2), **r.evidence)
                yield row


# ------------------------------------------------------------------ the summary


def _meaning(m: str) -> str:
    """"answer:yes" -> "yes", "option:calf" -> "calf"; a command stays "command:repeat"."""
    kind, _, value = (m or "").partition(":")
    return value if kind in ("answer", "option") else (m or "")


def _load(path: Path) -> list[dict]:
    with path.open() as f:
        data = list(csv.DictReader(f))
    for r in data:
        r["heard"] = _meaning(r["heard"])
        for k in ("pocketsphinx_meaning", "whisper_meaning", "whisper_second_meaning"):
            if r.get(k):
                r[k] = _meaning(r[k])
    return data


REJECT_BELOW, CONFIRM_BELOW = 0.35, 0.70  # the dialogue's bars (dialogue Settings)


def decisions(r: dict) -> dict[str, tuple[str, float]]:
    """(meaning heard, confidence) of each engine for one row: the pair's own,
    and pocketsphinx's and Whisper's alone, as each would have answered (the
    pair runs both on the same audio: pocketsphinx's Recognition is the same;
    Whisper alone's confidence is its pooled posterior times its in-grammar
    factor)."""
    out = {}
    if r["heard"] or r["confidence"] != "":
        out["pair"] = (r["heard"], float(r["confidence"] or 0))
    if r.get("pocketsphinx_confidence"):
        out["pocketsphinx"] = (r["pocketsphinx_meaning"], float(r["pocketsphinx_confidence"]))
    if r.get("whisper_posterior"):
        out["whisper"] = (r["whisper_meaning"], float(r["whisper_posterior"]) * float(r["whisper_in_grammar"]))
    return out


def engine_table(paths: list[Path]) -> None:
    """Single answers, per engine and condition: right / wrong and taken at
    once (at or above the confirmation bar) / not understood, each set's
    rows side by side."""
    counts: dict = {}
    conditions: list[str] = []
    for path in paths:
        for r in _load(path):
            if r["meant"] == "none":
                continue
            if r["condition"] not in conditions:
                conditions.append(r["condition"])
            got = decisions(r)
            for engine in ("pocketsphinx", "whisper", "pair"):
                c = counts.setdefault((engine, r["set"], r["condition"]), [0, 0, 0, 0])
                meaning, conf = got.get(engine, ("", 0.0))
                c[0] += 1
                if not meaning or conf < REJECT_BELOW:
                    c[3] += 1
                elif meaning == r["meant"]:
                    c[1] += 1
                elif conf >= CONFIRM_BELOW:
                    c[2] += 1
    set_names = list(dict.fromkeys(s for _, s, _ in counts))
    print("right / wrong and taken at once / not understood (the rest read back)\n")
    print("| condition | engine | " + " | ".join(set_names) + " |")
    print("|---|---|" + "---|" * len(set_names))
    for cond in conditions:
        for engine in ("pocketsphinx", "whisper", "pair"):
            cells = []
            for s in set_names:
                n, right, wrong, rejected = counts.get((engine, s, cond), [0, 0, 0, 0])
                cells.append(f"{right / n:.1%} / {wrong / n:.1%} / {rejected / n:.1%} ({n})" if n else "-")
            print(f"| {cond} | {engine} | " + " | ".join(cells) + " |")


def _bins(values: list[float], edges: list[float]) -> list[str]:
    labels = [f"[{a:g}, {b:g})" for a, b in zip(edges, edges[1:])]
    out = []
    for v in values:
        i = int(np.searchsorted(edges, v, side="right")) - 1
        out.append(labels[min(max(i, 0), len(labels) - 1)])
    return out


def summary(paths: list[Path]) -> None:
    data = [r for path in paths for r in _load(path)]
    answers = [r for r in data if r["meant"] != "none"]
    heard = [r for r in answers if r["heard"]]
    print(f"\n{', '.join(p.name for p in paths)}: {len(data)} tries, {len(answers)} of them answers; "
          f"{len(answers) - len(heard)} answers not heard at all or no phrase returned\n")
    print("Answers heard (any confidence): how often what was heard is not what was meant.\n")

    def table(title: str, key, order=None):
        groups: dict[str, list[bool]] = {}
        for r in heard:
            k = key(r)
            if k is not None:
                groups.setdefault(k, []).append(r["heard"] != r["meant"])
        print(f"| {title} | heard | wrong | wrong rate |")
        print("|---|---|---|---|")
        for k in (order or sorted(groups)):
            if k in groups:
                g = groups[k]
                print(f"| {k} | {len(g)} | {sum(g)} | {sum(g) / len(g):.1%} |")
        print()

    conf_edges = [0, 0.1, 0.35, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01]
    order = [f"[{a:g}, {b:g})" for a, b in zip(conf_edges, conf_edges[1:])]

    def binned(column, edges):
        def key(r):
            v = r.get(column, "")
            return None if v in ("", None) else _bins([float(v)], edges)[0]
        return key

    table("confidence (the engine's answer)", binned("confidence", conf_edges), order)
    if any(r.get("agreed") not in ("", None) for r in heard):
        table("engines agreed", lambda r: {"1.0": "yes", "0.0": "no"}.get(r.get("agreed", "")),
              ["yes", "no"])
    table("pocketsphinx confidence", binned("pocketsphinx_confidence", conf_edges), order)
    table("Whisper posterior (pooled)", binned("whisper_posterior", conf_edges), order)
    margin_edges = [0, 1, 2, 4, 8, 16, 31]
    table("Whisper margin, nats", binned("whisper_margin", margin_edges),
          [f"[{a:g}, {b:g})" for a, b in zip(margin_edges, margin_edges[1:])])
    if any(r.get("agreed") not in ("", None) for r in heard):
        table("agreed, Whisper margin", lambda r: None if r.get("agreed") in ("", None) or r.get("whisper_margin") in ("", None)
              else f"{'agreed' if r['agreed'] == '1.0' else 'disagreed'}, "
                   f"{_bins([float(r['whisper_margin'])], margin_edges)[0]} nats",
              [f"{a}, [{x:g}, {y:g}) nats" for a in ("agreed", "disagreed") for x, y in zip(margin_edges, margin_edges[1:])])
    snr_edges = [-50, 0, 5, 10, 15, 20, 30, 100]
    table("measured SNR, dB", binned("measured_snr", snr_edges),
          [f"[{a:g}, {b:g})" for a, b in zip(snr_edges, snr_edges[1:])])
    table("condition", lambda r: r["condition"])
    nots = [r for r in data if r["meant"] == "none"]
    taken = [r for r in nots if r["heard"] and r["confidence"] and float(r["confidence"]) >= 0.35]
    print(f"Sentences that are not answers: {len(nots)} tries, {len(taken)} heard as a phrase at or above 0.35"
          f" ({len(taken) / max(1, len(nots)):.1%}), {sum(float(r['confidence']) >= 0.70 for r in taken)} at or"
          " above 0.70")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", choices=sets.SETS, default="tuning")
    p.add_argument("--engine", default="pocketsphinx+whisper")
    p.add_argument("--voices", help="comma-separated (default: every voice of the set)")
    p.add_argument("--conditions", help='comma-separated: clean, fan, babble, or one such as "babble 10 dB"')
    p.add_argument("--thin", action="store_true", help="53 tries a voice instead of 103 (see tries())")
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)} (default: all)")
    p.add_argument("--out", type=Path, help="CSV to write (default benchmarks/out/calibration-<set>.csv)")
    p.add_argument("--summary", type=Path, nargs="+", metavar="CSV", help="only print the summary of rows already written")
    p.add_argument("--table", type=Path, nargs="+", metavar="CSV",
                   help="only print the single-answer table per engine of rows already written (sets side by side)")
    args = p.parse_args()
    if args.summary:
        summary(args.summary)
        return
    if args.table:
        engine_table(args.table)
        return
    voices = args.voices.split(",") if args.voices else sets.voices(args.set)
    conditions = sets.select(sets.conditions(args.set), args.conditions)
    out = args.out or OUT / f"calibration-{args.set}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0, n = time.monotonic(), 0
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows(args.set, args.engine, voices, conditions, args.thin, tuple(args.kinds.split(","))):
            writer.writerow(row)
            n += 1
            f.flush()  # a run stopped early keeps every row written
            if n % 200 == 0:
                print(f"# {n} rows, {time.monotonic() - t0:.0f} s ({row['voice']}, {row['condition']})",
                      file=sys.stderr, flush=True)
    print(f"# {n} rows -> {out} ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    summary([out])


if __name__ == "__main__":
    main()
