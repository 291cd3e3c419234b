#!/usr/bin/env bash
# Create .venv and install affect-llm with everything the tests, quickstart and demo need.
# torch is installed first at the CPU build (a local wheel on our CPU machines), so the project's
# `torch>=2.6` requirement is already met and pip does not pull several GB of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # Elsewhere, TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu picks the CPU build from PyTorch's index.
  "${PIP[@]}" "torch==${TORCH_VERSION:-2.13.0}" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
"${PIP[@]}" -e ".[perception,demo,plots,dev]" -c constraints.txt
# The demo's browser test drives Debian's Chromium through playwright (no browser download). This
# is the one system-wide install: it is announced first, and AFFECT_LLM_NO_APT=1 skips it.
if [ -z "${AFFECT_LLM_NO_APT:-}" ] && ! command -v chromium >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  echo "installing system-wide: Debian's chromium and chromium-driver (apt-get${SUDO:+ via sudo})," \
    "for the demo's browser test; AFFECT_LLM_NO_APT=1 skips this"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      chromium chromium-driver; } >/dev/null 2>&1 \
    || echo "warning: could not install chromium; the demo's browser test will be skipped" >&2
fi
echo "affect-llm set up in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
