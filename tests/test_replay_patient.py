"""The simulated patient answers as replay.md says: a read-back ("I heard X.
Is that right?") gets "yes" when X is what they meant, else "no", for a
place as for a yes or no."""

import pytest

from voiceassist.dialogue.manager import Dialogue, Heard
from voiceassist.replay import Case, Patient
from voiceassist.triage.rules import load

RULES, PROMPTS = load()
PLACES = RULES.findings["pain_location"].options


def read_back_of(place: str):
    """The dialogue's own read-back of a place heard faintly."""
    dialogue = Dialogue(RULES, PROMPTS, models={})
    turn = dialogue.start()
    while turn.listen.question != "pain_location":
        turn = dialogue.handle(Heard("no", 1.0))
    phrase = PROMPTS.canonical(place, "pain_location")
    turn = dialogue.handle(Heard(" ".join(phrase.lower().split()), 0.5))
    assert turn.listen.kind == "confirm" and turn.listen.confirming == place
    return dialogue, turn


@pytest.mark.parametrize("meant", PLACES)
@pytest.mark.parametrize("heard", PLACES)
def test_a_place_read_back_is_confirmed_only_when_it_is_the_place_meant(meant, heard):
    patient = Patient(RULES, Case("someone", {"pain_location": meant}))
    _, read_back = read_back_of(heard)
    assert patient.answer(read_back.listen) == ("yes" if heard == meant else "no", False)


def test_a_place_read_back_confirmed_is_taken():
    """Before, the patient said "no" to every place read back: the right place
    was then refused as already rejected ("Sorry, I did not catch that"),
    and the benchmarks counted the question as never understood."""
    patient = Patient(RULES, Case("sciatica", {"pain_location": "whole_leg"}))
    dialogue, read_back = read_back_of("whole_leg")
    value, _ = patient.answer(read_back.listen)
    turn = dialogue.handle(Heard(value, 1.0))
    assert [(f.question, f.answer) for f in turn.filled] == [("pain_location", "whole_leg")]
