"""Each validation error: one line naming the file, the entry and the problem,
exit status 2 from `voiceassist check`, and nothing starts."""

from pathlib import Path

import pytest
import yaml

from voiceassist.triage.rules import ConfigError, default_prompts_path, default_rules_path, load

from conftest import run_cli

RULES = yaml.safe_load(default_rules_path().read_text())
PROMPTS = yaml.safe_load(default_prompts_path().read_text())


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def broken_rules(change):
    data = yaml.safe_load(default_rules_path().read_text())
    change(data)
    return data


def broken_prompts(change):
    data = yaml.safe_load(default_prompts_path().read_text())
    change(data)
    return data


RULE_BREAKS = {
    "unknown finding in a rule": (
        lambda d: d["disposition_rules"][4]["when"][0]["any"].append("leg_exploded"),
        "disposition_rules[4] (urgent_sign)", "unknown finding id 'leg_exploded'",
    ),
    "dangling set member": (
        lambda d: d["sets"]["clot_signs"].append("swollen_toe"),
        "sets.clot_signs", "unknown finding id 'swollen_toe'",
    ),
    "question for an unknown finding": (
        lambda d: d["questions"][0]["findings"].append("nosebleed"),
        "questions[0] (pe_signs)", "unknown finding id 'nosebleed'",
    ),
    "cause without advice": (
        lambda d: d["causes"]["sciatica"].pop("advice"),
        "causes.sciatica", "'advice' is missing",
    ),
    "wrong type": (
        lambda d: d["causes"]["dvt"]["points"].update(leg_swelling="lots"),
        "causes.dvt.points.leg_swelling", "should be number",
    ),
    "finding no question asks": (
        lambda d: d["findings"].update(new_sign={"group": "pattern"}),
        "findings.new_sign", "no question asks for this finding",
    ),
    "unknown group": (
        lambda d: d["findings"]["bruising"].update(group="sometimes"),
        "findings.bruising.group", "'sometimes' is not one of",
    ),
    "red flag asked late": (
        lambda d: d["questions"].append(d["questions"].pop(0)),
        "questions[25] (pe_signs)", "must come before",
    ),
    "unknown cause named by a rule": (
        lambda d: d["disposition_rules"][2].update(names=["gout"]),
        "disposition_rules[2] (clot_sign)", "unknown cause id 'gout'",
    ),
    "a clot risk factor as a defining finding": (
        lambda d: d["causes"]["dvt"]["defining"].append("hormones"),
        "causes.dvt.defining", "'hormones' is a clot risk factor",
    ),
    "a cause without defining findings": (
        lambda d: d["causes"]["pad"].pop("defining"), "causes.pad", "'defining' is missing",
    ),
    "a defining finding without points": (
        lambda d: d["causes"]["pad"]["defining"].append("bruising"), "causes.pad.defining", "'bruising' has no points",
    ),
    "an unknown place": (
        lambda d: d["causes"]["pad"]["places"].append("elbow"), "causes.pad.places", "unknown pain_location option 'elbow'",
    ),
    "an unknown least level": (
        lambda d: d["causes"]["dvt"].update(least_level="soon"), "causes.dvt.least_level", "'soon' is not one of",
    ),
    "advice a cause lists that is not described": (
        lambda d: d["causes"]["pad"]["advice"].append("dance"), "causes.pad.advice", "advice id 'dance' is not in advice",
    ),
    "advice that disagrees with an unknown advice": (
        lambda d: d["advice"]["rest"]["not_with"].append("dance"), "advice.rest", "unknown advice id 'dance'",
    ),
    "advice forbidden with an unknown cause": (
        lambda d: d["advice"]["ice"]["not_with_causes"].append("gout"), "advice.ice", "unknown cause id 'gout'",
    ),
    "an outcome without its safety net": (
        lambda d: d["safety_net"].pop("doctor"), "safety_net.doctor", "needs its safety net",
    ),
    "a safety net on an emergency": (
        lambda d: d["safety_net"].update(emergency=["call_if_breathless"]), "safety_net.emergency", "has no safety net",
    ),
}

PROMPT_BREAKS = {
    "question without wording": (
        lambda d: d["questions"].pop("heel_snap"), "questions.heel_snap", "question without wording",
    ),
    "advice id without wording": (
        lambda d: d["advice"].pop("ice"), "advice.ice", "advice id used by the rules has no wording",
    ),
    "cause without a name": (lambda d: d["causes"].pop("pad"), "causes.pad", "cause without a name"),
    "phrase with two meanings": (
        lambda d: d["answers"]["no"].append("yeah"), "answers.no", "already used for answer yes",
    ),
    "missing level instruction": (
        lambda d: d["levels"].pop("ambulance"), "levels.ambulance", "missing instruction",
    ),
    "unknown placeholder": (
        lambda d: d["say"].update(goodbye="Bye {name}."), "say.goodbye", "unknown placeholder {name}",
    ),
    "unknown question id": (
        lambda d: d["questions"].update(wobbly={"ask": "a", "again": "b", "help": "c"}),
        "questions.wobbly", "unknown question id",
    ),
    "question without a topic": (
        lambda d: d["topics"].pop("clot_signs"), "topics.clot_signs", "question without a topic",
    ),
    "missing outcome sentence": (
        lambda d: d["outcome"].pop("rule_out"), "outcome.rule_out", "missing sentence",
    ),
    "a place not said back": (
        lambda d: d["places_said"].pop("heel"), "places_said.heel", "option without the words",
    ),
}


@pytest.mark.parametrize("name", RULE_BREAKS)
def test_rules_error(name, tmp_path):
    change, entry, problem = RULE_BREAKS[name]
    path = write(tmp_path, "rules.yaml", broken_rules(change))
    with pytest.raises(ConfigError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {entry}: "), message
    assert problem in message


@pytest.mark.parametrize("name", PROMPT_BREAKS)
def test_prompts_error(name, tmp_path):
    change, entry, problem = PROMPT_BREAKS[name]
    path = write(tmp_path, "en.yaml", broken_prompts(change))
    with pytest.raises(ConfigError) as err:
        load(None, path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {entry}: "), message
    assert problem in message


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "rules.yaml", "levels: [ambulance, emergency\nfindings: {\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value).startswith(f"{path}: line ")
    assert "malformed YAML" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.yaml")


def test_check_command_ok():
    out = run_cli("check")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ")


def test_check_command_error_is_one_line_exit_2(tmp_path):
    path = write(tmp_path, "rules.yaml", broken_rules(RULE_BREAKS["unknown finding in a rule"][0]))
    out = run_cli("check", path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "unknown finding id 'leg_exploded'" in lines[0]


def test_nothing_starts_on_invalid_rules(tmp_path):
    path = write(tmp_path, "en.yaml", broken_prompts(PROMPT_BREAKS["question without wording"][0]))
    out = run_cli("text", "--prompts", path)
    assert out.returncode == 2
    assert "question without wording" in out.stderr
    assert "Hello" not in out.stdout
