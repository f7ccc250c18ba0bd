#!/usr/bin/env bash
# The whole suite: unit, integration (real model, Sudachi/MeCab, index), app and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -q "$@"
