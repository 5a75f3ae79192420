#!/usr/bin/env bash
# Stop copilot-bridge: `pm2 delete` when PM2 runs it, otherwise SIGTERM the pid in
# ./run/copilot-bridge.pid, wait up to BRIDGE_STOP_TIMEOUT (15) seconds, then SIGKILL.
# The logic lives in start.sh, so both scripts agree on paths and on which supervisor is used.
set -euo pipefail
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/start.sh" stop "$@"
