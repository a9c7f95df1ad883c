#!/usr/bin/env bash
# The remote part of the bench, beside the main daemon: bench daemon "tls" (TCP + TLS),
# bench daemon "ssh" behind a bench sshd, and a private registry with auth. Needs the main
# daemon and its test images (docker.sh) first. Idempotent: what runs is left alone.
# Prints the export lines for .bench/env on stdout; everything else goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

started=$SECONDS
# All the packages in one apt-get run (each script below would otherwise install its own);
# docker-compose is the baseline that `make bench` measures a Service against.
ensure_packages /usr/sbin/sshd:openssh-server /usr/bin/docker-registry:docker-registry \
  /usr/bin/htpasswd:apache2-utils /usr/bin/docker-compose:docker-compose

"$here/tls.sh"
"$here/ssh.sh"
"$here/registry.sh"
echo 'export PROVIDER_DOCKER_BENCH_DAEMONS="tls ssh"'
log "bench daemons, sshd and registry ready in $((SECONDS - started))s"
