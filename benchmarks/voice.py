"""Voice benchmarks: the person's effort and answer accuracy in noise, turn latency, start-up, memory.

    python benchmarks/voice.py accuracy --set report [--engine pocketsphinx,whisper,pocketsphinx+whisper] [--banks ...]
    python benchmarks/voice.py answers --set tuning [--engine ...]
    python benchmarks/voice.py latency [--engine ...]
    python benchmarks/voice.py startup [--engine ...]
    python benchmarks/voice.py unanswered --set report [--engine ...] [--banks scot_m3,us_f2]
    python benchmarks/voice.py speed [--engine ...] [--banks piper_joe]

--set tuning|report (default tuning): the voices and noise of that set
(benchmarks/corpus/split.json): choose on the tuning set, report from the
report set. --banks restricts to some of its voices (or names any voice);
--cases to some vignettes. --engine takes one engine or several,
comma-separated (default: the three measured here; "whisper-base" and
"pocketsphinx+whisper-base" put Whisper base in place of tiny.en, see
benchmarks/whisper_base.py; "@float32" after an engine with Whisper has
CTranslate2 compute it so instead of int8, e.g. "whisper@float32"); every
command prints one table with a row per engine, all measured in the same run.

accuracy: every public vignette is replayed through the real recogniser from
each voice, clean and with the set's fan and babble mixed in at 20, 10 and
6 dB SNR. It prints, per engine, voice and condition, the person's effort
first (benchmarks/effort.py):
  - prompts heard per consultation (questions, read-backs, asks again),
    median and max, and the extra prompts beyond one per question;
  - right first time: answers taken right, their question prompted once;
  - wrong: answers taken that are not what the person meant;
  - the most prompts spent on one question, in any consultation;
  - seconds a consultation takes (the assistant speaking and listening, on
    the virtual microphone's clock), median and max;
and then:
  - answers correct: the share of answers the dialogue took that are what the
    patient meant (after reprompts and confirmations);
  - unconfirmed flips: a red-flag yes taken as no (or no as yes) without a
    confirmation; the aim is none;
  - cases passed (level and causes as expected) and safety failures.
  (engine, voice) jobs run in --jobs processes at once.
answers: every answer and place recording of every bank, one at a time,
through the endpointer and the recogniser, clean and in noise, judged as the
dialogue judges a hearing (policy.hear): right (taken, or read back), taken
wrongly at once (within the fair bar: no read-back), and asked again (nothing
heard, or too unsure to read back); also yes/no flips among the wrong ones.
latency: end of the answer's audio (after the endpointing silence) to the
first sample of the next sentence ready to play: median and 95th percentile,
over the public vignettes, clean and in babble at 10 dB.
startup: a new process, from start to the first question's audio ready
(including the 0.5 s the consultation listens to the room first), and its
peak memory.
speed: one voice's single answers, clean, each engine in its own process:
the time one recognition takes (wall clock, and the process's CPU time,
which other jobs on a shared machine move less) and the resident memory.
unanswered: speech that is not an answer ("I feel sick", "thank you"), the
other side of accuracy: every sentence, spoken by each voice of the set
(the corpus's recordings; for a fixture voice made as
scripts/make_fixtures.py makes the banks, so the figures repeat exactly),
goes through the microphone path (endpointer, recogniser) with the yes/no
grammar and with the pain-location grammar. It prints how often it was taken
as something the grammar holds: at all (not rejected), at or above the
confirmation bar, and as an answer rather than a command.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import effort  # noqa: E402
import sets  # noqa: E402

ROOT = sets.ROOT
VIGNETTES = ROOT / "examples" / "vignettes.yaml"


ENGINES = "pocketsphinx,whisper,pocketsphinx+whisper"
_BUILT: dict[str, tuple] = {}


def _parts(engine: str):
    """rules, prompts and the voice parts for one engine, built once a process."""
    if engine not in _BUILT:
        from voiceassist.settings import Settings
        from voiceassist.triage.rules import load
        from voiceassist.app import build

        rules, prompts = load()
        log = lambda line: print(f"# {line}", file=sys.stderr)  # noqa: E731
        name, _, compute_type = engine.partition("@")
        if name.endswith("whisper-base") or compute_type:
            import whisper_base

            parts = build(Settings(engine="pocketsphinx"), prompts, log=log)
            parts.recogniser = whisper_base.recogniser(name, compute_type or "int8")
        else:
            parts = build(Settings(engine=engine), prompts, log=log)
        _BUILT[engine] = rules, prompts, parts
    return _BUILT[engine]


def _accuracy_rows(job: tuple) -> list[dict]:
    """Every condition for one engine and voice (one process's work)."""
    from voiceassist.bank import Bank
    from voiceassist.replay import load_cases
    from voiceassist.speech import audio

    engine, voice, conditions, case_ids = job
    rules, prompts, parts = _parts(engine)
    cases = [c for c in load_cases(VIGNETTES, rules) if not case_ids or c.id in case_ids.split(",")]
    red = {q.id for q in rules.questions if q.red_flag}
    rows = []
    for label, noise_name, snr in conditions:
        bank = Bank(sets.voice_dir(voice))
        noise = audio.load_wav(sets.noise_path(noise_name)) if noise_name else None
        results = [effort.run(rules, prompts, c, bank, parts, noise=noise, snr_db=snr, seed=n)
                   for n, c in enumerate(cases)]
        turns = [t for r in results for t in r.turns]
        rows.append({
            "engine": engine, "bank": voice, "condition": label, "noise": noise_name, "answers": len(turns),
            **effort.summary([effort.consultation(r) for r in results]),
            "correct": sum(t["meant"] == t["answer"] for t in turns) / max(1, len(turns)),
            "unconfirmed_flips": sum(1 for t in turns if t["question"] in red
                                     and {t["meant"], t["answer"]} == {"yes", "no"} and t["attempts"] == 1),
            "passed": sum(bool(r.passed) for r in results), "cases": len(results),
            "safety_failures": sum(r.safety_failure(rules.levels) for r in results),
            "more_urgent": sum(r.over_triaged(rules.levels) for r in results),
            "ended_early": sum(r.ending not in ("completed", None) for r in results),
            # What went wrong where, to look into (replay the case with --bank and --speak-to).
            "not_passed": [f"{r.case.id}: {r.level or r.error} (expected {r.case.expect['level']}), {r.ending}"
                           for r in results if not r.passed],
        })
        print(_effort_line(rows[-1]), flush=True)
    return rows


def _effort_line(r: dict) -> str:
    return (f"{r['engine']:<21} {r['bank']:<13} {r['condition']:<13} prompts {_mm(r['prompts'])}"
            f"  extra {_mm(r['extra'])}  right first time {r['right_first']:6.1%}  wrong {r['wrong']:5.1%}  unclear {r['unclear']:5.1%}"
            f"  most for one question {r['most']}  seconds {_mm(r['seconds'])}  correct {r['correct']:6.1%}"
            f"  flips {r['unconfirmed_flips']}  passed {r['passed']}/{r['cases']}  less urgent {r['safety_failures']}  more urgent {r['more_urgent']}"
            f"  ended early {r['ended_early']}")


def _mm(pair) -> str:
    median, most = pair
    return "-" if median is None else f"{median:.0f} ({most:.0f})"


def accuracy(args) -> None:
    conditions = sets.select(sets.conditions(args.set), args.conditions)
    jobs = [(e, b, conditions, args.cases) for b in _voices(args) for e in args.engine.split(",")]
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
            rows = [r for part in pool.imap(_accuracy_rows, jobs) for r in part]
    else:
        rows = [r for job in jobs for r in _accuracy_rows(job)]
    order = {label: n for n, (label, _, _) in enumerate(conditions)}
    rows.sort(key=lambda r: (r["bank"], order[r["condition"]], args.engine.split(",").index(r["engine"])))
    print(f"\n{args.set} set. Prompts, extra prompts and seconds: median (max) over consultations.\n")
    print("| voice | condition | engine | prompts | extra | right first time | wrong | unclear | most for one question |"
          " seconds | correct | flips | passed | less urgent | more urgent | ended early |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['bank']} | {r['condition']} | {r['engine']} | {_mm(r['prompts'])} | {_mm(r['extra'])} |"
              f" {r['right_first']:.1%} | {r['wrong']:.1%} | {r['unclear']:.1%} | {r['most']} | {_mm(r['seconds'])} | {r['correct']:.1%} |"
              f" {r['unconfirmed_flips']} | {r['passed']}/{r['cases']} | {r['safety_failures']} | {r['more_urgent']} | {r['ended_early']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def _voices(args) -> list[str]:
    return args.banks.split(",") if args.banks else sets.voices(args.set)


def answers(args) -> None:
    """Single answers: every answer and place recording, cut by the endpointer,
    in every condition of the accuracy table; one row per voice and
    condition, the engines side by side."""
    from voiceassist.bank import Bank, heard_by_endpointer
    from voiceassist.dialogue import answers as answer_text
    from voiceassist.dialogue.evidence import default_models
    from voiceassist.dialogue.policy import DialogueSettings, hear
    from voiceassist.session.listening import answer_snr_db, heard_of
    from voiceassist.speech import audio
    from voiceassist.speech.endpoint import Endpointer

    dialogue_settings, models = DialogueSettings(), default_models()
    engines = args.engine.split(",")
    voices = _voices(args)
    conditions = sets.select(sets.conditions(args.set), args.conditions)
    counts = {}  # (engine, voice, condition) -> counts
    for engine in engines:
        rules, prompts, parts = _parts(engine)
        vocab = {kind: answer_text.vocabulary(prompts, *spec) for kind, spec in sets.GRAMMARS.items()}
        grammar = {kind: answer_text.grammar(prompts, *spec) for kind, spec in sets.GRAMMARS.items()}
        for label, noise_name, snr in conditions:
            noise = audio.load_wav(sets.noise_path(noise_name)) if noise_name else None
            for voice in voices:
                c = counts[(engine, voice, label)] = dict.fromkeys(
                    ["n", "right", "wrong_accepted", "asked_again", "flips", "whisper_as_meant"], 0)
                bank = Bank(sets.voice_dir(voice))
                for n, (name, kind, meaning) in enumerate(sets.single_answers(voice)):
                    endpointer = Endpointer(parts.endpoint)
                    utterance, background = heard_by_endpointer(audio.load_wav(sets.voice_dir(voice) / name),
                                                                endpointer=endpointer, speech_rms=bank.speech_rms,
                                                                noise=noise, snr_db=snr, seed=n)
                    c["n"] += 1
                    if utterance is None:
                        c["asked_again"] += 1
                        continue
                    phrases, meanings = grammar[kind]
                    r = parts.recogniser.recognise(utterance, phrases, background, meanings=meanings)
                    # Whisper's own best meaning, whatever its confidence: what
                    # tiny.en and base hear, apart from the acceptance model
                    # (fitted on tiny.en's evidence, it would judge base unfairly).
                    c["whisper_as_meant"] += str(r.evidence.get("whisper_meaning", "")).split(":")[-1] == meaning
                    # Judged as the dialogue judges it (policy.hear, the fitted
                    # model where the engine has one): "taken at once" is a
                    # hearing within the fair bar, what any question that is
                    # not a red flag takes without a read-back.
                    heard = heard_of(r, answer_snr_db(utterance, endpointer.floor_db))
                    h = hear(heard, vocab[kind], dialogue_settings, models)
                    if h.value is None or not h.weak:
                        c["asked_again"] += 1
                    elif h.value == meaning:
                        c["right"] += 1
                    else:
                        c["wrong_accepted"] += h.fair
                        c["flips"] += {h.value, meaning} == {"yes", "no"}
            total = _sum([counts[(engine, v, label)] for v in voices])
            print(f"{engine:<21} {label:<13} {total['n']} answers: right {total['right'] / total['n']:.1%},"
                  f" wrong and taken at once {total['wrong_accepted'] / total['n']:.1%},"
                  f" asked again {total['asked_again'] / total['n']:.1%}, yes/no flips {total['flips']}"
                  + (f"; Whisper's best meaning as meant {total['whisper_as_meant'] / total['n']:.1%}"
                     if "whisper" in engine else ""), flush=True)

    def cell(c):
        return f"{c['right'] / c['n']:.0%} / {c['wrong_accepted']}" + (f" ({c['flips']} flips)" if c["flips"] else "")

    print(f"\n{args.set} set: right / wrong and taken at once (of each voice's answers; yes/no flips among them)\n")
    print("| voice | condition | answers | " + " | ".join(engines) + " |")
    print("|---|---|---|" + "---|" * len(engines))
    for voice in voices + ["all"]:
        for label, _, _ in conditions:
            row = [_sum([counts[(e, v, label)] for v in (voices if voice == "all" else [voice])]) for e in engines]
            print(f"| {voice} | {label} | {row[0]['n']} | " + " | ".join(cell(c) for c in row) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps([{"engine": e, "bank": v, "condition": label, **c}
                                               for (e, v, label), c in counts.items()], indent=1))


def _sum(parts: list[dict]) -> dict:
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def latency(args) -> None:
    from voiceassist.bank import Bank
    from voiceassist.replay import load_cases, run_case_voice
    from voiceassist.speech import audio

    print("| engine | condition | turns | median | 95th percentile |")
    print("|---|---|---|---|---|")
    voice = _voices(args)[0]
    babble = sets.noise_names(args.set, "babble")[0]
    for engine in args.engine.split(","):
        rules, prompts, parts = _parts(engine)
        cases = [c for c in load_cases(VIGNETTES, rules) if not args.cases or c.id in args.cases.split(",")]
        bank = Bank(sets.voice_dir(voice))
        for label, noise in (("clean", None), (f"{babble} 10 dB", audio.load_wav(sets.noise_path(babble)))):
            values = []
            for n, c in enumerate(cases):
                r = run_case_voice(rules, prompts, c, bank, parts.recogniser, parts.tts, endpoint=parts.endpoint,
                                   noise=noise, snr_db=10 if noise is not None else None, seed=n)
                values += r.stats.latencies_s
            values.sort()
            p95 = values[int(0.95 * (len(values) - 1))]
            print(f"| {engine} | {label} | {len(values)} | {statistics.median(values) * 1000:.0f} ms |"
                  f" {p95 * 1000:.0f} ms |", flush=True)
    print(f"(beyond the endpointing silence, {parts.endpoint.end_silence_ms} ms; voice {voice})")


def speed(args) -> None:
    """Single answers, one voice, clean: how long one recognition takes
    (wall clock and the process's CPU time, which another job on the machine
    moves less), and the resident memory once the engine is loaded. Each
    engine in its own process, one after another."""
    print("| engine | answers | wall, median / 95th pct. | CPU, median / 95th pct. | resident memory |")
    print("|---|---|---|---|---|")
    for engine in args.engine.split(","):
        out = subprocess.run([sys.executable, __file__, "_speed", "--engine", engine, "--banks", _voices(args)[0]],
                             capture_output=True, text=True, check=True).stdout
        print(out.strip(), flush=True)


def _speed(args) -> None:
    from voiceassist.bank import Bank, heard_by_endpointer
    from voiceassist.dialogue import answers as answer_text
    from voiceassist.speech import audio

    engine, voice = args.engine, args.banks
    rules, prompts, parts = _parts(engine)
    bank = Bank(sets.voice_dir(voice))
    walls, cpus = [], []
    for n, (name, kind, _) in enumerate(sets.single_answers(voice)):
        utterance, background = heard_by_endpointer(audio.load_wav(sets.voice_dir(voice) / name), parts.endpoint,
                                                     speech_rms=bank.speech_rms, seed=n)
        phrases, meanings = answer_text.grammar(prompts, *sets.GRAMMARS[kind])
        t, c = time.monotonic(), time.process_time()
        parts.recogniser.recognise(utterance, phrases, background, meanings=meanings)
        walls.append(time.monotonic() - t)
        cpus.append(time.process_time() - c)
    def mp(v):
        v = sorted(v)[1:]  # the first recognition builds the grammar's search
        return f"{statistics.median(v) * 1000:.0f} / {v[int(0.95 * (len(v) - 1))] * 1000:.0f} ms"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {engine} | {len(walls)} ({voice}) | {mp(walls)} | {mp(cpus)} | {rss:.0f} MB |")


def unanswered(args) -> None:
    from voiceassist.bank import heard_by_endpointer
    from voiceassist.dialogue import answers as answer_text
    from voiceassist.settings import Settings

    settings = Settings()
    spoken = {}  # voice -> [(sentence, utterance, background)]: cut once, heard by every engine
    for voice in _voices(args):
        spoken[voice] = [(sentence, *heard_by_endpointer(speech, _parts(args.engine.split(",")[0])[2].endpoint))
                         for sentence, speech in sets.not_answers(voice)]
    table = []
    for engine in args.engine.split(","):
        rules, prompts, parts = _parts(engine)
        grammars = [("yes_no", None), ("choice", "pain_location")]
        total = {"n": 0, "taken": 0, "as_answer": 0, "confident": 0}
        for voice in _voices(args):
            counts = dict.fromkeys(total, 0)
            examples = []
            for sentence, utterance, background in spoken[voice]:
                for kind in grammars:
                    counts["n"] += 1
                    if utterance is None:
                        continue
                    vocab = answer_text.vocabulary(prompts, *kind)
                    phrases, meanings = answer_text.grammar(prompts, *kind)
                    r = parts.recogniser.recognise(utterance, phrases, background, meanings=meanings)
                    parsed = answer_text.parse(r.text, vocab) if r.text else None
                    if parsed is None or r.confidence < settings.reject_below:
                        continue
                    counts["taken"] += 1
                    counts["confident"] += r.confidence >= settings.confirm_below
                    counts["as_answer"] += parsed.kind != "command"
                    examples.append(f"{sentence!r} -> {r.text!r} {r.confidence:.2f}")
            for k in total:
                total[k] += counts[k]
            print(f"{engine:<21} {voice:<12} {counts['n']} tries: taken {counts['taken']}"
                  f" (as an answer {counts['as_answer']}), at or above the confirmation bar {counts['confident']}",
                  flush=True)
            for line in examples:
                print(f"    {line}")
        n = total["n"]
        table.append(f"| {engine} | {n} | {total['taken']} ({total['taken'] / n:.1%}) |"
                     f" {total['as_answer']} ({total['as_answer'] / n:.1%}) | {total['confident']} ({total['confident'] / n:.1%}) |")
    print("\n| engine | tries | taken | taken as an answer | at or above the confirmation bar |")
    print("|---|---|---|---|---|")
    print("\n".join(table))


STARTUP = r'''
import resource, sys, time
t0 = time.monotonic()
from voiceassist.settings import Settings
from voiceassist.triage.rules import load
from voiceassist.app import build, every_sentence
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
    print("| engine | speech cache | first question ready | with the interpreter | peak memory |")
    print("|---|---|---|---|---|")
    for engine in args.engine.split(","):
        for warm in (False, True, True):
            cmd = [sys.executable, "-c", STARTUP, engine]
            env = None
            if not warm:
                import os
                import tempfile

                env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp()}  # an empty speech cache
            t = time.monotonic()
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout.split()
            print(f"| {engine} | {'filled' if warm else 'empty (first run)'} | {float(out[0]):.2f} s |"
                  f" {time.monotonic() - t:.2f} s | {float(out[1]):.0f} MB |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["accuracy", "answers", "latency", "startup", "unanswered", "speed", "_speed"])
    p.add_argument("--engine", default=ENGINES, help=f"one or more, comma-separated (default {ENGINES})")
    p.add_argument("--set", choices=sets.SETS, default="tuning", help="the voices and noise (benchmarks/corpus/split.json)")
    p.add_argument("--jobs", type=int, default=1, help="accuracy: (engine, voice) jobs run in this many processes")
    p.add_argument("--banks", help="comma-separated voices (default: every voice of the set)")
    p.add_argument("--cases", help="comma-separated vignette ids (default: all 20)")
    p.add_argument("--conditions", help='comma-separated: clean, fan, babble, one row such as "babble 10 dB", or a recording by name such as "babble.wav 10 dB"')
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args()
    {"accuracy": accuracy, "answers": answers, "latency": latency, "startup": startup,
     "unanswered": unanswered, "speed": speed, "_speed": _speed}[args.what](args)
    print(f"# peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
          file=sys.stderr)


if __name__ == "__main__":
    main()
