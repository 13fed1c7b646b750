"""A plain (non-editable) install runs from any folder: the rules and prompts
ship inside the wheel."""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, VIGNETTES

pytestmark = pytest.mark.slow  # builds and installs a wheel


def test_wheel_carries_rules_and_prompts_and_runs_elsewhere(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheel_dir, ROOT],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = wheel_dir.glob("voiceassist-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "voiceassist/triage/rules.yaml" in names
    assert "voiceassist/prompts/en.yaml" in names
    (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]  # MIT, as the metadata says
    assert "MIT License" in zipfile.ZipFile(wheel).read(licence).decode()
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(licence.split("/")[0] + "/METADATA").decode()
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-m", "voiceassist", "check"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert str(target) in out.stdout  # the packaged rules, not the source tree
    out = subprocess.run([sys.executable, "-m", "voiceassist", "replay", VIGNETTES, "--text"], cwd=elsewhere,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
