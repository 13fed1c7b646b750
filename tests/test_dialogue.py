"""The dialogue manager: commands at every turn, reprompts, confirmation."""

import pytest

from voiceassist.dialogue.manager import Dialogue, Heard, DialogueSettings, Silence, Timeout


@pytest.fixture
def d(rules, prompts):
    return Dialogue(rules, prompts)


def reply(turn, answer="no"):
    return Heard("my calf" if turn.listen.kind == "choice" else answer)


def answer_until(d, question, answer="no"):
    turn = d.start()
    while turn.listen.question != question:
        turn = d.handle(reply(turn, answer))
    return turn


def test_starts_with_welcome_and_first_red_flag(d, prompts):
    turn = d.start()
    assert turn.say[0] == prompts.say("welcome")
    assert turn.listen.question == "pe_signs" and turn.listen.red_flag
    assert turn.say[-1] == prompts.text("questions", "pe_signs", "ask")
    assert "yes" in turn.listen.grammar and "repeat" in turn.listen.grammar


def test_repeat_says_the_question_again(d, prompts):
    d.start()
    turn = d.handle(Heard("say that again"))
    assert turn.say == [prompts.text("questions", "pe_signs", "ask")]
    assert turn.listen.question == "pe_signs"


def test_help_explains_and_lists_what_can_be_said(d, prompts):
    d.start()
    turn = d.handle(Heard("help"))
    assert turn.say[0] == prompts.text("questions", "pe_signs", "help")
    assert prompts.say("help_yes_no") in turn.say
    assert prompts.say("help_commands") in turn.say
    assert turn.say[-1] == prompts.text("questions", "pe_signs", "ask")


def test_help_on_the_short_answer_question_lists_the_places(d, prompts):
    answer_until(d, "pain_location")
    turn = d.handle(Heard("help"))
    assert prompts.say("help_choice") in turn.say


def test_go_back_undoes_the_last_answer(d, prompts):
    d.start()
    d.handle(Heard("no"))  # pe_signs
    assert d.answers["breathless"] == "no"
    turn = d.handle(Heard("go back"))
    assert turn.say[0] == prompts.say("going_back")
    assert turn.listen.question == "pe_signs"
    assert "breathless" not in d.answers
    turn = d.handle(Heard("yes"))
    assert d.answers["breathless"] == "yes"
    assert turn.instruction  # the new answer counts


def test_go_back_at_first_question(d, prompts):
    d.start()
    turn = d.handle(Heard("go back"))
    assert turn.say[0] == prompts.say("first_question")
    assert turn.listen.question == "pe_signs"


def test_go_back_undoes_an_emergency(d, prompts):
    turn = answer_until(d, "clot_signs")
    turn = d.handle(Heard("yes"))
    assert turn.instruction
    turn = d.handle(Heard("go back"))
    assert turn.listen.question == "clot_signs"
    turn = d.handle(Heard("no"))
    assert not turn.instruction and d.assessment().level != "emergency"


def test_stop_ends_politely_with_the_safety_net(d, prompts):
    d.start()
    turn = d.handle(Heard("stop"))
    assert turn.done and turn.ending == "stopped"
    assert turn.say[0] == prompts.say("stop")
    assert prompts.say("safety_net") in turn.say
    assert turn.say[-1] == prompts.say("goodbye")


def test_an_emergency_answer_brings_the_outcome_at_once(d, prompts):
    """Nothing but one question that could make it more urgent follows the
    emergency instruction; the ambulance questions come first, so none does."""
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("yes"))
    assert turn.instruction and turn.listen.kind == "offer"
    instruction = prompts.text("levels", "emergency")
    assert turn.say[0] == instruction and turn.say[-2] == instruction


def test_go_back_from_the_outcome_asks_the_last_question_again(d, prompts):
    answer_until(d, "clot_signs")
    d.handle(Heard("yes"))
    turn = d.handle(Heard("go back"))
    assert turn.listen.question == "clot_signs" and "leg_swelling" not in d.answers
    turn = d.handle(Heard("no"))
    assert not turn.instruction and turn.listen.kind != "offer"


def test_slower_is_an_action_for_the_voice_layer(d, prompts):
    d.start()
    turn = d.handle(Heard("slower"))
    assert turn.action == "slower"
    assert turn.say == [prompts.say("slower"), prompts.text("questions", "pe_signs", "ask")]


