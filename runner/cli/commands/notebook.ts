// `labbook notebook`: classic Jupyter on labs/, listening on 127.0.0.1 only, with labbook's
// kernel registered privately (no global kernelspec needed) and the cluster up.
//
// Process layout: Jupyter runs detached, in its own process group, so a Ctrl-C at the
// terminal reaches labbook alone; labbook then sends SIGTERM to that group, and Jupyter shuts
// its kernels down (they run in sessions of their own). Jupyter also gets SIGTERM from the
// kernel if labbook dies (setpriv --pdeathsig), and every process it starts carries a marker
// variable, so any kernel still alive after Jupyter is gone is found and killed.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { startTimeOf, killOwned, type OwnedProcess } from "../../backend/netns/procfs.ts";
import { getBackend } from "../../backend/registry.ts";
import type { Backend } from "../../backend/types.ts";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { LabbookError, UsageError } from "../../errors.ts";
import { installKernelSpec, KERNEL_NAME } from "../../kernel/kernelspec.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliCommand } from "../command.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const LABS_DIR = join(REPO, "labs");
const DEFAULT_PORT = 8888;
/** Carried by Jupyter and inherited by its kernels: how leftovers are found, never by name. */
const OWNER_VARIABLE = "LABBOOK_NOTEBOOK_OWNER";
/** What the SDK reads to pick the cluster (runner/sdk/current-cluster.ts). */
const CLUSTER_VARIABLE = "LABBOOK_CLUSTER";
/** Jupyter gets this long to shut its kernels down after SIGTERM, then its group is killed. */
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 80;
/** Private directories in tmpdir(): the kernelspec, Jupyter's runtime files, the token. */
const HOME_PREFIX = "labbook-notebook-";

export interface NotebookServerOptions {
  /** Port on 127.0.0.1. Default: 8888 or the next free one; 0: any free port. */
  port?: number;
  /** The cluster notebooks use: attached if up, else started (and taken down by stop()). */
  name?: string;
  backend?: Backend | string;
  /** Default: the repository's labs/. Notebooks import "labbook" through <repo>/node_modules. */
  notebookDir?: string;
  /** Milliseconds for Jupyter to answer (default 60 s). */
  readyTimeoutMs?: number;
  /** Aborting it during start-up undoes what was done and rejects. */
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Each line Jupyter (and its kernels) print. */
  onLog?: (line: string) => void;
}

export interface NotebookServer {
  /** http://127.0.0.1:PORT/?token=TOKEN */
  url: string;
  token: string;
  port: number;
  /** http://127.0.0.1:PORT, without the token. */
  baseUrl: string;
  notebookDir: string;
  cluster: string;
  /** True when the cluster was started for this server: stop() takes it down. */
  clusterStarted: boolean;
  /** Resolves when Jupyter exits, whatever the reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines Jupyter and its kernels printed. */
  logTail(): string;
  /** Stops Jupyter and its kernels, and the cluster if this server started it. Idempotent. */
  stop(): Promise<void>;
}

/** The first executable called `name` on PATH. */
function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Notebooks `import ... from "labbook"`: tslab resolves it like Node 10, from the notebook's
 * folder up through <repo>/node_modules/labbook -> .. and package.json's dist/ entry points.
 */
export function ensureSdkForNotebooks(): void {
  const missing = ["dist/sdk/index.js", "dist/sdk/index.d.ts"].filter((file) => !existsSync(join(REPO, file)));
  if (missing.length > 0) throw new LabbookError(`the notebook SDK is not built (${missing.join(", ")} missing): run "npm run build" in ${REPO}`);
  const link = join(REPO, "node_modules", "labbook");
  try {
    lstatSync(link);
  } catch {
    symlinkSync("..", link); // what npm run build does
  }
  let target: string | undefined;
  try {
    target = realpathSync(link);
  } catch {
    target = undefined;
  }
  if (target !== realpathSync(REPO)) {
    throw new LabbookError(`${link} does not lead to this checkout: remove it and run "npm run build" in ${REPO}`);
  }
}

function portIsFree(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

async function choosePort(requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    const port = await portIsFree(requested);
    if (port === undefined) throw new LabbookError(`port ${requested} on 127.0.0.1 is in use: choose another with --port`);
    return port;
  }
  for (let port = DEFAULT_PORT; port < DEFAULT_PORT + 50; port++) {
    if ((await portIsFree(port)) !== undefined) return port;
  }
  throw new LabbookError(`ports ${DEFAULT_PORT}-${DEFAULT_PORT + 49} on 127.0.0.1 are all in use: choose one with --port`);
}

