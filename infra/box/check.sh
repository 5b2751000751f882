#!/bin/sh
# Boots a built box once with plain qemu (software emulation) and checks it over SSH: the kernel boots,
# systemd runs, the vagrant user logs in with the box's key and has sudo, and the labs' tools are there.
# Network safety: it re-runs itself in a network namespace of its own with only loopback, and the guest's
# user-mode network is restricted (no way out); SSH reaches it through a port on that loopback.
# Usage: infra/box/check.sh [BOX]     (as root; default: /var/cache/labbook/box/labbook-bookworm.box)
set -eu
BOX=${1:-${LABBOOK_CACHE_DIR:-/var/cache/labbook}/box/labbook-bookworm.box}
if [ "${LABBOOK_BOX_CHECK_NETNS:-}" != 1 ]; then
  command -v qemu-system-x86_64 >/dev/null || { echo "labbook box check: qemu-system-x86_64 is missing: apt-get install qemu-system-x86" >&2; exit 2; }
  LABBOOK_BOX_CHECK_NETNS=1 exec unshare --net sh "$0" "$BOX"
fi
ip link set lo up
work=$(mktemp -d)
qemu=""
cleanup() {
  [ -z "$qemu" ] || kill "$qemu" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
tar -C "$work" -xf "$BOX" box.img vmlinuz initrd.img vagrant_ed25519
chmod 600 "$work/vagrant_ed25519"
qemu-img create -q -f qcow2 -b "$work/box.img" -F qcow2 "$work/overlay.qcow2"
qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 2 -m 1024 -display none -serial "file:$work/console.log" \
  -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "root=/dev/vda rw console=ttyS0 net.ifnames=0" \
  -drive "file=$work/overlay.qcow2,if=virtio,format=qcow2" \
  -nic user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22 &
qemu=$!
guest() {
  ssh -q -i "$work/vagrant_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -p 2222 vagrant@127.0.0.1 "$@"
}
start=$(date +%s)
until guest true 2>/dev/null; do
  if [ $(( $(date +%s) - start )) -ge 300 ]; then
    echo "labbook box check: no SSH after 300 s; the console said:" >&2
    tail -n 20 "$work/console.log" >&2
    exit 1
  fi
  sleep 3
done
echo "labbook box check: SSH ready after $(( $(date +%s) - start )) s"
# shellcheck disable=SC2016 # expanded by the guest's shell, not here
guest 'set -e
  sudo -n true
  echo "kernel $(uname -r), systemd $(systemctl is-system-running || true)"
  for tool in /usr/sbin/sshd /usr/sbin/glusterd /usr/bin/etcd /usr/sbin/bird /usr/bin/iperf3 /usr/bin/tcpdump /usr/bin/tini /usr/lib/cni/bridge; do
    [ -x "$tool" ] || { echo "missing: $tool"; exit 1; }
  done
  echo "sudo and the labs tools: ok"'
