#!/usr/bin/env bash
# make demo: the bench, the provider running against it (from its image when built), the
# quickstart applied, and what Kubernetes and Docker then say. The provider keeps running;
# `make env-down` stops it.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"
source "$state/env"

# `demo.sh stop`: the demo's provider goes (make test runs its own providers).
if [[ "${1:-}" == stop ]]; then
  stop provider
  docker rm -f provider-docker-demo >/dev/null 2>&1 || true
  exit 0
fi

bin="$repo/target/debug/provider-docker"
[[ -x "$bin" ]] || die "$bin is missing; run make build"

kubectl apply --server-side --force-conflicts --field-manager provider-docker-demo -f "$repo/package/crds" >/dev/null
for crd in $(ls "$repo/package/crds"); do
  kubectl wait --for condition=Established --timeout 30s "crd/$(basename "$crd" .yaml | cut -d_ -f2).docker.m.crossplane.io" >/dev/null
done
stop provider
docker rm -f provider-docker-demo >/dev/null 2>&1 || true
image="provider-docker:dev"
if docker image inspect "$image" >/dev/null 2>&1; then
  # From the image, as it would run in a cluster: non-root, read-only root filesystem, no
  # capabilities; the Docker socket through its group, the API server on loopback.
  mkdir -p "$repo/target/demo"
  kubectl config view --raw --minify --flatten >"$repo/target/demo/kubeconfig"
  chmod 644 "$repo/target/demo/kubeconfig"
  log "starting the provider from $image (logs: docker logs provider-docker-demo)"
  docker run --detach --name provider-docker-demo --network host --read-only \
    --user 65532:65532 --group-add "$(stat -c %g /var/run/docker.sock)" \
    --cap-drop ALL --security-opt no-new-privileges \
    --volume /var/run/docker.sock:/var/run/docker.sock \
    --volume "$repo/target/demo/kubeconfig:/etc/provider-docker/kubeconfig:ro" \
    --env KUBECONFIG=/etc/provider-docker/kubeconfig \
    "$image" run --metrics-address 127.0.0.1:18470 >/dev/null
else
  log "no $image (make image builds it); starting the binary (log: .bench/provider.log)"
  spawn provider "$bin" run --metrics-address 127.0.0.1:18470
fi
kubectl apply --server-side --force-conflicts --field-manager provider-docker-demo -f "$repo/examples/quickstart.yaml"
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
