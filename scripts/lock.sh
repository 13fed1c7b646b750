#!/usr/bin/env bash
# Writes the locks requirements/consult.txt (what ./consult installs: the
# runtime, Whisper and its model) and requirements/test.txt (that, plus the
# test tools: what ./run-tests installs) from pyproject.toml, every package
# pinned to one version with the hashes of its files. Pins already in the
# locks are kept (pip-compile's default), and the test lock is constrained by
# the consult one, so both install the same versions of what they share.
#   scripts/lock.sh                          after a dependency is added
#   scripts/lock.sh --upgrade-package NAME   to move one package on
# Measured figures (benchmarks/README.md) hold for the locked versions only.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install -q pip-tools==7.7.0
export CUSTOM_COMPILE_COMMAND="scripts/lock.sh"
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links "$@")
"$tools/bin/pip-compile" "${common[@]}" --extra whisper \
  -o requirements/consult.txt pyproject.toml requirements/build.in
"$tools/bin/pip-compile" "${common[@]}" --extra whisper --extra test -c requirements/consult.txt \
  -o requirements/test.txt pyproject.toml requirements/build.in
