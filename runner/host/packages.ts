import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What the embedded cluster and headless labs need. */
export const PACKAGES_FILE = fileURLToPath(new URL("../../infra/packages.txt", import.meta.url));
/** What `labbook notebook` (and Jupyter's nbconvert) need on top. */
export const JUPYTER_PACKAGES_FILE = fileURLToPath(new URL("../../infra/packages-jupyter.txt", import.meta.url));
/** What the Vagrant backend needs on the host: Vagrant, libvirt, qemu and the offline box builder. */
export const VAGRANT_PACKAGES_FILE = fileURLToPath(new URL("../../infra/packages-vagrant.txt", import.meta.url));

export interface RequiredPackage {
  name: string;
  /** A file the package installs: present means installed, whatever the package manager. */
  file: string;
  why: string;
}

/** A package list (infra/packages*.txt): the lists that setup, doctor and Vagrant provisioning share. */
export function requiredPackages(text = readFileSync(PACKAGES_FILE, "utf8"), source = PACKAGES_FILE): RequiredPackage[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const [name, file, ...why] = line.split(/\s+/);
      if (!name || !file?.startsWith("/")) throw new Error(`${source}: malformed line "${line}"`);
      return { name, file, why: why.join(" ") };
    });
}
