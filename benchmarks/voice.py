"""Voice benchmarks: answer accuracy in noise, turn latency, start-up, memory.

    python benchmarks/voice.py accuracy [--banks piper_joe,espeak_us] [--engine pocketsphinx]
    python benchmarks/voice.py latency
    python benchmarks/voice.py startup
    python benchmarks/voice.py unanswered [--banks piper_joe,espeak_us]

accuracy: every public vignette is replayed through the real recogniser from
each bank, clean and with babble and fan noise mixed in at 20, 10 and 6 dB
SNR. It prints, per bank and condition:
  - answers correct: the share of answers the dialogue took that are what the
    patient meant (after reprompts and confirmations, as a person would
    experience it);
  - first try: the share understood right the first time, without a reprompt
    or a confirmation;
  - unconfirmed flips: a red-flag yes taken as no (or no as yes) without a
    confirmation; the aim is none;
  - cases passed (level and causes as expected) and safety failures.
latency: end of the answer's audio (after the endpointing silence) to the
first sample of the next sentence ready to play: median and 95th percentile.
startup: a new process, from start to the first question's audio ready
(including the 0.5 s the consultation listens to the room first), and its
peak memory.
unanswered: speech that is not an answer ("I feel sick", "thank you"), the
other side of accuracy: every sentence, spoken by each bank's voice (made as
scripts/make_fixtures.py makes the banks, so the figures repeat exactly),
goes through the microphone path (endpointer, recogniser) with the yes/no
grammar and with the pain-location grammar. It prints how often it was taken
as something the grammar holds: at all (not rejected), at or above the
confirmation bar, and as an answer rather than a command. Lowering the
recogniser's confidence bar helps accented answers and raises these figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIGNETTES = ROOT.parent / "shared" / "spec" / "vignettes.yaml"
BANKS = ROOT / "tests" / "fixtures" / "banks"
NOISE = ROOT / "tests" / "fixtures" / "noise"
CONDITIONS = [("clean", None, None)] + [(f"{n} {snr} dB", n, snr) for n in ("fan", "babble") for snr in (20, 10, 6)]


def _parts(engine: str):
    from voiceassist.settings import Settings
    from voiceassist.triage.rules import load
    from voiceassist.voice import build

    rules, prompts = load()
    parts = build(Settings(engine=engine), prompts, log=lambda line: print(f"# {line}", file=sys.stderr))
    return rules, prompts, parts


def accuracy(args) -> None:
    from voiceassist.bank import Bank
    from voiceassist.replay import load_cases, run_case_voice
    from voiceassist.speech import audio

    rules, prompts, parts = _parts(args.engine)
    cases = load_cases(VIGNETTES, rules)
    red = {q.id for q in rules.questions if q.red_flag}
    rows = []
    for bank_name in args.banks.split(","):
        for label, noise_name, snr in CONDITIONS:
            if args.conditions and label.split()[0] not in args.conditions.split(","):
                continue
            bank = Bank(BANKS / bank_name)
            noise = audio.load_wav(NOISE / f"{noise_name}.wav") if noise_name else None
            results = [run_case_voice(rules, prompts, c, bank, parts.recogniser, parts.tts, endpoint=parts.endpoint,
                                      noise=noise, snr_db=snr, seed=n) for n, c in enumerate(cases)]
            turns = [t for r in results for t in r.turns]
            correct = sum(t["meant"] == t["answer"] for t in turns)
            first = sum(t["meant"] == t["answer"] and t["attempts"] == 1 for t in turns)
            flips = sum(
                1 for t in turns
                if t["question"] in red and {t["meant"], t["answer"]} == {"yes", "no"} and t["attempts"] == 1
            )
            rows.append({
                "engine": parts.recogniser.name, "bank": bank_name, "condition": label,
                "answers": len(turns), "correct": correct / max(1, len(turns)), "first_try": first / max(1, len(turns)),
                "unconfirmed_flips": flips, "passed": sum(bool(r.passed) for r in results), "cases": len(results),
                "safety_failures": sum(r.safety_failure(rules.levels) for r in results),
                "ended_early": sum(r.ending not in ("completed", None) for r in results),
            })
            r = rows[-1]
            print(f"{r['engine']:<13} {bank_name:<12} {label:<14} answers {r['answers']:>4}  correct {r['correct']:6.1%}"
                  f"  first try {r['first_try']:6.1%}  flips {flips}  passed {r['passed']}/{r['cases']}"
                  f"  safety failures {r['safety_failures']}  ended early {r['ended_early']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def latency(args) -> None:
    from voiceassist.bank import Bank
    from voiceassist.replay import load_cases, run_case_voice

    rules, prompts, parts = _parts(args.engine)
    cases = load_cases(VIGNETTES, rules)
    bank = Bank(BANKS / args.banks.split(",")[0])
    values = []
    for c in cases:
        r = run_case_voice(rules, prompts, c, bank, parts.recogniser, parts.tts, endpoint=parts.endpoint)
        values += r.stats.latencies_s
    values.sort()
    p95 = values[int(0.95 * (len(values) - 1))]
    print(f"{parts.recogniser.name}: turn latency beyond the endpointing silence "
          f"({parts.endpoint.end_silence_ms} ms), {len(values)} turns: "
          f"median {statistics.median(values) * 1000:.0f} ms, 95th percentile {p95 * 1000:.0f} ms")


# Said to the assistant, but not answers: small talk, other complaints, a
# question back.  Short ones matter most: they are the ones forced onto a phrase.
NOT_ANSWERS = [
    "banana sandwich please", "the weather is nice", "what time is it", "my name is john", "i feel sick",
    "thank you", "okay", "hello there", "i think so", "where am i", "my back hurts", "call the nurse",
    "it started last week", "i took some paracetamol", "can you help me", "i am cold", "what was that",
    "turn it off", "my foot", "good morning",
]


def unanswered(args) -> None:
    from voiceassist.bank import heard_by_endpointer
    from voiceassist.dialogue import answers as answer_text
    from voiceassist.settings import Settings
    from voiceassist.speech import audio

    sys.path.insert(0, str(ROOT / "scripts"))
    import make_fixtures  # the patients' voices, as the banks were made

    rules, prompts, parts = _parts(args.engine)
    settings = Settings()
    grammars = [answer_text.vocabulary(prompts, "yes_no"), answer_text.vocabulary(prompts, "choice", "pain_location")]
    total = {"n": 0, "taken": 0, "as_answer": 0, "confident": 0}
    for voice in args.banks.split(","):
        synthesise = make_fixtures.synthesiser(make_fixtures.VOICES[voice])
        counts = dict.fromkeys(total, 0)
        examples = []
        for sentence in NOT_ANSWERS:
            speech = audio.to_mono16k(make_fixtures.prepare(*synthesise(sentence)), make_fixtures.RATE)
            # Cut once: the same audio is then heard with each grammar.
            utterance, background = heard_by_endpointer(speech, parts.endpoint)
            for vocab in grammars:
                counts["n"] += 1
                if utterance is None:
                    continue
                r = parts.recogniser.recognise(utterance, list(vocab), background)
                parsed = answer_text.parse(r.text, vocab) if r.text else None
                if parsed is None or r.confidence < settings.reject_below:
                    continue
                counts["taken"] += 1
                counts["confident"] += r.confidence >= settings.confirm_below
                counts["as_answer"] += parsed.kind != "command"
                examples.append(f"{sentence!r} -> {r.text!r} {r.confidence:.2f}")
        for k in total:
            total[k] += counts[k]
        print(f"{parts.recogniser.name:<13} {voice:<12} {counts['n']} tries: taken {counts['taken']}"
              f" (as an answer {counts['as_answer']}), at or above the confirmation bar {counts['confident']}",
              flush=True)
        for line in examples:
            print(f"    {line}")
    n = total["n"]
    print(f"{parts.recogniser.name:<13} {'all':<12} {n} tries: taken {total['taken']} ({total['taken'] / n:.1%}),"
          f" as an answer {total['as_answer']} ({total['as_answer'] / n:.1%}),"
          f" at or above the confirmation bar {total['confident']} ({total['confident'] / n:.1%})")


STARTUP = r'''
import resource, sys, time
t0 = time.monotonic()
from voiceassist.settings import Settings
from voiceassist.triage.rules import load
from voiceassist.voice import build, every_sentence
rules, prompts = load()
parts = build(Settings(engine=sys.argv[1]), prompts, log=lambda l: None)
from voiceassist.session import ROOM_LISTEN_S
time.sleep(ROOM_LISTEN_S)  # a live consultation listens to the room (in real time) before its greeting
first = every_sentence(rules, prompts)[:2] + [prompts.text("questions", rules.questions[0].id, "ask")]
for s in first:
    parts.tts.synthesise(s)
t1 = time.monotonic()
print(t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
'''


def startup(args) -> None:
    runs = []
    for warm in (False, True, True):
        cmd = [sys.executable, "-c", STARTUP, args.engine]
        env = None
        if not warm:
            import os
            import tempfile

            env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp()}  # an empty speech cache
        t = time.monotonic()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout.split()
        runs.append((warm, float(out[0]), float(out[1]), time.monotonic() - t))
    for warm, ready, rss, wall in runs:
        print(f"{args.engine}: {'cached speech' if warm else 'first run, empty speech cache'}: "
              f"first question ready {ready:.2f} s after start ({wall:.2f} s with the interpreter), "
              f"peak memory {rss:.0f} MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["accuracy", "latency", "startup", "unanswered"])
    p.add_argument("--engine", default="pocketsphinx")
    p.add_argument("--banks", default="piper_joe,espeak_us,espeak_gb_f,espeak_us_m,espeak_029")
    p.add_argument("--conditions", help="comma-separated: clean, fan, babble")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args()
    {"accuracy": accuracy, "latency": latency, "startup": startup, "unanswered": unanswered}[args.what](args)
    print(f"# peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
          file=sys.stderr)


if __name__ == "__main__":
    main()
