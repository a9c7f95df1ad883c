#!/usr/bin/env bash
# make xpkg: the Crossplane package from the runtime image IMAGE (default provider-docker:dev,
# which `make image` builds): IMAGE plus one layer holding package.yaml (crossplane.yaml and
# every CRD in crds/), annotated io.crossplane.xpkg: base. Written to OUT (default
# target/xpkg/provider-docker.xpkg), a `docker save` tarball; push it with
# `provider-docker-xpkg push` (see README.md here). The tool is built from the Go module
# proxy by tests/bench/build-tools.sh, once per source change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="${1:-provider-docker:dev}"
out="${2:-$root/target/xpkg/provider-docker.xpkg}"
tools="$("$root/tests/bench/build-tools.sh" xpkg)"
mkdir -p "$(dirname "$out")"
runtime="$(mktemp "$(dirname "$out")/runtime.XXXXXX.tar")"
trap 'rm -f "$runtime"' EXIT
docker image inspect "$image" >/dev/null 2>&1 || { echo "no image $image: run make image first" >&2; exit 1; }
docker save "$image" -o "$runtime"
"$tools/provider-docker-xpkg" build -runtime "$runtime" -meta "$root/package/crossplane.yaml" \
  -crds "$root/package/crds" -o "$out"
