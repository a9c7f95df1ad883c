#!/usr/bin/env bash
# The "tls" bench daemon: a dockerd on its own unix socket and on tcp://127.0.0.1:23761
# with --tlsverify, and the throwaway PKI tests use against it, in .bench/tls:
#   ca.pem, cert.pem, key.pem                 the CA the daemon trusts and a client it signed
#   wrong-ca.pem, wrong-cert.pem, wrong-key.pem
#                                             an unrelated CA and a client signed by it
#                                             (a wrong CA; an untrusted client certificate)
#   server-cert.pem, server-key.pem           the daemon's (SAN IP:127.0.0.1, DNS:localhost)
# Certificates are made once; a running daemon is left alone. Prints its .bench/env lines.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
source "$here/pki.sh"

dir="$state/tls"
tcp="tcp://127.0.0.1:$tls_port"

pki_ok() {
  cert_ok "$dir/server-cert.pem" "$dir/server-key.pem" "$dir/ca.pem" \
    && cert_ok "$dir/cert.pem" "$dir/key.pem" "$dir/ca.pem" \
    && cert_ok "$dir/wrong-cert.pem" "$dir/wrong-key.pem" "$dir/wrong-ca.pem" \
    && ! openssl verify -CAfile "$dir/wrong-ca.pem" "$dir/server-cert.pem" >/dev/null 2>&1 \
    && ! openssl verify -CAfile "$dir/ca.pem" "$dir/wrong-cert.pem" >/dev/null 2>&1
}
renewed=""
if ! pki_ok; then
  log "making the TLS bench PKI in $dir"
  rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  make_ca "$dir/ca.pem" "$dir/ca-key.pem" "provider-docker-bench-tls-ca"
  make_cert "$dir/server-cert.pem" "$dir/server-key.pem" "$dir/ca.pem" "$dir/ca-key.pem" \
    "provider-docker-bench-tls-daemon" server "IP:127.0.0.1,DNS:localhost"
  make_cert "$dir/cert.pem" "$dir/key.pem" "$dir/ca.pem" "$dir/ca-key.pem" \
    "provider-docker-bench-client" client
  make_ca "$dir/wrong-ca.pem" "$dir/wrong-ca-key.pem" "provider-docker-bench-wrong-ca"
  make_cert "$dir/wrong-cert.pem" "$dir/wrong-key.pem" "$dir/wrong-ca.pem" "$dir/wrong-ca-key.pem" \
    "provider-docker-bench-untrusted-client" client
  pki_ok || die "the TLS bench PKI in $dir does not verify"
  renewed=1
fi

# The daemon's TCP listener, read by daemons.sh at every start of "tls".
mkdir -p "$state/daemons"
args="$(printf '%s\n' --host "$tcp" --tlsverify --tlscacert "$dir/ca.pem" \
  --tlscert "$dir/server-cert.pem" --tlskey "$dir/server-key.pem")"
if [[ "$(cat "$state/daemons/tls.args" 2>/dev/null)" != "$args" ]]; then
  echo "$args" >"$state/daemons/tls.args"
  renewed=1
fi
if [[ -n "$renewed" ]] && alive daemon-tls; then
  log "TLS settings changed: restarting bench daemon tls"
  "$here/daemons.sh" restart tls
else
  "$here/daemons.sh" start tls
fi

# Checks: the good client gets in; a wrong CA and an untrusted client certificate do not.
tlsdocker() { # CA CERT KEY ARGS...
  local ca="$1" cert="$2" key="$3"; shift 3
  docker --tlsverify --tlscacert "$ca" --tlscert "$cert" --tlskey "$key" -H "$tcp" "$@"
}
wait_for "bench daemon tls on $tcp" 30 tlsdocker "$dir/ca.pem" "$dir/cert.pem" "$dir/key.pem" version
if tlsdocker "$dir/wrong-ca.pem" "$dir/cert.pem" "$dir/key.pem" version >/dev/null 2>&1; then
  die "the tls daemon answered a client that trusts the wrong CA"
fi
if tlsdocker "$dir/ca.pem" "$dir/wrong-cert.pem" "$dir/wrong-key.pem" version >/dev/null 2>&1; then
  die "the tls daemon answered a client with an untrusted certificate"
fi
log "bench daemon tls answers on $tcp (TLS, client certificates checked)"

cat <<ENV
export PROVIDER_DOCKER_TLS_HOST="$tcp"
export PROVIDER_DOCKER_TLS_DIR="$dir"
export PROVIDER_DOCKER_TLS_SOCKET="$("$here/daemons.sh" socket tls)"
ENV
