#!/usr/bin/env bash
# Chat with the copilot-bridge server from a terminal: `chat_client/chat.sh [--model M] ...`.
# Uses the project's .venv when it exists, python3 otherwise; flags go to `python -m chat_client`.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(dirname "$here")"

python=python3
if [[ -x "$root/.venv/bin/python" ]]; then
    python="$root/.venv/bin/python"
fi

# Find the package from any working directory, installed or not.
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m chat_client "$@"
