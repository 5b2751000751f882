// The port Jupyter listens on, on 127.0.0.1: the one asked for, or the first free from 8888.
import { createServer } from "node:net";
import { LabbookError } from "../errors.ts";

export const DEFAULT_PORT = 8888;
/** How many ports from DEFAULT_PORT on are tried. */
const PORTS_TRIED = 50;

/** The port bound when `port` can be listened on (0: any free port), else undefined. */
export function portIsFree(port: number): Promise<number | undefined> {
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

/** `requested` if it is free (0: any free port); by default DEFAULT_PORT or the next free one. */
export async function choosePort(requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    const port = await portIsFree(requested);
    if (port === undefined) throw new LabbookError(`port ${requested} on 127.0.0.1 is in use: choose another with --port`);
    return port;
  }
  for (let port = DEFAULT_PORT; port < DEFAULT_PORT + PORTS_TRIED; port++) {
    if ((await portIsFree(port)) !== undefined) return port;
  }
  throw new LabbookError(`ports ${DEFAULT_PORT}-${DEFAULT_PORT + PORTS_TRIED - 1} on 127.0.0.1 are all in use: choose one with --port`);
}
