#!/usr/bin/env bash
# A private registry for pull tests: Debian's docker-registry (distribution 2.8) on
# 127.0.0.1:25000 with TLS (a CA of its own) and htpasswd (bcrypt) auth for user pd-test,
# whose password is made once and kept in .bench/registry/password (no trailing newline).
# The registry itself listens on 127.0.0.1:25001; registry-front.py on 25000 passes TLS
# through and also takes the plain-HTTP retry dockerd makes to loopback registries (see
# there), so an unauthenticated pull fails with the registry's auth error.
# Storage: /var/lib/provider-docker-bench/registry. The CA goes to
# /etc/docker/certs.d/127.0.0.1:25000/ca.crt, which every daemon on this host reads.
# It serves 127.0.0.1:25000/provider-docker-test/private:v1, an image of its own (ID and
# IMAGE_MARKER=private differ from the public test images), which no daemon holds after
# this script: tests must pull it. A running registry is left alone. Prints its .bench/env lines.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
source "$here/pki.sh"

ensure_packages /usr/bin/docker-registry:docker-registry /usr/bin/htpasswd:apache2-utils \
  /usr/bin/python3:python3-minimal

dir="$state/registry"
addr="127.0.0.1:$registry_port"
backend_port="${BENCH_REGISTRY_BACKEND_PORT:-$((registry_port + 1))}"
user="pd-test"
image="$addr/provider-docker-test/private:v1"
storage="$bench_lib/registry"
mkdir -p "$dir" "$storage"; chmod 700 "$dir"

changed=""
if ! cert_ok "$dir/cert.pem" "$dir/key.pem" "$dir/ca.pem"; then
  log "making the registry's certificates in $dir"
  make_ca "$dir/ca.pem" "$dir/ca-key.pem" "provider-docker-bench-registry-ca"
  make_cert "$dir/cert.pem" "$dir/key.pem" "$dir/ca.pem" "$dir/ca-key.pem" \
    "provider-docker-bench-registry" server "IP:127.0.0.1,DNS:localhost"
  changed=1
fi
certs_d="/etc/docker/certs.d/$addr"
if ! cmp -s "$dir/ca.pem" "$certs_d/ca.crt"; then
  mkdir -p "$certs_d"
  cp "$dir/ca.pem" "$certs_d/ca.crt"
fi

if [[ ! -s "$dir/password" ]]; then
  (umask 077 && openssl rand -hex 16 | tr -d '\n' >"$dir/password")
fi
password="$(cat "$dir/password")"
if ! htpasswd -vb "$dir/htpasswd" "$user" "$password" >/dev/null 2>&1; then
  (umask 077 && htpasswd -cbB "$dir/htpasswd" "$user" "$password" 2>/dev/null)
  changed=1
fi

config="$(cat <<CONF
# The bench registry (tests/bench/registry.sh).
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$backend_port
  relativeurls: true
  secret: $(sha256sum "$dir/password" | cut -c1-32)
  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem
auth:
  htpasswd:
    realm: provider-docker-bench
    path: $dir/htpasswd
CONF
)"
if [[ "$(cat "$dir/config.yml" 2>/dev/null)" != "$config" ]]; then
  echo "$config" >"$dir/config.yml"
  changed=1
fi
if [[ -n "$changed" ]] && alive registry; then
  log "registry settings changed: restarting the registry"
  stop registry
fi

api() { # PATH [CURL ARGS...]: the HTTP status of a registry API call
  local path="$1"; shift
  curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" "$@" "https://$addr$path"
}
fresh=""
if ! alive registry; then
  fresh=1
  log "starting the registry on https://127.0.0.1:$backend_port"
  spawn registry /usr/bin/docker-registry serve "$dir/config.yml"
fi
if ! alive registry-front; then
  fresh=1
  log "starting the registry's front on $addr"
  spawn registry-front /usr/bin/python3 "$here/registry-front.py" \
    "$registry_port" "$backend_port" "$dir/ca.pem"
fi
anonymous_refused() { [[ "$(api /v2/)" == 401 ]]; }
wait_for "the registry on https://$addr" 30 anonymous_refused
api /v2/ -u "$user:$password" | grep -qx 200 || die "the registry refuses $user with .bench/registry/password"

# --- the private test image ------------------------------------------------------------------
# Made, pushed and test-pulled on bench daemon ssh, so the main daemon never holds it.
worker="$("$here/daemons.sh" socket ssh)"
docker -H "$worker" version >/dev/null 2>&1 || "$here/daemons.sh" start ssh
# hosts: the main daemon and every bench daemon that answers.
hosts=("unix:///var/run/docker.sock" $("$here/daemons.sh" sockets))
forget_image() { # on every daemon: the reference and, when nothing else uses it, the image
  local h
  for h in "${hosts[@]}"; do
    if docker -H "$h" image inspect "$image" >/dev/null 2>&1; then
      docker -H "$h" image rm "$image" >/dev/null 2>&1 \
        || log "could not remove $image from $h (a container uses it?)"
    fi
  done
}
# login HOST: a throwaway DOCKER_CONFIG logged in to the registry; prints its path.
login() {
  local cfg; cfg="$(mktemp -d)"
  DOCKER_CONFIG="$cfg" docker -H "$1" login -u "$user" --password-stdin "$addr" \
    <"$dir/password" >/dev/null 2>&1 || { rm -rf "$cfg"; die "docker login to $addr failed"; }
  echo "$cfg"
}
manifest='application/vnd.docker.distribution.manifest.v2+json'
if [[ "$(api /v2/provider-docker-test/private/manifests/v1 -u "$user:$password" -H "Accept: $manifest")" != 200 ]]; then
  import_busybox_image "$worker" "$image" private
  cfg="$(login "$worker")"
  DOCKER_CONFIG="$cfg" docker -H "$worker" push "$image" >/dev/null \
    || { rm -rf "$cfg"; die "pushing $image failed"; }
  rm -rf "$cfg"
  log "pushed $image ($(docker -H "$worker" image inspect -f '{{.Id}}' "$image" | cut -c1-19))"
  forget_image
  fresh=1
fi

# Checks, after a push or a (re)start: an anonymous pull is refused with an auth error, a
# pull with the credentials works (and is undone).
if [[ -n "$fresh" ]]; then
  anon="$(mktemp -d)"
  if out="$(DOCKER_CONFIG="$anon" docker -H "$worker" pull "$image" 2>&1)"; then
    rm -rf "$anon"; die "an anonymous pull of $image worked"
  fi
  rm -rf "$anon"
  grep -qiE 'no basic auth credentials|unauthorized|authentication required' <<<"$out" \
    || die "an anonymous pull of $image failed, but not with an auth error: $out"
  log "anonymous pull refused: $out"
  cfg="$(login "$worker")"
  DOCKER_CONFIG="$cfg" docker -H "$worker" pull -q "$image" >/dev/null \
    || { rm -rf "$cfg"; die "pulling $image with the credentials failed"; }
  rm -rf "$cfg"
  docker -H "$worker" image inspect -f '{{.Config.Env}}' "$image" | grep -q IMAGE_MARKER=private \
    || die "$image pulled, but it is not the private test image"
  log "pull with the credentials works"
fi
forget_image
log "registry https://$addr (user $user) serves $image"

cat <<ENV
export PROVIDER_DOCKER_REGISTRY="$addr"
export PROVIDER_DOCKER_REGISTRY_USER="$user"
export PROVIDER_DOCKER_REGISTRY_PASSWORD_FILE="$dir/password"
export PROVIDER_DOCKER_PRIVATE_IMAGE="$image"
ENV
