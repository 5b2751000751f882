import { LabbookError } from "../errors.ts";
import { kubernetesClusterRoom } from "../kubernetes/inotify.ts";

/**
 * A Kubernetes lab's submissions each get a Kubernetes cluster, and the machine's inotify instances cap how
 * many run at once (kubernetes/inotify.ts): more jobs than fit would fail as infrastructure errors.
 */
export function kubernetesJobs(asked: number, nodes: number): number {
  const { room, used, max } = kubernetesClusterRoom(nodes);
  if (room === 0) throw new LabbookError(`this lab runs on Kubernetes, and no Kubernetes cluster fits in the inotify instances left (root holds ${used} of fs.inotify.max_user_instances=${max}): take down other Kubernetes clusters first (labbook status)`);
  if (room < asked) process.stderr.write(`labbook grade: this lab runs on Kubernetes; grading ${room} submission${room === 1 ? "" : "s"} at once, not ${asked}: each cluster holds about 60 of the machine's ${max} inotify instances (fs.inotify.max_user_instances; labbook never raises it)\n`);
  return Math.min(room, asked);
}
