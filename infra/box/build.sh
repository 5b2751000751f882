#!/bin/sh
# Builds a Vagrant box for libvirt with no Vagrant Cloud and no internet beyond the Debian mirror apt
# already uses: debootstrap a minimal bookworm with systemd, openssh-server, sudo, ifupdown and a kernel,
# plus the labs' packages (infra/packages.txt), so provisioning never needs the network. The box boots
# its kernel directly (kernel and initrd inside the box, no bootloader). See docs/vagrant.md, "The offline box".
#
# With LABBOOK_BOX_KUBE_* set (`labbook box build` sets them: runner/backend/vagrant/box-kubernetes.ts), it
# also bakes in labbook's Kubernetes build and a containerd store holding every image, for kubeadm offline.
#
# Usage: infra/box/build.sh [OUT_DIR]     (as root; `labbook box build` passes /var/cache/labbook/box)
# Output: OUT_DIR/labbook-bookworm.box, and OUT_DIR/vagrant_ed25519, the key of its `vagrant` user.
# Cached: a box built from the same inputs (this script, the package list, the Kubernetes build) is not built again.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-${LABBOOK_CACHE_DIR:-/var/cache/labbook}/box}
BOX="$OUT/labbook-bookworm.box"
SUITE=bookworm
SIZE=8G

for tool in debootstrap qemu-img mkfs.ext4 ssh-keygen tar; do
  command -v "$tool" >/dev/null || { echo "labbook box: $tool is missing: apt-get install debootstrap qemu-utils e2fsprogs openssh-client tar" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "labbook box: debootstrap needs root" >&2; exit 2; }

mkdir -p "$OUT"
inputs=$( (cat "$0" "$ROOT/infra/packages.txt"; echo "kubernetes: ${LABBOOK_BOX_KUBE_KEY:-none}") | sha256sum | cut -c1-16)
if [ -f "$BOX" ] && [ "$(cat "$OUT/inputs" 2>/dev/null)" = "$inputs" ]; then
  echo "labbook box: $BOX is up to date"
  exit 0
fi

