#!/bin/sh
# Runs once inside a new VM host's namespaces (via nsenter -a): the place where libvirtd, virtlogd,
# qemu and vagrant run, so that libvirt's bridges, dnsmasq and iptables rules never touch the host's
# root network namespace. Inputs come as environment variables; see vagrant/vm-host.ts.
#   HOST_DIR   per-cluster state on disk (VM disks, logs, libvirt's own state)
#   ETC_DIR    libvirt's configuration for this host (written by vm-host.ts)
#   HIDE_KVM   1: libvirt must not see /dev/kvm (where it exists but is unusable, libvirt re-probes it on every call)
set -eu

mount --make-rprivate /
mount -t proc proc /proc
mount -t sysfs sysfs /sys

# Named network namespaces of the host (nsfs mounts) would stay pinned alive by this mount namespace.
awk '$9 == "nsfs" { print $5 }' /proc/self/mountinfo | sort -r | while read -r target; do
  umount -l "$target" 2>/dev/null || true
done

for dir in lib log cache; do
  mkdir -p "$HOST_DIR/$dir"
  mount --bind "$HOST_DIR/$dir" "/var/$dir/libvirt"
done
mount --bind "$ETC_DIR" /etc/libvirt
if [ "${HIDE_KVM:-0}" = 1 ] && [ -e /dev/kvm ]; then
  : > "$HOST_DIR/no-kvm"
  mount --bind "$HOST_DIR/no-kvm" /dev/kvm
fi
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/libvirt /run/lock
# Not /tmp: the checkout (the Vagrantfile, the box) may live there. Vagrant's scratch files go to the
# cluster's directory instead (TMPDIR, set by the driver).

ip link set lo up
# The management network's NAT lives here, in this namespace only.
echo 1 > /proc/sys/net/ipv4/ip_forward

virtlogd -d
libvirtd -d
tries=0
until virsh -q -c qemu:///system version >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ]; then
    echo "libvirtd did not answer within 10 s:" >&2
    tail -n 5 "$HOST_DIR/log/libvirtd.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
