#!/bin/sh
# The node's SSH identity, made on the VM host by the Vagrantfile: its own ed25519 host key (a box bakes one
# set of keys into its image, and VMs sharing them would make each one's identity meaningless), every node's
# host key in the system known_hosts, and root's node-to-node key, so that `ssh node2` from node1 works as on
# the embedded cluster. Idempotent: a re-provision installs the same keys again.
set -eu
dir="$1"      # host (private key), root (private key), known_hosts
root_pub="$2"
case "$root_pub" in
  ssh-ed25519\ *) ;;
  *) echo "labbook: not an ed25519 public key: $root_pub" >&2; exit 1 ;;
esac
umask 077
changed=0
if ! cmp -s "$dir/host" /etc/ssh/ssh_host_ed25519_key; then
  # Only the ed25519 key: a client that knows it must not be offered another (sshd_config.d comes before the
  # main file's defaults, and one HostKey line replaces them).
  rm -f /etc/ssh/ssh_host_*
  install -m 600 "$dir/host" /etc/ssh/ssh_host_ed25519_key
  ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key > /etc/ssh/ssh_host_ed25519_key.pub
  chmod 644 /etc/ssh/ssh_host_ed25519_key.pub
  printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' > /etc/ssh/sshd_config.d/labbook-host-key.conf
  chmod 644 /etc/ssh/sshd_config.d/labbook-host-key.conf
  changed=1
fi
install -m 644 "$dir/known_hosts" /etc/ssh/ssh_known_hosts
install -d -m 700 /root/.ssh
install -m 600 "$dir/root" /root/.ssh/id_ed25519
printf '%s\n' "$root_pub" > /root/.ssh/id_ed25519.pub
touch /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
grep -qxF "$root_pub" /root/.ssh/authorized_keys || printf '%s\n' "$root_pub" >> /root/.ssh/authorized_keys
rm -rf "$dir"
[ "$changed" = 0 ] || { sshd -t && systemctl restart ssh; }
echo "labbook: SSH host key, known hosts and node-to-node key for $(hostname)"
