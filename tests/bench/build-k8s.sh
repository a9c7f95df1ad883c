#!/usr/bin/env bash
# Builds the pinned upstream control plane (kube-apiserver, kube-controller-manager,
# kubectl, etcd) from the Go module proxy into a cache outside the clone, keyed by version.
# Prints the directory holding the binaries. A second run finds them and returns at once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="v1.34.4"
etcd_version="v3.6.4"
cache="${PROVIDER_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provider-docker}"
bin="$cache/k8s-$k8s_version-etcd-$etcd_version/bin"

wanted=(kube-apiserver kube-controller-manager kubectl etcd)
missing=()
for b in "${wanted[@]}"; do [[ -x "$bin/$b" ]] || missing+=("$b"); done
if ((${#missing[@]} == 0)); then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "go is required to build the bench control plane" >&2; exit 1; }
mkdir -p "$bin"
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

cd "$here/k8s"
for b in "${missing[@]}"; do
  case "$b" in
    etcd) pkg="go.etcd.io/etcd/server/v3" ;;
    *) pkg="k8s.io/kubernetes/cmd/$b" ;;
  esac
  echo "building $b ($pkg)" >&2
  # Build to a temporary name so an interrupted build never looks finished.
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/.$b.tmp" "$pkg" >&2
  mv "$bin/.$b.tmp" "$bin/$b"
done
echo "$bin"