/** Attaches to the cluster, or starts it. Returns whether it was started here. */
async function ensureCluster(name: string, backend: Backend, onProgress?: (message: string) => void): Promise<boolean> {
  try {
    (await Cluster.attach(name, backend)).close();
  } catch (error) {
    if (!(error instanceof LabbookError) || !/no cluster named/.test(error.message)) throw error;
    onProgress?.(`starting cluster "${name}"`);
    (await Cluster.up({ backend, name, onProgress })).close();
    return true;
  }
  const status = (await backend.list()).find((c) => c.name === name);
  if (status && status.state !== "up") {
    throw new LabbookError(`cluster "${name}" is ${status.state}: "labbook down --name ${name}" removes it, then try again`);
  }
  return false;
}

/** Processes whose OWNER_VARIABLE satisfies `match`: Jupyter and its kernels. */
function markedProcesses(match: (marker: string) => boolean): OwnedProcess[] {
  const prefix = `${OWNER_VARIABLE}=`;
  const found: OwnedProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue;
    }
    const marker = environ.split("\0").find((e) => e.startsWith(prefix))?.slice(prefix.length);
    if (marker === undefined || !match(marker)) continue;
    const startTime = startTimeOf(Number(entry));
    if (startTime !== undefined) found.push({ pid: Number(entry), startTime });
  }
  return found;
}

/** A session's marker: the labbook process (pid and start time) and its private directory. */
function markerOf(home: string): string {
  return `${process.pid}:${startTimeOf(process.pid) ?? "?"}:${home}`;
}

/**
 * Kernels of a `labbook notebook` killed with -9: Jupyter then gets SIGTERM (pdeathsig) and
 * stops its kernels, but a kernel still starting can survive it. Their owner is gone.
 */
async function sweepAbandonedSessions(): Promise<void> {
  const ownerGone = (owner: string) => {
    const [pid, startTime] = owner.split(":");
    return startTimeOf(Number(pid)) !== startTime;
  };
  const abandoned = markedProcesses(ownerGone);
  if (abandoned.length > 0) await killOwned(abandoned);
  // Their private directories too: each names its owner in a file.
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(HOME_PREFIX)) continue;
    const home = join(tmpdir(), entry);
    let owner: string;
    try {
      owner = readFileSync(join(home, "owner"), "utf8");
    } catch {
      continue; // not (yet) ours to judge
    }
    if (ownerGone(owner)) rmSync(home, { recursive: true, force: true });
  }
}

