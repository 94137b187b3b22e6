#!/usr/bin/env bash
# Create the virtual environments of the compared frameworks under $BENCH_VENVS (default: bench/.venvs).
#
#   bash bench/compare/setup_venvs.sh [FRAMEWORK ...]    # flaml, autogluon, lgbm_default; none: all three
#
# Each venv installs requirements/FRAMEWORK.txt. glassml and seasonal_naive are accepted and skipped, since
# they run in the project's .venv (`make setup`). A venv that finished installing has the file .complete (the output of
# `pip freeze`) and is kept. A venv without it, for example from an interrupted install, is rebuilt.
# Needs python3.11 ($BENCH_BASE_PYTHON overrides it). Each install prints its time and size.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENVS="${BENCH_VENVS:-$(dirname "$HERE")/.venvs}"
BASE_PYTHON="${BENCH_BASE_PYTHON:-python3.11}"
# AutoGluon needs torch. Installing a CPU build of torch first keeps pip from resolving a multi-GB CUDA build
# for AutoGluon's `torch` requirement.
TORCH_CPU="${BENCH_TORCH:-torch==2.13.0}"
mkdir -p "$VENVS"

for name in ${*:-flaml autogluon lgbm_default}; do
  case "$name" in
    glassml | seasonal_naive) continue ;;
    flaml | autogluon | lgbm_default) ;;
    *) echo "unknown framework '$name': expected flaml, autogluon, lgbm_default, glassml or seasonal_naive" >&2; exit 2 ;;
  esac
  venv="$VENVS/$name"
  if [[ -f "$venv/.complete" ]]; then
    continue
  fi
  echo "creating the $name venv in $venv"
  started=$(date +%s)
  rm -rf "$venv"
  "$BASE_PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  if [[ "$name" == autogluon ]]; then
    "$venv/bin/pip" install -q "$TORCH_CPU"
  fi
  "$venv/bin/pip" install -q -r "$HERE/requirements/$name.txt"
  "$venv/bin/pip" freeze > "$venv/.complete"
  echo "$name: $(( $(date +%s) - started )) s, $(du -sh "$venv" | cut -f1)"
done
