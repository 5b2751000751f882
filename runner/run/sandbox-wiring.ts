// A sandboxed kernel (kernel/sandbox.ts) for a run: it sees nothing the nodes may not, writes only its
// own directories and the run's grader notes, and once started (again, after a restart) is plugged into
// its cluster's LAN, where the SDK inside finds it through the file written here.
import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backend/types.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { LabbookError } from "../errors.ts";
import type { KernelOptions } from "../kernel/client.ts";
import { SANDBOX_GID, SANDBOX_UID } from "../kernel/sandbox.ts";

export function sandboxOptions(backend: Backend, hidden: string[], graderNotes: string, cluster: () => Promise<Cluster>): Pick<KernelOptions, "sandbox" | "onStarted"> {
  const plug = backend.plugWorkstation?.bind(backend);
  if (!plug) throw new LabbookError(`the ${backend.name} backend cannot run sandboxed kernels (it cannot plug one into its LAN)`);
  return {
    sandbox: { hidden, writable: [graderNotes] },
    onStarted: async (kernel) => {
      const lan = await plug((await cluster()).name, kernel.kernelPid!);
      const file = join(kernel.directory, "cluster.json");
      writeFileSync(file, JSON.stringify(lan), { mode: 0o600 });
      chownSync(file, SANDBOX_UID, SANDBOX_GID);
    },
  };
}
