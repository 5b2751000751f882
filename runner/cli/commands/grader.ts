import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../errors.ts";
import { buildGraderImage } from "../../grade/grader-image.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));

export const grader: CliCommand = {
  usage: [
    "labbook grader image [--out DIR]",
    "  builds the grader's container image from this checkout and this machine's Debian packages (no registry,",
    "  no Dockerfile): DIR/grader.tar (default .), a docker-archive for `ctr -n k8s.io images import` or",
    "  `docker load`, tagged labbook/grader:<hash>. infra/k8s/grade-indexed-job.yaml grades a class with it as a",
    "  Kubernetes Indexed Job, one shard per pod.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("grader", argv, { out: { type: "string", short: "o" } });
    if (positionals.length !== 1 || positionals[0] !== "image") throw new UsageError(`usage:\n${this.usage}`);
    const outDir = resolve(values.out ?? ".");
    mkdirSync(outDir, { recursive: true });
    const started = Date.now();
    const image = await buildGraderImage(CHECKOUT, outDir);
    process.stdout.write(`${image.ref}: wrote ${image.archive} (${Math.round(image.bytes / 1e6)} MB, ${image.packages} Debian packages and this checkout) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  },
};