# The mirror apt is configured with: the only network this machine may use.
mirror=$(awk '/^URIs:/ { print $2; exit } /^deb / { print $2; exit }' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d "$OUT/build.XXXXXX")
cleanup() {
  # Whatever the build mounted in the root file system goes first, then the files.
  for mount in dev/pts dev proc sys; do umount "$work/rootfs/$mount" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

labs=$(awk '!/^#/ && NF { print $1 }' "$ROOT/infra/packages.txt" | paste -sd, -)
base=systemd-sysv,udev,dbus,ifupdown,isc-dhcp-client,iproute2,openssh-server,sudo,linux-image-amd64,netbase,kmod,rsync,ca-certificates
echo "labbook box: debootstrap $SUITE from $mirror (about 2 minutes)"
debootstrap --variant=minbase --include="$base,$labs" "$SUITE" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

rootfs="$work/rootfs"
echo "labbook" > "$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 labbook\n' > "$rootfs/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' > "$rootfs/etc/fstab"
printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n' > "$rootfs/etc/network/interfaces"
# Vagrant's user, with a key of this box's own (never Vagrant's well-known insecure key).
rm -f "$OUT/vagrant_ed25519" "$OUT/vagrant_ed25519.pub"
ssh-keygen -q -t ed25519 -N "" -C "labbook box" -f "$OUT/vagrant_ed25519"
chroot "$rootfs" useradd --create-home --shell /bin/bash --groups sudo vagrant
printf 'vagrant ALL=(ALL) NOPASSWD: ALL\nDefaults:vagrant !requiretty\n' > "$rootfs/etc/sudoers.d/vagrant"
chmod 440 "$rootfs/etc/sudoers.d/vagrant"
install -d -m 700 "$rootfs/home/vagrant/.ssh"
install -m 600 "$OUT/vagrant_ed25519.pub" "$rootfs/home/vagrant/.ssh/authorized_keys"
chroot "$rootfs" chown -R vagrant:vagrant /home/vagrant/.ssh
printf 'UseDNS no\n' > "$rootfs/etc/ssh/sshd_config.d/labbook.conf"
# Host keys are made per VM by infra/provision/host-keys.sh; until then, the box's own.
chroot "$rootfs" systemctl enable ssh >/dev/null 2>&1 || true
# The labs start their daemons themselves; the packages' services would hold their ports.
for service in glusterd etcd bird; do chroot "$rootfs" systemctl disable "$service" >/dev/null 2>&1 || true; done
chroot "$rootfs" apt-get clean

if [ -n "${LABBOOK_BOX_KUBE_BIN:-}" ]; then
  echo "labbook box: Kubernetes $LABBOOK_BOX_KUBE_VERSION (labbook's build), flanneld, and a containerd store with every image"
  install -m 755 "$LABBOOK_BOX_KUBE_BIN/kube" "$rootfs/usr/local/bin/kube"
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm; do
    ln -sf kube "$rootfs/usr/local/bin/$name"
  done
  install -m 755 "$LABBOOK_BOX_KUBE_BIN/flanneld" "$rootfs/usr/local/bin/flanneld"
  install -d "$rootfs/opt/cni/bin"
  install -m 755 "$LABBOOK_BOX_KUBE_BIN/flannel" "$rootfs/opt/cni/bin/flannel"
  rm -rf "$rootfs/var/lib/containerd"
  cp -a "$LABBOOK_BOX_KUBE_CONTAINERD" "$rootfs/var/lib/containerd"
  install -d "$rootfs/etc/labbook"
  echo "$LABBOOK_BOX_KUBE_VERSION" > "$rootfs/etc/labbook/kubernetes-version"
  # The admission policy that refuses pods whose images are not in the store (kubernetes.sh applies it).
  if [ -n "${LABBOOK_BOX_KUBE_POLICY:-}" ]; then install -m 644 "$LABBOOK_BOX_KUBE_POLICY" "$rootfs/etc/labbook/image-policy.yaml"; fi
  # kubelet's unit, as Kubernetes' own packages ship it; disabled until kubeadm (infra/provision/kubernetes.sh).
  cat > "$rootfs/etc/systemd/system/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet: The Kubernetes Node Agent (labbook's build)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
  install -d "$rootfs/etc/systemd/system/kubelet.service.d"
  cat > "$rootfs/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'UNIT'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
UNIT
fi

echo "labbook box: image ($SIZE sparse ext4, then qcow2)"
cp -L "$rootfs/vmlinuz" "$work/vmlinuz"
cp -L "$rootfs/initrd.img" "$work/initrd.img"
truncate -s "$SIZE" "$work/root.ext4"
mkfs.ext4 -q -F -L root -d "$rootfs" "$work/root.ext4"
qemu-img convert -c -O qcow2 "$work/root.ext4" "$work/box.img"

printf '{"provider":"libvirt","format":"qcow2","virtual_size":8}\n' > "$work/metadata.json"
cat > "$work/Vagrantfile" <<'BOXFILE'
# The box's own settings: boot its kernel directly, and log in with the key it was built with.
Vagrant.configure("2") do |config|
  config.ssh.username = "vagrant"
  config.ssh.insert_key = false
  config.ssh.private_key_path = File.join(__dir__, "vagrant_ed25519")
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    lv.disk_bus = "virtio"
  end
end
BOXFILE
cp "$OUT/vagrant_ed25519" "$work/vagrant_ed25519"
tar -C "$work" -cf "$BOX.tmp" metadata.json Vagrantfile box.img vmlinuz initrd.img vagrant_ed25519
mv "$BOX.tmp" "$BOX"
# What labbook checks before it boots VMs that must run Kubernetes: the release baked in, or nothing.
if [ -n "${LABBOOK_BOX_KUBE_VERSION:-}" ]; then echo "$LABBOOK_BOX_KUBE_VERSION" > "$OUT/kubernetes-version"; else rm -f "$OUT/kubernetes-version"; fi
echo "$inputs" > "$OUT/inputs"
echo "labbook box: wrote $BOX ($(du -h "$BOX" | cut -f1)); add it with: vagrant box add --force --name labbook/bookworm $BOX"
