#!/bin/sh
# Creates the directories the labs write to (infra/node-private-dirs.txt, the list the embedded nodes
# mount their own copies over), as installing kubelet or a CNI runtime would. Idempotent.
set -eu
list="$1"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | while read -r dir; do
  install -d -m 755 "$dir"
done
echo "labbook: lab directories ready on $(hostname)"
