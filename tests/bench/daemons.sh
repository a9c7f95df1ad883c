#!/usr/bin/env bash
# Bench daemons: extra dockerd instances beside the main one, so tests can reach daemons
# over TLS and SSH, spread containers over several daemons, and take one daemon down
# without touching the others (nor the main daemon on /var/run/docker.sock).
#
#   daemons.sh start NAME...    start (a running daemon is left alone); waits until it
#                               answers, then loads the test images it lacks
#   daemons.sh stop NAME...     stop; waits until dockerd, its containerd and their shims
#                               are gone. Containers stop with the daemon; the data root
#                               stays, so they come back per their restart policy on start.
#   daemons.sh restart NAME...
#   daemons.sh status [NAME...] one line per daemon: name, up/down, socket
#   daemons.sh socket NAME      prints unix:///run/provider-docker-bench/NAME/docker.sock
#   daemons.sh sockets          prints the socket of every bench daemon that answers
#   daemons.sh stop-all         stops every bench daemon (env-down)
#   daemons.sh remove NAME...   stops it and deletes its data root, bridge and settings
#
# NAME is up to 11 characters of [a-z0-9] (the bridge is pdb-NAME). Each daemon has:
#   - its own bridge pdb-NAME with 10.199.I.1/24 (I: an index kept in .bench/daemons/NAME.index)
#     and its own pool for user-defined networks, 10.(200+I).0.0/16 in /24s; never
#     --bridge=none, which deletes the main daemon's docker0
#   - data root /var/lib/provider-docker-bench/NAME, exec root, pidfile and unix socket
#     under /run/provider-docker-bench/NAME/, --iptables=false --ip6tables=false, its own
#     containerd (started by dockerd), its own daemon ID (key file in the data root)
#   - log .bench/daemon-NAME.log, pidfile .bench/daemon-NAME.pid
#   - extra dockerd arguments, one per line, from .bench/daemons/NAME.args when that
#     file exists (tls.sh writes the TCP/TLS listener of the "tls" daemon there)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

main_host="unix:///var/run/docker.sock"
conf="$state/daemons"
mkdir -p "$conf"

check_name() {
  [[ "$1" =~ ^[a-z0-9]{1,11}$ ]] || die "bad bench daemon name '$1' (1-11 of [a-z0-9])"
}
run_dir() { echo "$bench_run/$1"; }
socket() { echo "unix://$bench_run/$1/docker.sock"; }
answers() { docker -H "$(socket "$1")" version --format '{{.Server.Version}}'; }

# index NAME: a number of its own (1-55) for NAME's addresses, kept across runs.
index() {
  local file="$conf/$1.index" used i
  if [[ ! -s "$file" ]]; then
    used=" $(cat "$conf"/*.index 2>/dev/null | tr '\n' ' ' || true) "
    for i in $(seq 1 55); do
      [[ "$used" == *" $i "* ]] || { echo "$i" >"$file"; break; }
    done
    [[ -s "$file" ]] || die "no free bench daemon index left"
  fi
  cat "$file"
}

# pid_of FILE COMM: the pid in FILE when that process runs and is COMM.
pid_of() {
  local file="$1" comm="$2" pid
  [[ -s "$file" ]] || return 1
  pid="$(cat "$file")"
  running "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] && echo "$pid"
}

# adopt NAME: a dockerd for NAME runs but .bench lost its pidfile (say .bench was wiped):
# record it, so it is left alone by start and found by stop.
adopt() {
  local pid
  alive "daemon-$1" && return 0
  pid="$(pid_of "$(run_dir "$1")/docker.pid" dockerd)" || return 1
  echo "$pid" >"$state/daemon-$1.pid"
}

