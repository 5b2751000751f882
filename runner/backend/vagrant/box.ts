// Which box the VMs boot. A box built offline (`labbook box build`) wins: it is added to labbook's
// own Vagrant home once per build. Otherwise $LABBOOK_BOX, or the Vagrantfile's default
// debian/bookworm64, which Vagrant downloads from Vagrant Cloud (needs internet).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabbookError } from "../../errors.ts";
import { boxCacheDir } from "./box-kubernetes.ts";
import { vagrantRoot } from "./state.ts";

export const LOCAL_BOX_NAME = "labbook/bookworm";
export const DEFAULT_BOX = "debian/bookworm64";

/** The box `labbook box build` makes, in labbook's cache outside the checkout (a fresh clone reuses it). */
export function localBoxFile(): string {
  return join(boxCacheDir(), "labbook-bookworm.box");
}

/** Vagrant's home for labbook: boxes added here never mix with the user's own ~/.vagrant.d. */
export function vagrantHome(): string {
  return join(vagrantRoot(), "home");
}

export interface BoxChoice {
  name: string;
  /** The file to `vagrant box add` first, when the home does not hold this build of it yet. */
  addFrom?: string;
  /** Written to the home once added: which build of the local box it holds. */
  stamp?: { file: string; value: string };
}

export function chooseBox(): BoxChoice {
  if (process.env.LABBOOK_BOX) return { name: process.env.LABBOOK_BOX };
  const file = localBoxFile();
  if (!existsSync(file)) return { name: DEFAULT_BOX };
  // The builder's input hash names a build; a rebuilt box must replace the one added before.
  const inputs = join(boxCacheDir(), "inputs");
  const build = existsSync(inputs) ? readFileSync(inputs, "utf8").trim() : "unknown";
  const stampFile = join(vagrantHome(), "labbook-box.added");
  const added = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "";
  return { name: LOCAL_BOX_NAME, ...(added === build ? {} : { addFrom: file, stamp: { file: stampFile, value: build } }) };
}

export function recordBoxAdded(choice: BoxChoice): void {
  if (choice.stamp) writeFileSync(choice.stamp.file, choice.stamp.value + "\n");
}

/**
 * Refuses, before any VM boots, to provision Kubernetes from labbook's own box when it was built without
 * it (an older box, or infra/box/build.sh run by hand): kubeadm would find nothing to run minutes later.
 * A box of the user's own (LABBOOK_BOX) cannot be looked into: its provisioning says so instead.
 */
export function assertBoxHasKubernetes(choice: BoxChoice): void {
  if (choice.name !== LOCAL_BOX_NAME) return;
  const marker = join(boxCacheDir(), "kubernetes-version");
  if (existsSync(marker)) return;
  throw new LabbookError(`the box ${localBoxFile()} has no Kubernetes baked in, and Kubernetes was asked for: "sudo labbook box build" builds the box with it (then "labbook up" again)`);
}
