// Which Jupyter `labbook notebook` opens: JupyterLab 4, installed from PyPI into .labbook/venv by set-up
// (infra/requirements.txt), or, on a machine that had no PyPI, Debian's classic Notebook 6.4 as a fallback.
// Both are Jupyter Server applications with the same kernel machinery; they differ in their options and URL.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KERNEL_NAME } from "../kernel/kernelspec.ts";
import { findExecutable, isExecutable } from "./process.ts";
import { REPO_ROOT } from "./sdk-link.ts";

export interface JupyterFrontend {
  name: "JupyterLab" | "classic Notebook";
  executable: string;
  /** Its command-line options: on 127.0.0.1:port only, serving notebookDir, labbook's kernel the default. */
  args(port: number, notebookDir: string): string[];
  /** Where a browser opens it, under the server's base URL. */
  path: string;
  /** Why it is the one, when it is the fallback: said to the user at start. */
  fallbackReason?: string;
}

export const VENV_JUPYTER_LAB = join(REPO_ROOT, ".labbook", "venv", "bin", "jupyter-lab");

const SERVER_ARGS = (port: number) => [
  "--no-browser",
  "--ip=127.0.0.1",
  `--port=${port}`,
  "--port-retries=0", // the port we checked, or fail: never a different one
  "--allow-root",
  `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
];

/** JupyterLab from .labbook/venv if set-up installed it, else classic Notebook from Debian, else undefined. */
export function chooseFrontend(): JupyterFrontend | undefined {
  if (isExecutable(VENV_JUPYTER_LAB)) {
    return {
      name: "JupyterLab",
      executable: VENV_JUPYTER_LAB,
      path: "/lab",
      args: (port, notebookDir) => [
        ...SERVER_ARGS(port),
        `--ServerApp.root_dir=${notebookDir}`,
        // Nothing leaves the machine: no update checks, no news feed. Real-time collaboration is an extension
        // (jupyter-collaboration) that labbook does not install, so it is off.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",
        // Only labbook's kernel: the venv's ipykernel (for papermill and nbclient) is not one for labs.
        `--KernelSpecManager.allowed_kernelspecs=${KERNEL_NAME}`,
        "--KernelSpecManager.ensure_native_kernel=False",
      ],
    };
  }
  const classic = findExecutable("jupyter-notebook");
  if (!classic) return undefined;
  return {
    name: "classic Notebook",
    executable: classic,
    path: "/tree",
    args: (port, notebookDir) => [...SERVER_ARGS(port), `--notebook-dir=${notebookDir}`],
    fallbackReason: `JupyterLab is not installed (no ${VENV_JUPYTER_LAB}; set-up installs it from PyPI): opening Debian's classic Notebook instead. Run "sudo infra/setup.sh labs" where PyPI is reachable for JupyterLab 4`,
  };
}

/**
 * The session's own Jupyter configuration folder (first on JUPYTER_CONFIG_PATH), made under `home`: JupyterLab's
 * announcements (a "get notified about Jupyter news?" prompt, which would fetch news from the internet) are off.
 */
export function frontendConfigDir(home: string): string {
  const dir = join(home, "config");
  mkdirSync(join(dir, "labconfig"), { recursive: true });
  writeFileSync(join(dir, "labconfig", "page_config.json"), JSON.stringify({ disabledExtensions: { "@jupyterlab/apputils-extension:announcements": true } }, null, 2));
  return dir;
}
