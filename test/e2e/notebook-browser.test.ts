// End to end, as a student sees it: `labbook notebook`'s server, lab 00 opened in a real
// (headless) Chromium, Cell > Run All, and the check badges in the page.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { getBackend } from "../../runner/backend/registry.ts";
import { LABS_DIR, startNotebookServer, type NotebookServer } from "../../runner/jupyter/server.ts";
import { KERNEL_NAME } from "../../runner/kernel/kernelspec.ts";
import { CHECK_MIME } from "../../runner/notebook/types.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";

const OUTPUT_DIR = fileURLToPath(new URL("../../test-output/e2e/", import.meta.url));
const SCREENSHOT = join(OUTPUT_DIR, "lab00.png");
const LAB = "00-hello-cluster/00-hello-cluster.ipynb";
/** Lab 00's checks: a host name per node (3), the LAN (5: its route, a default route, two pings, /etc/hosts), ssh node to node (1). */
const EXPECTED_CHECKS = 9;
const RUN_TIMEOUT_MS = 90_000;

interface CellReport {
  index: number;
  id: string;
  prompt: string;
  outputs: Array<{ type: string; name?: string; text?: string; ename?: string; evalue?: string; traceback?: string[]; mimes?: string[]; plain?: string }>;
}

/** Every code cell's prompt and outputs, from the notebook model in the page. */
function cellReports(page: Page): Promise<CellReport[]> {
  return page.evaluate(() => {
    const nb = (window as any).Jupyter.notebook;
    return nb
      .get_cells()
      .filter((cell: any) => cell.cell_type === "code")
      .map((cell: any, index: number) => ({
        index,
        id: cell.metadata?.labbook?.id ?? `cell ${index}`,
        prompt: String(cell.input_prompt_number ?? ""),
        outputs: cell.output_area.outputs.map((o: any) => ({
          type: o.output_type,
          name: o.name,
          text: typeof o.text === "string" ? o.text : Array.isArray(o.text) ? o.text.join("") : undefined,
          ename: o.ename,
          evalue: o.evalue,
          traceback: o.traceback,
          mimes: o.data ? Object.keys(o.data) : undefined,
          plain: o.data?.["text/plain"],
        })),
      }));
  });
}

/** What a failure message shows: each cell's errors and stderr, and the end of Jupyter's log. */
function describeRun(cells: CellReport[], server: NotebookServer | undefined): string {
  const lines: string[] = ["cells:"];
  for (const cell of cells) {
    lines.push(`  [${cell.prompt || " "}] ${cell.id}`);
    for (const o of cell.outputs) {
      if (o.type === "error") lines.push(`      error ${o.ename}: ${o.evalue}`, ...(o.traceback ?? []).map((t) => `        ${t}`));
      else if (o.type === "stream") lines.push(...(o.text ?? "").trimEnd().split("\n").map((t) => `      ${o.name}: ${t}`));
      else lines.push(`      ${o.type}: ${(o.plain ?? o.mimes?.join(", ") ?? "").toString().split("\n")[0]}`);
    }
  }
  if (server) lines.push("Jupyter's log (with the kernels' stderr), last lines:", ...server.logTail().split("\n").map((l) => `  ${l}`));
  return lines.join("\n");
}

/** Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6}. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue; // 0A: LISTEN
      const [address, portHex] = local.split(":");
      if (portHex === hexPort) found.push(address!);
    }
  }
  return found;
}

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

describe("labbook notebook in a browser (e2e)", function () {
  this.timeout(180_000);
  const clusterName = uniqueClusterName("nb");
  let server: NotebookServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page;
  let labBefore: string;
  let kernelFiles: string[] = [];

  before(async function () {
    labBefore = readFileSync(join(LABS_DIR, LAB), "utf8");
    server = await startNotebookServer({ port: 0, name: clusterName });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });

  after(async function () {
    await browser?.close();
    await server?.stop();
  });

  it("serves on 127.0.0.1 only, with a token, and offers the labbook-tslab kernel", async function () {
    assert.ok(server);
    const addresses = listeners(server.port);
    assert.deepEqual([...new Set(addresses)], ["0100007F"], `listening on ${addresses.join(", ")} (0100007F is 127.0.0.1)`);
    const anonymous = await fetch(`${server.baseUrl}/api/kernelspecs`);
    assert.equal(anonymous.status, 403, "the API must refuse requests without the token");
    const specs = (await (await fetch(`${server.baseUrl}/api/kernelspecs`, { headers: { Authorization: `token ${server.token}` } })).json()) as {
      default: string;
      kernelspecs: Record<string, { spec: { argv: string[]; env?: Record<string, string> } }>;
    };
    assert.equal(specs.default, KERNEL_NAME);
    const spec = specs.kernelspecs[KERNEL_NAME]?.spec;
    assert.ok(spec, `no ${KERNEL_NAME} among ${Object.keys(specs.kernelspecs).join(", ")}`);
    assert.equal(spec.argv[0], process.execPath);
    assert.equal(spec.env?.LABBOOK_STATE_DIR, process.env.LABBOOK_STATE_DIR);
  });

  it("runs lab 00 with Run All: every check shows a passing badge", async function () {
    assert.ok(server);
    await page.goto(`${server.baseUrl}/notebooks/${LAB}?token=${server.token}`);
    // The notebook is loaded and its kernel (the one its metadata names) connected and idle.
    await page.waitForFunction(
      () => {
        const nb = (window as any).Jupyter?.notebook;
        const idle = document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon");
        return Boolean(nb?._fully_loaded && nb.kernel?.is_connected() && idle);
      },
      undefined,
      { timeout: 60_000, polling: 200 },
    );
    const kernelName = await page.evaluate(() => (window as any).Jupyter.notebook.kernel.name as string);
    assert.equal(kernelName, KERNEL_NAME);
    // The lab on disk must stay as it is: no autosave of the executed notebook.
    await page.evaluate(() => (window as any).Jupyter.notebook.set_autosave_interval(0));
    const kernelId = await page.evaluate(() => (window as any).Jupyter.notebook.kernel.id as string);
    kernelFiles = [`kernel-${kernelId}.json`];
    assert.ok(processesMentioning(kernelFiles[0]!).length > 0, "the kernel process should be running");

    // Cell > Run All, through the menu as a student would.
    await page.click("#celllink");
    await page.click("#run_all_cells > a");

    let cells: CellReport[] = [];
    try {
      await page.waitForFunction(
        () => {
          const nb = (window as any).Jupyter.notebook;
          const code = nb.get_cells().filter((cell: any) => cell.cell_type === "code");
          const running = code.some((cell: any) => cell.input_prompt_number === "*");
          const idle = document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon");
          return !running && idle;
        },
        undefined,
        { timeout: RUN_TIMEOUT_MS, polling: 250 },
      );
    } catch (error) {
      cells = await cellReports(page).catch(() => []);
      throw new Error(`the cells did not finish within ${RUN_TIMEOUT_MS / 1000} s (${(error as Error).message.split("\n")[0]})\n${describeRun(cells, server)}`);
    }
    cells = await cellReports(page);

    // A picture of the whole notebook: the viewport grows to the notebook's height.
    const height = await page.evaluate(() => {
      const header = document.querySelector("#header")?.getBoundingClientRect().height ?? 0;
      return Math.ceil(header + (document.querySelector("#notebook")?.scrollHeight ?? 900) + 40);
    });
    await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 12_000) });
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const report = describeRun(cells, server);
    const checkOutputs = cells.flatMap((c) => c.outputs).filter((o) => o.mimes?.includes(CHECK_MIME)).length;
    const badges = await page.locator(".labbook-check").count();
    const passing = await page.locator(".labbook-check.labbook-check-pass").count();
    const failing = await page.locator(".labbook-check.labbook-check-fail").allInnerTexts();
    assert.deepEqual(failing, [], `failing checks (screenshot ${SCREENSHOT}):\n${report}`);
    assert.equal(checkOutputs, EXPECTED_CHECKS, `expected ${EXPECTED_CHECKS} check outputs, got ${checkOutputs} (screenshot ${SCREENSHOT}):\n${report}`);
    assert.equal(badges, EXPECTED_CHECKS, `expected ${EXPECTED_CHECKS} badges in the page, got ${badges} (screenshot ${SCREENSHOT}):\n${report}`);
    assert.equal(passing, EXPECTED_CHECKS, `expected ${EXPECTED_CHECKS} passing badges, got ${passing}:\n${report}`);
    const errors = cells.filter((c) => c.outputs.some((o) => o.type === "error" || (o.type === "stream" && o.name === "stderr")));
    assert.deepEqual(errors.map((c) => c.id), [], `cells with errors:\n${report}`);
    const unrun = cells.filter((c) => c.prompt === "" || c.prompt === "*" || c.prompt === "undefined");
    assert.deepEqual(unrun.map((c) => c.id), [], `cells that did not run:\n${report}`);
  });

  it("stops Jupyter, its kernels and the cluster it started, and leaves the lab unchanged", async function () {
    assert.ok(server);
    assert.equal(server.clusterStarted, true);
    await browser?.close();
    browser = undefined;
    await server.stop();
    const exit = await server.exited;
    assert.ok(exit.code !== null || exit.signal !== null);
    for (const file of kernelFiles) assert.deepEqual(processesMentioning(file), [], `a kernel (${file}) is still running`);
    assert.deepEqual(listeners(server.port), [], `something still listens on port ${server.port}`);
    const clusters = (await getBackend().list()).map((c) => c.name);
    assert.ok(!clusters.includes(clusterName), `cluster ${clusterName} is still up`);
    assert.equal(readFileSync(join(LABS_DIR, LAB), "utf8"), labBefore, `${LAB} was modified`);
  });
});