def test_no_match_escalates_then_takes_the_safe_reading(d, prompts):
    """Not understood is not "I don't know": at the cap of four prompts a red
    flag counts as yes (triage.md), and the consultation goes on."""
    d.start()
    first = d.handle(Heard("purple elephants"))
    assert first.say[0] == prompts.say_list("no_match")[0]
    assert prompts.say("help_yes_no") in first.say
    second = d.handle(Heard("banana"))
    assert second.say[0] == prompts.say_list("no_match")[1]
    assert prompts.text("questions", "pe_signs", "help") in second.say  # more help each time
    third = d.handle(Heard("mumble"))
    assert third.listen.question == "pe_signs"
    fourth = d.handle(Heard("mumble"))
    assert fourth.say[0] == prompts.say("cap_red_flag")
    assert d.answers["breathless"] == "unclear" and fourth.instruction
    assert d.assessment().level == "ambulance"


def test_no_input_escalates_then_ends_safely(d, prompts):
    d.start()
    first = d.handle(Silence())
    assert first.say[0] == prompts.say_list("no_input")[0]
    assert first.say[-1] == prompts.text("questions", "pe_signs", "ask")
    second = d.handle(Silence())
    assert second.say[0] == prompts.say_list("no_input")[1]
    assert prompts.say("help_yes_no") in second.say
    third = d.handle(Silence())
    assert third.done and third.ending == "gave_up"
    assert prompts.say("gave_up") in third.say and prompts.say("safety_net") in third.say


def test_counters_are_per_question(d):
    d.start()
    d.handle(Silence())
    d.handle(Silence())
    turn = d.handle(Heard("no"))  # answered: next question starts afresh
    turn = d.handle(Silence())
    assert not turn.done


def test_idle_timeout_ends_safely(d, prompts):
    d.start()
    turn = d.handle(Timeout())
    assert turn.done and turn.ending == "timed_out"
    assert prompts.say("safety_net") in turn.say


def test_an_unsure_no_to_a_clot_question_is_asked_again_not_read_back(d, prompts):
    """A read-back is itself a yes or no that noise can flip: a red flag's
    answer is checked by asking the question itself again."""
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("no", confidence=0.8))
    assert turn.listen.kind == "yes_no" and turn.listen.mode == "check"
    assert turn.say == [prompts.say("check"), prompts.text("questions", "clot_signs", "ask")]
    assert "leg_swelling" not in d.answers
    turn = d.handle(Heard("yes", confidence=0.8))  # two different answers: asked in other words
    assert turn.listen.mode == "again" and turn.say[0] == prompts.say("ask_another_way")
    turn = d.handle(Heard("yes", confidence=0.8))
    assert turn.instruction


def test_a_no_heard_twice_is_accepted(d):
    answer_until(d, "clot_signs")
    d.handle(Heard("no", confidence=0.8))
    turn = d.handle(Heard("no", confidence=0.8))
    assert d.answers["leg_swelling"] == "no"
    assert turn.listen.question != "clot_signs"


def test_high_confidence_no_is_not_checked(d):
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("no", confidence=0.95))
    assert turn.listen.question != "clot_signs"


def test_a_faint_red_flag_yes_is_never_dropped(d, prompts):
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("yes", confidence=0.1))  # below the reject bar
    assert turn.listen.question == "clot_signs"
    # Silence after it: the yes is not dropped when the consultation ends.
    for _ in range(3):
        turn = d.handle(Silence())
    assert turn.done and turn.ending == "gave_up"
    assert d.answers["leg_swelling"] == "unclear"
    assert prompts.text("levels", "emergency") in turn.say


def test_a_weak_answer_is_read_back_and_a_second_like_it_taken(rules, prompts):
    d = Dialogue(rules, prompts, DialogueSettings())
    answer_until(d, "pain_location")
    turn = d.handle(Heard("calf", confidence=0.5))
    assert turn.listen.kind == "confirm"
    assert turn.say == [prompts.say("confirm", answer="the calf")]
    turn = d.handle(Heard("banana"))  # the read-back not understood: the question again
    assert turn.listen.question == "pain_location" and turn.listen.kind == "choice"
    turn = d.handle(Heard("my calf", confidence=0.5))  # heard alike twice: taken
    assert d.answers["pain_location"] == "calf"


