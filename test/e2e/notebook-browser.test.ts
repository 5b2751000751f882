// End to end, as a student sees it: `labbook notebook`'s JupyterLab 4, lab 00 opened in a real (headless)
// Chromium, Run > Run All Cells, and the check badges in the page; then lab 06's chart, rendered. The labs are
// served from a copy (labbook notebook DIR), with JupyterLab's autosave off, so the checkout's labs stay as they are.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { getBackend } from "../../runner/backend/registry.ts";
import { LABS_DIR, startNotebookServer, type NotebookServer } from "../../runner/jupyter/server.ts";
import { KERNEL_NAME } from "../../runner/kernel/kernelspec.ts";
import { launchChromium } from "../helpers/chromium.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";
import { FIXTURE_ROOT } from "../helpers/notebooks.ts";

const OUTPUT_DIR = fileURLToPath(new URL("../../test-output/e2e/", import.meta.url));
const SCREENSHOT = join(OUTPUT_DIR, "lab00.png");
const CHART_SCREENSHOT = join(OUTPUT_DIR, "lab06-chart.png");
const LAB = "00-hello-cluster/00-hello-cluster.ipynb";
const CHART_LAB = "06-calico-vs-flannel";
/** Lab 00's checks: a host name per node (3), the LAN (5: its route, a default route, two pings, /etc/hosts), ssh node to node (1). */
const EXPECTED_CHECKS = 9;
const RUN_TIMEOUT_MS = 90_000;

interface CellReport {
  index: number;
  prompt: string;
  firstLine: string;
  outputs: Array<{ mime: string; text: string }>;
}

/** Every code cell's prompt and outputs, as the page shows them. */
function cellReports(page: Page): Promise<CellReport[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell")].map((cell, index) => ({
      index,
      prompt: cell.querySelector(".jp-InputPrompt")?.textContent?.trim() ?? "",
      firstLine: (cell.querySelector(".jp-InputArea-editor .cm-line")?.textContent ?? "").slice(0, 80),
      outputs: [...cell.querySelectorAll(".jp-OutputArea-output")].map((o) => ({ mime: o.getAttribute("data-mime-type") ?? "", text: (o.textContent ?? "").slice(0, 400) })),
    })),
  );
}

/**
 * Opens `path` in JupyterLab and waits until it is the current tab and its own kernel, labbook's, is idle: the
 * status bar alone may still show the notebook opened before.
 */
