# Shared helpers for the bench scripts: paths, logging and process bookkeeping.
# Every process the bench starts has a pidfile in $state; env-down stops exactly those.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${BENCH_STATE:-$repo/.bench}"
mkdir -p "$state"

etcd_port="${BENCH_ETCD_PORT:-23790}"
etcd_peer_port="${BENCH_ETCD_PEER_PORT:-23800}"
apiserver_port="${BENCH_APISERVER_PORT:-26443}"

# Extra Docker daemons, sshd and the private registry (daemons.sh, tls.sh, ssh.sh,
# registry.sh): data roots under $bench_lib, sockets, pidfiles and exec roots under $bench_run.
bench_lib="/var/lib/provider-docker-bench"
bench_run="/run/provider-docker-bench"
tls_port="${BENCH_TLS_PORT:-23761}"
ssh_port="${BENCH_SSH_PORT:-22022}"
registry_port="${BENCH_REGISTRY_PORT:-25000}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# running PID: true when PID runs. A zombie does not: nothing here reaps at once what
# the bench detaches (PID 1 takes a second or two), and kill -0 succeeds on a zombie.
running() {
  local st
  st="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$st" && "$st" != Z ]]
}

# alive NAME: true when the process recorded in NAME.pid still runs.
alive() {
  local pidfile="$state/$1.pid"
  [[ -f "$pidfile" ]] && running "$(cat "$pidfile")"
}

# spawn NAME CMD...: start CMD detached from this shell, logging to NAME.log. Fd 9 (the lock
# daemons.sh holds while it starts a daemon) is closed, or the daemon would hold the lock.
spawn() {
  local name="$1"; shift
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$state/$name.pid"
}

# stop NAME [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace period (default 10 s);
# removes the pidfile.
stop() {
  local name="$1" pidfile="$state/$1.pid" grace="${2:-10}" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do running "$pid" || break; sleep 0.1; done
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

# ensure_packages PATH:PACKAGE...: installs, in one apt-get run, the Debian packages whose
# PATH (a command name or an absolute path) is missing. The services those packages ship
# are not started (policy-rc.d says no), so nothing listens on their default ports.
ensure_packages() {
  local pair want=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || want+=("${pair#*:}")
  done
  ((${#want[@]})) || return 0
  log "installing ${want[*]}"
  (
    export DEBIAN_FRONTEND=noninteractive
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
    fi
    # The package lists may be stale or missing: update only when the install fails.
    if ! apt-get install -y -qq "${want[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      apt-get install -y -qq "${want[@]}" >/dev/null
    fi
  )
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || die "${pair#*:} installed but ${pair%%:*} is missing"
  done
}

# import_busybox_image HOST REF MARKER: imports into the daemon at HOST an image made
# without a registry: a root filesystem holding busybox-static whose default command
# serves HTTP on port 80 from /www (long-lived, answers `wget` health checks). MARKER goes
# into /www/index.html and $IMAGE_MARKER, so images with distinct markers have distinct IDs.
import_busybox_image() {
  local host="$1" ref="$2" marker="$3"
  local root; root="$(mktemp -d)"
  mkdir -p "$root"/{bin,etc,www,tmp,data,root}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ "$applet" == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  printf 'provider-docker test image %s\n' "$marker" >"$root/www/index.html"
  tar -C "$root" -c . | docker -H "$host" import \
    -c 'ENV PATH=/bin IMAGE_MARKER='"$marker" \
    -c 'WORKDIR /www' \
    -c 'EXPOSE 80' \
    -c 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]' \
    - "$ref" >/dev/null
  rm -rf "$root"
}
