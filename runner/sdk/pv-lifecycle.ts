// The rules a PersistentVolume follows (lab 09), as a small model: binding a claim to the
// smallest fitting volume, Released after the claim goes, and the reclaim policies. It is
// labbook's model of the PV controller, not Kubernetes; what it does to data is real: each
// volume is a directory on a node, and Recycle and Delete really empty or remove it.
import type { Node } from "../cluster/node.ts";

export type AccessMode = "ReadWriteOnce" | "ReadOnlyMany" | "ReadWriteMany";
export type ReclaimPolicy = "Retain" | "Recycle" | "Delete";
export type VolumePhase = "Available" | "Bound" | "Released" | "Failed";

export interface PersistentVolume {
  name: string;
  capacityGi: number;
  accessModes: AccessMode[];
  reclaimPolicy: ReclaimPolicy;
  storageClassName: string;
  /** The directory on the node that holds the data (a hostPath or local volume). */
  path: string;
  phase: VolumePhase;
  claim?: string;
}

export interface PersistentVolumeClaim {
  name: string;
  requestGi: number;
  accessModes: AccessMode[];
  storageClassName: string;
  phase: "Pending" | "Bound";
  volume?: string;
}

const SHORT: Record<AccessMode, string> = { ReadWriteOnce: "RWO", ReadOnlyMany: "ROX", ReadWriteMany: "RWX" };

export class VolumeLifecycle {
  readonly volumes: PersistentVolume[] = [];
  readonly claims: PersistentVolumeClaim[] = [];

  constructor(private readonly node: Node) {}

  async createVolume(spec: Omit<PersistentVolume, "phase" | "claim">): Promise<PersistentVolume> {
    await this.node.$`mkdir -p ${spec.path}`;
    const volume: PersistentVolume = { ...spec, phase: "Available" };
    this.volumes.push(volume);
    console.log(`persistentvolume/${volume.name} created: Available (${spec.path} on ${this.node.name})`);
    return volume;
  }

  /** A new claim binds at once to the smallest Available volume that fits, or stays Pending. */
  createClaim(spec: Omit<PersistentVolumeClaim, "phase" | "volume">): PersistentVolumeClaim {
    const claim: PersistentVolumeClaim = { ...spec, phase: "Pending" };
    this.claims.push(claim);
    const fits = this.volumes
      .filter((v) => v.phase === "Available" && v.storageClassName === claim.storageClassName && v.capacityGi >= claim.requestGi)
      .filter((v) => claim.accessModes.every((mode) => v.accessModes.includes(mode)))
      .sort((a, b) => a.capacityGi - b.capacityGi);
    const volume = fits[0];
    if (volume) {
      volume.phase = "Bound";
      volume.claim = claim.name;
      claim.phase = "Bound";
      claim.volume = volume.name;
    }
    console.log(`persistentvolumeclaim/${claim.name} created: ${claim.phase}${volume ? ` to ${volume.name}` : " (no volume fits)"}`);
    return claim;
  }

  /** The claim goes; its volume is Released, then its reclaim policy acts on it. */
  async deleteClaim(name: string): Promise<void> {
    const index = this.claims.findIndex((c) => c.name === name);
    if (index < 0) throw new Error(`no claim ${name}`);
    const [claim] = this.claims.splice(index, 1);
    const volume = this.volumes.find((v) => v.name === claim!.volume);
    console.log(`persistentvolumeclaim/${name} deleted`);
    if (!volume) return;
    volume.phase = "Released";
    console.log(`persistentvolume/${volume.name}: Released (reclaim policy ${volume.reclaimPolicy})`);
    if (volume.reclaimPolicy === "Recycle") {
      // The old recycler ran `rm -rf /thevolume/*` in a pod, then offered the volume again.
      await this.node.$`find ${volume.path} -mindepth 1 -delete`;
      volume.phase = "Available";
      delete volume.claim;
      console.log(`persistentvolume/${volume.name}: scrubbed (rm -rf ${volume.path}/*), Available again`);
    } else if (volume.reclaimPolicy === "Delete") {
      await this.node.$`rm -rf ${volume.path}`;
      this.volumes.splice(this.volumes.indexOf(volume), 1);
      console.log(`persistentvolume/${volume.name}: deleted with its storage (${volume.path})`);
    }
    // Retain: Released, data kept, and never bound again until an administrator clears claim.
  }

  /** Like `kubectl get pv`. */
  table(): string {
    const rows = this.volumes.map((v) => [v.name, `${v.capacityGi}Gi`, v.accessModes.map((m) => SHORT[m]).join(","), v.reclaimPolicy, v.phase, v.claim ?? "", v.storageClassName]);
    const all = [["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS"], ...rows];
    const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
    return all.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("   ").trimEnd()).join("\n");
  }

  phaseOf(volume: string): VolumePhase | "gone" {
    return this.volumes.find((v) => v.name === volume)?.phase ?? "gone";
  }
}
