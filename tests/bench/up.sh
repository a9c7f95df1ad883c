#!/usr/bin/env bash
# make env-up: brings the whole bench up (Docker daemon, test images, bench daemons reached
# over TLS and SSH, a private registry, Kubernetes control plane) and writes .bench/env,
# which exports what the tests and the demo read.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

"$here/docker.sh"
# Bench daemons "tls" and "ssh", the bench sshd and the private registry; prints exports.
remote_env="$("$here/remote.sh")"
bin="$("$here/k8s.sh")"
# Test tools that exist only in Go (helm, gitops-health).
tools="$("$here/build-tools.sh")"

cat >"$state/env" <<ENV
export KUBECONFIG="$state/kubeconfig"
export DOCKER_HOST="unix:///var/run/docker.sock"
export PATH="$bin:$tools:\$PATH"
export PROVIDER_DOCKER_TEST_IMAGE="provider-docker-test/busybox:v1a"
export PROVIDER_DOCKER_TEST_IMAGE_ALT="provider-docker-test/busybox:v1b"
export PROVIDER_DOCKER_ARGO_HEALTH_LUA="$tools/crossplane-health.lua"
$remote_env
ENV
log "bench is up; source .bench/env:"
cat "$state/env"
