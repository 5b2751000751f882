import { UsageError } from "../errors.ts";
import { NetnsBackend } from "./netns/driver.ts";
import { VagrantBackend } from "./vagrant/driver.ts";
import type { Backend } from "./types.ts";

const drivers: Record<string, () => Backend> = {
  netns: () => new NetnsBackend(),
  vagrant: () => new VagrantBackend(),
};

export const DEFAULT_BACKEND = "netns";

export function backendNames(): string[] {
  return Object.keys(drivers);
}

export function getBackend(name: string = process.env.LABBOOK_BACKEND ?? DEFAULT_BACKEND): Backend {
  const make = drivers[name];
  if (!make) throw new UsageError(`unknown backend "${name}" (available: ${backendNames().join(", ")})`);
  return make();
}