def test_a_guess_then_a_weak_answer_alike_is_read_back(rules, prompts):
    """Taken only when the chance both hearings are wrong (0.8 x 0.5) is within
    the bar (0.3): here it is not, so it is read back."""
    d = Dialogue(rules, prompts, DialogueSettings())
    answer_until(d, "pain_location")
    assert d.handle(Heard("calf", confidence=0.2)).say[0] == prompts.say_list("no_match")[0]
    turn = d.handle(Heard("calf", confidence=0.5))
    assert turn.listen.kind == "confirm" and turn.listen.confirming == "calf"


def test_typed_sentences_are_understood(d):
    d.start()
    turn = d.handle(Heard("No, I'm fine."))
    assert d.answers["breathless"] == "no"
    while turn.listen.question != "pain_location":
        turn = d.handle(Heard("no"))
    turn = d.handle(Heard("It's the back of my knee"))
    assert d.answers["pain_location"] == "behind_knee"


def test_contradictory_utterance_is_not_understood(d, prompts):
    d.start()
    turn = d.handle(Heard("yes no"))
    assert turn.say[0] == prompts.say_list("no_match")[0]


def test_shared_question_is_followed_up(d, prompts):
    turn = answer_until(d, "walking_pain")
    turn = d.handle(Heard("yes"))
    assert turn.listen.mode == "follow_up"
    assert turn.say[-1] in (prompts.text("findings", "walking_cramp_rest", "ask"),
                            prompts.text("findings", "eases_sitting", "ask"))


def test_outcome_offers_repeat_and_repeats(d, prompts):
    turn = d.start()
    while turn.listen.kind != "offer":
        turn = d.handle(reply(turn))
    outcome = turn.say[:-1]
    assert prompts.say("not_a_diagnosis") in outcome
    again = d.handle(Heard("yes"))
    assert again.say[:-1] == d.outcome
    bye = d.handle(Heard("no"))
    assert bye.done and bye.say == [prompts.say("goodbye")]


def test_no_dose_is_ever_said(prompts):
    import re

    text = " ".join(str(v) for v in prompts.data["advice"].values())
    assert not re.search(r"\b\d+\s*(mg|milligram|tablet|pill)", text, re.I)


def test_in_noise_a_red_flag_answer_is_heard_twice(d, prompts):
    """Babble is taken for "yes" or "no" at full confidence (measured), so in
    noise a red-flag answer is taken only when it is heard twice alike."""
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("yes", confidence=1.0, snr_db=9.0))
    assert turn.listen.question == "clot_signs" and turn.listen.mode == "check"
    turn = d.handle(Heard("yes", confidence=1.0, snr_db=9.0))
    assert turn.instruction


def test_in_quiet_a_sure_answer_is_not_confirmed(d):
    answer_until(d, "clot_signs")
    turn = d.handle(Heard("no", confidence=0.95, snr_db=40.0))
    assert turn.listen.kind != "confirm"


def test_an_unsure_stop_is_confirmed(d, prompts):
    """Babble is heard as "stop" (measured): stopping is asked first when unsure."""
    d.start()
    turn = d.handle(Heard("stop", confidence=1.0, snr_db=8.0))
    assert turn.say == [prompts.say("confirm_stop")] and not turn.done
    turn = d.handle(Heard("no"))
    assert turn.listen.question == "pe_signs" and not turn.done
    d.handle(Heard("stop", confidence=0.5))
    turn = d.handle(Heard("yes"))
    assert turn.done and turn.ending == "stopped"


def test_an_unsure_stop_while_reading_back_goes_back_to_the_question(d, prompts):
    """Found by the babble test: "stop" heard while confirming, then "no"."""
    turn = answer_until(d, "pain_location")
    d.handle(Heard("calf", confidence=0.5))  # -> "I heard the calf. Is that right?"
    turn = d.handle(Heard("stop", confidence=0.5))
    assert turn.say == [prompts.say("confirm_stop")]
    turn = d.handle(Heard("no"))
    assert turn.listen.question == "pain_location" and turn.listen.kind == "choice"


