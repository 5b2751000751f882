import { buildKubernetes, currentBuild } from "../../kubernetes/build.ts";
import { KUBERNETES_VERSION } from "../../kubernetes/versions.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const kubernetes: CliCommand = {
  usage: [
    "labbook kubernetes build [--force]   build Kubernetes, CoreDNS, flannel and the images from Go modules (cached; about 7 minutes the first time on 2 cores)",
    "labbook kubernetes where             print the build's folder, or nothing and exit 1 if it is not built",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("kubernetes", argv, { force: { type: "boolean" } });
    const [verb, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`labbook kubernetes: unexpected argument "${rest[0]}"`);
    if (verb === "build") {
      const build = await buildKubernetes({ force: values.force ?? false, onProgress: (message) => process.stderr.write(`labbook kubernetes: ${message}\n`) });
      process.stdout.write(`Kubernetes ${build.version}: ${build.dir}\n`);
      return 0;
    }
    if (verb === "where") {
      const build = currentBuild();
      if (!build) {
        process.stderr.write(`Kubernetes ${KUBERNETES_VERSION} is not built: run "labbook kubernetes build"\n`);
        return 1;
      }
      process.stdout.write(`${build.dir}\n`);
      return 0;
    }
    throw new UsageError(`usage:\n${this.usage}`);
  },
};
