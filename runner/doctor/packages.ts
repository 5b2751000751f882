import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PACKAGES_FILE = fileURLToPath(new URL("../../infra/packages.txt", import.meta.url));

export interface RequiredPackage {
  name: string;
  /** A file the package installs: present means installed, whatever the package manager. */
  file: string;
  why: string;
}

/** infra/packages.txt: the one list that setup, doctor and Vagrant provisioning share. */
export function requiredPackages(text = readFileSync(PACKAGES_FILE, "utf8")): RequiredPackage[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const [name, file, ...why] = line.split(/\s+/);
      if (!name || !file?.startsWith("/")) throw new Error(`${PACKAGES_FILE}: malformed line "${line}"`);
      return { name, file, why: why.join(" ") };
    });
}
