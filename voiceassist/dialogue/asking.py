"""How the dialogue puts a question: the sentences said and the `Listen` for
the answer (its prompt and grammar).

Pure functions of the prompts, the rules and the answers so far: the
dialogue (manager.py) decides what is asked and when; these say how.
"""

from __future__ import annotations

from ..triage import engine
from ..triage.engine import UNKNOWN
from ..triage.rules import Prompts, Question, Rules
from . import answers as answer_text
from .events import Listen
from .policy import Stage


def question_listen(rules: Rules, prompts: Prompts, answers: dict[str, str], q: Question,
                    finding: str | None, stage: Stage) -> Listen:
    """The question `q` (or one `finding` of it, a follow-up of a shared
    yes) as it is asked at its stage. It "raises the level" when a yes to it
    could make the outcome more urgent, given the other answers."""
    if finding is not None:
        text, findings, mode = prompts.text("findings", finding, "ask"), (finding,), "follow_up"
    else:
        again = stage in (Stage.AGAIN, Stage.CHECK_AGAIN)
        text, findings = prompts.text("questions", q.id, "again" if again else "ask"), q.findings
        mode = {Stage.ASK: "ask", Stage.AGAIN: "again"}.get(stage, "check")
    phrases, meanings = answer_text.grammar(prompts, q.kind, findings[0] if q.kind == "choice" else None)
    others = {k: v for k, v in answers.items() if k not in findings}
    raises = engine.can_change_level(rules, others, q)
    return Listen(q.id, findings, q.kind, phrases, q.red_flag, mode=mode, prompt=text,
                  raises_level=raises, meanings=meanings)


def read_back_listen(prompts: Prompts, asked: Listen, value: str) -> Listen:
    """"I heard X. Is that right?" for the answer `value` to the question `asked`."""
    text = prompts.say("confirm", answer=answer_name(prompts, value, asked))
    phrases, meanings = answer_text.grammar(prompts, "confirm")
    return Listen(asked.question, asked.findings, "confirm", phrases, asked.red_flag,
                  mode="confirm", confirming=value, prompt=text, meanings=meanings)


def answer_name(prompts: Prompts, value: str, listen: Listen) -> str:
    """An answer as it is said back: a place by its name, else yes, no..."""
    if listen.kind == "choice" and value != UNKNOWN:
        return prompts.text("option_names", listen.findings[0], value)
    return prompts.text("answer_names", value)


def stop_listen(prompts: Prompts, listen: Listen) -> Listen:
    """"Do you want to stop?", asked in place of `listen`."""
    phrases, meanings = answer_text.grammar(prompts, "confirm")
    return Listen(listen.question, listen.findings, "confirm", phrases, listen.red_flag,
                  mode="confirm", confirming="stop", prompt=prompts.say("confirm_stop"), meanings=meanings)


def offer_listen(prompts: Prompts) -> Listen:
    """"Would you like me to say that again?", after the outcome."""
    text = prompts.say("offer_repeat")
    phrases, meanings = answer_text.grammar(prompts, "offer")
    return Listen("offer_repeat", (), "offer", phrases, prompt=text, meanings=meanings)


def help_lines(prompts: Prompts, listen: Listen, question: Question | None) -> list[str]:
    """What "help" says: why the question is asked, what can be answered,
    then the commands (always last)."""
    out = []
    if listen.kind in ("yes_no", "choice") and question is not None:
        out.append(prompts.text("questions", question.id, "help"))
    if listen.kind == "confirm":
        out.append(prompts.say("confirm_help"))
    elif listen.kind == "choice":
        out.append(prompts.say("help_choice"))
    else:
        out.append(prompts.say("help_yes_no"))
    out.append(prompts.say("help_commands"))
    return out


def unheard_lines(prompts: Prompts, kind: str, count: int, help_: list[str]) -> list[str]:
    """What is said, before the prompt again, on the `count`th silence
    ("no_input") or answer not understood ("no_match"): more help each time.
    `help_`: help_lines for the question."""
    lines = prompts.say_list(kind)
    say = [lines[min(count, len(lines)) - 1]]
    if kind == "no_match":
        # First time: what can be said. Second time: why it is asked, too.
        say += help_[:-1] if count > 1 else help_[-2:-1]
    elif count > 1:  # a silence: what can be said, from the second one on
        say += help_[-2:-1]
    return say
