"""The simulated patient (shared/spec/replay.md).

A case gives the answers a person would give; the patient answers each
prompt of the real dialogue manager from them. With `--text` it answers with
the canonical phrase as text; with `--bank DIR` it speaks recordings that go
through the same endpointer and recogniser as a microphone.

    cases.py     the cases and what the patient means to each prompt
    patients.py  the simulated patients (text, or a bank of recordings)
    report.py    what a case came to, and the report of a run
    run.py       one replayed consultation
The bank itself (a virtual microphone) is voiceassist/bank.py.
"""

from .cases import Case, Mishearing, load_cases, meant, wrong, yaml_word
from .patients import NOISY_ROOM, BankPatient, Patient, TextPatient
from .report import Recorder, Result, print_results, summary
from .run import run_case, run_case_voice

__all__ = ["BankPatient", "Case", "Mishearing", "NOISY_ROOM", "Patient", "Recorder", "Result", "TextPatient",
           "load_cases", "meant", "print_results", "run_case", "run_case_voice", "summary", "wrong", "yaml_word"]
