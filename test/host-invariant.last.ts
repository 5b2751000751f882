// Runs after every other test file, whether they passed or not: the host's root
// network namespace and mount table must be exactly as they were before the suite.
import assert from "node:assert/strict";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { MARKER_VARIABLE, processesMarked } from "../runner/backend/netns/procfs.ts";
import { stateRoot, listClusterNames } from "../runner/backend/netns/state.ts";
import { diffSnapshots, snapshotHost } from "./helpers/host-snapshot.ts";
import { hostBefore } from "./helpers/root-hooks.ts";

describe("host invariant (runs last)", () => {
  before(async () => {
    await new NetnsBackend().downAll();
  });

  it("leaves the root network namespace, its netns list and the mount table unchanged", () => {
    assert.ok(hostBefore, "the root hook did not record the host before the suite");
    const changes = diffSnapshots(hostBefore, snapshotHost());
    assert.deepEqual(changes, [], `the host changed:\n${changes.join("\n")}`);
  });

  it("leaves no labbook process and no cluster state behind", () => {
    const leftovers = processesMarked((marker) => marker.startsWith(`${stateRoot()}::`));
    assert.deepEqual(leftovers, [], `processes still marked ${MARKER_VARIABLE}`);
    assert.deepEqual(listClusterNames(), []);
  });
});
