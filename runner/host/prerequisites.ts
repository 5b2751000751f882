// What a backend needs of the machine before it starts anything, and the shape `labbook doctor` reports
// every check in: root, and the Debian packages a backend's tools come from.
import { existsSync, readFileSync } from "node:fs";
import { PACKAGES_FILE, requiredPackages } from "./packages.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** The command that fixes it, when there is one. */
  fix?: string;
  /** A warning does not make doctor fail. */
  warning?: boolean;
}

export function checkRoot(): CheckResult {
  const uid = process.getuid?.() ?? -1;
  return uid === 0
    ? { name: "running as root", ok: true, detail: "uid 0" }
    : { name: "running as root", ok: false, detail: `uid ${uid}: namespaces and mounts need root`, fix: "sudo labbook ..." };
}

/** The cluster's packages by default; `optional` lists make a warning, not a failure. */
export function checkPackages(file = PACKAGES_FILE, label = "Debian packages", optional = false): CheckResult[] {
  const packages = requiredPackages(readFileSync(file, "utf8"), file);
  const missing = packages.filter((p) => !existsSync(p.file));
  if (missing.length === 0) return [{ name: label, ok: true, detail: `all ${packages.length} installed` }];
  return [
    {
      name: label,
      ok: false,
      ...(optional ? { warning: true } : {}),
      detail: missing.map((p) => `${p.name} (no ${p.file}: ${p.why})`).join("; "),
      fix: `apt-get install -y --no-install-recommends ${missing.map((p) => p.name).join(" ")}`,
    },
  ];
}
