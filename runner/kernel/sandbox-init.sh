#!/bin/sh
# Runs as root inside a kernel sandbox's new mount, network, PID, IPC and UTS namespaces (from
# `unshare`), builds the kernel's view of the host, then drops to an unprivileged user and execs the
# kernel. See sandbox.ts for the inputs (environment variables) and why each part is there.
set -eu

mount --make-rprivate /
mount -t proc proc /proc

# Stage what the kernel must keep seeing before /tmp turns private: its own writable directories (its
# connection file and sockets, the grader notes of its run), the notebook's directory, and the
# checkout, whose few needed parts are bound back below.
mount -t tmpfs -o mode=700 labbook-stage /mnt
for name in cwd checkout; do mkdir "/mnt/$name"; done
i=0
for dir in $WRITABLE_DIRS; do
  i=$((i + 1))
  mkdir "/mnt/w$i"
  mount --bind "$dir" "/mnt/w$i"
done
mount --bind "$KERNEL_CWD" /mnt/cwd
mount --bind "$CHECKOUT" /mnt/checkout

# Private scratch space, the host's files read-only, and nothing of a grader's: the same hidden paths as
# the nodes (sandbox.ts lists them), homes, /root and labbook's state (which holds the clusters' keys).
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
printf '%s\n' "$HIDDEN_PATHS" | while IFS= read -r path; do
  if [ -d "$path" ]; then
    mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k,mode=755 labbook-hidden "$path"
  elif [ -e "$path" ]; then
    mount --bind /dev/null "$path"
  fi
done

# The checkout, reduced to what a kernel imports: Node.js itself, the npm packages, the built SDK, the
# package's manifest and the kernel launcher. Notebooks, tests, keys and everything else stay out of sight.
mkdir -p "$CHECKOUT"
mount -t tmpfs -o mode=755,nosuid,nodev labbook-checkout "$CHECKOUT"
for part in $CHECKOUT_PARTS; do
  if [ -d "/mnt/checkout/$part" ]; then mkdir -p "$CHECKOUT/$part"; else mkdir -p "$(dirname "$CHECKOUT/$part")"; touch "$CHECKOUT/$part"; fi
  mount --bind -o ro "/mnt/checkout/$part" "$CHECKOUT/$part"
done

# The kernel's own directories and the notebook's, at the paths the runner knows them by (their parents
# may have been hidden above: they are made again, empty, in the private /tmp or the reduced checkout).
# shellcheck disable=SC2086 # one word per directory: labbook's own scratch paths, without spaces
mkdir -p $WRITABLE_DIRS "$KERNEL_CWD"
mount -o remount,ro,bind "$CHECKOUT"
i=0
for dir in $WRITABLE_DIRS; do
  i=$((i + 1))
  mount --bind "/mnt/w$i" "$dir"
done
mount --bind -o ro /mnt/cwd "$KERNEL_CWD"
mount -o remount,ro,bind "$KERNEL_CWD"
# A notebook imports "labbook" from its folder upwards, through a node_modules/labbook link to the
# checkout (labs/ has the checkout's own; a grader's scratch folder has one too, made again here).
if [ -n "${LABBOOK_LINK_DIR:-}" ]; then
  mkdir -p "$LABBOOK_LINK_DIR"
  [ -e "$LABBOOK_LINK_DIR/labbook" ] || ln -s "$CHECKOUT" "$LABBOOK_LINK_DIR/labbook"
fi
umount -l /mnt

mount -o remount,bind,ro /
ip link set lo up

cd "$KERNEL_CWD"
# This shell stays, as root, PID 1 of the kernel's namespace, so that the kernel goes whatever happens:
# - the runner dies (even kill -9): its end of stdin closes, and everything in the namespace is killed,
#   a kernel stuck in a busy loop included (it could not read its own stdin);
# - the runner kills `unshare`: its --kill-child signal reaches this shell (a process that changes its user
#   loses that signal, which is why the kernel cannot be PID 1 itself), and the namespace ends with it.
# (A background job's stdin is /dev/null unless redirected: the watcher reads the runner's through fd 3.)
exec 3<&0
setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_GID" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@" </dev/null 3<&- &
kernel=$!
{
  cat <&3 >/dev/null
  kill -KILL -1
} &
exec 3<&-
wait "$kernel"