function abortError(): LabbookError {
  return new LabbookError("interrupted while starting Jupyter");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts Jupyter on labs/ with the cluster up; resolves once it answers on 127.0.0.1. */
export async function startNotebookServer(options: NotebookServerOptions = {}): Promise<NotebookServer> {
  const { signal, onProgress } = options;
  const name = options.name ?? DEFAULT_CLUSTER_NAME;
  const backend = typeof options.backend === "object" ? options.backend : getBackend(options.backend);
  const notebookDir = options.notebookDir ?? LABS_DIR;
  const checkAbort = () => {
    if (signal?.aborted) throw abortError();
  };

  const jupyter = findExecutable("jupyter-notebook");
  if (!jupyter) {
    throw new LabbookError('Jupyter Notebook is not installed (no jupyter-notebook on PATH): "apt-get install jupyter-notebook", or "sudo infra/setup.sh labs"');
  }
  if (!existsSync(notebookDir)) throw new LabbookError(`no notebook directory ${notebookDir}`);
  ensureSdkForNotebooks();
  await sweepAbandonedSessions();

  // Undone in reverse order when start-up fails, and by stop().
  const undo: Array<() => Promise<unknown> | void> = [];
  const unwind = async () => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`labbook notebook: cleanup: ${(error as Error).message}\n`);
      }
    }
  };

  try {
    // A private Jupyter data path: the kernelspec, the runtime files and the token live here.
    const home = mkdtempSync(join(tmpdir(), HOME_PREFIX));
    undo.push(() => rmSync(home, { recursive: true, force: true }));
    const marker = markerOf(home);
    writeFileSync(join(home, "owner"), marker);
    const dataDir = join(home, "share", "jupyter");
    installKernelSpec({ prefix: home });
    const runtimeDir = join(home, "runtime");
    mkdirSync(runtimeDir, { mode: 0o700 });
    const token = randomBytes(24).toString("hex");
    const tokenFile = join(home, "token");
    writeFileSync(tokenFile, token, { mode: 0o600 }); // not on the command line, where ps shows it

    // The port first: a port in use should not cost a cluster's start and stop.
    const port = await choosePort(options.port);
    checkAbort();
    const clusterStarted = await ensureCluster(name, backend, onProgress);
    if (clusterStarted) {
      undo.push(async () => {
        onProgress?.(`taking down cluster "${name}"`);
        await backend.down(name);
      });
    }
    checkAbort();

    const args = [
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0", // the port we checked, or fail: never a different one
      `--notebook-dir=${notebookDir}`,
      "--allow-root",
      `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
    ];
    // If labbook dies without cleaning up (kill -9), the kernel sends Jupyter SIGTERM.
    const setpriv = findExecutable("setpriv");
    const [command, argv] = setpriv ? [setpriv, ["--pdeathsig", "TERM", "--", jupyter, ...args]] : [jupyter, args];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JUPYTER_PATH: [dataDir, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
      JUPYTER_RUNTIME_DIR: runtimeDir,
      JUPYTER_TOKEN_FILE: tokenFile,
      [CLUSTER_VARIABLE]: name,
      LABBOOK_BACKEND: backend.name,
      [OWNER_VARIABLE]: marker,
      // Quiets a debugpy warning about frozen modules that Debian's Python 3.11 prints at start.
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    };
    delete env.JUPYTER_TOKEN;
    onProgress?.(`starting Jupyter on 127.0.0.1:${port}`);
    const child: ChildProcess = spawn(command, argv, { cwd: notebookDir, detached: true, stdio: ["ignore", "pipe", "pipe"], env });
    const tail: string[] = [];
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, sig) => resolve((exitInfo = { code, signal: sig })));
      child.once("error", (error) => {
        tail.push(`labbook: cannot start ${command}: ${error.message}`);
        resolve((exitInfo = { code: null, signal: null }));
      });
    });

    const collect = (stream: NodeJS.ReadableStream | null) => {
      let partial = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          tail.push(line);
          if (tail.length > LOG_TAIL_LINES) tail.shift();
          options.onLog?.(line);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    const logTail = () => tail.join("\n");

    undo.push(async () => {
      if (!exitInfo && child.pid !== undefined) {
        onProgress?.("stopping Jupyter and its kernels");
        const group = -child.pid;
        try {
          process.kill(group, "SIGTERM");
        } catch {
          // gone already
        }
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS)));
        const first = await Promise.race([exited, grace]);
        clearTimeout(timer);
        if (first === "timeout") {
          try {
            process.kill(group, "SIGKILL");
          } catch {
            // gone meanwhile
          }
          await exited;
        }
      }
      const leftovers = markedProcesses((m) => m === marker);
      if (leftovers.length > 0) await killOwned(leftovers);
    });

    const baseUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      checkAbort();
      if (exitInfo) {
        const how = exitInfo.signal ? `signal ${exitInfo.signal}` : `exit code ${exitInfo.code}`;
        throw new LabbookError(`Jupyter stopped (${how}) before it answered on ${baseUrl}:\n${logTail()}`);
      }
      if (Date.now() > deadline) throw new LabbookError(`Jupyter did not answer on ${baseUrl} within ${options.readyTimeoutMs ?? 60_000} ms:\n${logTail()}`);
      try {
        // With our token: a 200 proves this is our server, not something else on the port.
        const response = await fetch(`${baseUrl}/api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }

    let stopping: Promise<void> | undefined;
    return {
      url: `${baseUrl}/?token=${token}`,
      token,
      port,
      baseUrl,
      notebookDir,
      cluster: name,
      clusterStarted,
      exited,
      logTail,
      stop: () => (stopping ??= unwind()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export const notebook: CliCommand = {
  usage: [
    "labbook notebook [--port P] [--name C] [--backend netns] [--no-browser]",
    "  starts Jupyter Notebook on labs/, on 127.0.0.1 only, with labbook's TypeScript kernel and the cluster C",
    '  (default "labbook") up, and prints its URL with the access token. Ctrl-C stops Jupyter and its kernels,',
    "  and takes the cluster down if this command started it. No browser is opened (--no-browser is the default).",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("notebook", argv, {
      ...CLUSTER_OPTIONS,
      port: { type: "string", short: "p" },
      "no-browser": { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`labbook notebook: unexpected argument "${positionals[0]}"`);
    const port = values.port === undefined ? undefined : positiveInteger("--port", values.port);
    if (port !== undefined && port > 65535) throw new UsageError(`--port must be at most 65535, got "${values.port}"`);

    const controller = new AbortController();
    let caught: keyof typeof SIGNAL_CODES | undefined;
    let wake: () => void = () => {};
    const signalled = new Promise<void>((resolve) => (wake = resolve));
    const handlers = (Object.keys(SIGNAL_CODES) as Array<keyof typeof SIGNAL_CODES>).map((sig) => {
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
          name: values.name,
          backend: values.backend,
          signal: controller.signal,
          onProgress: (message) => process.stderr.write(`  ${message}...\n`),
          onLog: (line) => {
            if (ready) process.stderr.write(`${line}\n`);
          },
        });
      } catch (error) {
        if (caught) return SIGNAL_CODES[caught];
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
      if (outcome && !caught) {
        const how = outcome.info.signal ? `signal ${outcome.info.signal}` : `exit code ${outcome.info.code}`;
        process.stderr.write(`labbook: Jupyter exited (${how}); cleaning up...\n`);
      }
      await server.stop();
      process.stderr.write("labbook: stopped\n");
      if (caught || !outcome) return 0;
      return outcome.info.code === 0 ? 0 : 1;
    } finally {
      for (const [sig, handler] of handlers) process.off(sig, handler);
    }
  },
};