async function openNotebook(page: Page, server: NotebookServer, path: string): Promise<void> {
  await page.goto(`${server.baseUrl}/lab/tree/${path}?token=${server.token}`);
  const name = path.split("/").pop()!;
  await page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", { hasText: name }).waitFor({ timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const sessions = (await (await fetch(`${server.baseUrl}/api/sessions`, { headers: { Authorization: `token ${server.token}` } })).json()) as Array<{ path: string; kernel: { execution_state: string } }>;
    if (sessions.some((s) => s.path === path && s.kernel.execution_state === "idle")) break;
    if (Date.now() > deadline) throw new Error(`${path}: no idle kernel within 60 s (sessions: ${JSON.stringify(sessions)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await page.getByText("TypeScript (labbook) | Idle").waitFor({ timeout: 60_000 });
}

/** Run > Run All Cells, through the menu as a student would; resolves when every code cell has run. */
async function runAll(page: Page, server: NotebookServer): Promise<CellReport[]> {
  await page.getByRole("menuitem", { name: "Run", exact: true }).click();
  await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();
  try {
    await page.waitForFunction(
      () => {
        const prompts = [...document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell .jp-InputPrompt")].map((p) => p.textContent?.trim() ?? "");
        const idle = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")?.getAttribute("data-status") === "idle";
        return idle && prompts.length > 0 && prompts.every((p) => /^\[\d+\]:$/.test(p));
      },
      undefined,
      { timeout: RUN_TIMEOUT_MS, polling: 250 },
    );
  } catch (error) {
    const cells = await cellReports(page).catch(() => []);
    throw new Error(`the cells did not finish within ${RUN_TIMEOUT_MS / 1000} s (${(error as Error).message.split("\n")[0]})\n${describeRun(cells, server)}`);
  }
  return cellReports(page);
}

/** A picture of the whole notebook: the viewport grows to the notebook's height. */
async function screenshot(page: Page, path: string): Promise<void> {
  const height = await page.evaluate(() => Math.ceil((document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer")?.scrollHeight ?? 800) + 120));
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 12_000) });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.screenshot({ path, fullPage: true });
}

/** What a failure message shows: each cell's prompt and outputs, and the end of Jupyter's log. */
function describeRun(cells: CellReport[], server: NotebookServer | undefined): string {
  const lines: string[] = ["cells:"];
  for (const cell of cells) {
    lines.push(`  ${cell.prompt || "[ ]:"} ${cell.firstLine}`);
    for (const o of cell.outputs) lines.push(`      ${o.mime}: ${o.text.split("\n").slice(0, 6).join("\n        ")}`);
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

/** A notebook that draws lab 06's chart from made-up measurements, with the lab's own helpers (chart.ts). */
function chartNotebook(): string {
  const cell = (id: string, source: string) => ({ cell_type: "code", id, metadata: {}, source, outputs: [], execution_count: null });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: "TypeScript (labbook)", language: "typescript" } },
    cells: [
      cell("import", `import { measurementChartSvg, showSvg } from "./chart.js";\nimport { measurementTable, type Measurement } from "./measure.js";`),
      cell("chart", [
        "const measured: Measurement[] = [",
        '  { mode: "baseline", bitsPerSecond: 9.1e9, retransmits: 0, rttMs: 0.05, durationMs: 2100 },',
        '  { mode: "vxlan", bitsPerSecond: 6.2e9, retransmits: 3, rttMs: 0.08, durationMs: 2100 },',
        '  { mode: "udp", bitsPerSecond: 0.9e9, retransmits: 40, rttMs: 0.2, durationMs: 2100 },',
        "];",
        'showSvg(measurementChartSvg(measured, "baseline"), measurementTable(measured, "baseline"));',
      ].join("\n")),
    ],
  });
}

describe("labbook notebook in a browser (e2e): JupyterLab 4", function () {
  this.timeout(240_000);
  const clusterName = uniqueClusterName("nb");
  let server: NotebookServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page;
  let labBefore: string;
  let course: string;
  let settings: string;
  const savedSettingsDir = process.env.JUPYTERLAB_SETTINGS_DIR;
  let kernelFiles: string[] = [];

  before(async function () {
    labBefore = readFileSync(join(LABS_DIR, LAB), "utf8");
    // Inside the checkout, where `import ... from "labbook"` resolves, as in a course folder after `labbook init`.
    mkdirSync(FIXTURE_ROOT, { recursive: true });
    course = mkdtempSync(join(FIXTURE_ROOT, "e2e-labs-"));
    for (const lab of [LAB.split("/")[0]!, CHART_LAB]) cpSync(join(LABS_DIR, lab), join(course, lab), { recursive: true });
    writeFileSync(join(course, CHART_LAB, "chart-check.ipynb"), chartNotebook());
    // The student's JupyterLab settings: autosave off, so that Run All leaves the files as they were.
    settings = mkdtempSync(join(tmpdir(), "labbook-lab-settings-"));
    mkdirSync(join(settings, "@jupyterlab", "docmanager-extension"), { recursive: true });
    writeFileSync(join(settings, "@jupyterlab", "docmanager-extension", "plugin.jupyterlab-settings"), JSON.stringify({ autosave: false }));
    process.env.JUPYTERLAB_SETTINGS_DIR = settings;
    server = await startNotebookServer({ port: 0, name: clusterName, notebookDir: course });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });

  after(async function () {
    await browser?.close();
    await server?.stop();
    if (savedSettingsDir === undefined) delete process.env.JUPYTERLAB_SETTINGS_DIR;
    else process.env.JUPYTERLAB_SETTINGS_DIR = savedSettingsDir;
    rmSync(settings, { recursive: true, force: true });
    rmSync(course, { recursive: true, force: true });
  });

  it("is JupyterLab 4, on 127.0.0.1 only, with a token, offering labbook's kernel and no other", async function () {
    assert.ok(server);
    assert.equal(server.frontend, "JupyterLab");
    assert.match(server.url, /\/lab\?token=[0-9a-f]{48}$/);
    const addresses = listeners(server.port);
    assert.deepEqual([...new Set(addresses)], ["0100007F"], `listening on ${addresses.join(", ")} (0100007F is 127.0.0.1)`);
    const anonymous = await fetch(`${server.baseUrl}/api/kernelspecs`);
    assert.equal(anonymous.status, 403, "the API must refuse requests without the token");
    const auth = { headers: { Authorization: `token ${server.token}` } };
    const specs = (await (await fetch(`${server.baseUrl}/api/kernelspecs`, auth)).json()) as {
      default: string;
      kernelspecs: Record<string, { spec: { argv: string[]; env?: Record<string, string> } }>;
    };
    assert.equal(specs.default, KERNEL_NAME);
    assert.deepEqual(Object.keys(specs.kernelspecs), [KERNEL_NAME]);
    const spec = specs.kernelspecs[KERNEL_NAME]!.spec;
    assert.equal(spec.argv[0], process.execPath);
    assert.equal(spec.env?.LABBOOK_STATE_DIR, process.env.LABBOOK_STATE_DIR);
    const version = (await (await fetch(`${server.baseUrl}/api`, auth)).json()) as { version: string };
    assert.match(version.version, /^2\./, "Jupyter Server 2, which JupyterLab 4 runs on");
    const lab = await (await fetch(`${server.baseUrl}/lab?token=${server.token}`)).text();
    assert.match(lab, /"appVersion": "4\./, "the page is JupyterLab 4's");
  });

  it("runs lab 00 with Run All: every check shows a passing badge", async function () {
    assert.ok(server);
    await openNotebook(page, server, LAB);
    const sessions = (await (await fetch(`${server.baseUrl}/api/sessions`, { headers: { Authorization: `token ${server.token}` } })).json()) as Array<{ kernel: { id: string; name: string } }>;
    assert.deepEqual(sessions.map((s) => s.kernel.name), [KERNEL_NAME]);
    kernelFiles = [`kernel-${sessions[0]!.kernel.id}.json`];
    assert.ok(processesMentioning(kernelFiles[0]!).length > 0, "the kernel process should be running");

    const cells = await runAll(page, server);
    await screenshot(page, SCREENSHOT);
    const report = describeRun(cells, server);
    const badges = await page.locator(".labbook-check").count();
    const passing = await page.locator(".labbook-check.labbook-check-pass").count();
    const failing = await page.locator(".labbook-check.labbook-check-fail").allInnerTexts();
    assert.deepEqual(failing, [], `failing checks (screenshot ${SCREENSHOT}):\n${report}`);
    assert.equal(badges, EXPECTED_CHECKS, `expected ${EXPECTED_CHECKS} badges in the page, got ${badges} (screenshot ${SCREENSHOT}):\n${report}`);
    assert.equal(passing, EXPECTED_CHECKS, `expected ${EXPECTED_CHECKS} passing badges, got ${passing}:\n${report}`);
    // Errors and stderr render as application/vnd.jupyter.stderr.
    const errors = cells.filter((c) => c.outputs.some((o) => o.mime === "application/vnd.jupyter.stderr"));
    assert.deepEqual(errors.map((c) => c.firstLine), [], `cells with errors:\n${report}`);
  });

  it("renders lab 06's chart (SVG, from the lab's own helpers)", async function () {
    assert.ok(server);
    await openNotebook(page, server, `${CHART_LAB}/chart-check.ipynb`);
    const cells = await runAll(page, server);
    await screenshot(page, CHART_SCREENSHOT);
    const report = describeRun(cells, server);
    // JupyterLab prefers the chart's text/html (the SVG inlined, as labbook's HTML report shows it) to its image/svg+xml.
    assert.deepEqual(cells.at(-1)?.outputs.map((o) => o.mime), ["text/html"], `the chart cell's outputs (screenshot ${CHART_SCREENSHOT}):\n${report}`);
    const chart = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output .labbook-chart svg");
    assert.equal(await chart.count(), 1, `one rendered SVG chart expected:\n${report}`);
    const size = await chart.boundingBox();
    assert.ok(size && size.width > 200 && size.height > 100, `the chart is drawn ${JSON.stringify(size)}`);
    assert.ok((await chart.locator("rect").count()) >= 3, "a bar per measurement");
  });

  it("stops Jupyter, its kernels and the cluster it started, and leaves the labs unchanged", async function () {
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
    assert.equal(readFileSync(join(course, LAB), "utf8"), labBefore, `the served copy of ${LAB} was saved over`);
  });
});
