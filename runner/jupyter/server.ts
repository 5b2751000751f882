// startNotebookServer(): Jupyter (JupyterLab 4, see frontend.ts) on labs/, listening on 127.0.0.1 only, with labbook's
// kernel registered privately (no global kernelspec needed) and the cluster up. What it sets
// up is undone in reverse order when start-up fails, and by stop().
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { getBackend } from "../backend/registry.ts";
import type { Backend } from "../backend/types.ts";
import { DEFAULT_CLUSTER_NAME } from "../cluster/cluster.ts";
import { LabbookError } from "../errors.ts";
import { installKernelSpec } from "../kernel/kernelspec.ts";
import { CLUSTER_VARIABLE } from "../sdk/current-cluster.ts";
import { TIME_SCALE_VARIABLE } from "../sdk/time-scale.ts";
import { ensureCluster } from "./cluster.ts";
import { choosePort } from "./ports.ts";
import { chooseFrontend, frontendConfigDir, VENV_JUPYTER_LAB, type JupyterFrontend } from "./frontend.ts";
import { spawnJupyter, waitUntilAnswering, type JupyterExit } from "./process.ts";
import { ensureSdkForNotebooks, REPO_ROOT } from "./sdk-link.ts";
import { createSession, killSessionProcesses, OWNER_VARIABLE, sweepAbandonedSessions } from "./sessions.ts";
import { prepareWarmKernels } from "../kernel/warm-up.ts";

export const LABS_DIR = join(REPO_ROOT, "labs");
const DEFAULT_READY_TIMEOUT_MS = 60_000;

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
  /** http://127.0.0.1:PORT/lab?token=TOKEN (JupyterLab), or /tree?token=TOKEN (the classic fallback) */
  url: string;
  /** Which Jupyter it is. */
  frontend: JupyterFrontend["name"];
  token: string;
  port: number;
  /** http://127.0.0.1:PORT, without the token. */
  baseUrl: string;
  notebookDir: string;
  cluster: string;
  /** True when the cluster was started for this server: stop() takes it down. */
  clusterStarted: boolean;
  /** Resolves when Jupyter exits, whatever the reason. */
  exited: Promise<JupyterExit>;
  /** The last lines Jupyter and its kernels printed. */
  logTail(): string;
  /** Stops Jupyter and its kernels, and the cluster if this server started it. Idempotent. */
  stop(): Promise<void>;
}

/** Starts Jupyter on labs/ with the cluster up; resolves once it answers on 127.0.0.1. */
export async function startNotebookServer(options: NotebookServerOptions = {}): Promise<NotebookServer> {
  const { signal, onProgress } = options;
  const name = options.name ?? DEFAULT_CLUSTER_NAME;
  const backend = typeof options.backend === "object" ? options.backend : getBackend(options.backend);
  const notebookDir = options.notebookDir ?? LABS_DIR;
  const checkAbort = () => {
    if (signal?.aborted) throw new LabbookError("interrupted while starting Jupyter");
  };

  const frontend = chooseFrontend();
  if (!frontend) {
    throw new LabbookError(`Jupyter is not installed (no ${VENV_JUPYTER_LAB}, no jupyter-notebook on PATH): "sudo infra/setup.sh labs" installs JupyterLab 4 from PyPI`);
  }
  if (frontend.fallbackReason) onProgress?.(frontend.fallbackReason);
  if (!existsSync(notebookDir)) throw new LabbookError(`no notebook directory ${notebookDir}`);
  ensureSdkForNotebooks();
  prepareWarmKernels(onProgress);
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
    const { home, marker } = createSession();
    undo.push(() => rmSync(home, { recursive: true, force: true }));
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

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JUPYTER_PATH: [dataDir, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
      // JupyterLab's layout (open tabs) for this session only: a later session must not reopen files of an earlier one.
      JUPYTERLAB_WORKSPACES_DIR: join(home, "workspaces"),
      JUPYTER_CONFIG_PATH: [frontendConfigDir(home), process.env.JUPYTER_CONFIG_PATH].filter(Boolean).join(delimiter),
      JUPYTER_RUNTIME_DIR: runtimeDir,
      JUPYTER_TOKEN_FILE: tokenFile,
      [CLUSTER_VARIABLE]: name,
      LABBOOK_BACKEND: backend.name,
      [TIME_SCALE_VARIABLE]: String(backend.timeScale?.() ?? 1),
      // Every process Jupyter starts inherits it: any kernel still alive after Jupyter is gone is found and killed.
      [OWNER_VARIABLE]: marker,
      // Quiets a debugpy warning about frozen modules that Debian's Python 3.11 prints at start.
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    };
    delete env.JUPYTER_TOKEN;
    onProgress?.(`starting ${frontend.name} on 127.0.0.1:${port}`);
    const jupyter = spawnJupyter({ executable: frontend.executable, args: frontend.args(port, notebookDir), notebookDir, env, onLog: options.onLog });
    undo.push(async () => {
      if (jupyter.running()) {
        onProgress?.("stopping Jupyter and its kernels");
        await jupyter.stop();
      }
      await killSessionProcesses(marker);
    });

    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(jupyter, baseUrl, token, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, checkAbort);

    let stopping: Promise<void> | undefined;
    return {
      url: `${baseUrl}${frontend.path}?token=${token}`,
      frontend: frontend.name,
      token,
      port,
      baseUrl,
      notebookDir,
      cluster: name,
      clusterStarted,
      exited: jupyter.exited,
      logTail: jupyter.logTail,
      stop: () => (stopping ??= unwind()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
