#!/bin/sh
# Runs once inside a new node's namespaces (via nsenter -a), before anything connects.
# Inputs come as environment variables; see netns/node-setup.ts.
set -eu

# Belt and braces: unshare already made mounts private; nothing below may reach the host.
mount --make-rprivate /

hostname "$NODE_NAME"
# A PID namespace needs its own /proc and a network namespace its own /sys,
# or ps and /sys/class/net would show the host's.
mount -t proc proc /proc
mount -t sysfs sysfs /sys

# Private state, bound before /run is covered (the state directory lives under /run).
mount --bind "$NODE_DIR/root" /root
mount --bind "$NODE_DIR/log" /var/log
mount --bind "$NODE_DIR/hostname" /etc/hostname
mount --bind "$HOSTS_FILE" /etc/hosts
# The host's resolver is outside the LAN and unreachable from it: every lookup would
# hang until its timeout (sshd's pty sessions among them). Labs that teach DNS start their own.
mount --bind "$RESOLV_FILE" /etc/resolv.conf
for dir in $PRIVATE_DIRS; do
  # The mount points come from set-up (labbook up checks them); a node never creates host directories.
  mkdir -p "$NODE_DIR/private$dir"
  mount --bind "$NODE_DIR/private$dir" "$dir"
done

# The host's password hashes never reach a node. The accounts stay (sshd refuses a login whose
# account it cannot find); the hashes go. Written before the host's files turn read-only below.
for file in /etc/shadow /etc/gshadow; do
  [ -e "$file" ] || continue
  sed 's/^\([^:]*\):[^:]*:/\1:*:/' "$file" > "$NODE_DIR/$(basename "$file")"
  mount --bind "$NODE_DIR/$(basename "$file")" "$file"
done

# The host's filesystem, seen read-only: what a node writes (a lab, a student's command) lands in the
# node's own directories above and below, never in the host's files. Only the root mount changes, and
# only in this mount namespace: the binds above and the tmpfs below are mounts of their own and stay
# writable. (Other host mounts, such as /dev, are the hardening issue's.)
mount -o remount,bind,ro /

# And some of it not at all: people's homes and scratch space, the host's SSH host keys, backups of
# the password files, the checkout, and what the caller names (a grader's output, the instructor's
# notebook, other students' submissions). An empty read-only tmpfs covers a directory, /dev/null a file.
hide() {
  if [ -d "$1" ]; then
    mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=755 labbook-hidden "$1"
  elif [ -e "$1" ]; then
    mount --bind /dev/null "$1"
  fi
}
for path in /home /srv /media /var/tmp /var/backups /var/mail /etc/shadow- /etc/gshadow- /etc/ssh/ssh_host_*_key; do
  hide "$path"
done
printf '%s\n' "${HIDDEN_PATHS:-}" | while IFS= read -r path; do
  [ -z "$path" ] || hide "$path"
done

# Named network namespaces of the host (nsfs mounts) would otherwise stay pinned alive
# by this mount namespace for the node's whole life.
awk '$9 == "nsfs" { print $5 }' /proc/self/mountinfo | sort -r | while read -r target; do
  umount -l "$target" 2>/dev/null || true
done
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/sshd /run/lock
mount -t tmpfs -o mode=1777 tmpfs /tmp
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
