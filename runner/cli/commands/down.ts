import { backendNames, getBackend } from "../../backend/registry.ts";
import { downEach } from "../../backend/cluster-sweep.ts";
import type { DownReport } from "../../backend/types.ts";
import { DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { removeStaleTempDirs } from "../../host/temp-dirs.ts";

export const down: CliCommand = {
  usage: "labbook down [--name C | --all] [--backend netns|vagrant]   (--all without --backend: every backend)",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("down", argv, { ...CLUSTER_OPTIONS, all: { type: "boolean", short: "a" } });
    if (positionals.length > 0) throw new UsageError(`labbook down: unexpected argument "${positionals[0]}"`);
    if (values.all && values.name) throw new UsageError("labbook down: give --name or --all, not both");
    let report: DownReport;
    if (values.all && values.backend === undefined) {
      // Leftovers may be of any backend: a killed `up --backend vagrant` leaves a VM host too.
      report = await downEach(backendNames(), (name) => getBackend(name).downAll());
    } else {
      const backend = getBackend(values.backend);
      report = values.all ? await backend.downAll() : await backend.down(values.name ?? DEFAULT_CLUSTER_NAME);
    }
    // Runs killed with -9 leave their kernels' connection files and grader notes too.
    const stale = values.all ? removeStaleTempDirs() : [];
    if (stale.length > 0) process.stdout.write(`removed ${stale.length} scratch director${stale.length === 1 ? "y" : "ies"} of runs that are gone\n`);
    if (report.clusters.length === 0) {
      process.stdout.write(values.all ? "nothing to remove\n" : `no cluster named "${values.name ?? DEFAULT_CLUSTER_NAME}"\n`);
    } else {
      process.stdout.write(`removed ${report.clusters.map((c) => `"${c}"`).join(", ")} (${report.killed.length} processes)\n`);
    }
    return 0;
  },
};
