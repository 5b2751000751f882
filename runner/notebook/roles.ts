// labbook's cell metadata, under metadata.labbook of a code cell:
//   { "id": "ping-node2", "role": "step", "requires": ["kubernetes"], "timeout": 30, "points": 2 }
//   (requires: capabilities, or "node:node3" for a node a smaller cluster may not have)
import type { CellRole } from "./results.ts";
import type { Cell } from "./types.ts";

export const CELL_ROLES: readonly CellRole[] = ["setup", "step", "exercise", "solution", "check", "hidden-check", "grader-setup", "teardown"];

/** Why a grader-setup cell is skipped outside grading: it exists for the fresh process that runs the hidden checks. */
export const GRADING_ONLY = "grading only: runs in a fresh process before the hidden checks";

export interface LabbookCellMetadata {
  id?: string;
  role: CellRole;
  requires: string[];
  /** Seconds. */
  timeout?: number;
  points?: number;
  /** For hidden checks: what students see instead of the code. */
  hint?: string;
}

/**
 * Code cells run; so do raw cells whose role is grader-setup. Those are raw so that Jupyter (Run All,
 * nbconvert) never runs them in the notebook's own kernel, where their declarations would clash with
 * the setup cell's: they are for the fresh process that runs the hidden checks when grading.
 */
export function isRunnable(cell: Cell): boolean {
  return cell.cell_type === "code" || (cell.cell_type === "raw" && (cell.metadata.labbook as { role?: unknown } | undefined)?.role === "grader-setup");
}

/** The cell's labbook metadata, with defaults; problems are returned, not thrown, to report them all at once. */
export function cellMetadata(cell: Cell, where: string): { meta: LabbookCellMetadata; problems: string[] } {
  // Absent means defaults; null is a mistake (an editor's "cleared" value), not "absent".
  const raw = (cell.metadata.labbook === undefined ? {} : cell.metadata.labbook) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { meta: { role: "step", requires: [] }, problems: [`${where}: metadata.labbook must be an object`] };
  }
  const role = (raw.role ?? "step") as CellRole;
  if (!CELL_ROLES.includes(role)) problems.push(`${where}: unknown role "${String(raw.role)}" (roles: ${CELL_ROLES.join(", ")})`);
  const requires = raw.requires ?? [];
  if (!Array.isArray(requires) || requires.some((r) => typeof r !== "string")) problems.push(`${where}: requires must be a list of capability names or "node:<name>"`);
  if (raw.timeout !== undefined && (typeof raw.timeout !== "number" || !(raw.timeout > 0))) problems.push(`${where}: timeout must be a positive number of seconds, got ${JSON.stringify(raw.timeout)}`);
  if (raw.points !== undefined && (typeof raw.points !== "number" || !(raw.points >= 0))) problems.push(`${where}: points must be a non-negative number, got ${JSON.stringify(raw.points)}`);
  if (raw.id !== undefined && (typeof raw.id !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(raw.id))) problems.push(`${where}: id must be 1-64 letters, digits, '.', '_' or '-'`);
  const meta: LabbookCellMetadata = {
    role,
    requires: Array.isArray(requires) ? requires.filter((r): r is string => typeof r === "string") : [],
    ...(typeof raw.id === "string" ? { id: raw.id } : {}),
    ...(typeof raw.timeout === "number" ? { timeout: raw.timeout } : {}),
    ...(typeof raw.points === "number" ? { points: raw.points } : {}),
    ...(typeof raw.hint === "string" ? { hint: raw.hint } : {}),
  };
  return { meta, problems };
}
