#!/usr/bin/env bash
# transformers' common model tests (ModelTesterMixin + GenerationTesterMixin) on AffectLLM's tiny
# AU + prosody and CLIP + Whisper configs. Needs ../shared/transformers_tests (transformers' test
# mixins; not part of this repository, hence not part of `make test`) and the `parameterized` and
# `pytest-timeout` packages. Copies the mixins to a scratch folder, drops our test module in, runs
# pytest there. Extra arguments go to pytest (e.g. -k attentions).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# ../shared beside the repository (for a git worktree: beside its main checkout).
main="$(git -C "$repo" worktree list --porcelain 2>/dev/null | sed -n '1s/^worktree //p')"
mixins="${TRANSFORMERS_TESTS:-$repo/../shared/transformers_tests}"
if [ -z "${TRANSFORMERS_TESTS:-}" ] && [ ! -d "$mixins" ] && [ -n "$main" ]; then
    mixins="$main/../shared/transformers_tests"
fi
python="${PYTHON:-python}"
case "$python" in  # a relative path (make passes .venv/bin/python) must survive the cd below
    */*) [ "${python#/}" = "$python" ] && python="$PWD/$python" ;;
esac
if [ ! -d "$mixins/tests" ]; then
    echo "transformers' test mixins not found at $mixins (set TRANSFORMERS_TESTS)" >&2
    exit 2
fi
if ! "$python" -c "import parameterized, pytest_timeout" 2>/dev/null; then
    echo "$python lacks parameterized or pytest-timeout (pip install parameterized pytest-timeout;" \
        "a venv with --system-site-packages keeps the project's own venv as it is)" >&2
    exit 2
fi
scratch="$(mktemp -d "${TMPDIR:-/tmp}/affect-llm-hf-tests.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cp -r "$mixins"/. "$scratch"/
mkdir -p "$scratch/tests/models/affect_llm"
touch "$scratch/tests/models/affect_llm/__init__.py"
cp "$here/test_modeling_affect_llm.py" "$scratch/tests/models/affect_llm/"
cd "$scratch"
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$python" -m pytest tests/models/affect_llm -q -rs \
    -p no:cacheprovider "$@"