def test_a_doubtful_yes_to_a_read_back_asks_the_question_again(d, prompts):
    """A read-back's yes takes the answer and nothing checks it: two engines
    that disagree on it, and the question itself is asked again."""
    turn = _at_a_cause_question(d)
    question = turn.listen
    d.handle(Heard("yes", confidence=0.6))  # -> "I heard yes. Is that right?"
    turn = d.handle(Heard("yes", confidence=0.69, snr_db=10.0, agreed=False))
    assert turn.listen.kind == "yes_no" and turn.listen.question == question.question
    assert not any(f in d.answers for f in question.findings)
    d.handle(Heard("yes", confidence=0.6))  # the same answer again, understood: taken
    assert any(d.answers.get(f) == "yes" for f in question.findings)


def test_a_soft_yes_to_the_read_back_of_a_fair_hearing_is_taken(d, prompts):
    """The Caribbean voice in a quiet room: "yeah" heard at 0.35, read back,
    and "yep" at 0.59 to the read-back. Neither alone is sure; both wrong
    together is unlikely, so the answer is taken, not asked to its cap."""
    turn = _at_a_cause_question(d)
    question = turn.listen
    assert d.handle(Heard("yeah", confidence=0.35)).listen.kind == "confirm"
    d.handle(Heard("yep", confidence=0.59))
    assert any(d.answers.get(f) == "yes" for f in question.findings)


def test_a_doubtful_stop_is_not_taken_for_stopping(d, prompts):
    """Babble: one engine heard "quit", the other "yes". The person is not
    asked whether to stop: the question is asked again."""
    turn = d.start()
    turn = d.handle(Heard("quit", confidence=0.69, snr_db=10.0, alternatives=("yes",)))
    assert turn.say[-1] != prompts.say("confirm_stop") and not turn.done
    assert turn.listen.question == "pe_signs" and turn.listen.kind == "yes_no"
    turn = d.handle(Heard("quit", confidence=0.69, snr_db=10.0, alternatives=("repeat",)))  # only commands
    assert turn.say == [prompts.say("confirm_stop")]
    turn = d.handle(Heard("yes", confidence=0.69, snr_db=10.0, alternatives=("no",)))  # "Do you want to stop?"
    assert not turn.done and turn.listen.question == "pe_signs"


def test_in_noise_a_no_that_could_hide_a_more_urgent_outcome_is_confirmed(d, prompts):
    """Found by the babble test: "yes" to walking pain heard as a sure "no"."""
    turn = answer_until(d, "walking_pain")
    assert turn.listen.raises_level
    turn = d.handle(Heard("no", confidence=1.0, snr_db=8.0))
    assert turn.listen.kind == "confirm"
    turn = d.handle(Heard("no"))  # not right
    turn = d.handle(Heard("yes", confidence=1.0, snr_db=8.0))
    assert d.answers["walking_cramp_rest"] == "yes" or turn.listen.mode == "follow_up"


def _at_a_cause_question(d):
    """Answer "no" until a yes/no question that can change only the causes."""
    turn = d.start()
    while turn.listen.kind != "yes_no" or turn.listen.red_flag or turn.listen.raises_level:
        turn = d.handle(reply(turn))
    return turn


def test_in_noise_an_answer_with_its_opposite_close_behind_is_confirmed(d, prompts):
    """Babble masks the "n't" of "i haven't": pocketsphinx then hears "i have"
    at confidence 1.0, with "i haven't" next in its n-best list (measured).
    An answer whose near-miss means something else is confirmed in noise."""
    turn = _at_a_cause_question(d)
    question = turn.listen.question
    turn = d.handle(Heard("i have", 1.0, snr_db=10.0, alternatives=("i haven't", "no i haven't")))
    assert turn.listen.kind == "confirm" and turn.listen.confirming == "yes"
    assert turn.say == [prompts.say("confirm", answer="yes")]
    turn = d.handle(Heard("no", 1.0, snr_db=10.0))  # "that is not right"
    assert turn.listen.question == question and turn.listen.kind == "yes_no"


@pytest.mark.parametrize("heard", [
    Heard("i have", 1.0, snr_db=40.0, alternatives=("i haven't",)),  # a quiet room: confidence is trusted
    Heard("i have", 1.0, snr_db=10.0, alternatives=("yes i do", "pardon")),  # same meaning, or a command
])
def test_an_uncontested_or_quiet_answer_is_taken(d, heard):
    turn = _at_a_cause_question(d)
    question = turn.listen.question
    turn = d.handle(heard)
    assert turn.listen.kind != "confirm" and turn.listen.question != question


