#!/bin/sh
# Installs the Debian packages the labs need, from the same list the embedded set-up installs
# (infra/packages.txt: package, a file it installs, why). Offline-safe: a box that already has them
# (`labbook box build` bakes them in) never touches the network.
set -eu
list="$1"
missing=""
packages=$(awk '!/^#/ && NF { print $1 }' "$list")
for package in $packages; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -z "$missing" ]; then
  echo "labbook: every package of the list is installed"
  exit 0
fi
echo "labbook: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # one word per package
apt-get install -y -q --no-install-recommends $missing
# The labs start their daemons themselves, in the places they choose; the distribution's services would
# hold the same ports and state directories.
for service in glusterd etcd bird; do
  systemctl disable --now "$service" 2>/dev/null || true
done
