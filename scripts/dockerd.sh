#!/usr/bin/env bash
# Start, stop or locate a private dockerd for the end-to-end tests.
#
#   scripts/dockerd.sh start   start dockerd unless it is running, then print the export line
#   scripts/dockerd.sh stop    stop it and the containerd it started
#   scripts/dockerd.sh env     print the export line only
#
# Use it as: eval "$(bash scripts/dockerd.sh start)"
#
# The daemon keeps its data root, exec root, pidfile, socket and log under one
# folder (ECR_EMULATOR_DOCKER_ROOT, default /tmp/ecr-emulator-docker), apart
# from any system docker. It uses the vfs storage driver, which works on any
# file system. It leaves the host network alone: no docker0 bridge, no iptables
# rules and no change to net.ipv4.ip_forward. The end-to-end tests run no
# containers: they use build (classic builder), login, push, pull and manifest
# commands. dockerd starts its own containerd under the exec root.
#
# Only the export line goes to stdout; progress and errors go to stderr.

set -euo pipefail

ROOT="${ECR_EMULATOR_DOCKER_ROOT:-/tmp/ecr-emulator-docker}"
SOCKET="$ROOT/docker.sock"
PIDFILE="$ROOT/docker.pid"
LOG="$ROOT/dockerd.log"
DATA_ROOT="$ROOT/data"
EXEC_ROOT="$ROOT/exec"
CONTAINERD_PIDFILE="$EXEC_ROOT/containerd/containerd.pid"

# Seconds to wait for `docker info` to succeed after launch, and for dockerd to exit on stop.
START_TIMEOUT="${ECR_EMULATOR_DOCKERD_START_TIMEOUT:-60}"
STOP_TIMEOUT=30

log() {
    echo "dockerd.sh: $*" >&2
}

usage() {
    echo "usage: scripts/dockerd.sh start|stop|env" >&2
    echo "  start  start dockerd under $ROOT unless it is running, wait for it, print the export line" >&2
    echo "  stop   stop that dockerd" >&2
    echo "  env    print the export line for that dockerd" >&2
}

print_env() {
    printf 'export DOCKER_HOST=%q\n' "unix://$SOCKET"
}

# Succeed when `docker info` succeeds against our socket.
docker_responds() {
    DOCKER_HOST="unix://$SOCKET" timeout 10 docker info >/dev/null 2>&1
}

