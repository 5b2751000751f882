// The stand-in internet (network.internet in the topology): an RFC 5737 address on the loopback of a
// namespace of labbook's behind the LAN's gateway (the embedded cluster's world, the VMs' VM host), and a
// web server there that answers every request with the client address it saw, so that a lab can tell a
// node's address (NAT) from a pod's. Never in the host's root namespace.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";
import { MARKER_VARIABLE } from "../host/procfs.ts";
import { hostExec } from "./netns/host-exec.ts";

const INTERNET_REPLY = fileURLToPath(new URL("./internet-reply.sh", import.meta.url));

export interface StandInInternet {
  /** The holder whose network and PID namespaces it lives in: it dies with that holder. */
  pid: number;
  address: string;
  /** A folder of the cluster's state for the reply script. */
  stateDir: string;
  /** The cluster's process marker (host/procfs.ts). */
  marker: string;
  /** Add the address to lo too (the VM host; the embedded world adds it with its other links). */
  addAddress?: boolean;
}

export async function startStandInInternet({ pid, address, stateDir, marker, addAddress = false }: StandInInternet): Promise<void> {
  // A copy in the state dir: socat's EXEC splits its command at spaces, and the checkout's path may have some.
  const reply = join(stateDir, "internet-reply.sh");
  if (/\s/.test(reply)) throw new LabbookError(`the state directory ${stateDir} contains white space; the stand-in internet cannot start from it`);
  copyFileSync(INTERNET_REPLY, reply);
  if (addAddress) {
    await hostExec("nsenter", ["-t", String(pid), "-n", "sh", "-c", `ip link set lo up && ip addr replace "$0"/32 dev lo`, address], { step: "give the stand-in internet its address" });
  }
  // Inside the holder's PID namespace: it dies with the holder's init.
  // Its stdio must not hold hostExec's pipes open, or hostExec would wait for it to exit.
  const listen = `TCP-LISTEN:80,bind=${address},fork,reuseaddr`;
  await hostExec("nsenter", ["-t", String(pid), "-a", "sh", "-c", `setsid -f socat "$0" "$1" </dev/null >/dev/null 2>&1`, listen, `EXEC:sh ${reply}`], {
    step: "start the stand-in internet",
    env: { [MARKER_VARIABLE]: marker },
  });
}
