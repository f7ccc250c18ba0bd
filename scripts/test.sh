#!/usr/bin/env bash
# The whole suite: unit, integration (real model, Sudachi/MeCab, index), app and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# One worker a core (pytest-xdist, in the test extra); each test file stays on one worker, so a
# file's fixtures are built once. Without xdist installed the suite runs in one process.
workers=()
python -c "import xdist" 2>/dev/null && workers=(-n auto --dist loadfile)
python -m pytest -q "${workers[@]}" "$@"