# Succeed when PID is a live process named NAME whose command line contains MARKER,
# so that a pid reused by an unrelated process is never signalled.
is_our_process() {
    local pid="$1" name="$2" marker="$3"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

is_our_dockerd() {
    is_our_process "$1" dockerd "--pidfile $PIDFILE "
}

is_our_containerd() {
    is_our_process "$1" containerd "$EXEC_ROOT/containerd/"
}

# Print the pid stored in FILE, or nothing when FILE does not exist or cannot be read.
read_pid() {
    local file="$1"
    if [[ -f "$file" ]]; then
        tr -d '[:space:]' <"$file" 2>/dev/null || true
    fi
}

# Send SIGTERM to PID, wait up to STOP_TIMEOUT seconds, then SIGKILL it.
terminate() {
    local pid="$1" name="$2" waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            log "$name (pid $pid) did not exit within ${STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# Print the last 40 lines that the latest start wrote to the log, which is appended to on
# every start.
print_log_tail() {
    if [[ -f "$LOG" ]]; then
        log "last lines of $LOG from this start:"
        awk '/^=== dockerd.sh start at /{latest=""} {latest=latest $0 "\n"} END{printf "%s", latest}' \
            "$LOG" | tail -n 40 >&2
    else
        log "no log at $LOG"
    fi
}

# Remove what a dockerd that was killed or crashed left behind: a pidfile naming a dead
# or unrelated process (dockerd refuses to start while its pidfile names a live process),
# the socket, and an orphaned containerd that still uses the exec root.
clean_stale_state() {
    local pid containerd_pid
    pid="$(read_pid "$PIDFILE")"
    if [[ -n "$pid" ]] && ! is_our_dockerd "$pid"; then
        log "removing stale pidfile $PIDFILE (pid $pid is not our dockerd)"
        rm -f "$PIDFILE"
    fi

    containerd_pid="$(read_pid "$CONTAINERD_PIDFILE")"
    if [[ -n "$containerd_pid" ]] && is_our_containerd "$containerd_pid"; then
        log "stopping containerd (pid $containerd_pid) left by an earlier dockerd"
        terminate "$containerd_pid" containerd
    fi
    rm -f "$CONTAINERD_PIDFILE"

    if [[ -e "$SOCKET" ]]; then
        log "removing stale socket $SOCKET"
        rm -f "$SOCKET"
    fi
}

check_requirements() {
    if [[ "$(id -u)" != 0 ]]; then
        log "dockerd must run as root here (rootless docker is not set up by this script)"
        exit 1
    fi
    if ! command -v dockerd >/dev/null; then
        log "dockerd not found on PATH; install it with: bash scripts/setup.sh --test"
        exit 1
    fi
    if ! command -v docker >/dev/null; then
        log "docker client not found on PATH; install it with: bash scripts/setup.sh --test"
        exit 1
    fi
}

start() {
    check_requirements
    mkdir -p "$ROOT"

    # Serialize concurrent starts (make and pytest may both call this) on a lock file.
    exec 9>"$ROOT/start.lock"
    if ! flock --wait $((START_TIMEOUT + STOP_TIMEOUT + 10)) 9; then
        log "timed out waiting for another dockerd.sh start to finish (lock: $ROOT/start.lock)"
        exit 1
    fi

    if docker_responds; then
        log "reusing the running dockerd at $SOCKET"
        print_env
        return 0
    fi

    local pid
    pid="$(read_pid "$PIDFILE")"
    if [[ -n "$pid" ]] && is_our_dockerd "$pid"; then
        # A dockerd of ours is alive but does not respond yet, so it may still be starting.
        log "waiting for the running dockerd (pid $pid)"
    else
        clean_stale_state
        log "starting dockerd under $ROOT (log: $LOG)"
        echo "=== dockerd.sh start at $(date -u +%Y-%m-%dT%H:%M:%SZ) ===" >>"$LOG"
        # setsid detaches dockerd from the caller's terminal and process group. Its standard
        # streams must not be the caller's, or `$(scripts/dockerd.sh start)` would wait for
        # dockerd to exit, and it must not inherit the lock.
        setsid dockerd \
            --storage-driver vfs \
            --iptables=false \
            --ip6tables=false \
            --bridge=none \
            --ip-forward=false \
            --data-root "$DATA_ROOT" \
            --exec-root "$EXEC_ROOT" \
            --pidfile "$PIDFILE" \
            --host "unix://$SOCKET" \
            </dev/null >>"$LOG" 2>&1 9>&- &
        pid=$!
    fi

    local waited=0
    until docker_responds; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd (pid $pid) exited during start-up"
            print_log_tail
            exit 1
        fi
        if ((waited >= START_TIMEOUT * 2)); then
            log "timed out after ${START_TIMEOUT}s waiting for docker info to succeed; stopping dockerd (pid $pid)"
            print_log_tail
            terminate "$pid" dockerd
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done

    log "dockerd (pid $pid) is ready after about $((waited / 2))s"
    print_env
}

stop() {
    local pid
    pid="$(read_pid "$PIDFILE")"
    if [[ -n "$pid" ]] && is_our_dockerd "$pid"; then
        log "stopping dockerd (pid $pid)"
        terminate "$pid" dockerd
    else
        log "no dockerd of ours is running under $ROOT"
    fi

    # dockerd stops its containerd and unmounts its data root on a clean exit. This catches
    # the case where it was killed, so that the folder can be deleted afterwards.
    clean_stale_state
    rm -f "$PIDFILE"
    if mountpoint -q "$DATA_ROOT"; then
        log "unmounting $DATA_ROOT left mounted by an earlier dockerd"
        umount "$DATA_ROOT"
    fi
}

if [[ $# -ne 1 ]]; then
    usage
    exit 2
fi

case "$1" in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    -h | --help) usage ;;
    *)
        log "unknown command: $1"
        usage
        exit 2
        ;;
esac
