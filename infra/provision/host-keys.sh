#!/bin/sh
# Every VM gets host keys of its own: a box bakes one set into its image, and VMs sharing host keys
# would make each one's identity meaningless to ssh and to the labs' node-to-node ssh.
set -eu
marker=/etc/ssh/.labbook-host-keys
[ -e "$marker" ] && exit 0
rm -f /etc/ssh/ssh_host_*
ssh-keygen -A
systemctl restart ssh
touch "$marker"
echo "labbook: new SSH host keys for $(hostname)"
