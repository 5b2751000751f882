#!/bin/sh
# Starts a "pod" the way a container runtime does, minus images: a mount namespace of its own,
# a fresh root filesystem (tmpfs, with the node's /usr and /etc bound read-only), the pod's
# volumes bound at their mount paths, then chroot. Run by runner/sdk/pods.ts on a node.
# Inputs (environment): POD_DIR (/var/lib/kubelet-model/pods/<name>), MOUNTS (lines "source target ro|rw").
# It returns at once; the pod writes its PID (the chrooted sleep) to $POD_DIR/pid when it is ready.
set -eu
ROOT="$POD_DIR/rootfs"
mkdir -p "$ROOT"
# setsid: the pod outlives this command and its SSH channel, as a pod outlives `kubectl run`.
setsid -f unshare --mount --propagation private --fork sh -eu -c '
  ROOT="$POD_DIR/rootfs"
  mount -t tmpfs -o mode=755 rootfs "$ROOT"
  # --rbind, not --bind: in a fenced node (netns/node-fence.sh) /etc holds mounts the node cannot undo
  # (/etc/hosts), and the kernel refuses a bind that would show what is under them.
  for dir in usr etc; do
    mkdir "$ROOT/$dir"
    mount --rbind "/$dir" "$ROOT/$dir"
    mount -o remount,bind,ro "$ROOT/$dir"
  done
  # Merged /usr (Debian 12, Ubuntu 22.04): /bin, /lib, ... are links into /usr.
  for dir in bin sbin lib lib64; do
    if [ -L "/$dir" ]; then ln -s "$(readlink "/$dir")" "$ROOT/$dir"
    elif [ -d "/$dir" ]; then mkdir "$ROOT/$dir"; mount --bind "/$dir" "$ROOT/$dir"; mount -o remount,bind,ro "$ROOT/$dir"; fi
  done
  mkdir -p "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp"
  # The pod shares the node PID namespace, so it gets the node /proc: a fenced node may not mount a new one.
  mount --rbind /proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  printf "%s\n" "$MOUNTS" | while read -r source target mode; do
    [ -n "$source" ] || continue
    mkdir -p "$ROOT$target"
    mount --bind "$source" "$ROOT$target"
    if [ "$mode" = ro ]; then mount -o remount,bind,ro "$ROOT$target"; fi
  done
  echo $$ > "$POD_DIR/pid"
  exec chroot "$ROOT" /bin/sleep infinity
' </dev/null >"$POD_DIR/pod.log" 2>&1
