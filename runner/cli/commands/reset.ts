import { getBackend } from "../../backend/registry.ts";
import { DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { LabbookError, UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const reset: CliCommand = {
  usage: [
    "labbook reset --backend vagrant [--name C] [--save]",
    "  a clean start between labs on VMs, which `labbook run` and Jupyter do not rebuild: every VM back to the",
    "  snapshot labbook-clean that `labbook up --backend vagrant` took (--save takes it now, e.g. right after a plain",
    "  `vagrant up`). The embedded cluster needs none: each run and each lab's cluster({ fresh: true }) rebuilds it.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("reset", argv, { ...CLUSTER_OPTIONS, save: { type: "boolean" } });
    if (positionals.length > 0) throw new UsageError(`labbook reset: unexpected argument "${positionals[0]}"`);
    const backend = getBackend(values.backend);
    if (!backend.reset) throw new LabbookError(`the ${backend.name} backend's clusters are rebuilt for every run and every lab's cluster({ fresh: true }): nothing to reset (labbook reset is for --backend vagrant)`);
    const done = await backend.reset(values.name ?? DEFAULT_CLUSTER_NAME, { save: values.save === true, onProgress: (message) => process.stderr.write(`  ${message}...\n`) });
    process.stdout.write(`${done}\n`);
    return 0;
  },
};
