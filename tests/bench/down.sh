#!/usr/bin/env bash
# make env-down: stops every process the bench started, newest first, and nothing else.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for name in kube-controller-manager kube-apiserver etcd; do
  stop "$name"
done
# The demo's provider, when it runs from the image.
docker rm -f provider-docker-demo >/dev/null 2>&1 || true
# The bench daemons (with their containerd), the bench sshd, the registry and its front.
"$(dirname "${BASH_SOURCE[0]}")/daemons.sh" stop-all
for name in sshd registry-front registry; do
  stop "$name"
done
# dockerd stops every container first; give it time, or it leaves a stale pidfile behind.
stop dockerd 60
# Anything else the bench or a test left a pidfile for (the provider, a test's process).
for pidfile in "$state"/*.pid; do
  [[ -e "$pidfile" ]] || continue
  stop "$(basename "$pidfile" .pid)"
done
rm -rf "$state/etcd"
log "bench is down"
