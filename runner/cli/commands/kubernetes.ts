import { buildKubernetes, currentBuild } from "../../kubernetes/build.ts";
import { KUBERNETES_VERSION } from "../../kubernetes/versions.ts";
import { resolve } from "node:path";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { importImages } from "../../kubernetes/image-import.ts";
import { LabbookError, UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const kubernetes: CliCommand = {
  usage: [
    "labbook kubernetes build [--force]   build Kubernetes, CoreDNS, flannel and the images from Go modules (cached; about 15 minutes the first time on 2 cores)",
    "labbook kubernetes where             print the build's folder, or nothing and exit 1 if it is not built",
    "labbook kubernetes import [--name C] ARCHIVE...",
    "                                     load docker-archives (docker save, labbook grader image) into every node's containerd",
    "                                     and allow their tags: no registry is reachable, so pods may name only images the nodes have",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("kubernetes", argv, { ...CLUSTER_OPTIONS, force: { type: "boolean" } });
    const [verb, ...rest] = positionals;
    if (verb === "import") {
      if (rest.length === 0) throw new UsageError(`usage:\n${this.usage}`);
      const cluster = await Cluster.attach(values.name ?? DEFAULT_CLUSTER_NAME, values.backend);
      try {
        if (!cluster.has("kubernetes")) throw new LabbookError(`cluster "${cluster.name}" runs no Kubernetes: start one with "labbook up --kubernetes"`);
        const tags = await importImages(cluster, rest.map((archive) => resolve(archive)), (message) => process.stderr.write(`labbook kubernetes: ${message}\n`));
        process.stdout.write(`${tags.join(", ")}: on every node of "${cluster.name}", and allowed in pods\n`);
        return 0;
      } finally {
        cluster.close();
      }
    }
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
