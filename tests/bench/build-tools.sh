#!/usr/bin/env bash
# Builds the test tools that exist only in Go (helm, gitops-health) from the Go module proxy into a cache
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
# gitops-health (tests/gitops): Flux's kstatus and Argo CD's built-in crossplane health
# script, from the Go module proxy, rebuilt when its source changes.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../gitops"
argo_version="v3.2.12"
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)-$argo_version"
if [[ "$(cat "$bin/.gitops-health" 2>/dev/null)" != "$hash" ]]; then
  echo "building gitops-health" >&2
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$bin/gitops-health.tmp" . >&2)
  mv "$bin/gitops-health.tmp" "$bin/gitops-health"
  # Argo CD applies this script to every *.crossplane.io kind (a wildcard built-in).
  argo_dir="$(cd "$src" && go mod download -json "github.com/argoproj/argo-cd/v3@$argo_version" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  cp "$argo_dir/resource_customizations/_.crossplane.io/_/health.lua" "$bin/crossplane-health.lua"
  echo "$hash" >"$bin/.gitops-health"
fi
echo "$bin"
