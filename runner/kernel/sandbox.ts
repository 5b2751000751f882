// The sandbox a student's kernel runs in when grading (and with `labbook run --sandbox`). A notebook cell
// is TypeScript with all of Node: `require("fs")` or `require("child_process")` in a cell would act on the
// grading host with the kernel's rights. In the sandbox the kernel:
// - runs as an unprivileged user (nobody), with no capabilities and no way to gain any (no_new_privs);
// - has mount, PID, IPC and UTS namespaces of its own: it sees only its own processes, the host's files
//   read-only, a private /tmp, and of the checkout only what it imports (sandbox-init.sh);
// - cannot see what a grader hides: the gradebook's folder, the instructor's lab, other submissions;
// - has a network namespace of its own with only a loopback, until the runner plugs it into its
//   cluster's LAN as a "workstation" (netns/workstation.ts): it reaches the nodes' sshd there, over TCP,
//   like a student's laptop in front of real VMs, and nothing else.
// The SDK works unchanged: LABBOOK_BACKEND=lan makes it connect over that LAN (backend/lan/driver.ts).
import { chownSync, existsSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAN_CLUSTER_VARIABLE } from "../backend/lan/driver.ts";
import { childrenOf } from "../host/procfs.ts";

const SANDBOX_INIT = fileURLToPath(new URL("./sandbox-init.sh", import.meta.url));
const CHECKOUT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** nobody:nogroup on Debian and Ubuntu. */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;

/** What of the checkout a kernel needs: Node.js, the npm packages, the SDK, its manifest, the launcher. */
const CHECKOUT_PARTS = [".labbook/node", ".labbook/compile-cache", ".labbook/kernel-snapshot", "node_modules", "dist", "package.json", "runner/kernel"];

/** Always hidden from a sandboxed kernel, like from a node: homes, scratch space, root's home. */
const ALWAYS_HIDDEN = ["/home", "/root", "/srv", "/media", "/var/tmp", "/var/backups", "/var/mail"];

export interface KernelSandbox {
  /** Host paths the kernel must not see: a grader's output, the instructor's lab, the submissions. */
  hidden: string[];
  /** labbook's scratch directories the kernel writes to (the run's grader notes), without white space. */
  writable: string[];
}

/** The node_modules folder through which the notebook's `import ... from "labbook"` resolves, if any. */
function labbookLinkDir(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", "labbook"))) return join(dir, "node_modules");
    if (dirname(dir) === dir) return undefined;
  }
}

/** The command that starts `command args...` in a sandbox, and the environment sandbox-init.sh reads. */
export function sandboxed(sandbox: KernelSandbox, kernelDir: string, cwd: string, command: string, args: string[]): { command: string; args: string[]; env: Record<string, string> } {
  // The kernel's directory holds its connection file and sockets: the kernel's user must own them.
  const writable = [kernelDir, ...sandbox.writable];
  for (const dir of writable) for (const path of [dir, ...readdirSync(dir).map((name) => join(dir, name))]) chownSync(path, SANDBOX_UID, SANDBOX_GID);
  return {
    command: "unshare",
    args: ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--propagation", "private", "--", "sh", SANDBOX_INIT, command, ...args],
    env: {
      WRITABLE_DIRS: writable.join(" "),
      LABBOOK_LINK_DIR: labbookLinkDir(cwd) ?? "",
      KERNEL_CWD: cwd,
      CHECKOUT,
      // Those that exist: the kernel snapshot only once built, the compile cache once a kernel ran.
      CHECKOUT_PARTS: CHECKOUT_PARTS.filter((part) => existsSync(join(CHECKOUT, part))).join(" "),
      HIDDEN_PATHS: [...ALWAYS_HIDDEN, ...sandbox.hidden].join("\n"),
      SANDBOX_UID: String(SANDBOX_UID),
      SANDBOX_GID: String(SANDBOX_GID),
      HOME: "/tmp",
      // The SDK inside reaches its cluster over the LAN, as the runner describes it here once plugged in.
      LABBOOK_BACKEND: "lan",
      [LAN_CLUSTER_VARIABLE]: join(kernelDir, "cluster.json"),
      // tslab's compile cache stays the checkout's, read-only: nothing a kernel does there can last.
      NODE_COMPILE_CACHE: `${CHECKOUT}/.labbook/compile-cache`,
    },
  };
}

/** The kernel's own process below `unshare` (pid) and the sandbox's PID 1 shell: the one running Node. */
export function sandboxedKernel(unshare: number, node = process.execPath): number | undefined {
  const init = childrenOf(unshare)[0];
  return init === undefined ? undefined : childrenOf(init).find((pid) => executableOf(pid) === node);
}

function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
