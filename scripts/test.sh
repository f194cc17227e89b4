#!/usr/bin/env bash
# The README's test command (`make test`), also what CI runs: install everything,
# start PostgreSQL, then format check, lint, types, import layering and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
bash scripts/system-packages.sh
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
export TRACEBOT_TEST_POSTGRES_URL
TRACEBOT_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh | tail -n 1)
bin="$VENV/bin"
echo "== ruff format";  "$bin/ruff" format --check bot trace_engine intents storage tests bench
echo "== ruff check";   "$bin/ruff" check bot trace_engine intents storage tests bench
echo "== mypy";         "$bin/mypy"
echo "== import layers"; "$bin/lint-imports"
echo "== pytest";       "$bin/python" -m pytest "$@"
