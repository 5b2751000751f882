// What `labbook up --backend vagrant` needs on the host, checked before anything starts.
import { checkPackages, checkRoot } from "../../host/prerequisites.ts";
import { LabbookError } from "../../errors.ts";
import { VAGRANT_PACKAGES_FILE } from "../../host/packages.ts";

export function assertVagrantPrerequisites(): void {
  const problems = [checkRoot(), ...checkPackages(VAGRANT_PACKAGES_FILE, "Vagrant backend packages")].filter((check) => !check.ok);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  ${p.name}: ${p.detail}${p.fix ? `\n    fix: ${p.fix}` : ""}`);
  throw new LabbookError(`the Vagrant backend cannot start here:\n${lines.join("\n")}\n(sudo infra/setup.sh vagrant installs everything)`);
}

