import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
VIGNETTES = SHARED / "spec" / "vignettes.yaml"


@pytest.fixture(scope="session")
def rules_and_prompts():
    from voiceassist.triage.rules import load

    return load()


@pytest.fixture(scope="session")
def rules(rules_and_prompts):
    return rules_and_prompts[0]


@pytest.fixture(scope="session")
def prompts(rules_and_prompts):
    return rules_and_prompts[1]


def run_cli(*args, cwd=None):
    """Run the installed command line as a user would, in a subprocess."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "voiceassist", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )
