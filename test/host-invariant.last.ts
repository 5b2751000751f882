// Runs after every other test file, whether they passed or not: the host's root network namespace, its
// mount table and the machine-wide settings (sysctls Kubernetes' components write) must be exactly as they
// were before the suite.
import assert from "node:assert/strict";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { MARKER_VARIABLE, processesMarked } from "../runner/host/procfs.ts";
import { stateRoot, listClusterNames } from "../runner/host/state.ts";
import { diffSnapshots, snapshotHost } from "./helpers/host-snapshot.ts";
import { hostBefore } from "./helpers/root-hooks.ts";

describe("host invariant (runs last)", () => {
  before(async () => {
    await new NetnsBackend().downAll();
  });

  it("leaves the root network namespace, its netns list, the mount table and the machine-wide settings unchanged", () => {
    assert.ok(hostBefore, "the root hook did not record the host before the suite");
    // What kubelet writes at start (each Kubernetes node binds files of its own over them) and what kube-proxy would size.
    for (const setting of ["vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/netfilter/nf_conntrack_max"]) {
      assert.match(hostBefore.machineSettings ?? "", new RegExp(`^/proc/sys/${setting}=`, "m"), `the snapshot does not record ${setting}`);
    }
    const changes = diffSnapshots(hostBefore, snapshotHost());
    assert.deepEqual(changes, [], `the host changed:\n${changes.join("\n")}`);
  });

  it("leaves no labbook process and no cluster state behind", () => {
    const leftovers = processesMarked((marker) => marker.startsWith(`${stateRoot()}::`));
    assert.deepEqual(leftovers, [], `processes still marked ${MARKER_VARIABLE}`);
    assert.deepEqual(listClusterNames(), []);
  });
});
