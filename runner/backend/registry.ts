import { UsageError } from "../errors.ts";
import { LanBackend } from "./lan/driver.ts";
import { NetnsBackend } from "./netns/driver.ts";
import { VagrantBackend } from "./vagrant/driver.ts";
import type { Backend } from "./types.ts";

const drivers: Record<string, () => Backend> = {
  netns: () => new NetnsBackend(),
  vagrant: () => new VagrantBackend(),
  lan: () => new LanBackend(),
};

export const DEFAULT_BACKEND = "netns";

/** Internal: what a sandboxed kernel uses (kernel/sandbox.ts); nobody picks it, and it has nothing to list or take down. */
const INTERNAL = new Set(["lan"]);

export function backendNames(): string[] {
  return Object.keys(drivers).filter((name) => !INTERNAL.has(name));
}

export function getBackend(name: string = process.env.LABBOOK_BACKEND ?? DEFAULT_BACKEND): Backend {
  const make = drivers[name];
  if (!make) throw new UsageError(`unknown backend "${name}" (available: ${backendNames().join(", ")})`);
  return make();
}
