#!/bin/sh
# Names the VM after its node. Vagrant's own `vm.hostname` does the same in many SSH round trips,
# about 40 s per VM under software emulation; this is one. The other arguments are "IP NAME" pairs of
# every node, for /etc/hosts, as the embedded cluster's nodes have them. Once per VM, it also gives the VM a
# machine id of its own: every VM from one box starts with the box's, and what derives from it (udev's
# "persistent" MAC addresses, DHCP client ids) would then be the same on every node.
set -eu
name="$1"
shift
case "$name" in
  *[!a-z0-9-]* | "") echo "labbook: not a node name: $name" >&2; exit 1 ;;
esac
if [ ! -e /etc/labbook-machine-id ]; then
  rm -f /etc/machine-id /var/lib/dbus/machine-id
  systemd-machine-id-setup >/dev/null
  cp /etc/machine-id /etc/labbook-machine-id
  # udev derives new interfaces' MACs from it: its workers read the new one from now on.
  systemctl restart systemd-udevd 2>/dev/null || true
fi
hostname "$name"
echo "$name" > /etc/hostname
if grep -q '^127\.0\.1\.1' /etc/hosts; then
  sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$name/" /etc/hosts
else
  printf '127.0.1.1\t%s\n' "$name" >> /etc/hosts
fi
while [ "$#" -ge 2 ]; do
  grep -qE "^$1[[:space:]]+$2\$" /etc/hosts || printf '%s\t%s\n' "$1" "$2" >> /etc/hosts
  shift 2
done
