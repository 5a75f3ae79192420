#!/usr/bin/env bash
# Run copilot-bridge (`python -m server`) as a background service from this checkout.
#
#   ./start.sh [start]            create .venv if missing, install this checkout into it unless
#                                 it is there with pyproject.toml's dependencies, start, and
#                                 wait for GET /health
#   ./start.sh status             running? healthy? (exit 0 healthy, 1 unhealthy, 3 stopped)
#   ./start.sh logs [-n N] [--no-follow]
#   ./start.sh restart
#   ./start.sh stop               the same as ./stop.sh
#
# It runs under PM2 when `pm2` is on PATH or at ./.tools/node_modules/.bin/pm2, otherwise with
# nohup, a pid file in ./run and output in ./logs/server.out.
#
# Environment:
#   HOST, PORT              where /health is checked (else from .env, else 127.0.0.1:3456)
#   BRIDGE_SUPERVISOR       auto (default) | pm2 | nohup
#   BRIDGE_PYTHON_MODULE    module to run with `python -m` (default: server)
#   BRIDGE_LOG_DIR          default ./logs      BRIDGE_RUN_DIR   default ./run
#   BRIDGE_START_TIMEOUT    seconds to wait for /health (default 30)
#   BRIDGE_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 15)
#   PM2_HOME                PM2's own state directory (default ~/.pm2)
# Everything else in the environment (SERVICE, CLI paths, API keys...) reaches the server.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$ROOT"

APP_NAME=copilot-bridge
VENV_PY="$ROOT/.venv/bin/python"
MODULE="${BRIDGE_PYTHON_MODULE:-server}"
SCRIPT_LOG_DIR="${BRIDGE_LOG_DIR:-$ROOT/logs}"
RUN_DIR="${BRIDGE_RUN_DIR:-$ROOT/run}"
PID_FILE="$RUN_DIR/$APP_NAME.pid"
OUT_LOG="$SCRIPT_LOG_DIR/server.out"
START_TIMEOUT="${BRIDGE_START_TIMEOUT:-30}"
STOP_TIMEOUT="${BRIDGE_STOP_TIMEOUT:-15}"
SUPERVISOR="${BRIDGE_SUPERVISOR:-auto}"
# ecosystem.config.js reads these when PM2 evaluates it.
export BRIDGE_LOG_DIR="$SCRIPT_LOG_DIR" BRIDGE_PYTHON_MODULE="$MODULE"

say() { printf '%s\n' "$*"; }
die() { printf 'start.sh: %s\n' "$*" >&2; exit 1; }

any_python() {
    if [[ -x "$VENV_PY" ]]; then echo "$VENV_PY"; else echo python3; fi
}

# --- where the server listens ---------------------------------------------------------------

# Sets HOST, PORT and HEALTH_URL. The environment wins over .env, as in python-dotenv.
resolve_address() {
    local from_env=("" "")
    if [[ -f "$ROOT/.env" && ( -z "${HOST:-}" || -z "${PORT:-}" ) ]] && [[ -x "$VENV_PY" ]]; then
        # Let python-dotenv parse .env exactly as the server will.
        mapfile -t from_env < <("$VENV_PY" -c '
from dotenv import dotenv_values
values = dotenv_values(".env")
print(values.get("HOST") or "")
print(values.get("PORT") or "")' 2>/dev/null || true)
    fi
    HOST="${HOST:-${from_env[0]:-}}"
    HOST="${HOST:-127.0.0.1}"
    PORT="${PORT:-${from_env[1]:-}}"
    PORT="${PORT:-3456}"
    local probe="$HOST"
    case "$probe" in
        0.0.0.0 | "") probe=127.0.0.1 ;;
        :: | "[::]") probe=::1 ;;
    esac
    [[ "$probe" == *:* && "$probe" != \[* ]] && probe="[$probe]"
    HEALTH_URL="http://$probe:$PORT/health"
    BASE_URL="http://$probe:$PORT"
}

