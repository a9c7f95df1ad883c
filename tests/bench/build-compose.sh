#!/usr/bin/env bash
# Builds docker compose v2 (module github.com/docker/compose/v5) from the Go module proxy into
# a cache outside the clone, keyed by version, so the bench can compare provider-docker with
# the compose users run today, not only Debian's Python docker-compose 1.29. Prints the path
# of the binary on stdout (all else goes to stderr). A second run finds it and returns at once.
#
# `go install github.com/docker/compose/v5/cmd@…` is refused for the module's exclude
# directives, so the build goes through compose-v2/, a module of our own that requires it
# and repeats them. The version is the one compose-v2/go.mod requires: to move it, change
# that line and the exclude block to match the new version's go.mod, then `go mod tidy`.
# It is v5.6.0, not the newest (v5.7.x), because v5.7.0 and later need go >= 1.26.10 and this
# machine's go is 1.26.8 (GOTOOLCHAIN=local; a downloaded toolchain is not an option).
#
# The binary runs standalone, as the old docker-compose did:
#   DOCKER_HOST=unix:///var/run/docker.sock "$bin" -f FILE -p PROJECT up -d
#   DOCKER_HOST=unix:///var/run/docker.sock "$bin" -f FILE -p PROJECT down
# (copied to ~/.docker/cli-plugins/docker-compose it would also serve as `docker compose`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/bench/lib.sh
source "$here/lib.sh"

src="$here/compose-v2"
module="github.com/docker/compose/v5"
version="$(sed -n 's|^require github.com/docker/compose/v5 \(v[^ ]*\)$|\1|p' "$src/go.mod")"
[[ -n "$version" ]] || die "no 'require $module vX.Y.Z' line in $src/go.mod"
cache="${PROVIDER_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-docker}"
bin="$cache/compose-$version/bin/docker-compose"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || die "go is required to build docker compose $version"
mkdir -p "$(dirname "$bin")"
log "building docker compose $version ($module/cmd)"
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# Build to a temporary name so an interrupted build never looks finished.
(cd "$src" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $module/internal.Version=$version" -o "$tmp" "$module/cmd" >&2)
out="$("$tmp" version 2>&1)" || die "the built docker compose does not run: $out"
[[ "$out" == *"$version"* ]] || die "the built docker compose reports '$out', not $version"
mv "$tmp" "$bin"
log "built $out"
echo "$bin"
