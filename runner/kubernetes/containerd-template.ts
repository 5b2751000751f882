// The images, already imported: a containerd root made once per build, which each Kubernetes node copies
// into its own /var/lib/containerd before its containerd starts. Importing the archives in every node
// (hashing and unpacking some 90 MB, three nodes at once) took 3 to 5 s of a cluster's start, and all
// of it competed with the apiserver's own start for the machine's two cores; a copy takes a tenth of that.
//
// It is made by a containerd of its own: in a private mount namespace (its unpacking mounts never reach
// the host), with its socket and state in a scratch folder, and without its CRI plugin, so it watches no
// CNI folder and starts nothing. It stops before the copy is taken.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./command.ts";

const SCRIPT = `set -eu
root=$1 state=$2
shift 2
cat >"$state/config.toml" <<EOF
version = 2
root = "$root"
state = "$state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$state/containerd.sock"
EOF
containerd --config "$state/config.toml" >"$state/containerd.log" 2>&1 &
pid=$!
tries=200
until ctr --address "$state/containerd.sock" version >/dev/null 2>&1; do
  tries=$((tries - 1))
  if [ "$tries" -eq 0 ]; then tail -n 20 "$state/containerd.log" >&2; kill "$pid"; exit 1; fi
  sleep 0.05
done
for archive in "$@"; do
  ctr --address "$state/containerd.sock" -n k8s.io images import "$archive" >/dev/null
done
kill "$pid"
wait "$pid" || true
`;

/** Imports `archives` into a new containerd root at `root` (a folder that must not exist yet). */
export async function buildContainerdTemplate(archives: string[], root: string): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "labbook-containerd-"));
  try {
    await runCommand("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", SCRIPT, "containerd-template", root, state, ...archives], {
      what: "importing the images into a containerd root",
    });
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}
