#!/bin/sh
# Keeps systemd-udevd from rewriting the MAC address of new veth interfaces. Its default link policy
# (MACAddressPolicy=persistent) gives each new veth a MAC of its own a moment after it is created, so the
# CNI bridge plugin's CHECK then fails with "Mac doesn't match". Kubernetes nodes ship the same rule
# (Cilium and Calico document it). The embedded cluster has no udev, so it never sees this.
set -eu
install -d -m 755 /etc/systemd/network
cat > /etc/systemd/network/50-labbook-veth.link <<'LINK'
[Match]
Driver=veth

[Link]
MACAddressPolicy=none
LINK
udevadm control --reload 2>/dev/null || true
echo "labbook: udev leaves veth MAC addresses alone on $(hostname)"
