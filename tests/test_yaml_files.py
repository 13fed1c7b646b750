"""One YAML reader for every file (rules, prompts, cases, settings): a key
given twice is an error naming the file, the line and the key, never a
silent override; the emergency number is read as written."""

import pytest

from voiceassist.triage.rules import ConfigError, default_prompts_path, default_rules_path, load
from voiceassist.yamlfile import read_yaml

from conftest import VIGNETTES, run_cli


def with_duplicate(text: str, key_line: str) -> str:
    """`text` with the line `key_line` given a second time just after itself."""
    assert key_line in text
    return text.replace(key_line, key_line + key_line, 1)


def test_a_duplicate_key_is_an_error_naming_file_line_and_key(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n  c: 3\n")
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert str(err.value) == f"{path}: line 4: duplicate key 'c' (first given on line 3)"


def test_a_duplicate_key_in_the_rules_stops_everything(tmp_path):
    text = default_rules_path().read_text()
    line = next(l for l in text.splitlines(keepends=True) if l.startswith("strong_support:"))
    rules = tmp_path / "rules.yaml"
    rules.write_text(with_duplicate(text, line))
    out = run_cli("check", rules)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "duplicate key 'strong_support'" in out.stderr and str(rules) in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_duplicate_key_in_the_prompts_is_an_error(tmp_path):
    text = default_prompts_path().read_text()
    line = next(l for l in text.splitlines(keepends=True) if l.startswith("  idle:"))
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(with_duplicate(text, line))
    with pytest.raises(ConfigError, match=r"prompts.yaml: line \d+: duplicate key 'idle'"):
        load(None, prompts)


def test_a_duplicate_key_in_a_cases_file_is_an_error(tmp_path):
    cases = tmp_path / "cases.yaml"
    cases.write_text("- id: x\n  answers: {leg_swelling: yes, leg_swelling: no}\n")
    out = run_cli("replay", cases, "--text")
    assert out.returncode == 2 and "duplicate key 'leg_swelling'" in out.stderr


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nmore:\n  <<: *b\n  y: 3\n")
    assert read_yaml(path)["more"] == {"x": 1, "y": 3}


@pytest.mark.parametrize("written, number", [("000", "000"), ("0112", "0112"), ('"000"', "000"),
                                              ("'112'", "112"), ("999", "999")])
def test_the_prompts_emergency_number_is_read_as_written(tmp_path, written, number):
    text = default_prompts_path().read_text().replace('emergency_number: "999"', f"emergency_number: {written}")
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(text)
    assert load(None, prompts)[1].emergency_number == number


@pytest.mark.parametrize("written", ["9", "1234567", "call 999", "''", "~", "9-9-9"])
def test_a_bad_emergency_number_in_the_prompts_is_one_line(tmp_path, written):
    text = default_prompts_path().read_text().replace('emergency_number: "999"', f"emergency_number: {written}")
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(text)
    with pytest.raises(ConfigError, match="emergency_number: the emergency number must be 2 to 6 digits"):
        load(None, prompts)


def test_the_example_cases_still_read(rules):
    from voiceassist.replay import load_cases

    assert [c.id for c in load_cases(VIGNETTES, rules)][:2] == ["dvt_long_flight", "dvt_with_pe_signs"]
