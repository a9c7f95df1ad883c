#!/usr/bin/env bash
# make demo: the bench, the provider running against it, the basic example applied, and
# what Kubernetes and Docker then say. The provider keeps running; `make env-down` stops it.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"
source "$state/env"

bin="$repo/target/debug/provider-docker"
[[ -x "$bin" ]] || die "$bin is missing; run make build"

kubectl apply --server-side --force-conflicts --field-manager provider-docker-demo -f "$repo/package/crds" >/dev/null
for crd in $(ls "$repo/package/crds"); do
  kubectl wait --for condition=Established --timeout 30s "crd/$(basename "$crd" .yaml | cut -d_ -f2).docker.m.crossplane.io" >/dev/null
done
stop provider
log "starting the provider (log: .bench/provider.log)"
spawn provider "$bin" run
kubectl apply --server-side --force-conflicts --field-manager provider-docker-demo -f "$repo/examples/container-basic.yaml"
kubectl wait --for condition=Ready --timeout 90s container.docker.m.crossplane.io/web -n default
echo
echo "\$ kubectl get docker -A"
kubectl get docker -A
echo
echo "\$ kubectl get container.docker.m.crossplane.io web -o jsonpath='{.status.atProvider}'"
kubectl get container.docker.m.crossplane.io web -n default -o jsonpath='{.status.atProvider}'
echo; echo
echo "\$ docker ps --filter label=docker.m.crossplane.io/managed-by=provider-docker"
docker ps --filter label=docker.m.crossplane.io/managed-by=provider-docker
