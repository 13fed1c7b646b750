"""One replayed consultation: with typed answers (`run_case`) or spoken ones
through the same endpointer, recogniser, dialogue and speech output as a
live session (`run_case_voice`)."""

from __future__ import annotations

from ..dialogue.manager import Dialogue, DialogueSettings, Turn
from ..errors import with_kind
from ..session.ports import Caption
from ..triage.rules import Prompts, Rules
from .cases import Case, Mishearing
from .patients import BankPatient, Patient, TextPatient
from .report import Recorder, Result


def run_case(rules: Rules, prompts: Prompts, case: Case, patient: TextPatient, settings: DialogueSettings | None = None) -> Result:
    """A consultation with typed answers (replay --text): each sentence is
    captioned as the session would caption it, with nothing spoken."""
    recorder = Recorder(rules, case)
    dialogue = Dialogue(rules, prompts, settings)
    person = patient.for_case(rules, case)

    def record(turn: Turn) -> None:
        recorder.turn(turn)
        for sentence in turn.say:
            recorder.caption(Caption("assistant", sentence))

    turn = dialogue.start()
    record(turn)
    for _ in range(dialogue.turn_bound):  # a consultation that has not ended by then is a bug, not a hang
        if turn.done:
            break
        event = patient.reply(person, turn.listen)
        recorder.patient(event.text)
        turn = dialogue.handle(event)
        record(turn)
    else:
        recorder.result.error = f"the consultation did not end after {dialogue.turn_bound} turns"
    return recorder.finish(dialogue)


def run_case_voice(rules: Rules, prompts: Prompts, case: Case, bank, recogniser, tts, *,
                   endpoint=None, settings: DialogueSettings | None = None, speaker=None, noise=None, snr_db=None,
                   realtime: bool = False, barge_in: bool = False, silent: bool = False, seed: int = 0,
                   allow_barge_in: bool = True,
                   captions=None, mishearing: Mishearing | None = None):
    """A consultation with spoken answers: the same endpointer, recogniser,
    dialogue and speech output as a live session (replay --bank).
    `barge_in`: the patient answers over the questions; `allow_barge_in`:
    the session lets them (the `barge_in` setting of run and kiosk).
    `settings`: the dialogue's bars, as run and kiosk get them."""
    from ..bank import SpokenInput
    from ..speech.playback import SampleClockSpeaker
    from ..session import Consultation, Hooks

    recorder = Recorder(rules, case)
    speaker = speaker or SampleClockSpeaker()
    mouth = SpokenInput(bank.speech_rms, noise, snr_db, realtime=realtime, seed=seed, assistant=speaker)
    patient = BankPatient(bank, mouth, case, recorder, barge_in=barge_in, silent=silent,
                          person=Patient(rules, case, mishearing))
    dialogue = Dialogue(rules, prompts, settings)
    def on_turn(turn: Turn) -> None:
        recorder.turn(turn)
        patient.before_speak(turn)

    def caption(line: Caption) -> None:
        recorder.caption(line)
        patient.hearing(line)
        if captions is not None:
            captions(line)

    consultation = Consultation(
        dialogue, recogniser, tts, speaker, mouth, endpoint,
        captions=caption, barge_in=allow_barge_in,
        hooks=Hooks(before_listen=patient.before_listen, before_speak=on_turn),
    )
    consultation.run()
    if consultation.error is not None:
        recorder.result.error = with_kind(consultation.error)
    result = recorder.finish(dialogue)
    result.stats = consultation.stats
    return result
