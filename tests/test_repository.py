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