# load_images NAME: the main daemon's test images (provider-docker-test/busybox:*) that
# NAME lacks, copied with docker save | docker load.
load_images() {
  local host; host="$(socket "$1")"
  local refs=() ref
  for ref in $(docker -H "$main_host" images provider-docker-test/busybox \
    --format '{{.Repository}}:{{.Tag}}' 2>/dev/null); do
    docker -H "$host" image inspect "$ref" >/dev/null 2>&1 || refs+=("$ref")
  done
  ((${#refs[@]})) || return 0
  docker -H "$main_host" save "${refs[@]}" | docker -H "$host" load -q >/dev/null
  log "loaded ${refs[*]} into bench daemon $1"
}

start_one() {
  local name="$1"; check_name "$name"
  local run; run="$(run_dir "$name")"
  local i; i="$(index "$name")"
  if adopt "$name"; then
    wait_for "bench daemon $name" 60 answers "$name"
    load_images "$name"
    log "bench daemon $name up on $(socket "$name")"
    return 0
  fi
  cleanup "$name"

  # No check-then-act (the lock is held). The bridge may be left from an earlier run, with
  # the address of an older index (indexes live in .bench, which a fresh clone lacks), and
  # another left-over bench bridge may hold this index's address: both are cleared, so no
  # two bridges route the same /24. No daemon runs on either here (adopt failed above, and
  # a running daemon's index is never handed out again).
  local bridge="pdb-$name" cidr="10.199.$i.1/24" dev
  ip link add "$bridge" type bridge 2>/dev/null || ip link show "$bridge" >/dev/null
  for dev in $(ip -4 -o addr show to "${cidr%/*}/32" | awk '$2 ~ /^pdb-/ { print $2 }'); do
    [[ "$dev" == "$bridge" ]] || ip addr del "$cidr" dev "$dev"
  done
  ip -4 addr flush dev "$bridge"
  ip addr add "$cidr" dev "$bridge"
  ip link set "$bridge" up

  mkdir -p "$run" "$bench_lib/$name"
  # dockerd 20.10 deletes the default "bridge" network it finds in its store at startup,
  # and for a daemon on a bridge of its own that deletes the host's docker0: the main
  # daemon's. Starting from no network store keeps docker0 (containers get their
  # endpoints again when they start; user-defined networks of a bench daemon are lost).
  rm -f "$bench_lib/$name/network/files/local-kv.db"
  # A config file of its own, so a daemon.json in /etc/docker never leaks in, and a key of
  # its own, so `docker info` reports a daemon ID of its own.
  printf '{ "deprecated-key-path": "%s" }\n' "$bench_lib/$name/key.json" >"$run/daemon.json"
  local extra=()
  [[ -s "$conf/$name.args" ]] && mapfile -t extra <"$conf/$name.args"

  log "starting bench daemon $name on $(socket "$name")${extra:+ ${extra[*]}}"
  spawn "daemon-$name" dockerd \
    --config-file "$run/daemon.json" \
    --host "$(socket "$name")" \
    --data-root "$bench_lib/$name" \
    --exec-root "$run/exec" \
    --pidfile "$run/docker.pid" \
    --bridge "$bridge" \
    --default-address-pool "base=10.$((200 + i)).0.0/16,size=24" \
    --iptables=false --ip6tables=false \
    "${extra[@]}"
  local deadline=$((SECONDS + 60))
  until answers "$name" >/dev/null 2>&1; do
    alive "daemon-$name" || die "bench daemon $name exited; see .bench/daemon-$name.log: $(tail -3 "$state/daemon-$name.log")"
    ((SECONDS < deadline)) || die "bench daemon $name did not answer within 60s; see .bench/daemon-$name.log"
    sleep 0.2
  done
  load_images "$name"
  log "bench daemon $name up on $(socket "$name")"
}

# cleanup NAME: what a dockerd killed hard leaves behind: its containerd, the shims of the
# containers it ran, a stale pidfile. Only processes found through NAME's own exec root.
cleanup() {
  local name="$1" run; run="$(run_dir "$1")"
  local sock="$run/exec/containerd/containerd.sock" runc_root="$run/exec/runtime-runc/moby" pid pids id
  if [[ -d "$runc_root" ]] && command -v runc >/dev/null; then
    for id in $(runc --root "$runc_root" list -q 2>/dev/null); do
      runc --root "$runc_root" delete -f "$id" >/dev/null 2>&1 || true
      log "removed container $id left running by bench daemon $name"
    done
  fi
  if pid="$(pid_of "$run/exec/containerd/containerd.pid" containerd)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped the containerd of bench daemon $name ($pid)"
  fi
  pids="$(pgrep -f -- "-address $sock( |$)" || true)"
  if [[ -n "$pids" ]]; then
    kill -KILL $pids 2>/dev/null || true
    log "killed container shims of bench daemon $name: ${pids//$'\n'/ }"
  fi
  # Mounts left behind: container root filesystems and network namespaces, and the data
  # root's own bind mount (made by dockerd; a later dockerd would not undo it).
  local mnt
  for mnt in $(awk -v lib="$bench_lib/$name" -v run="$run" \
    '$5 == lib || index($5, lib "/") == 1 || index($5, run "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done
  rm -f "$run/docker.pid" "$run/exec/containerd/containerd.pid"
}

stop_one() {
  local name="$1"; check_name "$name"
  adopt "$name" || true
  # dockerd stops every container first (10 s each, in parallel); give it time.
  stop "daemon-$name" 60
  cleanup "$name"
  if answers "$name" >/dev/null 2>&1; then die "bench daemon $name still answers after stop"; fi
  log "bench daemon $name is down"
}

remove_one() {
  local name="$1"; check_name "$name"
  stop_one "$name"
  ip link del "pdb-$name" 2>/dev/null || true
  rm -rf "${bench_lib:?}/$name" "$(run_dir "$name")" "$conf/$name.index" "$conf/$name.args" \
    "$state/daemon-$name.log"
  log "bench daemon $name removed"
}

# known: every bench daemon ever started (has an index), plus any with a pidfile.
known() {
  local f names=()
  for f in "$conf"/*.index "$state"/daemon-*.pid; do
    [[ -e "$f" ]] || continue
    f="$(basename "$f")"; f="${f%.index}"; f="${f%.pid}"; names+=("${f#daemon-}")
  done
  ((${#names[@]})) || return 0
  printf '%s\n' "${names[@]}" | sort -u
}

# locked ACTION NAME: runs ACTION NAME holding NAME's lock, so two callers that start or stop
# the same daemon at once (tests run in parallel) take turns instead of racing on its
# bridge, pidfile and data root.
locked() {
  local action="$1" name="$2"; check_name "$name"
  (
    flock -w 180 9 || die "bench daemon $name: waited 180s for its lock ($conf/$name.lock)"
    "$action" "$name"
  ) 9>"$conf/$name.lock"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) (($#)) || die "usage: daemons.sh start NAME..."; for n in "$@"; do locked start_one "$n"; done ;;
  stop) (($#)) || die "usage: daemons.sh stop NAME..."; for n in "$@"; do locked stop_one "$n"; done ;;
  restart)
    (($#)) || die "usage: daemons.sh restart NAME..."
    for n in "$@"; do locked stop_one "$n"; locked start_one "$n"; done ;;
  status)
    (($#)) || set -- $(known)
    for n in "$@"; do
      if answers "$n" >/dev/null 2>&1; then s=up; else s=down; fi
      printf '%s\t%s\t%s\n' "$n" "$s" "$(socket "$n")"
    done ;;
  socket) (($# == 1)) || die "usage: daemons.sh socket NAME"; check_name "$1"; socket "$1" ;;
  sockets)
    for n in $(known); do
      if answers "$n" >/dev/null 2>&1; then socket "$n"; fi
    done ;;
  remove) (($#)) || die "usage: daemons.sh remove NAME..."; for n in "$@"; do locked remove_one "$n"; done ;;
  stop-all)
    for n in $(known); do
      if alive "daemon-$n" || adopt "$n" || [[ -e "$(run_dir "$n")/exec/containerd/containerd.pid" ]]; then
        locked stop_one "$n"
      fi
    done ;;
  *) die "usage: daemons.sh start|stop|restart|status|socket|sockets|stop-all|remove [NAME...]" ;;
esac
