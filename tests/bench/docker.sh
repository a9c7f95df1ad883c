#!/usr/bin/env bash
# Makes sure a Docker daemon answers on the default socket (installing Debian's docker.io
# when dockerd is missing) and that the local test images exist.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

socket="/var/run/docker.sock"
export DOCKER_HOST="unix://$socket"

if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null \
  || ! [[ -x /bin/busybox ]]; then
  log "installing docker.io and busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io busybox-static >/dev/null
fi

daemon_answers() { docker version --format '{{.Server.Version}}'; }

if ! daemon_answers >/dev/null 2>&1; then
  if [[ -f /var/run/docker.pid ]] && ! pgrep -x dockerd >/dev/null; then
    log "removing the stale pidfile of a dockerd that is gone"
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd"
  spawn dockerd dockerd --host "unix://$socket"
  wait_for dockerd 60 daemon_answers
fi
log "docker daemon $(daemon_answers) on $DOCKER_HOST"

# Test images (see import_busybox_image). Two tags with distinct IDs let tests change a
# Container's image. The version suffix changes when the contents change.
images_version=1
make_image() {
  local ref="$1" marker="$2"
  if docker image inspect "$ref" >/dev/null 2>&1; then return 0; fi
  import_busybox_image "$DOCKER_HOST" "$ref" "$marker"
  log "made image $ref"
}
make_image "provider-docker-test/busybox:v${images_version}a" a
make_image "provider-docker-test/busybox:v${images_version}b" b
docker tag "provider-docker-test/busybox:v${images_version}a" provider-docker-test/busybox:latest
