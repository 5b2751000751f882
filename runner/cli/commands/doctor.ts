import { backendNames, getBackend } from "../../backend/registry.ts";
import { checkKubernetes, runAllChecks, type CheckResult } from "../../doctor/checks.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const doctor: CliCommand = {
  usage: "labbook doctor [--json]",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("doctor", argv, { json: { type: "boolean" } });
    if (positionals.length > 0) throw new UsageError(`labbook doctor: unexpected argument "${positionals[0]}"`);
    // Kubernetes' needs come after the embedded cluster's: warnings, since a cluster runs without it.
    const results: CheckResult[] = [...runAllChecks(), ...(await checkKubernetes())];
    if (results[0]?.ok) {
      const clusters = (await Promise.all(backendNames().map((name) => getBackend(name).list()))).flat();
      const leftovers = clusters.filter((c) => c.state === "down" || c.state === "degraded");
      results.push(
        leftovers.length
          ? { name: "leftover clusters", ok: false, warning: true, detail: leftovers.map((c) => `${c.name} (${c.backend}, ${c.state})`).join(", "), fix: "labbook down --all" }
          : { name: "leftover clusters", ok: true, detail: "none" },
      );
    }
    const failed = results.filter((r) => !r.ok && !r.warning);
    if (values.json) {
      process.stdout.write(JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2) + "\n");
      return failed.length ? 1 : 0;
    }
    for (const r of results) {
      const mark = r.ok ? "ok  " : r.warning ? "warn" : "FAIL";
      process.stdout.write(`${mark}  ${r.name}: ${r.detail}\n`);
      if (!r.ok && r.fix) process.stdout.write(`      fix: ${r.fix}\n`);
    }
    const fixes = [...new Set(failed.map((r) => r.fix).filter(Boolean))];
    process.stdout.write(
      failed.length === 0
        ? "\nlabbook can run here.\n"
        : `\n${failed.length} problem(s). To fix:\n${fixes.map((f) => `  ${f}`).join("\n")}\n(or run: sudo infra/setup.sh labs, which installs everything)\n`,
    );
    return failed.length ? 1 : 0;
  },
};
