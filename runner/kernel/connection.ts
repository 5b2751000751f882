// A Jupyter connection file: five free loopback ports and an HMAC key.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";

export interface ConnectionInfo {
  /** tcp on loopback; ipc (Unix sockets, named `${ip}:${port}`) for a sandboxed kernel, whose loopback is its own. */
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** A port the kernel can bind on loopback: asked of the kernel, then released at once. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function newConnectionInfo(kernelName = "tslab"): Promise<ConnectionInfo> {
  const ports = new Set<number>();
  while (ports.size < 5) ports.add(await freePort());
  const [shell, iopub, stdin, control, hb] = [...ports] as [number, number, number, number, number];
  return {
    transport: "tcp",
    ip: "127.0.0.1", // loopback only: kernels never listen on a network address
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
}

/** Unix sockets in the kernel's own directory: they reach across network namespaces, and need no port. */
export function newIpcConnectionInfo(dir: string, kernelName = "tslab"): ConnectionInfo {
  return {
    transport: "ipc",
    ip: `${dir}/kernel`,
    shell_port: 1,
    iopub_port: 2,
    stdin_port: 3,
    control_port: 4,
    hb_port: 5,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
}
