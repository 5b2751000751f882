// `labbook init DIR`: a course folder of the instructor's own, outside this checkout, where labs import the SDK
// as the checkout's own labs do (Jupyter, `labbook run` and grading alike). Nothing there is overwritten: it
// links node_modules/labbook to this checkout, and adds what is missing (package.json, .gitignore, README.md,
// and a template lab when the folder has no lab yet). Run again in every clone: the link is this machine's.
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { LabbookError } from "../errors.ts";
import { REPO_ROOT } from "../jupyter/sdk-link.ts";
import { buildLabs, writeBuiltLabs } from "../lab/build.ts";
import { LAB_SOURCE_SUFFIX } from "../lab/lab-notebook.ts";

const TEMPLATE = join(REPO_ROOT, "labs", "_template");
const LAB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface InitResult {
  dir: string;
  /** What was made, relative to dir ("node_modules/labbook -> ..." for the link). */
  created: string[];
  /** The template lab's folder, if one was made. */
  lab?: string;
}

/** The SDK link: made, or remade when it leads to another copy of labbook; a real folder there is not touched. */
function linkSdk(dir: string): string | undefined {
  const modules = join(dir, "node_modules");
  const link = join(modules, "labbook");
  mkdirSync(modules, { recursive: true });
  let existing: string | undefined;
  try {
    if (!lstatSync(link).isSymbolicLink()) throw new LabbookError(`${link} is a folder, not a link to labbook: remove it, then run "labbook init ${dir}" again`);
    existing = readlinkSync(link);
  } catch (error) {
    if (error instanceof LabbookError) throw error;
  }
  const target = REPO_ROOT.replace(/\/$/, "");
  if (existing === target) return undefined;
  if (existing !== undefined) rmSync(link);
  symlinkSync(target, link);
  return `node_modules/labbook -> ${target}${existing === undefined ? "" : ` (it led to ${existing})`}`;
}

/** Whether the folder already holds a lab (a notebook or a lab source, at its top or one folder down). */
function hasLabs(dir: string): boolean {
  const isLab = (name: string) => name.endsWith(".ipynb") || name.endsWith(LAB_SOURCE_SUFFIX);
  return readdirSync(dir).some((name) => {
    if (isLab(name)) return true;
    const sub = join(dir, name);
    return !name.startsWith(".") && name !== "node_modules" && statSync(sub).isDirectory() && readdirSync(sub).some(isLab);
  });
}

/** The course file (course/course-file.ts), every field commented out until the instructor sets one. */
const COURSE_TEMPLATE = `# labbook's course file: deadlines and late policies for \`labbook grade\` and \`labbook gradebook export\`.
# labs:
#   01-first-lab:
#     due: 2026-12-10T23:59:00+01:00   # ISO 8601; without a zone, UTC
#     late: { per-day: 10%, cap: 50% } # taken from the score per day late, at most cap
# extensions: extensions.csv          # student,lab,days
# submitted: submitted.csv            # student,submitted_at; else each submission file's modification time
`;

function readme(name: string, lab: string): string {
  return `# ${name}

Lab notebooks for [labbook](${REPO_ROOT}): each lab is a folder with its source (\`NAME.lab.ts\`, jupytext's percent
format), the notebook \`labbook lab build\` writes from it (\`NAME.ipynb\`), and its own helpers.

\`\`\`sh
labbook init .                                  # once per clone: links the SDK (node_modules/ is not committed)
labbook lab build .                             # after editing a lab's .lab.ts
labbook lab typecheck .                         # type-check every cell, as the kernel and the grader run them
labbook check-lab ${lab}/${lab}.ipynb   # run it as grading does, with the negative control
labbook run ${lab}                        # run it headless
labbook notebook .                              # open this folder in Jupyter
labbook assign ${lab}/${lab}.ipynb      # the students' version
labbook grade ${lab}/${lab}.ipynb SUBMISSIONS/ --out grades/
\`\`\`
`;
}

export function initCourse(at: string, options: { lab?: string } = {}): InitResult {
  const dir = resolve(at);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new LabbookError(`${dir} is a file, not a folder`);
  const labName = options.lab ?? "01-first-lab";
  if (!LAB_NAME.test(labName)) throw new LabbookError(`--lab "${labName}": a lab's name is letters, digits, ".", "_" or "-" (it becomes its folder, file names and id)`);
  mkdirSync(dir, { recursive: true });
  const created: string[] = [];
  const addFile = (name: string, text: string) => {
    if (existsSync(join(dir, name))) return;
    writeFileSync(join(dir, name), text);
    created.push(name);
  };
  const makeLab = !hasLabs(dir);
  const linked = linkSdk(dir);
  if (linked) created.push(linked);
  // ES modules, as in this checkout: a lab's helpers are imported as "./helpers.js".
  addFile("package.json", `${JSON.stringify({ name: basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "") || "course", private: true, type: "module" }, null, 2)}\n`);
  addFile(".gitignore", "node_modules/\nout/\ngrades/\n.ipynb_checkpoints/\n");
  addFile("README.md", readme(basename(dir), labName));
  addFile("labbook.yaml", COURSE_TEMPLATE);
  if (!makeLab) return { dir, created };

  const labDir = join(dir, labName);
  mkdirSync(labDir);
  for (const file of readdirSync(TEMPLATE)) {
    if (file.endsWith(".ipynb")) continue; // built below, with the lab's own id
    copyFileSync(join(TEMPLATE, file), join(labDir, file.startsWith("_template.") ? `${labName}${file.slice("_template".length)}` : file));
  }
  const source = join(labDir, `${labName}${LAB_SOURCE_SUFFIX}`);
  writeBuiltLabs(buildLabs([{ source, notebook: join(labDir, `${labName}.ipynb`) }]));
  created.push(...readdirSync(labDir).sort().map((file) => `${labName}/${file}`));
  return { dir, created, lab: labName };
}
