// The netns driver's life cycle: up, status, down, crashes and leftovers.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { childrenOf, isRunning, processesMarked } from "../../../runner/host/procfs.ts";
import { HOST_VIEW_FILE, privateDirs } from "../../../runner/backend/netns/node-files.ts";
import { clusterDir, markerFor, readState } from "../../../runner/host/state.ts";
import { Cluster } from "../../../runner/cluster/cluster.ts";
import { finished, startLabbook, until } from "../../helpers/cli.ts";
import { uniqueClusterName, upTestCluster } from "../../helpers/cluster.ts";

const backend = new NetnsBackend();
const marked = (name: string) => processesMarked((m) => m === markerFor(name));

/** Runs `labbook up` and sends it `signal` while holders exist but before it has wired them. */
async function interruptedUp(name: string, signal: NodeJS.Signals) {
  const child = startLabbook(["up", "--name", name]);
  const exit = finished(child);
  await until(() => marked(name).length >= 2, "the first holders");
  child.kill(signal);
  return { exit };
}

describe("netns backend", function () {
  it("brings a cluster up and takes it down, leaving no process and no state", async () => {
    const cluster = await upTestCluster({ backend });
    const state = readState(cluster.name)!;
    const [status] = (await backend.list()).filter((c) => c.name === cluster.name);
    assert.equal(status?.state, "up");
    assert.deepEqual(status?.nodes.map((n) => [n.name, n.running]), [["node1", true], ["node2", true], ["node3", true]]);
    const holders = [state.world!, ...Object.values(state.nodes)];
    assert.ok(holders.every(isRunning));

    const report = await cluster.down();
    assert.deepEqual(report.clusters, [cluster.name]);
    assert.ok(!holders.some(isRunning), "a holder survived down");
    assert.deepEqual(marked(cluster.name), []);
    assert.equal(existsSync(clusterDir(cluster.name)), false);
  });

  it("gives every node its own namespaces and tini as PID 1", async () => {
    const cluster = await upTestCluster({ backend });
    try {
      const state = readState(cluster.name)!;
      const inodes = (pid: number, ns: string) => readlinkSync(`/proc/${pid}/ns/${ns}`);
      for (const ns of ["net", "mnt", "uts", "pid"]) {
        const seen = new Set([inodes(process.pid, ns), ...Object.values(state.nodes).map((h) => inodes(h.pid, ns)), inodes(state.world!.pid, ns)]);
        assert.equal(seen.size, 5, `${ns} namespaces are not all distinct`);
      }
      // Every process of a node works in its new root, none in the host's old tree (which it would keep alive).
      for (const holder of Object.values(state.nodes)) {
        for (const pid of [holder.pid, ...childrenOf(holder.pid)]) {
          const [cwd, root] = [statSync(`/proc/${pid}/cwd`), statSync(`/proc/${pid}/root`)];
          assert.deepEqual([cwd.dev, cwd.ino], [root.dev, root.ino], `process ${pid} works outside its node's root`);
        }
      }
    } finally {
      await cluster.down();
    }
  });

  it("keeps what nodes write to the host's files in each node's own layer: never on the host, never in another node", async () => {
    const cluster = await upTestCluster({ backend });
    const mark = `labbook-ro-test-${process.pid}`;
    try {
      const node = cluster.node("node1");
      const project = fileURLToPath(new URL("../../../", import.meta.url));
      for (const path of ["/usr", "/etc"]) {
        await node.$`touch ${join(path, mark)}`; // the node's overlay takes it
        assert.ok(!existsSync(join(path, mark)), `${path}/${mark} is on the host`);
        assert.equal((await cluster.node("node2").$({ nothrow: true })`test -e ${join(path, mark)}`).exitCode, 1, `node2 sees node1's ${path}/${mark}`);
      }
      for (const path of ["/var/tmp", "/home", project, join(project, "dist")]) {
        // Not there at all in a node: nothing to write into.
        const write = await node.$({ nothrow: true })`touch ${join(path, mark)}`;
        assert.match(write.stderr, /No such file or directory/, `a node wrote to ${path}: ${write.stderr}`);
        assert.ok(!existsSync(join(path, mark)), `${path}/${mark} is on the host`);
      }
      for (const path of ["/tmp", "/root", "/run", "/var/log", "/mnt", "/var/lib/cni", "/etc/cni/net.d"]) await node.$`touch ${join(path, mark)}`;
      for (const path of ["/tmp", "/root", "/mnt", "/var/lib/cni", "/etc/cni/net.d", "/var/log"]) assert.ok(!existsSync(join(path, mark)), `${path}/${mark} reached the host`);
    } finally {
      await cluster.down();
    }
  });

  it("hides from nodes the checkout, homes, the host's secrets and the paths the caller names", async () => {
    // Not under /tmp, which a node has its own of anyway, nor anywhere the host view hides as a whole
    // (test below): somewhere only the caller's naming it covers.
    const secret = mkdtempSync("/var/cache/labbook-grader-out-");
    writeFileSync(join(secret, "gradebook.csv"), "alice,3\n");
    const project = fileURLToPath(new URL("../../../", import.meta.url));
    const cluster = await upTestCluster({ backend, hide: [secret, "/var/lib/dpkg/status"] });
    try {
      const node = cluster.node("node2");
      const read = async (path: string) => node.$({ nothrow: true })`cat ${path}`;
      // Empty, or not there: never the host's content.
      for (const path of [join(project, "package.json"), join(project, "labs", "02-cross-host-routes", "02-cross-host-routes.ipynb"), join(secret, "gradebook.csv"), "/var/lib/dpkg/status"]) {
        const result = await read(path);
        assert.equal(result.stdout, "", `${path} is readable from a node`);
      }
      assert.ok(readFileSync("/etc/shadow", "utf8").length > 0, "the host has an /etc/shadow to hide");
      const shadow = (await read("/etc/shadow")).stdout;
      assert.match(shadow, /^root:\*:/m, "the accounts stay");
      assert.doesNotMatch(shadow, /^[^:]+:\$/m, "a password hash is readable from a node");
      const hostKeys = (await node.$`ls /etc/ssh`).stdout.split("\n").filter((name) => /^ssh_host_.*_key$/.test(name));
      for (const key of hostKeys) assert.equal((await read(`/etc/ssh/${key}`)).stdout, "", `the host's ${key}`);
      const shown = String(await node.$`for path in /home ${project} ${secret}; do [ -e "$path" ] && echo "$path"; done; true`);
      assert.equal(shown.trim(), "", "a hidden directory exists in a node");
      // The node's /root is its own alone: nothing of the host's shows through (keys, tokens, settings).
      const hostRoot = readdirSync("/root");
      writeFileSync(join("/root", `.labbook-root-test-${process.pid}`), "host\n");
      try {
        const nodeRoot = String(await node.$`ls -A /root`).split("\n");
        assert.deepEqual(nodeRoot.filter((name) => [...hostRoot, `.labbook-root-test-${process.pid}`].includes(name) && ![".bashrc", ".labbook", ".ssh"].includes(name)), []);
      } finally {
        rmSync(join("/root", `.labbook-root-test-${process.pid}`), { force: true });
      }
      // Root in a node writes to /usr in its own layer; remounting its root is refused outright (its mounts are locked).
      await node.$`touch /usr/labbook-layer-test`;
      const remount = await node.$({ nothrow: true })`mount -o remount,rw / && touch /usr/labbook-remount-test`;
      assert.notEqual(remount.exitCode, 0, "root in a node remounted its root");
      for (const path of ["/usr/labbook-layer-test", "/usr/labbook-remount-test"]) assert.equal(existsSync(path), false, `a node wrote the host's ${path}`);
      // The machine's own sysctls are read-only; the node's network ones are its own to set.
      const vm = await node.$({ nothrow: true })`sysctl -w vm.swappiness=$(cat /proc/sys/vm/swappiness)`;
      assert.notEqual(vm.exitCode, 0, `a node wrote vm.swappiness: ${vm.stdout}`);
      assert.match(vm.stderr, /Read-only file system|permission denied/);
      await node.$`sysctl -w net.ipv4.ip_forward=1`;
      // The labs' tools still work with all that hidden.
      await node.$`ip netns add hidden-test && ip netns del hidden-test`;
    } finally {
      await cluster.down();
      rmSync(secret, { recursive: true, force: true });
    }
  });

  it("shows nodes only the host's system directories (infra/node-host-view.txt), and no secret in /etc", async () => {
    const view = readFileSync(HOST_VIEW_FILE, "utf8");
    const shown = (dir: string) => new Set(view.match(new RegExp(`^show ${dir} (.*)$`, "m"))?.[1]?.split(" ") ?? []);
    const cluster = await upTestCluster({ backend });
    try {
      const node = cluster.node("node1");
      const outside = (dir: string) => readdirSync(dir).filter((name) => !shown(dir).has(name) && !privateDirs().some((p) => p.startsWith(join(dir, name))));
      // The control: the host has entries the view leaves out (the checkout's top directory, at least).
      assert.ok(outside("/").length > 0, "every top-level entry of the host is shown: the test below could not fail");
      for (const dir of ["/", "/var", "/var/lib", "/opt"]) {
        const inNode = String(await node.$`ls -A ${dir}`).split("\n").filter(Boolean);
        const unexpected = inNode.filter((name) => outside(dir).includes(name));
        assert.deepEqual(unexpected, [], `a node sees ${dir}'s ${unexpected.join(", ")}`);
      }
      for (const dir of ["/var/lib/cni", "/var/lib/etcd", "/opt/cni", "/mnt"]) await node.$`test -d ${dir}`; // the nodes' own, still there
      const secrets = await node.$`for path in /etc/ssl/private /etc/shadow- /etc/gshadow- /etc/sudoers.d; do [ -e "$path" ] && echo "$path"; done; true`;
      assert.equal(secrets.stdout, "", "a secret of /etc is visible in a node");
    } finally {
      await cluster.down();
    }
  });

  it("runs two clusters at once with the same addresses, each on its own LAN", async () => {
    const [a, b] = await Promise.all([upTestCluster({ backend }), upTestCluster({ backend })]);
    try {
      await a.node("node2").$`echo ${a.name} > /tmp/who`;
      await b.node("node2").$`echo ${b.name} > /tmp/who`;
      assert.equal(String(await a.node("node1").$`ssh -o BatchMode=yes 192.168.0.12 cat /tmp/who`), a.name);
      assert.equal(String(await b.node("node1").$`ssh -o BatchMode=yes 192.168.0.12 cat /tmp/who`), b.name);
    } finally {
      await Promise.all([a.down(), b.down()]);
    }
  });

  it("takes --nodes beyond the topology file", async () => {
    const cluster = await upTestCluster({ backend, nodes: 5 });
    try {
      assert.equal(String(await cluster.node("node5").$`hostname`), "node5");
      await cluster.node("node5").$`ping -c1 -W2 192.168.0.11`;
    } finally {
      await cluster.down();
    }
  });

  it("refuses a second cluster of the same name, and an invalid name", async () => {
    const cluster = await upTestCluster({ backend });
    try {
      await assert.rejects(Cluster.up({ backend, name: cluster.name }), /already up; run "labbook down --name/);
      await assert.rejects(Cluster.up({ backend, name: "Bad Name" }), /invalid cluster name "Bad Name"/);
    } finally {
      await cluster.down();
    }
  });

  it("reports a cluster whose node died as degraded, and reuses a dead cluster's name", async () => {
    const cluster = await upTestCluster({ backend });
    const state = readState(cluster.name)!;
    process.kill(state.nodes.node2!.pid, "SIGKILL");
    await until(() => !isRunning(state.nodes.node2!), "node2 to die");
    const status = (await backend.list()).find((c) => c.name === cluster.name)!;
    assert.equal(status.state, "degraded");
    assert.equal(status.nodes.find((n) => n.name === "node2")?.running, false);
    await assert.rejects(cluster.node("node2").$`true`, new RegExp(`${cluster.name}/node2: (connection lost|cannot start command)`));
    cluster.close();

    // Now the whole cluster dies without `down`, as in a crash: its name must be reusable.
    const holders = [state.world!, ...Object.values(state.nodes)];
    for (const holder of holders) if (isRunning(holder)) process.kill(holder.pid, "SIGKILL");
    await until(() => !holders.some(isRunning), "the holders to die");
    assert.equal((await backend.list()).find((c) => c.name === cluster.name)?.state, "down");
    const again = await Cluster.up({ backend, name: cluster.name });
    assert.equal(String(await again.node("node2").$`hostname`), "node2");
    await again.down();
  });

  it("recovers from kill -9 of the process running `up`: down --all leaves nothing", async () => {
    const name = uniqueClusterName("k");
    await (await interruptedUp(name, "SIGKILL")).exit;
    const report = await backend.downAll();
    assert.ok(report.clusters.includes(name), `down --all did not find ${name}: ${JSON.stringify(report)}`);
    assert.deepEqual(marked(name), []);
    assert.equal(existsSync(clusterDir(name)), false);
  });

  it("removes what a kill -9 left behind on the next `up`, whatever its name", async () => {
    const crashed = uniqueClusterName("k");
    await (await interruptedUp(crashed, "SIGKILL")).exit;
    assert.ok(marked(crashed).length > 0, "the crashed run left nothing to clean: the test proves nothing");
    const next = await upTestCluster({ backend });
    try {
      assert.deepEqual(marked(crashed), []);
      assert.equal(existsSync(clusterDir(crashed)), false);
    } finally {
      await next.down();
    }
  });

  it("cleans up when `up` is interrupted with Ctrl-C", async () => {
    const name = uniqueClusterName("i");
    const result = await (await interruptedUp(name, "SIGINT")).exit;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /SIGINT, cleaning up/);
    assert.deepEqual(marked(name), []);
    assert.equal(existsSync(clusterDir(name)), false);
  });
});
