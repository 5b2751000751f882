#!/bin/sh
# Keeps systemd-udevd from rewriting the MAC address of the virtual interfaces the labs and Kubernetes make.
# Its default link policy (MACAddressPolicy=persistent) gives each new one a MAC derived from the machine id and
# the interface's name, a moment after it is created:
# - a veth: the CNI bridge plugin's CHECK then fails with "Mac doesn't match" (Kubernetes nodes ship the same
#   rule; Cilium and Calico document it);
# - flannel's VXLAN device flannel.1: flanneld may have read and published its MAC (the lease's VtepMAC) before
#   the rename, and VMs from one box can share a machine id, so two nodes' flannel.1 got the same MAC and their
#   forwarding entries overwrote each other (lab 05's vxlan on VMs; flannel issue #1155).
# The embedded cluster has no udev, so it never sees this.
set -eu
install -d -m 755 /etc/systemd/network
cat > /etc/systemd/network/50-labbook-veth.link <<'LINK'
[Match]
Driver=veth

[Link]
MACAddressPolicy=none
LINK
cat > /etc/systemd/network/50-labbook-vxlan.link <<'LINK'
[Match]
Kind=vxlan

[Link]
MACAddressPolicy=none
LINK
udevadm control --reload 2>/dev/null || true
echo "labbook: udev leaves the MAC addresses of veth and vxlan interfaces alone on $(hostname)"