healthy() {
    "$(any_python)" - "$HEALTH_URL" <<'PY' >/dev/null 2>&1
import sys
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
with opener.open(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
}

# --- the two supervisors --------------------------------------------------------------------

# Sets PM2 and returns 0 when PM2 is to be used.
find_pm2() {
    [[ "$SUPERVISOR" == nohup ]] && return 1
    PM2="$(command -v pm2 || true)"
    if [[ -z "$PM2" && -x "$ROOT/.tools/node_modules/.bin/pm2" ]]; then
        PM2="$ROOT/.tools/node_modules/.bin/pm2"
    fi
    if [[ -z "$PM2" ]]; then
        [[ "$SUPERVISOR" == pm2 ]] && die "BRIDGE_SUPERVISOR=pm2, but pm2 is not installed (npm install --prefix .tools pm2)"
        return 1
    fi
    return 0
}

# True when a PM2 daemon runs; asking `pm2` anything would otherwise start one.
pm2_daemon_up() {
    local pid_file="${PM2_HOME:-$HOME/.pm2}/pm2.pid" pid
    [[ -f "$pid_file" ]] || return 1
    pid="$(<"$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

pm2_knows_app() {
    find_pm2 && pm2_daemon_up && "$PM2" describe "$APP_NAME" >/dev/null 2>&1
}

# Prints the app's pid when PM2 has it running.
pm2_app_pid() {
    pm2_knows_app || return 1
    local pid
    pid="$("$PM2" pid "$APP_NAME" 2>/dev/null | tail -n 1)"
    [[ "$pid" =~ ^[0-9]+$ && "$pid" != 0 ]] || return 1
    echo "$pid"
}

# Prints the pid from the pid file when that process is alive and is a `python -m` server.
pidfile_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(<"$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    # A stale file may name a pid that now belongs to another program.
    ps -o args= -p "$pid" 2>/dev/null | grep -q -- "python.* -m " || return 1
    echo "$pid"
}

# True while the process exists and is not a zombie (a container's pid 1 may never reap it).
alive() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z* ]]
}

# All descendants of a pid, deepest last.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

# --- the venv -------------------------------------------------------------------------------

ensure_venv() {
    if [[ ! -x "$VENV_PY" ]]; then
        say "creating .venv"
        python3 -m venv "$ROOT/.venv"
    fi
    if ! venv_ready; then
        say "installing copilot-bridge into .venv"
        "$ROOT/.venv/bin/pip" install --quiet -e "$ROOT"
    fi
}

# True when .venv has copilot-bridge installed from this checkout, with the dependencies that
# pyproject.toml lists now, all present. Python runs isolated (-I), so neither this directory
# nor PYTHONPATH is on sys.path: otherwise the copilot_bridge.egg-info that any editable install
# of this checkout (into another venv) leaves here would answer for the venv.
venv_ready() {
    "$VENV_PY" -I - "$ROOT" <<'PY' >/dev/null 2>&1
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit


def key(requirement):
    # "Name[b,a] >=1, <2" in pyproject.toml is "name[a,b]<2,>=1" in the installed metadata.
    head, _, marker = requirement.replace(" ", "").partition(";")
    name, extras, spec = re.fullmatch(r"([\w.-]+)(\[[^\]]*\])?(.*)", head).groups()
    extras = sorted((extras or "[]")[1:-1].split(","))
    return re.sub(r"[-_.]+", "-", name).lower(), extras, sorted(spec.split(",")), marker


root = Path(sys.argv[1]).resolve()
dist = metadata.distribution("copilot-bridge")  # PackageNotFoundError: not installed
url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
if not url.startswith("file:") or Path(unquote(urlsplit(url).path)).resolve() != root:
    sys.exit(1)  # installed from another checkout, or from an index
wanted = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
recorded = [r for r in dist.requires or [] if "extra==" not in r.replace(" ", "")]
if sorted(map(key, wanted)) != sorted(map(key, recorded)):
    sys.exit(1)  # pyproject.toml's dependencies changed since the install
for requirement in wanted:
    metadata.distribution(key(requirement)[0])  # PackageNotFoundError: a dependency is gone
PY
}

# --- commands -------------------------------------------------------------------------------

