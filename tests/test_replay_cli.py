"""`voiceassist replay CASES.yaml --text [--json]` as replay.md describes."""

import json

from conftest import VIGNETTES, run_cli


def test_public_vignettes_pass_as_json():
    out = run_cli("replay", VIGNETTES, "--text", "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    cases, summary = lines[:-1], lines[-1]["summary"]
    assert summary["cases"] == len(cases) == 20
    assert summary["passed"] == 20 and summary["safety_failures"] == 0
    assert summary["answers"] == summary["answers_correct"] > 0
    first = cases[0]
    assert first["case"] == "dvt_long_flight"
    assert first["outcome"]["level"] == "emergency" and first["outcome"]["emergency"] is True
    assert first["outcome"]["causes"][0] == "dvt"
    turn = first["turns"][0]
    assert set(turn) >= {"question", "findings", "meant", "heard", "answer", "confidence", "attempts"}
    assert first["spoken"] and first["pass"] is True


def test_readable_transcript_without_json():
    out = run_cli("replay", VIGNETTES, "--text")
    assert out.returncode == 0
    assert "assistant: Hello." in out.stdout
    assert "PASS dvt_long_flight" in out.stdout
    assert out.stdout.rstrip().splitlines()[-1].startswith("20 passed, 0 failed")


def test_a_failing_case_exits_1(tmp_path):
    cases = tmp_path / "cases.yaml"
    cases.write_text("- id: wrong\n  answers: {leg_swelling: yes}\n  expect: {level: self_care, causes: []}\n")
    out = run_cli("replay", cases, "--text")
    assert out.returncode == 1
    assert "FAIL wrong" in out.stdout


def test_bare_yes_no_and_a_single_case(tmp_path):
    cases = tmp_path / "one.yaml"
    cases.write_text("id: single\nanswers: {breathless: yes, leg_red: yes, pain_location: calf}\n")
    out = run_cli("replay", cases, "--text", "--json")
    assert out.returncode == 0
    case = json.loads(out.stdout.splitlines()[0])
    assert case["outcome"]["level"] == "ambulance" and case["pass"] is None


def test_bad_input_exits_2_with_one_line(tmp_path):
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- id: x\n  answers: {leg_on_fire: yes}\n")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("- id: x\n  answers: {leg_swelling: yes\n")
    for path, problem in [
        (unknown, "unknown finding id 'leg_on_fire'"),
        (malformed, "malformed YAML"),
        (tmp_path / "missing.yaml", "file not found"),
    ]:
        out = run_cli("replay", path, "--text")
        assert out.returncode == 2, path
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert str(path) in out.stderr and problem in out.stderr


def test_bad_answer_value_exits_2(tmp_path):
    cases = tmp_path / "bad.yaml"
    cases.write_text("- id: x\n  answers: {pain_location: foot}\n")
    out = run_cli("replay", cases, "--text")
    assert out.returncode == 2
    assert "pain_location: 'foot' is not one of" in out.stderr


def test_text_consultation_by_keyboard():
    import subprocess
    import sys

    typed = "no\nno\nno\nno\nyes\nno\nno\n\n\n\n"
    out = subprocess.run([sys.executable, "-m", "voiceassist", "text"], input=typed,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Go to an emergency department now" in out.stdout
    assert out.stdout.rstrip().endswith("Goodbye. Take care.")


def test_text_consultation_ends_on_end_of_input():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "voiceassist", "text"], input="no\n",
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "Okay. I will stop now." in out.stdout
