// Issue 19, item 14: infra/k8s/grade-indexed-job.yaml run for real. A class of lab 02 is graded in 3 shards,
// each a privileged pod of the grader's image (`labbook grader image`, built here from the checkout), on
// labbook's own embedded Kubernetes; the manifest's second Job merges the shards; the merged gradebook must
// equal the one a single machine writes for the same class. `npm run test:grade-job`; it prints its times.
//
// What differs from a real cluster, and why: the embedded nodes share no volume, so the class is copied
// into each node's /mnt (a hostPath volume stands in for the ReadWriteMany claim), the shards are gathered
// into node1's before the merge Job runs there, and the image is imported into each node's containerd
// (`labbook kubernetes import`) instead of pulled from a registry.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { nodeDir } from "../../runner/host/state.ts";
import { buildGraderImage } from "../../runner/grade/grader-image.ts";
import { importImages } from "../../runner/kubernetes/image-import.ts";
import { labbook } from "../helpers/cli.ts";
import { suiteCluster } from "../helpers/cluster.ts";
import { timedInto, type Timings } from "../helpers/timings.ts";
import { FIXTURES, LAB_02, PROJECT, writeSubmissions } from "../grade/submissions.ts";

const MANIFEST = join(PROJECT, "infra/k8s/grade-indexed-job.yaml");
const SHARDS = 3;
const LAB_FOLDER = "02-cross-host-routes";

