// labbook's images: the pause and probe programs built from infra/go/labbook, the docker-archives
// read back with GNU tar the way `ctr images import` reads them, and both programs run for real.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "../../runner/kubernetes/image-archive.ts";
import { buildImages, IMAGE_REFS } from "../../runner/kubernetes/images.ts";

const GO_MODULE = fileURLToPath(new URL("../../infra/go/labbook", import.meta.url));
const BUSYBOX = "/bin/busybox";

/** Builds one of infra/go/labbook's commands the way the cluster build does, plus -buildvcs=false: a test needs no git. */
function goBuild(command: string, out: string): string {
  const binary = join(out, command);
  execFileSync("go", ["build", "-trimpath", "-buildvcs=false", "-ldflags=-s", "-o", binary, `./cmd/${command}`], {
    cwd: GO_MODULE,
    env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return binary;
}

function skipUnless(context: Mocha.Context, problem: string | undefined): void {
  if (problem === undefined) return;
  process.stdout.write(`      skipped: ${problem}\n`);
  context.skip();
}

const noGo = (): string | undefined => (spawnSync("go", ["version"]).status === 0 ? undefined : "no `go` on PATH to build infra/go/labbook");

/** An archive member's bytes, as `tar -xOf` gives them. */
function member(archive: string, name: string): Buffer {
  return execFileSync("tar", ["-xOf", archive, name], { maxBuffer: 1 << 30 });
}

/** `tar -tv` of a layer's bytes: "mode owner size date time path[ -> target]" per entry. */
function listLayer(layer: Buffer): string[] {
  return execFileSync("tar", ["-tv", "--numeric-owner"], { input: layer, encoding: "utf8", maxBuffer: 1 << 30 }).trim().split("\n");
}

interface Image {
  files: string[];
  manifest: { Config: string; RepoTags: string[]; Layers: string[] }[];
  config: { architecture: string; os: string; config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[] }; rootfs: { type: string; diff_ids: string[] } };
  layers: Buffer[];
}

function readImage(archive: string): Image {
  const files = execFileSync("tar", ["-tf", archive], { encoding: "utf8" }).trim().split("\n");
  const manifest = JSON.parse(member(archive, "manifest.json").toString()) as Image["manifest"];
  const { Config, Layers } = manifest[0]!;
  return { files, manifest, config: JSON.parse(member(archive, Config).toString()) as Image["config"], layers: Layers.map((layer) => member(archive, layer)) };
}

describe("labbook's images", function () {
  this.timeout(300_000); // a cold Go build cache compiles the standard library first
  let dir: string;
  let pause: string;
  let probe: string;
  before(function () {
    skipUnless(this, noGo());
    dir = mkdtempSync(join(tmpdir(), "labbook-images-"));
    pause = goBuild("pause", dir);
    probe = goBuild("probe", dir);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  describe("the docker-archives", () => {
    let coredns: string;
    let built: ReturnType<typeof buildImages>;
    before(function () {
      skipUnless(this, existsSync(BUSYBOX) ? undefined : `no ${BUSYBOX}: apt-get install busybox-static`);
      coredns = join(dir, "coredns");
      writeFileSync(coredns, "#!/bin/sh\necho a stand-in for coredns\n");
      built = buildImages({ pause, probe, coredns }, join(dir, "out"));
    });

    it("are one <name>_<tag>.tar per image, in IMAGE_REFS' order, whose manifest names the ref, config and layers it holds", () => {
      assert.deepEqual(
        built.map(({ ref, archive }) => [ref, archive]),
        IMAGE_REFS.map((ref) => [ref, join(dir, "out", `${ref.split("/")[1]!.replace(":", "_")}.tar`)]),
      );
      for (const { ref, archive } of built) {
        const { files, manifest, config } = readImage(archive);
        assert.equal(manifest.length, 1);
        assert.deepEqual(manifest[0]!.RepoTags, [ref]);
        assert.ok(files.includes(manifest[0]!.Config), `${ref}: no ${manifest[0]!.Config}`);
        assert.equal(`${sha256(member(archive, manifest[0]!.Config))}.json`, manifest[0]!.Config, `${ref}: the config is not named by its sha256`);
        for (const layer of manifest[0]!.Layers) assert.ok(files.includes(layer), `${ref}: no ${layer}`);
        assert.equal(config.os, "linux");
        assert.equal(config.architecture, ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch]);
        assert.equal(config.rootfs.type, "layers");
      }
    });

    it("name each layer by its diff_id, the sha256 of the layer's tar", () => {
      for (const { ref, archive } of built) {
        const { manifest, config, layers } = readImage(archive);
        const digests = layers.map((layer) => sha256(layer));
        assert.deepEqual(config.rootfs.diff_ids, digests.map((digest) => `sha256:${digest}`), ref);
        assert.deepEqual(manifest[0]!.Layers, digests.map((digest) => `${digest}/layer.tar`), ref);
      }
    });

    it("give busybox a symlink per applet, root and nobody, a sticky /tmp; the probe image the same layers and /probe, 0755", () => {
      const busybox = readImage(built[1]!.archive);
      assert.deepEqual(busybox.config.config.Cmd, ["sh"]);
      assert.ok(busybox.config.config.Env?.some((env) => env.startsWith("PATH=")));
      const [base, tools] = busybox.layers.map(listLayer);
      const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).trim().split("\n").filter((name) => name !== "busybox");
      for (const applet of ["sh", "ping", "ip", "nslookup", "wget", "nc"]) assert.ok(applets.includes(applet), `busybox has no ${applet}`);
      for (const applet of applets) assert.ok(tools!.some((line) => line.startsWith("lrwxrwxrwx 0/0") && line.endsWith(` bin/${applet} -> busybox`)), `no bin/${applet} -> busybox`);
      assert.ok(tools!.some((line) => /^-rwxr-xr-x 0\/0 .* bin\/busybox$/.test(line)));
      assert.ok(base!.some((line) => /^drwxrwxrwt 0\/0 .* tmp\/$/.test(line)));
      assert.ok(base!.some((line) => /^drwx------ 0\/0 .* root\/$/.test(line)));
      const passwd = execFileSync("tar", ["-xO", "etc/passwd"], { input: busybox.layers[0], encoding: "utf8" });
      assert.match(passwd, /^root:x:0:0:/m);
      assert.match(passwd, /^nobody:x:65534:65534:/m);

      const image = readImage(built[2]!.archive);
      assert.deepEqual(image.config.config.Entrypoint, ["/probe"]);
      assert.deepEqual(image.config.rootfs.diff_ids.slice(0, 2), busybox.config.rootfs.diff_ids, "the probe image does not share busybox's layers");
      assert.deepEqual(listLayer(image.layers[2]!).map((line) => line.replace(/\s+/g, " ")), [`-rwxr-xr-x 0/0 ${readFileSync(probe).length} 1970-01-01 00:00 probe`]);
      assert.ok(execFileSync("tar", ["-xO", "probe"], { input: image.layers[2], maxBuffer: 1 << 30 }).equals(readFileSync(probe)));
    });

    it("put pause and coredns at the root as their entrypoints", () => {
      for (const [index, name, source] of [[0, "pause", pause], [3, "coredns", coredns]] as const) {
        const image = readImage(built[index]!.archive);
        assert.deepEqual(image.config.config.Entrypoint, [`/${name}`]);
        const top = image.layers.at(-1)!;
        assert.match(listLayer(top).join("\n"), new RegExp(`^-rwxr-xr-x 0/0 .* ${name}$`));
        assert.ok(execFileSync("tar", ["-xO", name], { input: top, maxBuffer: 1 << 30 }).equals(readFileSync(source)));
      }
      assert.equal(readImage(built[0]!.archive).layers.length, 1, "pause is one file");
    });

    it("are the same bytes from the same inputs, and rewritten only when an input changes", () => {
      const again = buildImages({ pause, probe, coredns }, join(dir, "again"));
      for (const [index, { archive }] of again.entries()) assert.ok(readFileSync(archive).equals(readFileSync(built[index]!.archive)), `${archive} differs`);
      assert.deepEqual(
        buildImages({ pause, probe, coredns }, join(dir, "again")).map(({ written }) => written),
        [false, false, false, false],
      );
      writeFileSync(coredns, "#!/bin/sh\necho another stand-in\n");
      assert.deepEqual(
        buildImages({ pause, probe, coredns }, join(dir, "again")).map(({ written }) => written),
        [false, false, false, true],
      );
    });
  });

  describe("the probe", () => {
    let server: ChildProcess | undefined;
    let port: number;
    let log = "";
    before(async () => {
      // A free port, found by binding one; the probe binds it right after.
      const finder = createServer().listen(0, "127.0.0.1");
      await once(finder, "listening");
      port = (finder.address() as AddressInfo).port;
      await new Promise((resolve) => finder.close(resolve));
      server = spawn(probe, ["-port", String(port)], { env: { ...process.env, POD_NAME: "probe-test" }, stdio: ["ignore", "pipe", "inherit"] });
      server.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
      for (let tries = 0; (await request("/healthz", {}).catch(() => undefined))?.body !== "ok\n"; tries++) {
        if (tries > 100) throw new Error(`the probe did not answer on port ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    after(() => server?.kill("SIGKILL"));

    /** One request on a connection of its own, with the local port the probe should name as the client's. */
    function request(path: string, headers: Record<string, string>): Promise<{ body: string; type: string; clientPort: number }> {
      return new Promise((resolve, reject) => {
        get({ host: "127.0.0.1", port, path, headers, agent: false }, (response) => {
          let body = "";
          response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
          response.on("end", () => resolve({ body, type: response.headers["content-type"] ?? "", clientPort: response.socket.localPort! }));
        }).on("error", reject);
      });
    }

    it("answers in text with its name, its address and the client's as it saw them", async () => {
      const { body, type, clientPort } = await request("/some/path", {});
      assert.match(type, /^text\/plain/);
      const fields = Object.fromEntries(body.trim().split("\n").map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)]));
      assert.equal(fields.pod, "probe-test");
      assert.equal(fields.pod_ip, "127.0.0.1");
      assert.equal(fields.local, `127.0.0.1:${port}`);
      assert.equal(fields.client, `127.0.0.1:${clientPort}`);
      assert.equal(fields.client_ip, "127.0.0.1");
      assert.equal(fields.client_port, String(clientPort));
      assert.equal(fields.host, `127.0.0.1:${port}`);
      assert.equal(fields.path, "/some/path");
      assert.ok("interface_ips" in fields);
    });

    it("answers in JSON on /json or when asked with Accept, and logs a line per request", async () => {
      for (const [path, headers] of [["/json", {}], ["/other", { Accept: "application/json" }]] as const) {
        const { body, type, clientPort } = await request(path, headers);
        assert.match(type, /^application\/json/);
        const answer = JSON.parse(body) as Record<string, unknown>;
        assert.equal(answer.pod, "probe-test");
        assert.equal(answer.client, `127.0.0.1:${clientPort}`);
        assert.equal(answer.client_ip, "127.0.0.1");
        assert.equal(answer.path, path);
        assert.ok(Array.isArray(answer.interface_ips));
      }
      for (let tries = 0; !log.includes("/other") && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(log, /^\S+ \S+ 127\.0\.0\.1:\d+ GET 127\.0\.0\.1:\d+\/other 200$/m);
    });

    it("exits 0 on SIGTERM, as a pod's PID 1 must for a prompt stop", async () => {
      const exited = once(server!, "exit");
      server!.kill("SIGTERM");
      assert.deepEqual(await exited, [0, null]);
      server = undefined;
    });
  });

  describe("pause", () => {
    it("exits 0 on SIGTERM and SIGINT", async () => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        const child = spawn(pause, { stdio: "ignore" });
        await new Promise((resolve) => setTimeout(resolve, 200)); // its handlers are set up before main waits
        const exited = once(child, "exit");
        child.kill(signal);
        assert.deepEqual(await exited, [0, null], signal);
      }
    });

    it("reaps the orphans it inherits as PID 1 of a PID namespace", async function () {
      skipUnless(this, process.getuid?.() === 0 ? undefined : "a PID namespace needs root");
      const holder = spawn("unshare", ["--pid", "--fork", "--kill-child", pause], { stdio: "ignore" });
      const exited = once(holder, "exit");
      const children = (pid: number): string => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      let pid = 0;
      try {
        for (let tries = 0; pid === 0 && tries < 100; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          pid = Number(children(holder.pid!)) || 0;
        }
        assert.ok(pid > 0, "unshare started no pause");
        // The shell exits at once, so its sleeps become pause's children; exited and unreaped, they would stay listed as zombies.
        // Output ignored: execFileSync would wait for the sleeps too, holding a pipe it reads to its end.
        execFileSync("nsenter", ["-t", String(pid), "-p", "sh", "-c", "sleep 0.3 & sleep 0.5 & exit 0"], { stdio: "ignore" });
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.notEqual(children(pid), "", "the orphans were not reparented to pause");
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(children(pid), "", "pause left zombies");
        process.kill(pid, "SIGTERM");
        assert.deepEqual(await exited, [0, null], "pause did not exit 0, or unshare did not pass that on");
      } finally {
        if (holder.exitCode === null && holder.signalCode === null) holder.kill("SIGKILL"); // --kill-child: pause gets a SIGKILL as unshare dies
        await exited;
      }
    });
  });
});
