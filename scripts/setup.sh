#!/usr/bin/env bash
# Installs everything voiceassist needs on a Debian or Ubuntu machine:
# system packages (apt) and the project with its Python dependencies in .venv.
# Idempotent and quick when nothing changed: ./consult and ./run-tests call it.
set -euo pipefail
cd "$(dirname "$0")/.."

# espeak-ng: the voice; libportaudio2: microphone and speaker;
# python3-venv: the project's own environment; chromium: the kiosk caption
# screen and its browser test.
APT_PACKAGES=(python3 python3-venv python3-pip espeak-ng libportaudio2 chromium)
# whisper: the second recogniser (benchmarks/README.md); test: the test suite.
EXTRAS="${VOICEASSIST_EXTRAS:-whisper,test}"
# sox: the tests read WAVs written by an independent program (24-bit, float).
[[ "$EXTRAS" == *test* ]] && APT_PACKAGES+=(sox)

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    say "please install these system packages: ${missing[*]}"; exit 2
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "run as root, or install: ${missing[*]}"; exit 2; }
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Reinstall the Python side only when its inputs changed.
stamp=.venv/.voiceassist-installed
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $EXTRAS"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
say "installing voiceassist and its Python dependencies into .venv"
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel
.venv/bin/python -m pip install -q -e ".[$EXTRAS]"
echo "$want" > "$stamp"