def test_a_place_not_understood_is_unclear_and_the_consultation_goes_on(d, prompts):
    """Speech not understood to the cap on the pain's place (a British voice's
    "whole leg", measured): the place is unclear, the consultation goes on so
    the questions still to come are asked, and the outcome says so."""
    answer_until(d, "pain_location")
    for _ in range(3):
        turn = d.handle(Heard("banana"))
        assert not turn.done and turn.listen.question == "pain_location"
    turn = d.handle(Heard("banana"))
    assert not turn.done and turn.ending is None
    assert turn.say[0] == prompts.say("cap_other")
    assert d.answers["pain_location"] == "unclear"
    assert turn.listen.question != "pain_location"
    assert turn.filled[0].answer == "unclear" and turn.filled[0].attempts == 4
    while turn.listen.kind != "offer":
        turn = d.handle(reply(turn))
    assert d.assessment().unclear == ("pain_location",)
    unclear = {prompts.text("outcome", "unclear"), prompts.text("outcome", "unclear_self_care")}
    assert unclear & set(turn.say) and prompts.text("outcome", "unsure") not in turn.say


def test_a_weak_red_flag_yes_not_understood_after_counts_as_yes(d, prompts):
    """A red flag's weak yes, then nothing understood: at the cap it counts
    as yes and the emergency instruction is given."""
    answer_until(d, "clot_signs")
    d.handle(Heard("yes", confidence=0.5))
    for _ in range(3):
        turn = d.handle(Heard("banana"))
    assert turn.instruction and turn.say[0] == prompts.say("cap_red_flag")
    assert d.answers["leg_swelling"] == "unclear"
    assert d.assessment().level == "emergency"


def test_in_a_quiet_room_two_guesses_that_sound_alike_are_asked_about(d, prompts):
    """A strong accent gets a low confidence on every phrase (a Caribbean voice's
    "yes", "yeah" and "yep" were all rejected, measured). The second unclear
    answer in a row that sounds like the same answer is checked with the person
    instead of being rejected again."""
    turn = _at_a_cause_question(d)
    turn = d.handle(Heard("", 0.05, snr_db=40.0, alternatives=("yes",)))
    assert turn.say[0] == prompts.say_list("no_match")[0]
    turn = d.handle(Heard("yeah", 0.2, snr_db=40.0))
    assert turn.listen.kind == "confirm" and turn.listen.confirming == "yes"


@pytest.mark.parametrize("second", [
    Heard("", 0.05, snr_db=40.0, alternatives=("no",)),  # sounds like something else
    Heard("", 0.05, snr_db=40.0, alternatives=("repeat",)),  # a command
    Heard("yeah", 0.2, snr_db=10.0),  # in noise babble can sound like the same answer twice
])
def test_unclear_answers_that_do_not_agree_stay_unclear(d, prompts, second):
    _at_a_cause_question(d)
    d.handle(Heard("", 0.05, snr_db=40.0, alternatives=("yes",)))
    turn = d.handle(second)
    assert turn.listen.kind != "confirm"
    assert turn.say[0] == prompts.say_list("no_match")[1]


@pytest.mark.parametrize("answers, level", [
    ({"hormones": "yes"}, "self_care"),  # "pregnant, or the pill or HRT": one risk factor, not two
    ({"recent_surgery": "yes", "long_journey": "yes"}, "urgent"),  # two from one shared question
    ({"pregnant": "yes", "previous_clot": "yes"}, "urgent"),  # from two shared questions
])
def test_a_shared_yes_counts_what_its_follow_ups_say(rules, prompts, answers, level):
    """Found by the outcome cases: a yes to "pregnant ... or the pill or HRT"
    was first recorded as pregnant; the follow-up asked only about the pill
    and the provisional yes stayed, so one risk factor counted as two."""
    from voiceassist.replay import Case, TextPatient, run_case

    result = run_case(rules, prompts, Case("shared", {**answers, "pain_location": "calf"}), TextPatient(prompts))
    assert result.level == level, result.transcript
