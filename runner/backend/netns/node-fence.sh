#!/bin/sh
# Runs once in a new node's PID, mount, UTS and IPC namespaces (via nsenter into its tini), as root of
# the machine, before the node has a network: it builds the node's view of the files, then starts the
# process whose user, network and mount namespaces are the node's own. Inputs come as environment
# variables; see netns/driver.ts (fenceNode).
#
# Why two steps: root in a node must not be root of the machine. Unless the cluster is privileged
# (PRIVILEGED=1, for labs that need it, such as GlusterFS's trusted.* xattrs), the node's processes live in
# a user namespace of their own, which owns the node's network and mount namespaces: they keep every
# capability there (iptables, ip netns, tcpdump) and none on the machine. Every mount made below, as the
# machine's root, is then *locked* in the node: root there cannot unmount or remount it (the read-only
# sysctls and sysfs, the whiteouts), and cannot mount a new proc (its PID namespace is not its own).
set -eu

# From the overlay on, every mount is a step of one batch that mount-batch.pl makes in a single process
# (its text is in $MOUNT_BATCH): a `mount` process per step was most of a node's start.
steps=""
step() {
  old_ifs=$IFS
  IFS='	'
  steps="$steps$*
"
  IFS=$old_ifs
}

# The shell's working directory must be the old root, so that the pivot below moves it along: anywhere
# else, it would keep the host's tree (and its mounts) alive.
cd /
# Belt and braces: unshare already made mounts private; nothing below may reach the host.
mount --make-rprivate /
# In the node's UTS namespace (this shell is in it): a write instead of a `hostname` process.
echo "$NODE_NAME" > /proc/sys/kernel/hostname

# The node's root is an overlay: the host's files as its read-only lower layer, and an upper layer of the
# node's own, in memory. Whatever a node writes to /usr or /etc lands in its own layer, seen by no one
# else and gone at `down`. Root in a privileged node holds CAP_SYS_ADMIN on the machine, so a read-only
# mount of the host's files could simply be remounted read-write there; an overlay's lower layer cannot
# be reached that way, and the host's old root is detached below (pivot_root), so nothing else leads
# back to it.
layers="$NODE_DIR/layers"
mkdir -p "$layers"
# A tmpfs of its own: overlayfs refuses an upper layer inside its lower one on the same filesystem.
mount -t tmpfs -o mode=700 labbook-layers "$layers"
mkdir "$layers/upper" "$layers/work" "$layers/root"

# What a node must not see of the host: whiteouts, the password files without their hashes, an opaque
# /root, and an opaque /dev with the few devices labs use, as the host has them (host-view.ts archived
# them once for the cluster; root in a fenced node cannot make other devices, and the devices cgroup
# refuses every block device). Then the node's own home: in its own layer too, not a mount of its own,
# because gluster tells a brick on the root filesystem (refused without "force", as lab 10 shows) by the
# device of the brick's folder.
tar -x --xattrs --xattrs-include='trusted.*' --numeric-owner -f "$HOST_VIEW" -C "$layers/upper"
cp -a "$NODE_DIR/root/." "$layers/upper/root/"

root="$layers/root"
step mount overlay labbook-root "$root" "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work"

# Private state: the node's own directories from its state directory.
step bind "$NODE_DIR/log" "$root/var/log"
step bind "$NODE_DIR/hostname" "$root/etc/hostname"
step bind "$HOSTS_FILE" "$root/etc/hosts"
# The host's resolver is outside the LAN and unreachable from it: every lookup would
# hang until its timeout (sshd's pty sessions among them). Labs that teach DNS start their own.
step bind "$RESOLV_FILE" "$root/etc/resolv.conf"
# The mount points come from set-up (labbook up checks them); a node never creates host directories.
set --
for dir in $PRIVATE_DIRS; do
  set -- "$@" "$NODE_DIR/private$dir"
  step bind "$NODE_DIR/private$dir" "$root$dir"
done
mkdir -p "$@"

# Into the new root, and away with the old one: the host's root, its mounts (named network namespaces
# among them, which would otherwise stay pinned alive) and the state directory are no longer reachable.
step mkdir "$root/.oldroot"
step pivot "$root" .oldroot
# A PID namespace needs its own /proc (umount reads the mount table there).
step mount proc proc /proc
step detach /.oldroot
step rmdir /.oldroot
# Sysctls outside net.* are the whole machine's (kernel.*, vm.*, fs.*): read-only here. net.* belongs
# to the node's own network namespace, and labs set it (ip_forward, rp_filter, bridge-nf-call-*).
step bind /proc/sys/net /proc/sys/net
step bind /proc/sys /proc/sys rec
step remount-ro /proc/sys
# The other machine-wide knobs in /proc: interrupts, buses, filesystems, the magic SysRq key. (The
# machine's /proc, still this shell's, has the same ones.)
for path in /proc/irq /proc/bus /proc/fs /proc/acpi /proc/scsi /proc/sysrq-trigger; do
  if [ -e "$path" ]; then step bind "$path" "$path" ro; fi
done

step mount tmpfs tmpfs /run mode=755
step mkdir /run/netns /run/sshd /run/lock
step mount tmpfs tmpfs /tmp mode=1777
step mount tmpfs tmpfs /dev/shm mode=1777,nosuid,nodev
# A devpts of its own: the host's may be stacked mounts in which /dev/ptmx and /dev/pts/N disagree,
# and `labbook ssh` would then get a dead terminal.
step mount devpts devpts /dev/pts newinstance,ptmxmode=0666,mode=0620
step bind /dev/pts/ptmx /dev/ptmx
printf '%s' "$steps" | perl -e "$MOUNT_BATCH"

# The node's own namespaces. Their first process waits for its user namespace's ID map and for its
# /sys (below), then makes the node's mount namespace, a copy of this one, and sleeps there for good.
# Its stdio must not hold nsenter's pipes open, or the runner would wait for it to exit.
go=/run/.labbook-go
mkfifo "$go"
if [ "${PRIVILEGED:-0}" = 1 ]; then own=""; else own="--user"; fi
# shellcheck disable=SC2016 # expanded by the inner shell
unshare $own --net -- sh -c 'read -r _ < "$0"; exec unshare --mount --propagation private -- sleep infinity' "$go" </dev/null >/dev/null 2>&1 &
node=$!
# (`-ef`: the same namespace, by the shell's own test, where `readlink` took a process per look. Not
# POSIX, but dash, Debian's sh, and bash have it.)
# shellcheck disable=SC3013
until ! [ "/proc/$node/ns/net" -ef /proc/self/ns/net ]; do sleep 0.005; done
if [ -n "$own" ]; then
  # The same user IDs as the host's, so files keep their owners; what root there may do is decided by
  # the capabilities it lacks on the machine and by the locked mounts, not by a shifted ID.
  echo "0 0 65536" > "/proc/$node/uid_map"
  echo "0 0 65536" > "/proc/$node/gid_map"
fi
# /sys for the node's network namespace, read-only: its interfaces in /sys/class/net, and no
# machine-wide knob writable. `ip netns exec` stacks its own read-only sysfs on it.
nsenter -t "$node" -n mount -t sysfs -o ro sysfs /sys
echo go > "$go"
# shellcheck disable=SC3013
until ! [ "/proc/$node/ns/mnt" -ef /proc/self/ns/mnt ]; do sleep 0.005; done
rm -f "$go"
