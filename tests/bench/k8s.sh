#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback: etcd, kube-apiserver and
# kube-controller-manager (garbage collection, namespace deletion, service accounts),
# with generated certificates and an admin kubeconfig. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin="$("$(dirname "${BASH_SOURCE[0]}")/build-k8s.sh")"
pki="$state/pki"
kubeconfig="$state/kubeconfig"
server="https://127.0.0.1:$apiserver_port"

# --- certificates -------------------------------------------------------------------------
cert() { # NAME SUBJECT [SAN]
  local name="$1" subject="$2" san="${3:-}"
  [[ -f "$pki/$name.crt" ]] && return 0
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  local ext="$pki/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    if [[ -n "$san" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$ext"
}
if [[ ! -f "$pki/ca.crt" ]]; then
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=provider-docker-bench-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
cert apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
cert admin "/O=system:masters/CN=bench-admin"
cert controller-manager "/CN=system:kube-controller-manager"

write_kubeconfig() { # FILE USER
  local file="$1" user="$2"
  [[ -f "$file" ]] && return 0
  local k=("$bin/kubectl" --kubeconfig "$file.tmp")
  "${k[@]}" config set-cluster bench --server "$server" \
    --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
  "${k[@]}" config set-credentials "$user" --client-certificate "$pki/$user.crt" \
    --client-key "$pki/$user.key" --embed-certs >/dev/null
  "${k[@]}" config set-context bench --cluster bench --user "$user" >/dev/null
  "${k[@]}" config use-context bench >/dev/null
  mv "$file.tmp" "$file"
}
write_kubeconfig "$kubeconfig" admin
write_kubeconfig "$state/controller-manager.kubeconfig" controller-manager

# --- etcd ----------------------------------------------------------------------------------
if ! alive etcd; then
  # A fresh etcd knows no managed resource: whatever a previous bench left on the daemon
  # is an orphan that would confuse the tests.
  # Bench daemons keep their data roots across env-down: look there too.
  for host in "unix:///var/run/docker.sock" $("$(dirname "${BASH_SOURCE[0]}")/daemons.sh" sockets); do
    leftovers="$(docker -H "$host" ps -aq --filter label=docker.m.crossplane.io/managed-by=provider-docker)"
    if [[ -n "$leftovers" ]]; then
      log "removing $(wc -l <<<"$leftovers") containers left by an earlier bench on $host"
      docker -H "$host" rm -f $leftovers >/dev/null
    fi
  done
  log "starting etcd on 127.0.0.1:$etcd_port"
  # fsync is skipped: the bench's data is throwaway and the disk is shared with builds.
  spawn etcd "$bin/etcd" --name bench --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "bench=http://127.0.0.1:$etcd_peer_port" \
    --listen-metrics-urls "" --unsafe-no-fsync --log-level warn
fi
wait_for etcd 60 curl -sf "http://127.0.0.1:$etcd_port/health"

# --- kube-apiserver ------------------------------------------------------------------------
readyz() { curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$server/readyz"; }
if ! alive kube-apiserver; then
  log "starting kube-apiserver on $server"
  spawn kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$apiserver_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode RBAC --allow-privileged \
    --profiling=false --v 0
fi
wait_for kube-apiserver 120 readyz

# --- kube-controller-manager ---------------------------------------------------------------
if ! alive kube-controller-manager; then
  log "starting kube-controller-manager"
  spawn kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --controllers '*,-nodeipam,-nodelifecycle' --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials=true \
    --bind-address 127.0.0.1 --secure-port 0 --v 0
fi
# The default ServiceAccount appears once the controller manager runs its controllers.
wait_for kube-controller-manager 120 \
  "$bin/kubectl" --kubeconfig "$kubeconfig" get serviceaccount default -n default
log "kubernetes $("$bin/kubectl" --kubeconfig "$kubeconfig" version -o json | grep -m1 -o '"gitVersion": *"[^"]*"' | tail -1) at $server"
echo "$bin"