interface Container {
  image: string;
  env?: Array<{ name: string; value: string }>;
  resources?: { requests?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  volumes: Array<Record<string, unknown> & { name: string }>;
  nodeSelector?: Record<string, string>;
}
interface Job {
  metadata: { name: string };
  spec: { completions?: number; parallelism?: number; template: { spec: PodSpec } };
}

/**
 * The shipped manifest, as a user adapts it: the image's tag, SHARDS and completions, and a hostPath for
 * the class's volume; requests of a fraction of a CPU (the nodes share this machine's 2 cores, and a
 * request of 2 would leave every pod pending). The merge Job runs on node1, where the shards are gathered.
 */
function adaptedManifest(imageRef: string): { grade: Job; merge: Job; text: string } {
  const [grade, merge] = parseAllDocuments(readFileSync(MANIFEST, "utf8")).map((doc) => doc.toJS() as Job);
  assert.ok(grade && merge, `${MANIFEST} holds the grading Job and the merge Job`);
  grade.spec.completions = SHARDS;
  grade.spec.parallelism = SHARDS;
  for (const job of [grade, merge]) {
    const pod = job.spec.template.spec;
    for (const container of pod.containers) {
      container.image = imageRef;
      for (const variable of container.env ?? []) if (variable.name === "SHARDS") variable.value = String(SHARDS);
      if (container.resources?.requests) container.resources.requests = { cpu: "100m", memory: "256Mi" };
    }
    pod.volumes = pod.volumes.map((volume) => (volume.name === "class" ? { name: "class", hostPath: { path: "/mnt/class", type: "Directory" } } : volume));
  }
  merge.spec.template.spec.nodeSelector = { "kubernetes.io/hostname": "node1" };
  assert.ok(grade.spec.template.spec.containers[0]!.env?.some((v) => v.name === "SHARDS"), "the grading Job takes its shard count from SHARDS");
  return { grade, merge, text: [grade, merge].map((job) => JSON.stringify(job)).join("\n---\n") };
}

/** The image holds none of the host's secrets: no SSH host private key, no password hash. */
function assertNoSecrets(archive: string): void {
  const [{ Layers }] = JSON.parse(execFileSync("tar", ["-xOf", archive, "manifest.json"], { encoding: "utf8" })) as [{ Layers: string[] }];
  const layer = (name: string) => execFileSync("sh", ["-c", 'tar -xOf "$1" "$2"', "sh", archive, name], { maxBuffer: 1 << 30 });
  const paths = Layers.flatMap((name) => execFileSync("tar", ["-t"], { input: layer(name), encoding: "utf8", maxBuffer: 64 << 20 }).split("\n"));
  assert.ok(paths.includes("usr/sbin/sshd") && paths.includes("opt/labbook/bin/labbook.js"), "the image has sshd and labbook");
  assert.deepEqual(paths.filter((path) => /^etc\/ssh\/ssh_host_.*_key$/.test(path)), [], "no SSH host private key in the image");
  const accounts = Layers.map((name) => layer(name)).find((tar) => tar.length < 1 << 20)!;
  const shadow = execFileSync("tar", ["-xOf", "-", "etc/shadow"], { input: accounts, encoding: "utf8" });
  assert.ok(shadow.includes("root:") && shadow.split("\n").filter(Boolean).every((line) => /^[^:]*:[*!]*:/.test(line)), "no password hash in the image's /etc/shadow");
}

function csvRows(dir: string): string[] {
  return readFileSync(join(dir, "gradebook.csv"), "utf8").trim().split("\n");
}

describe("grading a class as a Kubernetes Indexed Job (infra/k8s/grade-indexed-job.yaml)", function () {
  this.timeout(3_600_000);
  const cluster = suiteCluster({ backend: new NetnsBackend(), kubernetes: true });
  const work = mkdtempSync(join(tmpdir(), "labbook-grade-job-"));
  const timings: Timings = {};

  after(() => {
    rmSync(work, { recursive: true, force: true });
    process.stdout.write(`      times: ${Object.entries(timings).map(([label, s]) => `${label} ${s.toFixed(1)} s`).join(", ")}\n`);
  });

  it(`grades a class in ${SHARDS} shards of privileged pods, and the merged gradebook equals one machine's`, async () => {
    const classDir = join(work, "class");
    mkdirSync(join(classDir, "submissions"), { recursive: true });
    cpSync(join(PROJECT, "labs", LAB_FOLDER), join(classDir, "labs", LAB_FOLDER), { recursive: true });
    writeSubmissions(join(classDir, "submissions"));

    const one = join(work, "one-machine");
    const lab = join(classDir, "labs", LAB_FOLDER, basename(LAB_02));
    const single = await timedInto(timings, "one machine", () => labbook(["grade", lab, join(classDir, "submissions"), "--out", one, "--timeout", "5"]));
    assert.equal(single.code, 0, single.stderr + single.stdout);
    assert.equal(csvRows(one).length - 1, FIXTURES.length);

    const image = await timedInto(timings, "grader image", () => buildGraderImage(PROJECT, work));
    assertNoSecrets(image.archive);
    const { grade, merge, text } = adaptedManifest(image.ref);
    const nodes = cluster().nodes;
    const mnt = (node: string) => join(nodeDir(cluster().name, node), "private/mnt");
    await timedInto(timings, "image import", () => importImages(cluster(), [image.archive]));
    for (const node of nodes) cpSync(classDir, join(mnt(node.name), "class"), { recursive: true });

    const node1 = cluster().node("node1");
    const failure = async (job: string) => `${job} did not complete:\n${await node1.run(`kubectl describe job ${job}; kubectl get pods -o wide; for p in $(kubectl get pods -o name); do echo "== $p"; kubectl logs --tail=40 $p; done`).catch((e: Error) => e.message)}`;
    await node1.run("kubectl apply -f -", { input: text.split("\n---\n")[0]! });
    await timedInto(timings, `${SHARDS} shards (Indexed Job)`, async () => {
      await node1.run(`kubectl wait --for=condition=complete job/${grade.metadata.name} --timeout=1800s`).catch(async () => assert.fail(await failure(grade.metadata.name)));
    });
    const placed = String(await node1.run(`kubectl get pods -l job-name=${grade.metadata.name} -o jsonpath='{range .items[*]}{.spec.nodeName}{"\\n"}{end}'`)).trim().split("\n");
    assert.equal(placed.length, SHARDS, `one pod per shard: ${placed.join(", ")}`);

    // The shards, each written on its pod's node, gathered where the merge Job runs.
    const gathered = join(mnt("node1"), "class/grades");
    for (const node of nodes) {
      const grades = join(mnt(node.name), "class/grades");
      if (!existsSync(grades)) continue; // no pod of the Job ran there
      for (const shard of readdirSync(grades, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith("shard-"))) {
        if (node.name !== "node1") cpSync(join(grades, shard.name), join(gathered, shard.name), { recursive: true });
      }
    }
    const shards = readdirSync(gathered).filter((name) => name.startsWith("shard-")).sort();
    assert.deepEqual(shards, Array.from({ length: SHARDS }, (_, i) => `shard-${i}`), "every index of the Job wrote its shard");
    assert.equal(shards.reduce((sum, shard) => sum + csvRows(join(gathered, shard)).length - 1, 0), FIXTURES.length, "the shards hold every submission once");

    await node1.run("kubectl apply -f -", { input: text.split("\n---\n")[1]! });
    await timedInto(timings, "merge Job", async () => {
      await node1.run(`kubectl wait --for=condition=complete job/${merge.metadata.name} --timeout=600s`).catch(async () => assert.fail(await failure(merge.metadata.name)));
    });
    assert.deepEqual(csvRows(join(gathered, "all")), csvRows(one), "the merged gradebook is the one-machine gradebook");
  });
});
