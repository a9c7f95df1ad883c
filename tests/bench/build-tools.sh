#!/usr/bin/env bash
# Builds the tools that exist only in Go (helm, gitops-health, provider-docker-xpkg) from the
# Go module proxy into a cache outside the clone, keyed by version or source hash. Prints the
# directory holding them. A second run finds them and returns at once. Arguments name the
# tools to build (default: all), so `make xpkg` builds only its own.
set -euo pipefail
selected=("$@")
want_tool() { # NAME: whether this run builds NAME
  [[ ${#selected[@]} -eq 0 ]] && return 0
  local t
  for t in "${selected[@]}"; do [[ "$t" == "$1" ]] && return 0; done
  return 1
}

helm_version="v3.19.0"
cache="${PROVIDER_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-docker}"
bin="$cache/tools-helm-$helm_version/bin"

mkdir -p "$bin"
if want_tool helm && [[ ! -x "$bin/helm" ]]; then
  command -v go >/dev/null || { echo "go is required to build the test tools" >&2; exit 1; }
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
if want_tool gitops-health && [[ "$(cat "$bin/.gitops-health" 2>/dev/null)" != "$hash" ]]; then
  echo "building gitops-health" >&2
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$bin/gitops-health.tmp" . >&2)
  mv "$bin/gitops-health.tmp" "$bin/gitops-health"
  # Argo CD applies this script to every *.crossplane.io kind (a wildcard built-in).
  argo_dir="$(cd "$src" && go mod download -json "github.com/argoproj/argo-cd/v3@$argo_version" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  cp "$argo_dir/resource_customizations/_.crossplane.io/_/health.lua" "$bin/crossplane-health.lua"
  echo "$hash" >"$bin/.gitops-health"
fi
# provider-docker-xpkg (package/xpkg): builds and pushes the Crossplane package with
# go-containerregistry; rebuilt when its source changes.
xpkg_src="$here/../../package/xpkg"
xpkg_hash="$(cat "$xpkg_src/go.mod" "$xpkg_src/go.sum" "$xpkg_src"/*.go | sha256sum | cut -c1-16)"
if want_tool xpkg && [[ "$(cat "$bin/.xpkg" 2>/dev/null)" != "$xpkg_hash" ]]; then
  command -v go >/dev/null || { echo "go is required to build provider-docker-xpkg" >&2; exit 1; }
  echo "building provider-docker-xpkg" >&2
  (cd "$xpkg_src" && CGO_ENABLED=0 go build -trimpath -o "$bin/provider-docker-xpkg.tmp" . >&2)
  mv "$bin/provider-docker-xpkg.tmp" "$bin/provider-docker-xpkg"
  echo "$xpkg_hash" >"$bin/.xpkg"
fi
echo "$bin"
