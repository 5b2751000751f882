import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { htmlReporter } from "../../runner/report/html.ts";
import { renderOutput } from "../../runner/report/html-outputs.ts";
import { renderMarkdown } from "../../runner/report/markdown-html.ts";
import { executedNotebook, runSummary } from "./fixture.ts";

describe("html reporter", () => {
  let outDir: string;
  let written: string[];
  let page: string;

  before(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), "labbook-html-"));
    const executed = path.join(outDir, "routing.executed.ipynb");
    await writeFile(executed, JSON.stringify(executedNotebook()));
    written = await htmlReporter(path.join(outDir, "report")).onRunEnd!(runSummary(executed));
    page = await readFile(written[0]!, "utf8");
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  it("writes a page per notebook, named after it", () => {
    assert.deepEqual(written, [path.join(outDir, "report", "routing.html"), path.join(outDir, "report", "broken.html")]);
  });

  it("puts the title and the run's outcome at the top", () => {
    assert.match(page, /<title>Routing between nodes<\/title>/);
    assert.match(page, /<h1>Routing between nodes<\/h1>\n<p class="summary"><span class="badge outcome-failed">failed<\/span> 2 passed, 2 failed, 1 skipped · 40\.0 s/);
  });

  it("renders markdown cells, escaping raw HTML and unsafe links", () => {
    assert.match(page, /<h1>Routing lab<\/h1>/);
    assert.match(page, /<p>Packets need a <strong>route<\/strong> and <code>ip route<\/code> shows it\.<\/p>/);
    assert.match(page, /<li>see <a href="https:\/\/example\.com\/docs">the docs<\/a><\/li>/);
    assert.match(page, /<li>&lt;b&gt;not bold&lt;\/b&gt;<\/li>/);
    assert.match(page, /<li>bad<\/li>/);
    assert.doesNotMatch(page, /javascript:/);
  });

  it("shows code escaped, with the cell's status badge", () => {
    assert.match(page, /<pre class="source"><code>const html = &#39;&lt;script&gt;alert\(1\)&lt;\/script&gt;&#39;;<\/code><\/pre>/);
    assert.doesNotMatch(page, /<script/i);
    assert.match(page, /<span class="badge status-passed">✔ passed<\/span> <span class="cell-id">setup<\/span>/);
    assert.match(page, /<span class="badge status-timed-out">⏱ timed out<\/span>[^\n]*\n[^\n]*\n<pre class="cell-error">Timeout: cell ran past 30 s<\/pre>/);
    assert.match(page, /<p class="skip-reason">Skipped: requires ipv6<\/p>/);
  });

  it("renders outputs: streams, check badges, trusted HTML, images, errors without ANSI codes", () => {
    assert.match(page, /<pre class="stream stdout">hello &lt;world&gt;\n<\/pre>/);
    assert.match(page, /<div class="check check-failed"><span class="check-badge">✘ fail<\/span> <span class="check-name">route to 10\.0\.0\.0\/8<\/span> <span class="check-message">no route &lt;via&gt; node2<\/span>/);
    assert.doesNotMatch(page, /sdk html/, "the check's own HTML is replaced by the badge");
    assert.match(page, /<table class="sdk"><tr><td>trusted<\/td><\/tr><\/table>/);
    assert.match(page, /<img class="image-output" alt="" src="data:image\/png;base64,iVBORw0KGgo=">/);
    assert.doesNotMatch(page, /&lt;Figure&gt;/);
    assert.match(page, /<div class="ename">CheckFailed: 1 check failed<\/div><pre class="traceback">CheckFailed: 1 check failed\n    at cell:1<\/pre>/);
    assert.doesNotMatch(page, /\u001b/);
  });

  it("shows an SVG (lab 06's chart) as an image, so its scripts cannot run", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="1" height="1"/></svg>';
    const html = renderOutput({ output_type: "display_data", data: { "image/svg+xml": svg, "text/plain": "<Figure>" }, metadata: {} });
    assert.equal(html, `<img class="image-output" alt="" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}">`);
  });

  it("is self-contained: the only external URLs are the notebook's own links", () => {
    const urls = [...page.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!).filter((url) => /^https?:/i.test(url) || url.startsWith("//"));
    assert.deepEqual(urls, ["https://example.com/docs"]);
    assert.doesNotMatch(page, /<link\b|@import|url\(/i);
  });

  it("still writes a page for a notebook whose run broke before writing it", async () => {
    const broken = await readFile(written[1]!, "utf8");
    assert.match(broken, /<span class="badge outcome-error">error<\/span>/);
    assert.match(broken, /<pre class="infrastructure-error">kernel would not start: tslab not found<\/pre>/);
  });
});

describe("markdown to html", () => {
  it("renders the supported subset", () => {
    assert.equal(renderMarkdown("## Title ##"), "<h2>Title</h2>");
    assert.equal(renderMarkdown("a *b* _c_ snake_case_name **d `e*f*` g**"), "<p>a <em>b</em> <em>c</em> snake_case_name <strong>d <code>e*f*</code> g</strong></p>");
    assert.equal(renderMarkdown("```bash\nip route <x>\n```\nafter"), '<pre><code class="language-bash">ip route &lt;x&gt;</code></pre>\n<p>after</p>');
    assert.equal(renderMarkdown("- a\n  - b\n- c"), "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul></li>\n<li>c</li>\n</ul>");
    assert.equal(renderMarkdown("1. one\n2. two"), "<ol>\n<li>one</li>\n<li>two</li>\n</ol>");
    assert.equal(renderMarkdown("\\*not em\\* 🎉"), "<p>*not em* 🎉</p>");
    assert.equal(renderMarkdown("---"), "<hr>");
  });

  it("never lets markup or script URLs through", () => {
    assert.equal(renderMarkdown('<img src=x onerror="alert(1)">'), "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>");
    assert.equal(renderMarkdown("[x](JavaScript:alert) [y](data:text/html,hi) ![i](http://h/i.png)"), '<p>x y <a href="http://h/i.png">i</a></p>');
    assert.equal(renderMarkdown('[q](/a"onmouseover="x)'), '<p><a href="/a&quot;onmouseover=&quot;x">q</a></p>');
  });
});
