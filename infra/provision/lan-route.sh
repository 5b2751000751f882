#!/bin/sh
# The VM's default route through the LAN's gateway, as an embedded node has it, for `labbook up --backend
# vagrant` only (LABBOOK_LAN_ROUTE=1): there the gateway is labbook's VM host, where the stand-in internet
# (network.internet) answers, and the labs' egress, NAT and "default route" faults work as on the embedded
# cluster. Vagrant keeps reaching the VM on its management network, which is directly connected.
# A plain `vagrant up` leaves the default route on Vagrant's NIC: the user's VMs keep their real internet.
# Usage: lan-route.sh GATEWAY NODE_IP
set -eu
gateway="$1" node_ip="$2"
lan=$(ip -o -4 addr show | awk -v ip="$node_ip" '{ split($4, a, "/") } a[1] == ip { print $2; exit }')
if [ -z "$lan" ]; then
  echo "labbook: no interface has $node_ip" >&2
  exit 1
fi
# Only one default route: the one through Vagrant's NIC goes.
ip route replace default via "$gateway" dev "$lan"
ip -o route show default | awk -v lan="$lan" '$5 != lan' | while read -r line; do
  # shellcheck disable=SC2086
  ip route del $line
done
echo "labbook: default route via $gateway on $lan"
