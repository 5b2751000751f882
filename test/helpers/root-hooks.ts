// Runs around the whole suite: tests get a state directory of their own, the host's
// network state is recorded before anything runs, and every test cluster is removed
// at the end, also when tests failed.
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { snapshotHost, type HostSnapshot } from "./host-snapshot.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-test";

export let hostBefore: HostSnapshot | undefined;

export const mochaHooks = {
  beforeAll(): void {
    if (process.getuid?.() !== 0) {
      throw new Error("the integration tests build real namespaces and need root: run them as root (sudo npm test), or run npm run test:unit");
    }
    hostBefore = snapshotHost();
  },
  async afterAll(): Promise<void> {
    await new NetnsBackend().downAll();
  },
};
