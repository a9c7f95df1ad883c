#!/usr/bin/env bash
# The "ssh" bench daemon: a dockerd reachable only on its own unix socket, and through a
# bench sshd on 127.0.0.1:22022 (Debian's openssh-server, key-only, root by key), where the
# provider runs `docker -H unix:///run/provider-docker-bench/ssh/docker.sock system
# dial-stdio`. In .bench/ssh:
#   id_ed25519, id_ed25519.pub   the client key (authorized for root)
#   known_hosts                  "[127.0.0.1]:22022 ssh-ed25519 …", the server's host key
#   wrong_known_hosts            the same host with a key that is NOT the server's
#   sshd_config, host_ed25519_key, authorized_keys
# Keys are made once; a running sshd and daemon are left alone. Prints its .bench/env lines.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

ensure_packages /usr/sbin/sshd:openssh-server

dir="$state/ssh"
mkdir -p "$dir"; chmod 700 "$dir"
"$here/daemons.sh" start ssh
remote_socket="$bench_run/ssh/docker.sock"

keygen() { # FILE COMMENT
  [[ -s "$1" && -s "$1.pub" ]] && return 0
  rm -f "$1" "$1.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$2" -f "$1"
}
keygen "$dir/host_ed25519_key" provider-docker-bench-sshd
keygen "$dir/id_ed25519" provider-docker-bench-client
keygen "$dir/wrong_host_ed25519_key" provider-docker-bench-not-the-sshd

# write FILE: stdin into FILE when it differs; true when it changed.
write() {
  local new; new="$(cat)"
  [[ -f "$1" && "$(cat "$1")" == "$new" ]] && return 1
  printf '%s\n' "$new" >"$1"
}
changed=""
write "$dir/authorized_keys" <"$dir/id_ed25519.pub" || true
# A new host key (known_hosts changes with it) needs an sshd restart, as a new config does.
write "$dir/known_hosts" <<<"[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$dir/host_ed25519_key.pub")" && changed=1
write "$dir/wrong_known_hosts" <<<"[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$dir/wrong_host_ed25519_key.pub")" || true
# StrictModes no: the clone may sit under a group-writable directory; these are throwaway
# bench keys. MaxSessions/MaxStartups: tests open many channels and connections at once.
write "$dir/sshd_config" <<CONF && changed=1
# The bench sshd (tests/bench/ssh.sh). Loopback only, keys only.
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519_key
PidFile $state/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
AllowUsers root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
StrictModes no
X11Forwarding no
PrintMotd no
PrintLastLog no
MaxSessions 100
MaxStartups 100
LogLevel INFO
CONF

if [[ -n "$changed" ]] && alive sshd; then
  log "sshd settings changed: restarting the bench sshd"
  stop sshd
fi
if ! alive sshd; then
  mkdir -p /run/sshd; chmod 755 /run/sshd # its privilege-separation directory
  /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd refuses $dir/sshd_config"
  log "starting sshd on 127.0.0.1:$ssh_port"
  spawn sshd /usr/sbin/sshd -D -e -f "$dir/sshd_config"
fi

bench_ssh() { # KNOWN_HOSTS COMMAND...
  local known="$1"; shift
  ssh -F /dev/null -i "$dir/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o ConnectTimeout=5 \
    -p "$ssh_port" root@127.0.0.1 "$@"
}
# What the provider does: docker on the far side of SSH, reaching bench daemon ssh.
ssh_docker() { bench_ssh "$dir/known_hosts" docker -H "unix://$remote_socket" version --format '{{.Server.Version}}'; }
wait_for "docker through the bench sshd on 127.0.0.1:$ssh_port" 30 ssh_docker
if bench_ssh "$dir/wrong_known_hosts" true >/dev/null 2>&1; then
  die "ssh accepted a host key that is not the bench sshd's"
fi
log "bench daemon ssh answers through ssh://root@127.0.0.1:$ssh_port"

cat <<ENV
export PROVIDER_DOCKER_SSH_HOST="ssh://root@127.0.0.1:$ssh_port"
export PROVIDER_DOCKER_SSH_DIR="$dir"
export PROVIDER_DOCKER_SSH_REMOTE_SOCKET="$remote_socket"
export PROVIDER_DOCKER_SSH_SOCKET="unix://$remote_socket"
ENV