cmd_start() {
    ensure_venv
    resolve_address
    local pid how server_pid=""
    if pid="$(pm2_app_pid)" || pid="$(pidfile_pid)"; then
        say "$APP_NAME is already running (pid $pid) at $BASE_URL; use '$0 restart' to restart it"
        return 0
    fi
    if healthy; then
        die "something else already answers at $HEALTH_URL; set PORT to use another port"
    fi
    mkdir -p "$SCRIPT_LOG_DIR" "$RUN_DIR"
    if find_pm2; then
        local output
        # --update-env: the app gets this shell's environment even if PM2 knew it before.
        if ! output="$("$PM2" start "$ROOT/ecosystem.config.js" --update-env 2>&1)"; then
            printf '%s\n' "$output" >&2
            die "pm2 could not start $APP_NAME"
        fi
        how="PM2: $PM2"
    else
        rm -f "$PID_FILE"
        local launcher=()
        # Its own session: no SIGINT/SIGHUP from this terminal, and a group to kill as one.
        command -v setsid >/dev/null 2>&1 && launcher=(setsid)
        PYTHONUNBUFFERED=1 nohup "${launcher[@]}" "$VENV_PY" -m "$MODULE" \
            >>"$OUT_LOG" 2>&1 </dev/null &
        server_pid=$!
        echo "$server_pid" >"$PID_FILE"
        how="nohup: pid $server_pid, log $OUT_LOG"
    fi
    if ! wait_healthy "$server_pid"; then
        say "$APP_NAME did not answer $HEALTH_URL within ${START_TIMEOUT}s; last log lines:" >&2
        show_logs 30 no >&2 || true
        say "see '$0 logs'; stop it with ./stop.sh" >&2
        return 1
    fi
    say "$APP_NAME is up at $BASE_URL ($how)"
}

# wait_healthy [PID]: poll /health; give up early when PID (the nohup server) is gone.
wait_healthy() {
    local pid="${1:-}" deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        healthy && return 0
        if [[ -n "$pid" ]] && ! alive "$pid"; then
            say "$APP_NAME exited while starting" >&2
            rm -f "$PID_FILE"
            return 1
        fi
        sleep 0.3
    done
    return 1
}

cmd_stop() {
    local stopped="" pid
    if pm2_knows_app; then
        # PM2 sends SIGTERM and SIGKILLs after the app's kill_timeout (15 s).
        "$PM2" delete "$APP_NAME" >/dev/null
        stopped="PM2"
    fi
    if pid="$(pidfile_pid)"; then
        stop_pid "$pid"
        stopped="${stopped:+$stopped, }pid $pid"
    fi
    rm -f "$PID_FILE"
    if [[ -n "$stopped" ]]; then
        say "$APP_NAME stopped ($stopped)"
    else
        say "$APP_NAME is not running"
    fi
}

# SIGTERM the server alone so it can finish and stop its CLIs; SIGKILL everything left later.
stop_pid() {
    local pid="$1" deadline=$((SECONDS + STOP_TIMEOUT))
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            say "$APP_NAME (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL" >&2
            local left
            left="$(descendants "$pid")"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            if [[ -n "$left" ]]; then
                # shellcheck disable=SC2086 # one pid per word
                kill -KILL $left 2>/dev/null || true
            fi
            break
        fi
        sleep 0.2
    done
    # It is not our child to wait for: poll until it is gone (SIGKILL takes a moment).
    local tries=50
    while alive "$pid" && ((tries-- > 0)); do sleep 0.1; done
    ! alive "$pid" || die "pid $pid is still there after SIGKILL"
}

cmd_status() {
    resolve_address
    local pid state
    if pid="$(pm2_app_pid)"; then
        state="running under PM2 (pid $pid)"
    elif pid="$(pidfile_pid)"; then
        state="running (pid $pid, pid file $PID_FILE)"
    else
        say "$APP_NAME is not running"
        return 3
    fi
    if healthy; then
        say "$APP_NAME is $state and healthy at $BASE_URL"
        return 0
    fi
    say "$APP_NAME is $state, but $HEALTH_URL does not answer"
    return 1
}

# show_logs LINES FOLLOW(yes|no)
show_logs() {
    local lines="$1" follow="$2"
    if pm2_knows_app; then
        if [[ "$follow" == yes ]]; then
            exec "$PM2" logs "$APP_NAME" --lines "$lines"
        fi
        "$PM2" logs "$APP_NAME" --lines "$lines" --nostream
    elif [[ -f "$OUT_LOG" ]]; then
        if [[ "$follow" == yes ]]; then
            exec tail -n "$lines" -F "$OUT_LOG"
        fi
        tail -n "$lines" "$OUT_LOG"
    else
        say "no logs yet (looked for PM2's $APP_NAME and $OUT_LOG)"
        return 1
    fi
}

cmd_logs() {
    local lines=100 follow=yes
    while (($#)); do
        case "$1" in
            -n | --lines) lines="${2:?-n needs a number}"; shift 2 ;;
            --no-follow | --nostream) follow=no; shift ;;
            *) die "logs: unknown option $1" ;;
        esac
    done
    show_logs "$lines" "$follow"
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$ROOT/start.sh"
}

main() {
    local command="${1:-start}"
    (($#)) && shift
    case "$command" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop && cmd_start ;;
        status) cmd_status ;;
        logs) cmd_logs "$@" ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
