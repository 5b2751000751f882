#!/bin/sh
# Lets the runner reach the node as root with labbook's own key (labs run their commands as root, as on
# the embedded cluster). Vagrant's user and key stay as they are. Idempotent.
set -eu
key="$1"
case "$key" in
  ssh-ed25519\ *) ;;
  *) echo "labbook: not an ed25519 public key: $key" >&2; exit 1 ;;
esac
install -d -m 700 /root/.ssh
touch /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
grep -qxF "$key" /root/.ssh/authorized_keys || printf '%s\n' "$key" >> /root/.ssh/authorized_keys
echo "labbook: runner key authorized for root on $(hostname)"
