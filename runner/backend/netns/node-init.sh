#!/bin/sh
# Runs once in a fenced node's own namespaces (via nsenter -a into the process node-fence.sh started),
# as root of the node: its network and its sshd. Inputs come as environment variables; see
# netns/driver.ts (initNode).
set -eu

ip link set lo up
ip addr add "$NODE_IP/$PREFIX" dev eth0
ip link set eth0 up
ip route add default via "$GATEWAY"

# The listening sshd is for node-to-node ssh (labs show it); labbook itself reaches
# each node through an inetd-mode sshd on a pipe, never over a network.
if ! /usr/sbin/sshd -f /root/.labbook/sshd_config -E /var/log/sshd.log; then
  echo "sshd did not start:" >&2
  tail -n 5 /var/log/sshd.log >&2
  exit 1
fi
