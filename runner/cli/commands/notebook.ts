// `labbook notebook`: Jupyter on labs/ (runner/jupyter/server.ts) until Ctrl-C. Jupyter runs in
// its own process group, so a Ctrl-C at the terminal reaches labbook alone; labbook then stops
// Jupyter, its kernels and the cluster if it started it.
import { existsSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { assertSdkResolves } from "../../jupyter/sdk-link.ts";
import { describeExit } from "../../jupyter/process.ts";
import { LABS_DIR, startNotebookServer, type NotebookServer } from "../../jupyter/server.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { SIGNALS } from "../interrupt.ts";
import { SEED_VARIABLE, VARIANTS_VARIABLE } from "../../sdk/seed.ts";
import { findCourseFile } from "../../course/course-file.ts";
import { variantKey } from "../../grade/variants.ts";
import { labVariants } from "../../notebook/variants.ts";
import { labIdOf } from "../../notebook/lab-id.ts";
import { readNotebook } from "../../notebook/read.ts";
import { expandNotebookPaths } from "../../run/run-notebooks.ts";

/** Each lab's variant key for one student, by lab id, for the labs in `dir` that offer variants. */
function studentVariants(dir: string, student: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const path of expandNotebookPaths([dir])) {
    const notebook = readNotebook(path);
    const count = labVariants(notebook, path);
    if (count === undefined) continue;
    const secret = findCourseFile(path)?.secret;
    if (!secret) throw new UsageError(`--student: ${path} offers variants, and no course file (labbook.yaml) with a secret was found above it`);
    keys[labIdOf(notebook, path)] = variantKey(secret, labIdOf(notebook, path), student, count);
  }
  return keys;
}

type CaughtSignal = keyof typeof SIGNALS;

export const notebook: CliCommand = {
  usage: [
    "labbook notebook [DIR] [--port P] [--name C] [--backend netns|vagrant] [--seed S] [--student ID] [--no-browser]",
    "  starts JupyterLab 4 (the classic Notebook where set-up had no PyPI) on DIR (default: this checkout's labs/; a course folder after `labbook init DIR`), on 127.0.0.1 only, with labbook's TypeScript kernel and the cluster C",
    '  (default "labbook") up, and prints its URL with the access token. Ctrl-C stops Jupyter and its kernels,',
    "  and takes the cluster down if this command started it. No browser is opened (--no-browser is the default).",
    "  --seed S chooses the labs' variants (lab 08's fault), as `labbook run --seed` does; --student ID gives each",
    "  lab that offers variants that student's (from the course file's secret), as grading does.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("notebook", argv, {
      ...CLUSTER_OPTIONS,
      port: { type: "string", short: "p" },
      "no-browser": { type: "boolean" },
      seed: { type: "string" },
      student: { type: "string" },
    });
    if (positionals.length > 1) throw new UsageError(`labbook notebook: one folder, got "${positionals.join('", "')}"`);
    const notebookDir = positionals[0] === undefined ? undefined : resolve(positionals[0]);
    if (notebookDir !== undefined) {
      if (!existsSync(notebookDir) || !statSync(notebookDir).isDirectory()) throw new UsageError(`labbook notebook: ${positionals[0]} is not a folder`);
      assertSdkResolves([notebookDir], "labbook notebook");
    }
    const port = values.port === undefined ? undefined : positiveInteger("--port", values.port);
    if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, got "${values.port}"`);

    // Kernels inherit Jupyter's environment, and Jupyter inherits ours.
    if (values.seed !== undefined) process.env[SEED_VARIABLE] = values.seed;
    if (values.student !== undefined) process.env[VARIANTS_VARIABLE] = JSON.stringify(studentVariants(notebookDir ?? LABS_DIR, values.student));
    const controller = new AbortController();
    let caught: CaughtSignal | undefined;
    let wake: () => void = () => {};
    const signalled = new Promise<void>((resolve) => (wake = resolve));
    const handlers = (Object.keys(SIGNALS) as CaughtSignal[]).map((sig) => {
      const handler = () => {
        if (caught) {
          process.stderr.write(`labbook: still stopping, please wait...\n`);
          return;
        }
        caught = sig;
        process.stderr.write(`\nlabbook: ${sig}, stopping...\n`);
        controller.abort();
        wake();
      };
      process.on(sig, handler);
      return [sig, handler] as const;
    });

    let ready = false;
    try {
      let server: NotebookServer;
      try {
        server = await startNotebookServer({
          port,
          ...(notebookDir === undefined ? {} : { notebookDir }),
          name: values.name,
          backend: values.backend,
          signal: controller.signal,
          onProgress: (message) => process.stderr.write(`  ${message}...\n`),
          onLog: (line) => {
            if (ready) process.stderr.write(`${line}\n`);
          },
        });
      } catch (error) {
        if (caught) return SIGNALS[caught];
        throw error;
      }
      ready = true;
      const where = relative(process.cwd(), server.notebookDir) || ".";
      const clusterNote = server.clusterStarted ? "started for this session; Ctrl-C takes it down" : "already up; it stays up";
      process.stdout.write(
        [
          `Jupyter is serving ${where} on 127.0.0.1:${server.port} with cluster "${server.cluster}" (${clusterNote}).`,
          `  open: ${server.url}`,
          `  from another machine: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>, then open the same URL`,
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      const outcome = await Promise.race([server.exited.then((info) => ({ info })), signalled.then(() => undefined)]);
      if (outcome && !caught) process.stderr.write(`labbook: Jupyter exited (${describeExit(outcome.info)}); cleaning up...\n`);
      await server.stop();
      process.stderr.write("labbook: stopped\n");
      if (caught || !outcome) return 0;
      return outcome.info.code === 0 ? 0 : 1;
    } finally {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    }
  },
};
