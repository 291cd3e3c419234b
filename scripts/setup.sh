#!/usr/bin/env bash
# Create .venv and install affect-llm with everything the tests, quickstart and demo need.
# torch and torchvision are installed first (see below), so the project's `torch>=2.6` and
# `torchvision` requirements are already met when pip reads pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# pip's and apt's own output goes to .venv/setup.log, shown when a step fails: a machine's pip
# configuration can add lines that are not ours (e.g. "WARNING: Location 'file:///...' is ignored"
# for each package, when a configured index folder does not exist).
LOG=.venv/setup.log
: >"$LOG"
pip_install() {
  if ! .venv/bin/python -m pip install --disable-pip-version-check "$@" >>"$LOG" 2>&1; then
    echo "error: pip install failed; the end of its output ($LOG):" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}
# transformers' Qwen video processors (Qwen2.5-Omni / Qwen2.5-VL backbones) need torchvision. On CPU
# machines the only pair that imports together is torch 2.14.1 + torchvision 0.29.1: CUDA builds
# (pip takes them from the local wheel folder, plus about 3 GB of CUDA libraries from the package
# index) that run on the CPU. The CPU-only torch 2.13 has no matching torchvision.
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
  echo "installing torch ${TORCH_VERSION:-2.14.1} and torchvision ${TORCHVISION_VERSION:-0.29.1}" \
    "into .venv (with CUDA libraries, about 3 GB: a few minutes)"
  pip_install "torch==${TORCH_VERSION:-2.14.1}" "torchvision==${TORCHVISION_VERSION:-0.29.1}" \
    ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
echo "installing affect-llm (editable) with its perception, demo, plots and dev extras into .venv"
pip_install -e ".[perception,demo,plots,dev]" -c constraints.txt
# The demo's browser test drives Debian's Chromium through playwright (no browser download). This
# is the one system-wide install: it is announced first, and AFFECT_LLM_NO_APT=1 skips it.
if [ -z "${AFFECT_LLM_NO_APT:-}" ] && ! command -v chromium >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  echo "installing system-wide: Debian's chromium and chromium-driver (apt-get${SUDO:+ via sudo})," \
    "for the demo's browser test; AFFECT_LLM_NO_APT=1 skips this"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      chromium chromium-driver; } >>"$LOG" 2>&1 \
    || echo "warning: could not install chromium (see $LOG); the demo's browser test will be" \
      "skipped" >&2
fi
echo "affect-llm set up in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
