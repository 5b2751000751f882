import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { boxCacheDir, boxKubernetesEnv } from "../../backend/vagrant/box-kubernetes.ts";
import { localBoxFile } from "../../backend/vagrant/box.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

const SCRIPTS: Record<string, string> = {
  build: fileURLToPath(new URL("../../../infra/box/build.sh", import.meta.url)),
  check: fileURLToPath(new URL("../../../infra/box/check.sh", import.meta.url)),
};

export const box: CliCommand = {
  usage: [
    "labbook box build     build the Vagrant box offline into /var/cache/labbook/box (LABBOOK_CACHE_DIR): a debootstrap of Debian",
    "                      bookworm with the labs' packages, and labbook's Kubernetes build with every image it needs",
    "                      (built first if it is not; cached by its inputs)",
    "labbook box check     boot the built box once with qemu, in a namespace of its own, and check it over SSH",
    "  `labbook up --backend vagrant` uses the built box when there is one",
  ].join("\n"),
  async run(argv) {
    const { positionals } = parseCommandArgs("box", argv, {});
    const [action, ...rest] = positionals;
    const script = action === undefined ? undefined : SCRIPTS[action];
    if (!script || rest.length > 0) throw new UsageError(`usage: labbook box build | labbook box check`);
    // Kubernetes first: the box bakes it in, so that `LABBOOK_KUBERNETES=1 vagrant up` needs no network.
    const env = action === "build" ? await boxKubernetesEnv((message) => process.stderr.write(`labbook box: ${message}\n`)) : {};
    const args = action === "build" ? [script, boxCacheDir()] : [script, localBoxFile()];
    // The scripts print their own progress and name what is missing; their exit code is ours.
    const child = spawn("sh", args, { stdio: "inherit", env: { ...process.env, ...env } });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve(code ?? 1));
    });
  },
};
