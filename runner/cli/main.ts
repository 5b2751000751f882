import { LabbookError } from "../errors.ts";
import type { CliCommand } from "./command.ts";

// Loaded on demand: `labbook status` should not pay for ssh2, YAML and JSON Schema.
const commands: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  up: { summary: "start a cluster", load: async () => (await import("./commands/up.ts")).up },
  down: { summary: "destroy a cluster, or with --all every cluster and the leftovers of crashed runs", load: async () => (await import("./commands/down.ts")).down },
  reset: { summary: "a clean start between labs on VMs: every VM back to the snapshot `up` took (--save takes it now)", load: async () => (await import("./commands/reset.ts")).reset },
  status: { summary: "list clusters and their nodes", load: async () => (await import("./commands/status.ts")).status },
  kubectl: { summary: "kubectl on a Kubernetes cluster (labbook up --kubernetes): labbook kubectl -- get nodes", load: async () => (await import("./commands/kubectl.ts")).kubectl },
  kubernetes: { summary: "kubernetes build: build Kubernetes, CoreDNS, flannel and the images from Go modules (cached)", load: async () => (await import("./commands/kubernetes.ts")).kubernetes },
  exec: { summary: "run a command on a node, streaming its output; exits with the command's exit code", load: async () => (await import("./commands/exec.ts")).exec },
  ssh: { summary: "an interactive shell on a node, like vagrant ssh", load: async () => (await import("./commands/ssh.ts")).ssh },
  run: { summary: "run lab notebooks headless, each on a fresh cluster (or on the VMs of --backend vagrant); writes executed notebooks and reports", load: async () => (await import("./commands/run.ts")).run },
  params: { summary: "list a notebook's parameters, which labbook run -p NAME VALUE sets (papermill's way)", load: async () => (await import("./commands/params.ts")).params },
  kernel: { summary: "kernel install: register labbook's patched tslab kernel with Jupyter", load: async () => (await import("./commands/kernel.ts")).kernel },
  lab: { summary: "lab build: write each lab's notebook from its source (labs/NN-name/NN-name.lab.ts); lab typecheck: type-check the labs' cells", load: async () => (await import("./commands/lab.ts")).lab },
  init: { summary: "make a folder of your own (a course repository) a place for labs: the SDK linked, a template lab", load: async () => (await import("./commands/init.ts")).init },
  "check-lab": { summary: "before assigning a lab: run it as grading does, with the negative control, and warn about risky patterns", load: async () => (await import("./commands/check-lab.ts")).checkLabCommand },
  assign: { summary: "write the student version of an instructor lab: no solutions, no hidden checks", load: async () => (await import("./commands/assign.ts")).assign },
  grade: { summary: "grade student submissions of a lab, each on its own cluster, many at once; writes a gradebook and feedback", load: async () => (await import("./commands/grade.ts")).grade },
  grader: { summary: "grader image: build the grader's container image from this checkout, for grading as a Kubernetes Job", load: async () => (await import("./commands/grader.ts")).grader },
  gradebook: { summary: "gradebook merge: join the gradebooks of sharded grade runs", load: async () => (await import("./commands/gradebook.ts")).gradebook },
  notebook: { summary: "start Jupyter on labs/ (127.0.0.1 only) with the cluster up, and print its URL", load: async () => (await import("./commands/notebook.ts")).notebook },
  doctor: { summary: "check this machine: root, kernel features, packages; prints what is missing and the fix", load: async () => (await import("./commands/doctor.ts")).doctor },
  box: { summary: "box build: make the Vagrant backend's box offline; box check: boot it once and check it", load: async () => (await import("./commands/box.ts")).box },
  smoke: { summary: "bring up a cluster, check that its nodes work and reach each other, take it down", load: async () => (await import("./commands/smoke.ts")).smoke },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "labbook: Kubernetes networking and storage labs on an embedded cluster",
    "",
    "usage: labbook <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'labbook <command> --help' for a command's options, 'labbook --version' for the version. Exit codes: 0 ok, 1 failure, 2 usage.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" && rest[0] ? commands[rest[0]] : undefined;
    process.stdout.write(`${topic ? (await topic.load()).usage : help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    // The checkout's own package.json: what a bug report and a course's README pin.
    const { readFileSync } = await import("node:fs");
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`labbook ${version} (node ${process.version})\n`);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`labbook: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest[0] === "--help" || rest[0] === "-h") {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof LabbookError) {
    process.stderr.write(`labbook: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`labbook: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
