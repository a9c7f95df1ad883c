# Shared helpers for the bench scripts: paths, logging and process bookkeeping.
# Every process the bench starts has a pidfile in $state; env-down stops exactly those.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${BENCH_STATE:-$repo/.bench}"
mkdir -p "$state"

etcd_port="${BENCH_ETCD_PORT:-23790}"
etcd_peer_port="${BENCH_ETCD_PEER_PORT:-23800}"
apiserver_port="${BENCH_APISERVER_PORT:-26443}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# alive NAME: true when the process recorded in NAME.pid still runs.
alive() {
  local pidfile="$state/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# spawn NAME CMD...: start CMD detached from this shell, logging to NAME.log.
spawn() {
  local name="$1"; shift
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

# stop NAME [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace period (default 10 s);
# removes the pidfile.
stop() {
  local name="$1" pidfile="$state/$1.pid" grace="${2:-10}" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
}

# wait_for DESCRIPTION SECONDS CMD...: poll CMD until it succeeds or time runs out.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what did not come up within ${secs}s"
    sleep 0.2
  done
}
