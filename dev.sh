#!/usr/bin/env bash
# Set-up and everyday commands for GAN Studio. Creates .venv on first use (and after pyproject.toml
# changes), then:
#   ./dev.sh run [ARGS]    open the studio (default: on the built-in shapes dataset)
#   ./dev.sh test [ARGS]   run the whole test suite (what CI runs)
#   ./dev.sh studio ARGS   any `studio` subcommand, e.g. ./dev.sh studio train --preset tiny
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv
stamp=$VENV/.installed

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV ..." >&2
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing GAN Studio and its dependencies (first time: a few minutes) ..." >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" >&2 || true
  "$VENV/bin/python" -c "import studio, torch, PySide6, pyqtgraph" || { echo "installation failed" >&2; exit 1; }
  touch "$stamp"
fi

cmd=${1:-run}
shift || true
case "$cmd" in
  run) exec "$VENV/bin/studio" gui --dataset builtin:shapes "$@" ;;
  test) exec "$VENV/bin/python" -m pytest -q "$@" ;;
  studio) exec "$VENV/bin/studio" "$@" ;;
  *) echo "usage: ./dev.sh run|test|studio [ARGS]" >&2; exit 2 ;;
esac
