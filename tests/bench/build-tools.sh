#!/usr/bin/env bash
# Builds the test tools that exist only in Go (helm) from the Go module proxy into a cache
# outside the clone, keyed by version. Prints the directory holding them. A second run
# finds them and returns at once.
set -euo pipefail

helm_version="v3.19.0"
cache="${PROVIDER_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-docker}"
bin="$cache/tools-helm-$helm_version/bin"

if [[ ! -x "$bin/helm" ]]; then
  command -v go >/dev/null || { echo "go is required to build the test tools" >&2; exit 1; }
  mkdir -p "$bin"
  echo "building helm $helm_version" >&2
  tmp="$(mktemp -d)"
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
    "helm.sh/helm/v3/cmd/helm@$helm_version" >&2
  mv "$tmp/helm" "$bin/helm"
  rm -rf "$tmp"
fi
echo "$bin"
