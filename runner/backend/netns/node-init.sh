#!/bin/sh
# Runs once inside a new node's namespaces (via nsenter -a), before anything connects.
# Inputs come as environment variables; see netns/driver.ts (initNode).
set -eu

# Belt and braces: unshare already made mounts private; nothing below may reach the host.
mount --make-rprivate /
hostname "$NODE_NAME"

# The node's root is an overlay: the host's files as its read-only lower layer, and an upper layer of the
# node's own, in memory. Whatever a node writes to /usr or /etc lands in its own layer, seen by no one
# else and gone at `down`. Root in a node holds CAP_SYS_ADMIN (labs need it for ip netns and FUSE), so a
# read-only mount of the host's files could simply be remounted read-write; an overlay's lower layer
# cannot be reached that way, and the host's old root is detached below (pivot_root), so nothing else
# leads back to it.
layers="$NODE_DIR/layers"
mkdir -p "$layers"
# A tmpfs of its own: overlayfs refuses an upper layer inside its lower one on the same filesystem.
mount -t tmpfs -o mode=700 labbook-layers "$layers"
mkdir "$layers/upper" "$layers/work" "$layers/root"

# What a node must not see at all becomes a whiteout in its upper layer, so it does not exist there:
# people's homes and scratch space, the host's SSH host keys, backups of the password files, the
# checkout, and what the caller names (a grader's output, the instructor's notebook, submissions).
hide() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  # Hidden already, itself or through a folder above it (the callers' paths may nest or repeat).
  above="$1"
  while [ "$above" != / ]; do
    [ -c "$layers/upper$above" ] && return 0
    above=$(dirname "$above")
  done
  rm -rf "$layers/upper$1" # what hiding a path below it made
  mkdir -p "$layers/upper$(dirname "$1")"
  mknod "$layers/upper$1" c 0 0
}
for path in /home /srv /media /var/tmp /var/backups /var/mail /etc/shadow- /etc/gshadow- /etc/ssh/ssh_host_*_key; do
  hide "$path"
done
printf '%s\n' "${HIDDEN_PATHS:-}" | while IFS= read -r path; do
  [ -z "$path" ] || hide "$path"
done
# The host's password hashes never reach a node. The accounts stay (sshd refuses a login whose account
# it cannot find); the hashes go.
mkdir -p "$layers/upper/etc"
for file in /etc/shadow /etc/gshadow; do
  [ -e "$file" ] || continue
  sed 's/^\([^:]*\):[^:]*:/\1:*:/' "$file" > "$layers/upper$file"
  chmod 640 "$layers/upper$file"
done

# The node's home is in its own layer too, not a mount of its own: gluster tells a brick on the root
# filesystem (refused without "force", as lab 10 shows) by the device of the brick's folder.
mkdir -p "$layers/upper/root"
cp -a "$NODE_DIR/root/." "$layers/upper/root/"

root="$layers/root"
mount -t overlay labbook-root -o "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work" "$root"

# Private state: the node's own directories from its state directory.
mount --bind "$NODE_DIR/log" "$root/var/log"
mount --bind "$NODE_DIR/hostname" "$root/etc/hostname"
mount --bind "$HOSTS_FILE" "$root/etc/hosts"
# The host's resolver is outside the LAN and unreachable from it: every lookup would
# hang until its timeout (sshd's pty sessions among them). Labs that teach DNS start their own.
mount --bind "$RESOLV_FILE" "$root/etc/resolv.conf"
for dir in $PRIVATE_DIRS; do
  # The mount points come from set-up (labbook up checks them); a node never creates host directories.
  mkdir -p "$NODE_DIR/private$dir"
  mount --bind "$NODE_DIR/private$dir" "$root$dir"
done
# The host's devices; the node's devices cgroup refuses every block device (cgroups.ts).
mount --rbind /dev "$root/dev"

# Into the new root, and away with the old one: the host's root, its mounts (named network namespaces
# among them, which would otherwise stay pinned alive) and the state directory are no longer reachable.
mkdir "$root/.oldroot"
cd "$root"
pivot_root . .oldroot
cd /
# A PID namespace needs its own /proc (umount reads the mount table there) and a network namespace its
# own /sys, or ps and /sys/class/net would show the host's.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
umount -l /.oldroot
rmdir /.oldroot
# Sysctls outside net.* are the whole machine's (kernel.*, vm.*, fs.*): read-only here. net.* belongs
# to the node's own network namespace, and labs set it (ip_forward, rp_filter, bridge-nf-call-*).
mount --bind /proc/sys/net /proc/sys/net
mount --rbind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys

mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/sshd /run/lock
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# A devpts of its own, as containers have: the host's may be stacked mounts in which
# /dev/ptmx and /dev/pts/N disagree, and `labbook ssh` would then get a dead terminal.
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
mount --bind /dev/pts/ptmx /dev/ptmx

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
