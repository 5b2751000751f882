// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes: true
//     privileged: GlusterFS keeps its bookkeeping in trusted.* extended attributes on
//       the bricks, which only root of the whole machine may set
// ---

// %% [markdown]
// # Lab 10: GlusterFS, replicated storage that survives a failure
//
// A pod that writes to its node's disk loses its data when the node fails. **GlusterFS** builds one
// filesystem out of directories on several servers and keeps a whole copy of every file on more than
// one of them. The terms used in this lab:
//
// - **glusterd**: the management daemon, on every storage server (TCP port 24007). It keeps the
//   configuration in `/var/lib/glusterd` and starts the other gluster processes.
// - **trusted storage pool**: the servers that trust each other. `gluster peer probe node2` adds
//   node2. The pool has no master: every glusterd holds the full configuration.
// - **brick**: a directory on one server, the unit of storage, written `node1:/root/bricks/gv0`. Each
//   brick is served by its own process, **glusterfsd**, on its own port. `gluster volume status` lists
//   them with their PIDs.
// - **volume**: bricks combined into one filesystem. In a **replica 3** volume every file is stored
//   whole on all three bricks. This is AFR ("automatic file replication").
// - **FUSE client**: `mount -t glusterfs node1:/gv0 /mnt/gv0` starts a `glusterfs` process that serves
//   the mount point through `/dev/fuse`. `node1` is only the **volfile server**: the client fetches the
//   volume's layout from node1's glusterd, then connects to **every brick directly** and sends each
//   write to all three itself. Replication happens in the client, not between the servers.
// - **self-heal**: while a brick is down, the bricks that stay up record which files it missed. When
//   it comes back, the **self-heal daemon** (`glustershd`, one per server) copies those files to it.
//   `gluster volume heal gv0 info` lists the entries still pending.
// - **gfid**: every file has a cluster-wide id, kept in the extended attribute `trusted.gfid` of each
//   brick's copy. Gluster keeps all its metadata in `trusted.*` xattrs, so a brick's filesystem must
//   support them (xfs and ext4 do).
//
// ```
//   node2: mount -t glusterfs node1:/gv0 /mnt/gv0         node3: mount -t glusterfs node2:/gv0 /mnt/gv0
//   ┌ glusterfs (FUSE client) ┐                           ┌ glusterfs (FUSE client) ┐
//   │ 1. volfile from node1   │                           │ 1. volfile from node2   │
//   │ 2. every write to all 3 │                           │ 2. every write to all 3 │
//   └────────────┬────────────┘                           └────────────┬────────────┘
//                ├──────────────────────────┬──────────────────────────┤
//                ▼                          ▼                          ▼
//   ┌ node1 192.168.0.11 ────┐  ┌ node2 192.168.0.12 ────┐  ┌ node3 192.168.0.13 ────┐
//   │ glusterd :24007        │◀▶│ glusterd :24007        │◀▶│ glusterd :24007        │ trusted storage pool
//   │ glusterfsd ─ brick     │  │ glusterfsd ─ brick     │  │ glusterfsd ─ brick     │ (peer probe)
//   │   /root/bricks/gv0     │  │   /root/bricks/gv0     │  │   /root/bricks/gv0     │
//   │ glustershd (self-heal) │  │ glustershd (self-heal) │  │ glustershd (self-heal) │
//   └────────────────────────┘  └────────────────────────┘  └────────────────────────┘
//             volume gv0, replica 3: every file whole on all three bricks
// ```
//
// You will build the pool and the volume, mount it on two nodes, kill a brick and watch the data
// survive, watch self-heal repair the brick when it comes back, hand the volume to pods in
// Kubernetes, run the gluster servers themselves as Kubernetes pods (the lesson's homework), and
// finally replace a brick whose disk is gone.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, name the nodes, and import the helpers that read gluster's --xml output
import { cluster, check, sh, runShown, onlyWith, kubectlApply, scaledSeconds } from "labbook";
import { glusterVolumeInfo, glusterBrickStatus, glusterHealInfo, formatHealInfo, pendingHeals, podOfPid, sha256Of } from "./gluster.js";

// GlusterFS keeps its bookkeeping in trusted.* extended attributes, which only root of the whole
// machine may set: this lab's nodes run without labbook's fence (the notebook's metadata says so too).
// Sections 7 to 9 give the volume to pods: the nodes also run Kubernetes v1.35 (it starts in about 15 s).
const c = await cluster({ fresh: true, privileged: "GlusterFS bricks need trusted.* extended attributes", kubernetes: true });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
const nodes = [node1, node2, node3];
const VOLUME = "gv0";
const BRICK = "/root/bricks/gv0"; // the same path on every node, each node's own directory
const MNT = "/mnt/gv0";           // where node2 and node3 mount the volume

// %% [markdown]
// ## 1. glusterd on every node
//
// Each node has its own `/var/lib/glusterd` (glusterd's state: its UUID, its peers, the volumes) and
// its own `/var/log`, so the three glusterds are as separate as on three machines. There is no
// systemd: `glusterd` run by hand puts itself in the background and logs to
// `/var/log/glusterfs/glusterd.log`. It takes a few seconds to get ready. So instead of sleeping, the
// cell asks `gluster pool list` every 0.2 s until it answers, for at most 30 s.

// %% labbook={"id": "glusterd", "role": "step"}
// Start glusterd on all three nodes at once, then wait (at most 30 s each) until it answers
await Promise.all(nodes.map((node) => runShown(node, [
  "glusterd",
  `timeout ${scaledSeconds(30)} sh -c 'until gluster pool list >/dev/null 2>&1; do sleep 0.2; done'`,
])));
await sh(node1, "ss -ltnp 'sport = :24007'");
await runShown(node1, ["gluster pool list"]);

// %% labbook={"id": "check-glusterd", "role": "check"}
// Check: every glusterd listens on 24007 and, for now, knows only itself
for (const node of nodes) {
  await check(`${node.name}: glusterd listens on TCP 24007, alone in its pool`, async () => {
    const listening = String(await node.$`ss -Hltn 'sport = :24007'`);
    if (!listening.includes(":24007")) throw new Error("nothing listens on 24007");
    const pool = (await node.$`gluster pool list`).lines().slice(1);
    if (pool.length !== 1 || !pool[0]!.includes("localhost")) throw new Error(`pool list:\n${pool.join("\n")}`);
    return `listening; pool: ${pool[0]!.split(/\s+/).slice(1).join(" ")}`;
  }, { within: 10000 });
}

// %% [markdown]
// ## 2. The trusted storage pool
//
// From node1, probe the two others. Probing is done once, from any member: node1 tells node2 and
// node3 about each other, so all three end up with the same pool. The names resolve through
// `/etc/hosts`, which lists node1, node2 and node3.

// %% labbook={"id": "probe", "role": "step"}
// gluster peer probe, from node1
await runShown(node1, ["gluster peer probe node2", "gluster peer probe node3", "gluster pool list"]);
await runShown(node3, ["gluster peer status"]);

// %% labbook={"id": "check-probe", "role": "check"}
// Check: every node sees the other two as "Peer in Cluster (Connected)"
for (const node of nodes) {
  await check(`${node.name} sees the other two nodes as connected peers`, async () => {
    const status = String(await node.$`gluster peer status`);
    const others = nodes.filter((n) => n !== node).map((n) => n.name);
    const connected = [...status.matchAll(/Hostname: (\S+)\nUuid: \S+\nState: Peer in Cluster \(Connected\)/g)].map((m) => m[1]!);
    const missing = others.filter((name) => !connected.includes(name));
    if (missing.length > 0) throw new Error(`not (yet) connected peers: ${missing.join(", ")}\n${status}`);
    return `connected peers: ${connected.join(", ")}`;
  }, { within: 20000 });
}

// %% [markdown]
// ## 3. A replica 3 volume
//
// Each brick is `/root/bricks/gv0` on its node. Each node's `/root` is its own directory, so the path is
// the same on the three nodes while the directories are not, as on three machines. It is not in
// `/var/lib/glusterd`: that is glusterd's own state, and a brick holds user data. The directory is on
// ext4, which supports the `trusted.*` xattrs gluster needs.
//
// Gluster refuses a brick on the system's root partition: a full brick would fill the server's
// root filesystem. A real server gives each brick a disk of its own, e.g. an xfs filesystem on an LVM
// volume. These nodes have no spare disk, so after seeing the refusal you add `force`.
//
// `gluster volume create` only writes the configuration. `gluster volume start` starts one
// glusterfsd per brick and one self-heal daemon per node. It also marks each brick's root directory
// with the volume's id, in the xattr `trusted.glusterfs.volume-id`: from then on a brick is only
// served if that mark is there.

// %% labbook={"id": "volume", "role": "step"}
// Brick directories, then create (refused, then forced) and start gv0
for (const node of nodes) await sh(node, `mkdir -p ${BRICK}`);
const brickList = nodes.map((node) => `${node.name}:${BRICK}`).join(" ");
const create = `gluster volume create ${VOLUME} replica 3 ${brickList}`;
console.log(`node1# ${create}`);
const refused = await node1.run(create, { nothrow: true });
console.log(`${refused.stdout}${refused.stderr}`.trim(), `\n(exit code ${refused.exitCode})`);
await sh(node1, `${create} force`);
await sh(node1, `gluster volume start ${VOLUME}`);
await sh(node1, `gluster volume info ${VOLUME}`);
await sh(node1, `gluster volume status ${VOLUME}`);
await runShown(node3, [`getfattr --absolute-names -n trusted.glusterfs.volume-id -e hex ${BRICK}`]);

// %% labbook={"id": "check-volume", "role": "check"}
// Check: gv0 is a started replica 3 over the three bricks, each served by an online glusterfsd
await check("create without force was refused because of the root partition", () => {
  if (refused.ok) throw new Error("gluster accepted bricks on the root partition without force");
  return `${refused.stdout}${refused.stderr}`.trim().split(". ")[0]!;
});
await check("gv0 is Started, Replicate, 1 x 3 over node1, node2 and node3", async () => {
  const info = await glusterVolumeInfo(node1, VOLUME);
  const wanted = nodes.map((node) => `${node.name}:${BRICK}`);
  if (info.status !== "Started" || info.type !== "Replicate" || info.replicaCount !== 3 || info.bricks.join(" ") !== wanted.join(" ")) {
    throw new Error(`status ${info.status}, type ${info.type}, replica ${info.replicaCount}, bricks ${info.bricks.join(" ")}`);
  }
  return `${info.status}, ${info.type}, replica ${info.replicaCount}: ${info.bricks.join(" ")}`;
});
await check("all three bricks are online, each with a glusterfsd PID and port", async () => {
  const bricks = await glusterBrickStatus(node1, VOLUME);
  if (bricks.length !== 3 || bricks.some((b) => !b.online)) throw new Error(bricks.map((b) => `${b.brick} ${b.online ? "online" : "OFFLINE"}`).join(", "));
  return bricks.map((b) => `${b.brick} pid ${b.pid} port ${b.port}`).join("; ");
}, { within: 20000 });
await check("every brick root carries the volume's id in trusted.glusterfs.volume-id", async () => {
  const volumeId = String(await node1.$`gluster volume info ${VOLUME}`).match(/Volume ID: (\S+)/)![1]!;
  for (const node of nodes) {
    const xattr = /=(0x[0-9a-f]+)/.exec(String(await node.$`getfattr --absolute-names -n trusted.glusterfs.volume-id -e hex ${BRICK}`))?.[1];
    if (xattr !== `0x${volumeId.replaceAll("-", "")}`) throw new Error(`${node.name}: ${xattr} is not volume ${volumeId}`);
  }
  return `Volume ID ${volumeId} on all three brick roots`;
});

// %% [markdown]
// ## 4. Mount it twice, write once
//
// node2 mounts the volume with node1 as volfile server, and node3 mounts it with node2. Each mount
// starts a FUSE client process (`glusterfs`) inside its node. A 1 MiB file of random bytes written
// through node2's mount should read back the same through node3's mount. On the bricks you find
// three plain copies of it, each with the same `trusted.gfid`. Gluster also keeps a hard link to
// each file, named by its gfid, under the brick's `.glusterfs` directory.

// %% labbook={"id": "mount", "role": "step"}
// FUSE mounts on node2 (via node1) and node3 (via node2); a file written on node2, read on node3
await runShown(node2, [`mkdir -p ${MNT}`, `mount -t glusterfs node1:/${VOLUME} ${MNT}`, `findmnt ${MNT}`]);
await runShown(node3, [`mkdir -p ${MNT}`, `mount -t glusterfs node2:/${VOLUME} ${MNT}`, `findmnt ${MNT}`]);
await runShown(node2, [
  `head -c 1M /dev/urandom > ${MNT}/hello.bin`,
  `echo "written through node2's mount" > ${MNT}/hello.txt`,
  `sha256sum ${MNT}/hello.bin`,
]);
const helloSum = (await sha256Of(node2, `${MNT}/hello.bin`))!;
await sh(node3, `sha256sum ${MNT}/hello.bin && cat ${MNT}/hello.txt`);
for (const node of nodes) await sh(node, `ls ${BRICK} && sha256sum ${BRICK}/hello.bin`);
await sh(node1, `getfattr --absolute-names -d -m trusted -e hex ${BRICK}/hello.bin`);
await runShown(node1, [`ls -li ${BRICK}/hello.bin && find ${BRICK}/.glusterfs -samefile ${BRICK}/hello.bin`]);

// %% labbook={"id": "check-mount", "role": "check"}
// Check: the mounts are glusterfs FUSE mounts; the file is identical through node3's mount and on all three bricks
for (const [node, server] of [[node2, "node1"], [node3, "node2"]] as const) {
  await check(`${node.name}: ${MNT} is a fuse.glusterfs mount of ${server}:/${VOLUME}`, async () => {
    const mount = String(await node.$`findmnt -n -o SOURCE,FSTYPE ${MNT}`).trim();
    if (mount.replace(/\s+/g, " ") !== `${server}:/${VOLUME} fuse.glusterfs`) throw new Error(`findmnt: ${mount || "not mounted"}`);
    return mount.replace(/\s+/g, " ");
  });
}
await check("hello.bin read through node3's mount is identical to what node2 wrote", async () => {
  const read = await sha256Of(node3, `${MNT}/hello.bin`);
  if (read !== helloSum) throw new Error(`node2 wrote ${helloSum}, node3 reads ${read ?? "no file"}`);
  return `sha256 ${helloSum.slice(0, 16)}… on both mounts`;
});
await check("hello.bin is on all three bricks: same content, same trusted.gfid", async () => {
  const gfids = new Set<string>();
  for (const node of nodes) {
    const sum = await sha256Of(node, `${BRICK}/hello.bin`);
    if (sum !== helloSum) throw new Error(`${node.name}:${BRICK}/hello.bin has ${sum ?? "no file"}`);
    gfids.add(/=(0x[0-9a-f]+)/.exec(String(await node.$`getfattr --absolute-names -n trusted.gfid -e hex ${BRICK}/hello.bin`))?.[1] ?? "none");
  }
  if (gfids.size !== 1) throw new Error(`different gfids: ${[...gfids].join(" ")}`);
  return `three identical copies, gfid ${[...gfids][0]}`;
}, { within: 10000 });

// %% [markdown]
// ## 5. A brick dies
//
// Now node3's brick process dies. Only that glusterfsd is killed: node3's glusterd, its self-heal
// daemon and its FUSE client keep running. Its PID comes from `gluster volume status`, asked inside
// node3, which also sees node3's processes.

// %% labbook={"id": "kill-brick", "role": "step"}
// Kill node3's glusterfsd, by the PID gluster reports for it
await sh(node3, `gluster volume status ${VOLUME} node3:${BRICK}`);
const victim = (await glusterBrickStatus(node3, VOLUME)).find((b) => b.brick === `node3:${BRICK}`);
if (!victim?.pid) throw new Error(`node3's brick has no PID: ${JSON.stringify(victim)}`);
await sh(node3, `kill -KILL ${victim.pid}`);
// glusterd notices within a moment; wait for it (at most 20 s), then look
await sh(node1, `timeout ${scaledSeconds(20)} sh -c 'until gluster volume status ${VOLUME} node3:${BRICK} | grep -q " N "; do sleep 0.2; done'`);
await runShown(node1, [`gluster volume status ${VOLUME}`]);

// %% labbook={"id": "check-killed", "role": "check"}
// Check: gluster sees node3's brick offline, while node3's glusterd still answers
await check("node3's brick is offline in gluster volume status", async () => {
  const brick = (await glusterBrickStatus(node1, VOLUME)).find((b) => b.brick === `node3:${BRICK}`);
  if (brick?.online !== false) throw new Error(`node3's brick: ${JSON.stringify(brick)}`);
  return `node3:${BRICK} offline (was pid ${victim.pid})`;
}, { within: 20000 });
await check("node3's glusterd still runs and answers", async () => {
  await node3.$`gluster pool list`;
  return "gluster pool list answers on node3";
});

// %% [markdown]
// With two of three bricks up, the volume goes on. Writes go to node1's and node2's bricks. Each of
// them records in its `.glusterfs/indices/xattrop` directory that node3's copy is now out of date.
// `gluster volume heal gv0 info` lists those entries per brick. node3's brick cannot be asked, so
// its count is `-`.

// %% labbook={"id": "degraded", "role": "step"}
// Write a new file and append to an old one through node2's mount; read both through node3's mount
await runShown(node2, [
  `head -c 512K /dev/urandom > ${MNT}/missed.bin`,
  `echo "appended while node3's brick was down" >> ${MNT}/hello.txt`,
  `sha256sum ${MNT}/missed.bin ${MNT}/hello.txt`,
]);
const missedSum = (await sha256Of(node2, `${MNT}/missed.bin`))!;
const helloTxtSum = (await sha256Of(node2, `${MNT}/hello.txt`))!;
await sh(node3, `sha256sum ${MNT}/missed.bin ${MNT}/hello.bin && cat ${MNT}/hello.txt`);
await sh(node3, `ls ${BRICK}`);
await runShown(node1, [`gluster volume heal ${VOLUME} info`]);

// %% labbook={"id": "check-degraded", "role": "check"}
// Check: reads and writes went on; the new file is on node1's and node2's bricks only; heals are pending
await check("through node3's mount, missed.bin and the old hello.bin read back identical", async () => {
  const [missed, hello] = [await sha256Of(node3, `${MNT}/missed.bin`), await sha256Of(node3, `${MNT}/hello.bin`)];
  if (missed !== missedSum || hello !== helloSum) throw new Error(`missed.bin ${missed ?? "missing"}, hello.bin ${hello ?? "missing"}`);
  return "both files read back with the checksums they were written with";
});
await check("missed.bin is on node1's and node2's bricks, not on node3's", async () => {
  const sums = await Promise.all(nodes.map((node) => sha256Of(node, `${BRICK}/missed.bin`)));
  if (sums[0] !== missedSum || sums[1] !== missedSum || sums[2] !== null) throw new Error(`node1 ${sums[0]}, node2 ${sums[1]}, node3 ${sums[2]}`);
  return "node1 and node2 have it; node3's brick does not";
});
await check("heal info: node1 and node2 hold pending entries, node3's brick is not connected", async () => {
  const heal = await glusterHealInfo(node1, VOLUME);
  const [b1, b2, b3] = heal;
  if (heal.length !== 3 || !(b1!.entries! > 0) || !(b2!.entries! > 0) || b3!.status === "Connected") throw new Error(formatHealInfo(heal));
  return formatHealInfo(heal);
}, { within: 10000 });

// %% [markdown]
// ## 6. The brick comes back, and self-heal catches up
//
// `gluster volume start gv0 force` on a started volume starts any of its bricks that is not running.
// node3's glusterfsd comes back with a new PID and port. The self-heal daemons see it reconnect and
// copy what it missed. The check below polls `gluster volume heal gv0 info` until every brick is
// connected with zero pending entries, with a 60 s deadline.

// %% labbook={"id": "restart-brick", "role": "step"}
// Restart the missing brick
await sh(node3, `gluster volume start ${VOLUME} force`);
const restartedAt = Date.now();
await runShown(node3, [`gluster volume status ${VOLUME} node3:${BRICK}`]);

// %% labbook={"id": "check-healed", "role": "check"}
// Check: node3's brick is back, the heal finishes in time, and node3's brick has the missed data
await check("node3's brick is online again, with a new PID", async () => {
  const brick = (await glusterBrickStatus(node3, VOLUME)).find((b) => b.brick === `node3:${BRICK}`);
  if (!brick?.online) throw new Error(`node3's brick: ${JSON.stringify(brick)}`);
  if (brick.pid === victim.pid) throw new Error(`still pid ${brick.pid}?`);
  return `pid ${brick.pid} (was ${victim.pid}), port ${brick.port}`;
}, { within: 20000 });
await check("gluster volume heal gv0 info reaches zero pending entries on all three bricks", async () => {
  const heal = await glusterHealInfo(node1, VOLUME);
  if (pendingHeals(heal) !== 0) throw new Error(formatHealInfo(heal));
  return `${formatHealInfo(heal)}: healed ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart`;
}, { within: 60000, every: 500 });
await check("node3's brick now has missed.bin and the appended hello.txt, identical", async () => {
  const [missed, helloTxt] = [await sha256Of(node3, `${BRICK}/missed.bin`), await sha256Of(node3, `${BRICK}/hello.txt`)];
  if (missed !== missedSum || helloTxt !== helloTxtSum) throw new Error(`missed.bin ${missed ?? "missing"}, hello.txt ${helloTxt}`);
  return "missed.bin and hello.txt on node3's brick match what node2 wrote";
}, { within: 10000 });

// %% labbook={"id": "after-heal", "role": "step"}
// What heal info and node3's brick show now
await sh(node1, `gluster volume heal ${VOLUME} info`);
await runShown(node3, [`ls -l ${BRICK} && tail -2 ${BRICK}/hello.txt`]);

// %% [markdown]
// ## 7. In Kubernetes: the lesson's StorageClass
//
// The lesson hands GlusterFS to Kubernetes with a StorageClass. A PersistentVolumeClaim names the
// class, and the class's **provisioner** creates a volume for it:
//
// ```yaml
// apiVersion: storage.k8s.io/v1
// kind: StorageClass
// metadata:
//   name: slow
// provisioner: kubernetes.io/glusterfs
// parameters:
//   resturl: "http://192.168.10.100:8080"
//   restuser: ""
//   secretNamespace: ""
//   secretName: ""
// allowVolumeExpansion: true
// ```
//
// - `kubernetes.io/glusterfs` is the **in-tree** provisioner, built into kube-controller-manager.
//   It never talks to glusterd. It calls **heketi**, a REST service (`resturl`) that manages the
//   gluster pool: for each claim, heketi carves bricks out of the raw disks it was given, then
//   creates and starts a replica volume (the commands of sections 3 and 6). `restuser`,
//   `secretNamespace` and `secretName` are heketi's credentials, empty when heketi runs without
//   authentication.
// - The provisioner then creates a PersistentVolume of type `glusterfs`, with an Endpoints object
//   that lists the gluster servers. kubelet mounts it on the pod's node with
//   `mount -t glusterfs`, the same FUSE mount as in section 4.
// - `allowVolumeExpansion: true`: a bigger request in the claim makes heketi add bricks to the volume.
//
// **This cannot work on this cluster, and the lab does not pretend it does.** This lab's cluster runs
// Kubernetes v1.35.4. The in-tree GlusterFS driver (this provisioner, and the `glusterfs:` volume type
// of PersistentVolumes and pods) was deprecated in Kubernetes 1.25 and **removed in 1.26**:
// kube-controller-manager no longer has a plugin called `kubernetes.io/glusterfs`, and kubelet can no
// longer mount a `glusterfs:` volume. Even on 1.25 the class needs a heketi server at `resturl`, and
// there is none here (heketi's project is archived). The API server still accepts the StorageClass:
// to it, a provisioner is only a name. The cell below applies the lesson's class with a claim, and
// the check after it shows what 1.35 answers: the claim stays `Pending`, and the PV controller reports
// `ProvisioningFailed: no volume plugin matched name: kubernetes.io/glusterfs`. To run the class as the
// lesson meant it, you need Kubernetes 1.25 or older with heketi at `resturl`. Sections 8 and 9 then
// give gv0 to pods in the way that still works on 1.35.

// %% labbook={"id": "k8s-storageclass", "role": "step", "requires": ["kubernetes"], "timeout": 120}
// The lesson's StorageClass and a claim that uses it, applied to this cluster's Kubernetes 1.35
const lessonManifests = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: slow
provisioner: kubernetes.io/glusterfs
parameters:
  resturl: "http://192.168.10.100:8080"
  restuser: ""
  secretNamespace: ""
  secretName: ""
allowVolumeExpansion: true
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: gluster-claim
spec:
  storageClassName: slow
  accessModes:
    - ReadWriteMany
  resources:
    requests:
      storage: 1Gi
`;
await onlyWith(c, "kubernetes", async () => {
  await sh(node1, "kubectl get nodes");
  await kubectlApply(node1, lessonManifests, "glusterfs-storageclass.yaml");
  await sh(node1, "kubectl get storageclass slow");
  // Give the PV controller a moment to look at the claim (the check below waits properly)
  await sh(node1, `timeout ${scaledSeconds(30)} sh -c 'until kubectl get events --field-selector involvedObject.name=gluster-claim,reason=ProvisioningFailed -o name | grep -q .; do sleep 1; done'; kubectl describe pvc gluster-claim | sed -n '/^Events:/,$p'`);
  await sh(node1, "kubectl get pvc gluster-claim");
});

// %% labbook={"id": "check-k8s-storageclass", "role": "check", "requires": ["kubernetes"], "timeout": 120}
// Check: on Kubernetes 1.35 nothing provisions for kubernetes.io/glusterfs; the claim stays Pending, and the PV controller says why
await onlyWith(c, "kubernetes", async () => {
  await check("the PV controller has no plugin kubernetes.io/glusterfs (ProvisioningFailed on gluster-claim)", async () => {
    const messages = String(await node1.$`kubectl get events --field-selector involvedObject.name=gluster-claim,reason=ProvisioningFailed -o 'jsonpath={.items[*].message}'`);
    if (!messages.includes("no volume plugin matched name: kubernetes.io/glusterfs")) throw new Error(`ProvisioningFailed events: ${messages || "none yet"}`);
    return "ProvisioningFailed: no volume plugin matched name: kubernetes.io/glusterfs";
  }, { within: 60000, every: 1000 });
  await check("gluster-claim stays Pending, with no volume: the class cannot provision on 1.35", async () => {
    const [phase, volume] = String(await node1.$`kubectl get pvc gluster-claim -o 'jsonpath={.status.phase} {.spec.volumeName}'`).trim().split(" ");
    if (phase !== "Pending" || volume) throw new Error(`gluster-claim is ${phase || "not there"}${volume ? `, bound to ${volume}` : ""}`);
    return "Pending, no volume";
  });
});

// %% [markdown]
// ## 8. gv0 in Kubernetes 1.35: a FlexVolume driver
//
// What replaced the in-tree drivers is **CSI**: a storage driver runs as pods (a node plugin on every
// node, and a controller with sidecars such as the external provisioner) and kubelet talks to it over
// gRPC. A GlusterFS CSI driver needs its own container images, and this cluster has only three
// (`labbook/busybox:1`, `labbook/probe:1`, `labbook/coredns:1`) and no registry. kubelet 1.35 still
// runs the older out-of-tree interface, **FlexVolume** (deprecated in favour of CSI, but not removed):
// a driver is one executable on each node, which kubelet runs for each volume operation. That is
// small enough to write here, as a shell script.
//
// - **Where kubelet looks**: in its volume plugin directory,
//   `/usr/libexec/kubernetes/kubelet-plugins/volume/exec/`, for directories named
//   `<vendor>~<driver>`, each holding an executable named `<driver>`. The directory
//   `labbook~glusterfs` with the executable `glusterfs` in it is the driver **`labbook/glusterfs`**,
//   the name a PersistentVolume gives in `flexVolume.driver` (`~` stands for the `/` that a file name
//   cannot contain). kubelet watches the directory, so a driver installed while kubelet runs is
//   found without a restart ("dynamic plugin probing"). It loads the driver the next time it looks
//   for a volume plugin, and calls `init` then.
// - **Install it in one step.** kubelet reacts to the new directory at once: if the executable is not
//   in it yet, `init` fails and kubelet may not look again. So the cell writes the driver into a
//   directory whose name starts with `.` (kubelet ignores those) and renames that directory into
//   place with `mv`, which the kernel does atomically.
// - **`init`** answers `{"status":"Success","capabilities":{"attach":false}}`. `attach: false` says
//   there is nothing to attach to a node (no disk), only a filesystem to mount, so the attach/detach
//   controller has nothing to do for this driver.
// - **`mount <dir> <options>`**: kubelet has made `<dir>`, which is
//   `/var/lib/kubelet/pods/<pod uid>/volumes/labbook~glusterfs/<pv name>`, and passes the PV's
//   `flexVolume.options` as JSON, plus keys of its own (`kubernetes.io/pod.name`,
//   `kubernetes.io/readwrite`...). The driver runs `mount -t glusterfs node1:/gv0 <dir>`, the FUSE
//   mount of section 4. containerd then bind-mounts `<dir>` into the container at its `mountPath`.
// - **`unmount <dir>`**: when the pod is gone. The FUSE client on that node exits with the mount.
// - Every other call (`getvolumename`, `attach`, `expandvolume`...) answers
//   `{"status":"Not supported"}`, and kubelet uses its own default where it has one.
// - The answer is one JSON object on the driver's output. kubelet reads stdout and stderr together,
//   so the driver keeps `mount`'s own messages out of it and puts them in a `Failure`'s `message`.
//
// The driver, like the gluster client it calls, must be on every node where a pod may use the volume.
// It also appends each call to `/var/log/labbook-glusterfs.log` with the caller's name, so you can
// see what kubelet asks: `[kubelet]` for kubelet's calls, `[bash]` or `[sshd]` when the lab runs the
// driver by hand, and on node1 perhaps `[kube-controller]`: kube-controller-manager (its name cut to
// 15 characters by the kernel) loads FlexVolume drivers from the same directory for attach and
// detach, calls `init`, and after `attach: false` nothing more.
//
// The cell first deletes the lesson's class and claim: nothing will ever provision for them here.

// %% labbook={"id": "k8s-flexvolume", "role": "step", "requires": ["kubernetes"], "timeout": 120}
// The FlexVolume driver labbook/glusterfs, installed on every node where kubelet looks for it
const PLUGIN_DIR = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec";
const FLEX_DIR = `${PLUGIN_DIR}/labbook~glusterfs`;
// kubelet's log: a file on the embedded cluster's nodes, else systemd's journal (labbook's VMs keep none: empty).
const KUBELET_LOG = "{ cat /var/log/kubernetes/kubelet.log 2>/dev/null || journalctl -u kubelet --no-pager -o cat; }";
const flexDriver = `#!/bin/sh
# FlexVolume driver "labbook/glusterfs". kubelet runs it as
#   glusterfs init
#   glusterfs mount <mount dir> <options as JSON>
#   glusterfs unmount <mount dir>
# and reads its answer, one JSON object, from its output (stdout and stderr together).
# The options are the PV's flexVolume.options ("server", "volume"), and kubelet's own ("kubernetes.io/...").
answer() { printf '%s\\n' "$1"; exit "$2"; }
failure() { answer "$(jq -cn --arg m "$1" '{status: "Failure", message: $m}')" 1; }
# A log of the calls, with the caller's name: kubelet, or a shell when you run the driver by hand.
echo "$(date '+%T') [$(cat /proc/$PPID/comm 2>/dev/null)] $*" >>/var/log/labbook-glusterfs.log

case "$1" in
init)
  # No attach/detach: there is no disk to attach to a node, only a network filesystem to mount.
  answer '{"status":"Success","capabilities":{"attach":false}}' 0 ;;
mount)
  dir=$2
  server=$(printf '%s' "$3" | jq -r '.server // empty' 2>/dev/null)
  volume=$(printf '%s' "$3" | jq -r '.volume // empty' 2>/dev/null)
  [ -n "$server" ] && [ -n "$volume" ] || failure "flexVolume.options must give server and volume"
  mkdir -p "$dir"
  if out=$(mount -t glusterfs "$server:/$volume" "$dir" 2>&1); then answer '{"status":"Success"}' 0; fi
  failure "mount -t glusterfs $server:/$volume $dir: $out" ;;
unmount)
  if out=$(umount "$2" 2>&1); then answer '{"status":"Success"}' 0; fi
  failure "umount $2: $out" ;;
*)
  answer '{"status":"Not supported"}' 1 ;;
esac
`;
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, ["kubectl delete --ignore-not-found -f /root/glusterfs-storageclass.yaml"]);
  const staging = `${PLUGIN_DIR}/.labbook~glusterfs.new`;
  for (const node of nodes) {
    await node.put(Buffer.from(flexDriver), "/root/labbook-glusterfs");
    await runShown(node, [`rm -rf ${staging} && install -D -m 0755 /root/labbook-glusterfs ${staging}/glusterfs && rm -rf ${FLEX_DIR} && mv -T ${staging} ${FLEX_DIR}`]);
  }
  await runShown(node2, [
    `ls -l ${FLEX_DIR}`,
    `${FLEX_DIR}/glusterfs init`,
    `${FLEX_DIR}/glusterfs getvolumename '{}' || echo "(exit code $?)"`,
  ]);
  // kubelet's own log names the directory it watches for drivers; where none is kept (labbook's VMs), the driver's
  // own log shows kubelet calling its init, having found it there: a moment after the install (at most 30 s)
  const kubeletFoundIt = `${KUBELET_LOG} | grep -m1 -i "flexvolume plugin directory" || grep -m1 -F "[kubelet] init" /var/log/labbook-glusterfs.log`;
  await sh(node2, `timeout ${scaledSeconds(30)} sh -c 'until ${kubeletFoundIt}; do sleep 0.5; done'`);
});

// %% labbook={"id": "check-k8s-flexvolume", "role": "check", "requires": ["kubernetes"], "timeout": 60}
// Check: on every node, labbook~glusterfs/glusterfs is in kubelet's plugin directory, executable, and init answers as kubelet expects
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) {
    await check(`${node.name}: ${FLEX_DIR}/glusterfs answers init with Success and attach: false`, async () => {
      const answer = JSON.parse(String(await node.$`test -x ${FLEX_DIR}/glusterfs && ${FLEX_DIR}/glusterfs init`)) as { status?: string; capabilities?: { attach?: boolean } };
      if (answer.status !== "Success" || answer.capabilities?.attach !== false) throw new Error(`init answered ${JSON.stringify(answer)}`);
      return JSON.stringify(answer);
    });
  }
  await check("kubelet watches /usr/libexec/kubernetes/kubelet-plugins/volume/exec/ for FlexVolume drivers", async () => {
    const line = String(await node2.run(`${KUBELET_LOG} | grep -m1 -i 'flexvolume plugin directory'`, { nothrow: true })).trim();
    if (line) {
      if (!line.includes(" /usr/libexec/kubernetes/kubelet-plugins/volume/exec/ ")) throw new Error(line);
      return line.slice(line.indexOf("Flexvolume"));
    }
    // No kubelet log kept (VMs): kubelet itself called the driver's init, having found it in that directory.
    const calls = String(await node2.run("cat /var/log/labbook-glusterfs.log", { nothrow: true }));
    if (!calls.includes("[kubelet] init")) throw new Error(`kubelet keeps no log here, and never called ${FLEX_DIR}/glusterfs init:\n${calls}`);
    return `kubelet called ${FLEX_DIR}/glusterfs init (the driver's log; kubelet keeps no log here)`;
  }, { within: 30000 }); // kubelet finds a new driver by watching the directory, a moment later
});

// %% [markdown]
// ## 9. A PersistentVolume on gv0, a claim, and pods on two nodes
//
// Without a provisioner, the administrator creates the PersistentVolume by hand ("static
// provisioning"), which is what heketi and the in-tree provisioner did for each claim:
//
// - `flexVolume: {driver: labbook/glusterfs, options: {server: node1, volume: gv0}}`: kubelet mounts
//   it with section 8's driver. `node1` is the volfile server, as in section 4's mounts.
// - `accessModes: [ReadWriteMany]`: pods on many nodes may mount it read-write at the same time. A
//   gluster volume can be mounted that way; a block disk with ext4 on it could not.
// - `capacity: 1Gi` is only what claims are matched against: gluster does not enforce it here.
// - `persistentVolumeReclaimPolicy: Retain`: when the claim is deleted, the PV becomes `Released` and
//   the data stays on gv0 (the default for a static PV; `Delete` would need a driver that deletes).
//
// The claim asks for `storageClassName: ""`, the empty class, which means "no class, no
// provisioning: bind me to an existing PV that has no class either". Leaving the field out would mean
// "the cluster's default class", and on a cluster that has one, a provisioner would make a new volume
// instead of using gv0. The PV controller then binds the claim to the PV that matches its class, access
// mode and size: gv0, the only one.
//
// A Deployment of two `labbook/busybox:1` pods uses the claim. Its required pod anti-affinity on
// `kubernetes.io/hostname` puts them on two different nodes. Each pod writes a file named after itself
// into `/data/pods/` and then waits. Each pod's node makes its own FUSE mount of gv0, and the pod sees
// the other pod's file, the files of sections 4 to 6, and a copy of every file on all three bricks.

// %% labbook={"id": "k8s-pv", "role": "step", "requires": ["kubernetes"], "timeout": 180}
// A static PV on gv0 through labbook/glusterfs, a claim of the empty class, and two writer pods on two nodes
/** A ReadWriteMany PV for GlusterFS volume `volume`, mounted through the FlexVolume driver (section 10 makes gv1 the same way). */
const glusterPv = (volume: string) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${volume}
spec:
  capacity:
    storage: 1Gi
  accessModes:
    - ReadWriteMany
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  flexVolume:
    driver: labbook/glusterfs
    options:
      server: node1
      volume: ${volume}
---
`;
const gv0Manifests = `${glusterPv("gv0")}apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: gv0-claim
spec:
  storageClassName: ""
  accessModes:
    - ReadWriteMany
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gv0-writers
spec:
  replicas: 2
  selector:
    matchLabels:
      app: gv0-writer
  template:
    metadata:
      labels:
        app: gv0-writer
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchLabels:
                  app: gv0-writer
              topologyKey: kubernetes.io/hostname
      containers:
        - name: writer
          image: labbook/busybox:1
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: NODE_NAME
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
          command:
            - sh
            - -c
            - |
              mkdir -p /data/pods
              echo "$POD_NAME on $NODE_NAME" > /data/pods/$POD_NAME.txt
              trap 'exit 0' TERM
              sleep 3600 & wait
          volumeMounts:
            - name: gv0
              mountPath: /data
      volumes:
        - name: gv0
          persistentVolumeClaim:
            claimName: gv0-claim
`;
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, gv0Manifests, "gv0-kubernetes.yaml");
  await runShown(node1, [
    `kubectl rollout status deployment/gv0-writers --timeout=${scaledSeconds(90)}`,
    "kubectl get pv gv0 && kubectl get pvc gv0-claim",
    "kubectl get pods -l app=gv0-writer -o wide",
  ]);
  // On each pod's node: kubelet's FUSE mount, and the calls the driver received
  for (const name of String(await node1.$`kubectl get pods -l app=gv0-writer -o 'jsonpath={.items[*].spec.nodeName}'`).trim().split(" ")) {
    await runShown(c.node(name), ["findmnt -t fuse.glusterfs -o TARGET,SOURCE,FSTYPE", "cat /var/log/labbook-glusterfs.log"]);
  }
  const firstPod = String(await node1.$`kubectl get pods -l app=gv0-writer -o 'jsonpath={.items[0].metadata.name}'`).trim();
  await sh(node1, `kubectl exec ${firstPod} -- sh -c 'grep " /data " /proc/mounts; ls /data /data/pods; cat /data/pods/*'`);
});

// %% labbook={"id": "check-k8s-pv", "role": "check", "requires": ["kubernetes"], "timeout": 360}
// Check: the claim is Bound to gv0; two pods on two nodes, each through kubelet's FlexVolume mount, see each other's files; the files are on all three bricks
interface WriterPod { name: string; uid: string; node: string; phase: string }
const writerPods = async (): Promise<WriterPod[]> => {
  const list = JSON.parse(String(await node1.$`kubectl get pods -l app=gv0-writer -o json`)) as { items: Array<{ metadata: { name: string; uid: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }> };
  return list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => ({ name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName ?? "", phase: p.status.phase ?? "" }));
};
await onlyWith(c, "kubernetes", async () => {
  await check("gv0-claim is Bound to the PersistentVolume gv0, ReadWriteMany, with no class", async () => {
    const claim = String(await node1.$`kubectl get pvc gv0-claim -o 'jsonpath={.status.phase} {.spec.volumeName} {.status.accessModes[0]} class="{.spec.storageClassName}"'`).trim();
    if (claim !== 'Bound gv0 ReadWriteMany class=""') throw new Error(`gv0-claim: ${claim || "not there"}`);
    return claim;
  }, { within: 60000, every: 1000 });
  await check("two writer pods are Running, on two different nodes", async () => {
    const pods = await writerPods();
    const running = pods.filter((p) => p.phase === "Running");
    if (running.length !== 2 || new Set(running.map((p) => p.node)).size !== 2) throw new Error(pods.map((p) => `${p.name} ${p.phase} on ${p.node || "no node"}`).join(", ") || "no pods");
    return running.map((p) => `${p.name} on ${p.node}`).join(", ");
  }, { within: 60000, every: 1000 });
  const pods = await writerPods();
  for (const pod of pods) {
    await check(`${pod.node}: kubelet mounted gv0 for ${pod.name} through labbook/glusterfs, a FUSE mount of node1:/gv0`, async () => {
      const node = c.node(pod.node);
      const dir = `/var/lib/kubelet/pods/${pod.uid}/volumes/labbook~glusterfs/gv0`;
      const mount = String(await node.$`findmnt -n -o SOURCE,FSTYPE ${dir}`).trim().replace(/\s+/g, " ");
      if (mount !== "node1:/gv0 fuse.glusterfs") throw new Error(`${dir}: ${mount || "not mounted"}`);
      const calls = String(await node.$`cat /var/log/labbook-glusterfs.log`);
      const mountCall = calls.split("\n").find((line) => line.includes(`[kubelet] mount ${dir} `));
      if (!mountCall || !mountCall.includes('"server":"node1"') || !mountCall.includes('"volume":"gv0"')) throw new Error(`kubelet did not call the driver to mount ${dir} with server node1, volume gv0:\n${calls}`);
      // One read of kubelet's log; exit 3 where none is kept (VMs), and then the driver's log above is the evidence.
      const kubelet = await node.run(`log=$(${KUBELET_LOG}); [ -n "$log" ] || exit 3; printf '%s\n' "$log" | grep -F 'labbook/glusterfs/${pod.uid}-gv0'`, { nothrow: true });
      if (kubelet.exitCode !== 3 && !String(kubelet).includes("UniqueName")) throw new Error(`kubelet's log names no volume labbook/glusterfs/${pod.uid}-gv0`);
      return `${dir}: ${mount}; kubelet's plugin labbook/glusterfs ran the driver's mount with server node1, volume gv0`;
    }, { within: 60000, every: 1000 });
  }
  await check("each pod reads both pods' files through its own mount", async () => {
    const wanted = pods.map((p) => `${p.name} on ${p.node}`);
    for (const pod of pods) {
      const seen = String(await node1.$`kubectl exec ${pod.name} -- sh -c ${"cat /data/pods/*.txt"}`).trim().split("\n");
      const missing = wanted.filter((line) => !seen.includes(line));
      if (missing.length > 0) throw new Error(`${pod.name} lacks: ${missing.join(", ")} (sees: ${seen.join(", ")})`);
    }
    return wanted.join("; ");
  }, { within: 60000, every: 1000 });
  await check("the pods see hello.bin, written through node2's mount in section 4, unchanged", async () => {
    for (const pod of pods) {
      const sum = String(await node1.$`kubectl exec ${pod.name} -- sha256sum /data/hello.bin`).split(" ")[0];
      if (sum !== helloSum) throw new Error(`${pod.name} reads ${sum}, node2 wrote ${helloSum}`);
    }
    return `sha256 ${helloSum.slice(0, 16)}… in both pods`;
  });
  await check("both pods' files are on all three bricks (replica 3)", async () => {
    for (const node of nodes) {
      for (const pod of pods) {
        const onBrick = String(await node.$({ nothrow: true })`cat ${`${BRICK}/pods/${pod.name}.txt`}`).trim();
        if (onBrick !== `${pod.name} on ${pod.node}`) throw new Error(`${node.name}:${BRICK}/pods/${pod.name}.txt: ${onBrick || "missing"}`);
      }
    }
    return `${pods.map((p) => `pods/${p.name}.txt`).join(" and ")} on node1, node2 and node3's ${BRICK}`;
  }, { within: 10000 });
});

// %% [markdown]
// Now remove what Kubernetes was given, in the order an administrator would: the pods, the claim,
// then the volume. When a pod is deleted, kubelet calls the driver's `unmount`, and the FUSE client
// on that node exits. Deleting the claim makes the PV `Released`: with `Retain`, nothing touches the
// data, and the PV can be bound again only after the administrator has dealt with it (here: deleted
// it). The files the pods wrote stay on gv0, so they are among the files the exercise's heal copies.
//
// So far Kubernetes only used gluster servers that run beside it. Section 10 runs the servers in
// Kubernetes too.

// %% labbook={"id": "k8s-cleanup", "role": "step", "requires": ["kubernetes"], "timeout": 180}
// Delete the writers, the claim and the PV; the data stays on gv0 (Retain)
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, [
    "kubectl delete deployment gv0-writers",
    `kubectl wait --for=delete pod -l app=gv0-writer --timeout=${scaledSeconds(60)}`,
    "kubectl delete pvc gv0-claim",
    `kubectl wait --for=jsonpath='{.status.phase}'=Released pv/gv0 --timeout=${scaledSeconds(30)}`,
    "kubectl get pv gv0",
    "kubectl delete pv gv0",
  ]);
  for (const node of nodes) await sh(node, "findmnt -t fuse.glusterfs -o TARGET,SOURCE; grep 'mount /var/lib/kubelet' /var/log/labbook-glusterfs.log || true");
  await sh(node3, `ls ${MNT}/pods`);
});

// %% labbook={"id": "check-k8s-cleanup", "role": "check", "requires": ["kubernetes"], "timeout": 180}
// Check: nothing of the lab is left in Kubernetes, kubelet unmounted gv0 everywhere, and the pods' files are still on gv0
await onlyWith(c, "kubernetes", async () => {
  await check("no writer pod, no gv0-claim, no PV gv0, no StorageClass slow, no gluster-claim", async () => {
    const pods = (await node1.$`kubectl get pods -l app=gv0-writer -o name`).lines();
    const named = (await node1.$`kubectl get deployment/gv0-writers pvc/gv0-claim pvc/gluster-claim pv/gv0 storageclass/slow -o name --ignore-not-found`).lines();
    const left = [...pods, ...named].filter(Boolean);
    if (left.length > 0) throw new Error(`still there: ${left.join(", ")}`);
    return "all gone";
  }, { within: 60000, every: 1000 });
  await check("kubelet called the driver's unmount for both pods: no fuse.glusterfs mount under /var/lib/kubelet on any node", async () => {
    let unmounts = 0;
    for (const node of nodes) {
      const mounts = String(await node.$({ nothrow: true })`findmnt -n -t fuse.glusterfs -o TARGET`).trim().split("\n").filter((t) => t.startsWith("/var/lib/kubelet/"));
      if (mounts.length > 0) throw new Error(`${node.name}: ${mounts.join(", ")}`);
      unmounts += Number(String(await node.$({ nothrow: true })`grep -cF '[kubelet] unmount /var/lib/kubelet/pods/' /var/log/labbook-glusterfs.log`) || 0);
    }
    if (unmounts < 2) throw new Error(`the driver logged ${unmounts} unmount calls`);
    return `${unmounts} unmount calls; only the lab's own mounts (${MNT} on node2 and node3) are left`;
  }, { within: 60000, every: 1000 });
  await check("the pods' files are still on gv0 (Retain): read through node3's mount", async () => {
    const files = String(await node3.$`ls ${MNT}/pods`).trim().split("\n").filter(Boolean);
    if (files.length < 2) throw new Error(`${MNT}/pods has ${files.join(", ") || "nothing"}`);
    return files.join(", ");
  });
});

// %% [markdown]
// ## 10. The lesson's homework: the GlusterFS servers on Kubernetes
//
// The lesson ends with homework: "尝试在 Kubernetes 上运行 glusterfs server,并在 Kubernetes 中使用"
// (run the glusterfs server on Kubernetes, and use it in Kubernetes). gluster-kubernetes did it with a
// **DaemonSet**: one gluster pod on every storage node, on the node's own network, with the bricks on
// the node's disks. This section does the same:
//
// - `hostNetwork: true`: glusterd listens on the node's 24007 and each brick on a port of the node's
//   address, so peers and FUSE clients reach them by node name, as in sections 2 to 4.
// - `hostPath: /` mounted at `/host`, and `privileged: true`: the pod sees the node's files
//   (`/var/lib/glusterd`, the bricks under `/root/bricks`) and may set the `trusted.*` xattrs.
// - `hostPID: true`: the pod sees the node's processes, so the PIDs `gluster volume status` prints
//   are the node's, as in section 5.
// - **The image is `labbook/busybox:1`, not a GlusterFS image.** There is no registry here and no
//   gluster image can be built, so the container runs the node's own glusterd:
//   `chroot /host /usr/sbin/glusterd -N`. `-N` ("no daemon") keeps glusterd in the foreground as the
//   container's main process, so the pod's life is glusterd's life. The bricks (`glusterfsd`) and
//   the self-heal daemon that glusterd starts are in the pod's cgroup too. When the pod is deleted,
//   they all go with it. A real deployment uses an image with gluster inside (gluster-kubernetes
//   used `gluster/gluster-centos`).
// - A readiness probe connects to port 24007: the pod is Ready once glusterd accepts connections there.
//   (A probe that ran `gluster pool list` each second started a whole gluster client each time: on VMs
//   under software emulation one took up to 26 s, and the probes kept the nodes busy.)
//
// A node has room for one glusterd: one port 24007, one `/var/lib/glusterd`. So the cell first stops
// what sections 1 to 6 started by hand: glusterd, then the processes it started, found by the PID
// files under `/var/run/gluster` (bricks and self-heal daemon). It does not touch the FUSE clients of
// section 4. The state stays on the nodes, so the pods' glusterds come up with the same pool (same
// UUIDs, same peers) and the same gv0, and restart gv0's bricks themselves. The mounts on node2 and
// node3 reconnect to the new brick processes: the DaemonSet takes over the storage without a copy.

// %% labbook={"id": "k8s-gluster-daemonset", "role": "step", "requires": ["kubernetes"], "timeout": 180}
// Stop the by-hand glusterds, then run the node's glusterd in a DaemonSet of privileged hostNetwork pods
const glusterDaemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: glusterd
spec:
  selector:
    matchLabels:
      app: glusterd
  template:
    metadata:
      labels:
        app: glusterd
    spec:
      hostNetwork: true
      hostPID: true
      terminationGracePeriodSeconds: 10
      tolerations:
        - operator: Exists
      containers:
        - name: glusterd
          # busybox plus the node's own binaries: there is no GlusterFS image here
          image: labbook/busybox:1
          command: ["chroot", "/host", "/usr/sbin/glusterd", "-N"]
          securityContext:
            privileged: true
          readinessProbe:
            tcpSocket:
              port: 24007
            periodSeconds: 1
          volumeMounts:
            - name: host
              mountPath: /host
      volumes:
        - name: host
          hostPath:
            path: /
`;
// "gluster" in a pod: the node's gluster CLI, through the pod
const glusterPod = async (node: string) => String(await node1.$`kubectl get pods -l app=glusterd --field-selector ${`spec.nodeName=${node}`} -o ${"jsonpath={.items[0].metadata.name}"}`).trim();
await onlyWith(c, "kubernetes", async () => {
  await Promise.all(nodes.map((node) => runShown(node, [
    `kill $(pidof glusterd); timeout ${scaledSeconds(10)} sh -c 'while pidof glusterd >/dev/null; do sleep 0.2; done'`,
    `for f in $(find /var/run/gluster -name '*.pid'); do kill $(cat $f) 2>/dev/null; done; timeout ${scaledSeconds(10)} sh -c 'while pidof glusterfsd >/dev/null; do sleep 0.2; done'`,
  ])));
  await sh(node2, "ps -eo pid,args | grep '[g]luster'");
  await kubectlApply(node1, glusterDaemonSet, "glusterd-daemonset.yaml");
  await runShown(node1, [`kubectl rollout status daemonset/glusterd --timeout=${scaledSeconds(90)}`, "kubectl get pods -l app=glusterd -o wide"]);
  const pod1 = await glusterPod("node1");
  // Ready means glusterd accepts on 24007; it answers the CLI a moment later (at most 90 s: on busy VMs under
  // software emulation one `kubectl exec` of the gluster CLI took 39 s)
  await runShown(node1, [`timeout ${scaledSeconds(90)} sh -c 'until kubectl exec ${pod1} -- chroot /host gluster pool list 2>/dev/null; do sleep 1; done'`]);
  // gv0's bricks come back under the pods' glusterds; wait for all three (at most 30 s)
  await sh(node1, `timeout ${scaledSeconds(30)} sh -c 'until [ "$(gluster volume status ${VOLUME} --xml | grep -c "<status>1</status>")" -ge 6 ]; do sleep 0.5; done'; gluster volume status ${VOLUME}`);
  await runShown(node3, ["ps -o pid,args -p $(pidof glusterd glusterfsd | tr ' ' ,) && grep -m1 pod /proc/$(pidof glusterd)/cgroup"]);
});

// %% labbook={"id": "check-k8s-gluster-daemonset", "role": "check", "requires": ["kubernetes"], "timeout": 120}
// Check: one Ready glusterd pod per node on the node's network; the node's 24007 and gv0's bricks belong to those pods; the old mounts still work
interface GlusterPod { name: string; uid: string; node: string; ready: boolean; hostNetwork: boolean }
const glusterPods = async (): Promise<GlusterPod[]> => {
  const list = JSON.parse(String(await node1.$`kubectl get pods -l app=glusterd -o json`)) as { items: Array<{ metadata: { name: string; uid: string; deletionTimestamp?: string }; spec: { nodeName?: string; hostNetwork?: boolean }; status: { conditions?: Array<{ type: string; status: string }> } }> };
  return list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => ({
    name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName ?? "", hostNetwork: p.spec.hostNetwork === true,
    ready: (p.status.conditions ?? []).some((cond) => cond.type === "Ready" && cond.status === "True"),
  }));
};
await onlyWith(c, "kubernetes", async () => {
  await check("the DaemonSet glusterd has one Ready pod on each node, on the node's network", async () => {
    const pods = await glusterPods();
    const wanted = nodes.map((n) => n.name);
    if (pods.length !== 3 || !wanted.every((n) => pods.some((p) => p.node === n && p.ready && p.hostNetwork))) throw new Error(pods.map((p) => `${p.name} on ${p.node} ${p.ready ? "Ready" : "not Ready"}${p.hostNetwork ? "" : " (not hostNetwork)"}`).join(", ") || "no pods");
    return pods.map((p) => `${p.name} on ${p.node}`).join(", ");
  }, { within: 60000, every: 1000 });
  const pods = await glusterPods();
  for (const node of nodes) {
    await check(`${node.name}: the glusterd on 24007 and ${node.name}'s gv0 brick run in the node's glusterd pod`, async () => {
      const pod = pods.find((p) => p.node === node.name)!;
      const listener = Number(/pid=(\d+)/.exec(String(await node.$`ss -Hltnp 'sport = :24007'`))?.[1]);
      const brick = (await glusterBrickStatus(node, VOLUME)).find((b) => b.brick === `${node.name}:${BRICK}`);
      if (!brick?.online || !brick.pid) throw new Error(`${node.name}:${BRICK}: ${JSON.stringify(brick)}`);
      for (const [what, pid] of [["glusterd", listener], ["glusterfsd", brick.pid]] as const) {
        const uid = await podOfPid(node, pid);
        if (uid !== pod.uid) throw new Error(`${what} (pid ${pid}) is in ${uid ? `pod ${uid}` : "no pod"}, not in ${pod.name} (${pod.uid})`);
      }
      return `glusterd pid ${listener} and glusterfsd pid ${brick.pid} in ${pod.name}`;
    }, { within: 30000, every: 1000 });
  }
  await check("the pods' glusterds kept the pool: every node sees the other two connected", async () => {
    for (const node of nodes) {
      const status = String(await node.$`gluster peer status`);
      if ((status.match(/Peer in Cluster \(Connected\)/g) ?? []).length !== 2) throw new Error(`${node.name}:\n${status}`);
    }
    return "three glusterds, one pool, as built in section 2";
  }, { within: 30000, every: 1000 });
  await check("section 4's mount on node3 reads hello.bin unchanged, through the new brick processes", async () => {
    const read = await sha256Of(node3, `${MNT}/hello.bin`);
    if (read !== helloSum) throw new Error(`node3 reads ${read ?? "no file"}`);
    const heal = await glusterHealInfo(node1, VOLUME);
    if (pendingHeals(heal) !== 0) throw new Error(`gv0 heal info: ${formatHealInfo(heal)}`);
    return `sha256 ${helloSum.slice(0, 16)}…; gv0 heal info ${formatHealInfo(heal)}`;
  }, { within: 30000, every: 1000 });
});

// %% [markdown]
// ### A new volume, made from a pod, used by pods on node2 and node3
//
// The gluster CLI runs in a pod like any other command: `kubectl exec <pod> -- chroot /host gluster
// ...`. From node1's gluster pod, `peer probe` answers that node2 is already in the pool, and a new
// replica 3 volume **gv1** is created on new bricks, `/root/bricks/gv1` on each node. glusterd makes
// the brick directories itself.
//
// Then Kubernetes uses it the way section 9 used gv0: a static PV `gv1` through the FlexVolume driver
// `labbook/glusterfs` (still FlexVolume rather than CSI: a CSI driver needs images of its own, which
// cannot be pulled or built here), a claim of the empty class that names its PV (`volumeName: gv1`),
// and, once the claim is Bound, two pods pinned by `nodeSelector`: `gv1-writer` on node2 appends a
// numbered line to `/data/io.log` every 0.1 s, and logs any failed write in `/tmp/failed`;
// `gv1-reader` on node3 only waits, and the lab reads through it. (A pod whose claim is not bound yet
// is unschedulable, and the scheduler tries it again only later: pods applied together with the
// claim waited about 30 s here.)

// %% labbook={"id": "k8s-gv1", "role": "step", "requires": ["kubernetes"], "timeout": 180}
// gv1: created and started from node1's gluster pod, then a PV, a claim, a writer pod on node2 and a reader pod on node3
const VOLUME1 = "gv1";
const BRICK1 = "/root/bricks/gv1";
const gv1Pod = (name: string, node: string, script: string) => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeSelector:
    kubernetes.io/hostname: ${node}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: labbook/busybox:1
      command:
        - sh
        - -c
        - |
${script.split("\n").map((line) => `          ${line}`).join("\n")}
      volumeMounts:
        - name: gv1
          mountPath: /data
  volumes:
    - name: gv1
      persistentVolumeClaim:
        claimName: gv1-claim
`;
const gv1Manifests = `${glusterPv("gv1")}apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: gv1-claim
spec:
  storageClassName: ""
  volumeName: gv1
  accessModes:
    - ReadWriteMany
  resources:
    requests:
      storage: 1Gi
`;
const gv1Pods = `${gv1Pod("gv1-writer", "node2", `i=0
while [ ! -e /data/stop ]; do
  i=$((i+1))
  echo "line $i from $HOSTNAME" >> /data/io.log || echo "write $i failed" >> /tmp/failed
  sleep 0.1
done
trap 'exit 0' TERM
sleep 3600 & wait`)}${gv1Pod("gv1-reader", "node3", `trap 'exit 0' TERM
sleep 3600 & wait`)}`;
await onlyWith(c, "kubernetes", async () => {
  const pod1 = await glusterPod("node1");
  const bricks1 = nodes.map((node) => `${node.name}:${BRICK1}`).join(" ");
  await runShown(node1, [
    `kubectl exec ${pod1} -- chroot /host gluster peer probe node2`,
    `kubectl exec ${pod1} -- chroot /host gluster volume create ${VOLUME1} replica 3 ${bricks1} force`,
    `kubectl exec ${pod1} -- chroot /host gluster volume start ${VOLUME1}`,
    `kubectl exec ${pod1} -- chroot /host gluster volume info ${VOLUME1}`,
  ]);
  await kubectlApply(node1, gv1Manifests, "gv1-kubernetes.yaml");
  // The pods come once the claim is bound: a pod whose claim is not bound yet waits for the scheduler's retry
  await runShown(node1, [`kubectl wait --for=jsonpath='{.status.phase}'=Bound pvc/gv1-claim --timeout=${scaledSeconds(30)}`, "kubectl get pv gv1 && kubectl get pvc gv1-claim"]);
  await kubectlApply(node1, gv1Pods, "gv1-pods.yaml");
  await runShown(node1, [
    `kubectl wait --for=condition=Ready pod/gv1-writer pod/gv1-reader --timeout=${scaledSeconds(90)}`,
    "kubectl get pods gv1-writer gv1-reader -o wide",
    "kubectl exec gv1-reader -- sh -c 'grep \" /data \" /proc/mounts; tail -3 /data/io.log'",
  ]);
});

// %% labbook={"id": "check-k8s-gv1", "role": "check", "requires": ["kubernetes"], "timeout": 120}
// Check: gv1 is a started replica 3 made by the pods' glusterds; the claim is bound; what the pod on node2 writes, the pod on node3 reads, and all three bricks hold
const ioLines = async (pod: string) => Number(String(await node1.$`kubectl exec ${pod} -- sh -c ${"wc -l < /data/io.log"}`).trim());
await onlyWith(c, "kubernetes", async () => {
  await check("gv1 is Started, Replicate, 1 x 3 over node1, node2 and node3's /root/bricks/gv1", async () => {
    const info = await glusterVolumeInfo(node1, VOLUME1);
    const wanted = nodes.map((node) => `${node.name}:${BRICK1}`);
    if (info.status !== "Started" || info.replicaCount !== 3 || info.bricks.join(" ") !== wanted.join(" ")) throw new Error(`status ${info.status}, replica ${info.replicaCount}, bricks ${info.bricks.join(" ")}`);
    return `${info.status}, ${info.type}, replica ${info.replicaCount}`;
  });
  await check("gv1-claim is Bound to the PV gv1; gv1-writer runs on node2 and gv1-reader on node3", async () => {
    const claim = String(await node1.$`kubectl get pvc gv1-claim -o ${"jsonpath={.status.phase} {.spec.volumeName}"}`).trim();
    const placed = String(await node1.$`kubectl get pods gv1-writer gv1-reader -o ${"jsonpath={range .items[*]}{.metadata.name}@{.spec.nodeName}:{.status.phase} {end}"}`).trim();
    if (claim !== "Bound gv1" || placed !== "gv1-writer@node2:Running gv1-reader@node3:Running") throw new Error(`claim: ${claim}; pods: ${placed}`);
    return `${claim}; ${placed}`;
  }, { within: 60000, every: 1000 });
  await check("the pod on node3 reads the lines the pod on node2 writes", async () => {
    const [written, read] = [await ioLines("gv1-writer"), await ioLines("gv1-reader")];
    const last = String(await node1.$`kubectl exec gv1-reader -- tail -1 /data/io.log`).trim();
    if (!(read > 0) || !last.endsWith("from gv1-writer")) throw new Error(`writer counts ${written} lines, reader ${read}; last line: ${last}`);
    return `${read} lines so far, the last "${last}"`;
  }, { within: 30000, every: 1000 });
  await check("io.log is on all three gv1 bricks", async () => {
    for (const node of nodes) {
      if ((await sha256Of(node, `${BRICK1}/io.log`)) === null) throw new Error(`no ${BRICK1}/io.log on ${node.name}`);
    }
    return `${BRICK1}/io.log on node1, node2 and node3`;
  });
});

// %% [markdown]
// ### A gluster pod dies; the DaemonSet starts another; self-heal catches up
//
// `kubectl delete pod` of node3's gluster pod stops its glusterd, and with it node3's bricks and
// self-heal daemon: section 5's failure, done the Kubernetes way. The writer on node2 goes on
// appending, now to two bricks of three. The DaemonSet controller sees a node without its pod and
// makes a new one. Its glusterd starts node3's bricks again from `/var/lib/glusterd`, and the
// self-heal daemons copy over what node3's gv1 brick missed, as in section 6. Then the writer is
// stopped, and the three bricks' copies of `io.log` must be identical.

// %% labbook={"id": "k8s-kill-gluster-pod", "role": "step", "requires": ["kubernetes"], "timeout": 180}
// Delete node3's gluster pod, write while it is gone, and let the DaemonSet bring glusterd back
const glusterPodBefore = await onlyWith(c, "kubernetes", async () => {
  const before = await glusterPod("node3");
  await runShown(node1, [
    `kubectl delete pod ${before} --wait=true`,
    `gluster volume status ${VOLUME1}`,
    `kubectl exec gv1-writer -- sh -c 'echo "written while node3 had no glusterd" > /data/during-outage.txt'`,
    `gluster volume heal ${VOLUME1} info`,
    `kubectl rollout status daemonset/glusterd --timeout=${scaledSeconds(90)}`,
    "kubectl get pods -l app=glusterd -o wide",
  ]);
  await sh(node1, `timeout ${scaledSeconds(30)} sh -c 'until gluster volume status ${VOLUME1} node3:${BRICK1} --xml | grep -q "<status>1</status>"; do sleep 0.5; done'; gluster volume status ${VOLUME1}`);
  // Stop the writer, so that the copies can be compared
  await runShown(node1, ["kubectl exec gv1-writer -- touch /data/stop", "sleep 0.5", "kubectl exec gv1-reader -- sh -c 'wc -l /data/io.log; cat /data/during-outage.txt'"]);
  return before;
});

// %% labbook={"id": "check-k8s-kill-gluster-pod", "role": "check", "requires": ["kubernetes"], "timeout": 180}
// Check: a new gluster pod runs node3's brick; no write failed; the pod on node3 read the outage's write; heal reaches zero and the bricks agree
await onlyWith(c, "kubernetes", async () => {
  await check("the DaemonSet replaced node3's gluster pod, and node3's gv1 brick runs in the new one", async () => {
    const pod = (await glusterPods()).find((p) => p.node === "node3");
    if (!pod?.ready || pod.name === glusterPodBefore) throw new Error(`node3's gluster pod: ${pod ? `${pod.name}${pod.ready ? "" : " (not Ready)"}` : "none"} (deleted: ${glusterPodBefore})`);
    const brick = (await glusterBrickStatus(node3, VOLUME1)).find((b) => b.brick === `node3:${BRICK1}`);
    if (!brick?.online || !brick.pid || (await podOfPid(node3, brick.pid)) !== pod.uid) throw new Error(`node3:${BRICK1}: ${JSON.stringify(brick)}, not in ${pod.name}`);
    return `${pod.name} (was ${glusterPodBefore}); glusterfsd pid ${brick.pid}`;
  }, { within: 60000, every: 1000 });
  await check("I/O went on: no write of gv1-writer failed, and gv1-reader on node3 reads the file written during the outage", async () => {
    const failed = String(await node1.$`kubectl exec gv1-writer -- sh -c ${"cat /tmp/failed 2>/dev/null || true"}`).trim();
    if (failed) throw new Error(`failed writes: ${failed}`);
    const during = String(await node1.$`kubectl exec gv1-reader -- cat /data/during-outage.txt`).trim();
    if (during !== "written while node3 had no glusterd") throw new Error(`during-outage.txt: ${during}`);
    return `no failed write in ${await ioLines("gv1-writer")} lines; "${during}"`;
  });
  await check("gv1 heal info reaches zero pending entries on all three bricks", async () => {
    const heal = await glusterHealInfo(node1, VOLUME1);
    if (pendingHeals(heal) !== 0) throw new Error(formatHealInfo(heal));
    return formatHealInfo(heal);
  }, { within: 60000, every: 500 });
  await check("io.log and during-outage.txt are identical on the three bricks and as the reader sees them", async () => {
    const read = String(await node1.$`kubectl exec gv1-reader -- sha256sum /data/io.log`).split(" ")[0];
    for (const node of nodes) {
      const [log, during] = [await sha256Of(node, `${BRICK1}/io.log`), await sha256Of(node, `${BRICK1}/during-outage.txt`)];
      if (log !== read || during === null) throw new Error(`${node.name}: io.log ${log ?? "missing"} (reader: ${read}), during-outage.txt ${during ?? "missing"}`);
    }
    return `io.log sha256 ${read!.slice(0, 16)}… on node1, node2 and node3's ${BRICK1}`;
  }, { within: 30000, every: 1000 });
});

// %% [markdown]
// ## Exercise: replace a failed brick
//
// Killing a process is the gentle failure. Now node3's disk dies: its brick process goes, and so
// does everything in its brick directory. The cell below does that to node3 and writes one more file
// through node2's mount. Then it tries section 6's fix, `gluster volume start gv0 force`. The command
// says "success", but the brick stays offline. glusterd will not serve a directory that lacks the
// volume's `trusted.glusterfs.volume-id` mark (section 3): it could be an empty disk mounted in the
// wrong place, and self-heal would then "repair" the good copies from it.

// %% labbook={"id": "disk-dies", "role": "step"}
// node3's disk dies: the brick process and the brick's contents are gone; the volume goes on
const NEW_BRICK = "/root/bricks/gv0-new"; // the "new disk" on node3, for the exercise
const doomed = (await glusterBrickStatus(node3, VOLUME)).find((b) => b.brick === `node3:${BRICK}`);
if (!doomed?.pid) throw new Error(`node3's brick has no PID: ${JSON.stringify(doomed)}`);
await runShown(node3, [`kill -KILL ${doomed.pid}`, `rm -rf ${BRICK}`]);
await sh(node1, `timeout ${scaledSeconds(20)} sh -c 'until gluster volume status ${VOLUME} node3:${BRICK} | grep -q " N "; do sleep 0.2; done'`);
await runShown(node2, [`echo "written after node3's disk died" > ${MNT}/after-loss.txt`]);
const afterLossSum = (await sha256Of(node2, `${MNT}/after-loss.txt`))!;
// section 6's fix no longer works
await sh(node3, `gluster volume start ${VOLUME} force`);
await sh(node3, `timeout ${scaledSeconds(20)} sh -c 'until grep -q "Missing trusted.glusterfs.volume-id" /var/log/glusterfs/glusterd.log; do sleep 0.2; done'`);
await sh(node3, `grep "Missing trusted.glusterfs.volume-id" /var/log/glusterfs/glusterd.log | tail -1`);
await runShown(node3, [`gluster volume status ${VOLUME} node3:${BRICK}`]);

// %% labbook={"id": "check-disk-dies", "role": "check"}
// Check: node3's brick stays offline, and the volume still serves reads and writes
await check("node3's old brick stays offline, even after start force", async () => {
  const brick = (await glusterBrickStatus(node1, VOLUME)).find((b) => b.brick === `node3:${BRICK}`);
  if (brick?.online !== false) throw new Error(`node3's brick: ${JSON.stringify(brick)}`);
  return `node3:${BRICK} offline`;
});
await check("after-loss.txt, written with one brick gone for good, reads back through node3's mount", async () => {
  const read = await sha256Of(node3, `${MNT}/after-loss.txt`);
  if (read !== afterLossSum) throw new Error(`node3 reads ${read ?? "no file"}`);
  return "identical";
});

// %% [markdown]
// Your task: give node3 a new brick at `/root/bricks/gv0-new` (the constant `NEW_BRICK`) in place of
// the dead one, so that gv0 is a full replica 3 again.
//
// 1. `gluster volume replace-brick gv0 node3:/root/bricks/gv0 node3:/root/bricks/gv0-new commit force`
//    swaps the brick in the volume's configuration and starts a glusterfsd on the new, empty
//    directory (glusterd creates it and marks it with the volume id). `commit force` is the only form
//    gluster still supports: it does not copy data first; self-heal does that afterwards.
// 2. Wait, with a deadline, until `gluster volume heal gv0 info` shows zero entries on all three
//    bricks. Then `ls` the new brick: every file is there.
//
// On a cluster with Kubernetes, gv0 is now served by the DaemonSet's glusterds (section 10): the
// `gluster` CLI on a node talks to the glusterd in that node's pod, through its socket in
// `/var/run/gluster`, and the new brick's glusterfsd will run in node3's gluster pod.
//
// Print what you run (`sh(node, command)`). The hidden checks look at the volume's configuration,
// the new brick's process (and, with Kubernetes, the pod it runs in), heal info and the new brick's files.

// %% labbook={"id": "exercise-replace-brick", "role": "exercise", "points": 4}
// Your turn: replace node3's dead brick with NEW_BRICK, then wait for the heal to fill it
// await sh(node1, `gluster volume replace-brick ${VOLUME} node3:${BRICK} node3:${NEW_BRICK} ...`);
// await sh(node1, `gluster volume info ${VOLUME}`);
// await sh(node1, `timeout 60 sh -c 'until ...; do sleep 0.5; done'`);   // heal info: "Number of entries: 0" three times
// await sh(node3, `ls ${NEW_BRICK}`);

// %% labbook={"id": "solution-replace-brick", "role": "solution", "points": 4}
// Solution: replace-brick ... commit force, then wait (at most 60 s) until nothing is pending
await sh(node1, `gluster volume replace-brick ${VOLUME} node3:${BRICK} node3:${NEW_BRICK} commit force`);
await sh(node1, `gluster volume info ${VOLUME}`);
await sh(node1, `timeout ${scaledSeconds(60)} sh -c 'until [ "$(gluster volume heal ${VOLUME} info | grep -c "^Number of entries: 0$")" = 3 ]; do sleep 0.5; done'`);
await sh(node1, `gluster volume heal ${VOLUME} info`);
await runShown(node3, [`ls -l ${NEW_BRICK}`]);

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check } from "labbook";
// import { glusterVolumeInfo, glusterBrickStatus, glusterHealInfo, formatHealInfo, pendingHeals, podOfPid, sha256Of } from "./gluster.js";
// const c = await cluster();
// const [node1, node3] = [c.node("node1"), c.node("node3")];
// const VOLUME = "gv0";
// const BRICK = "/root/bricks/gv0";
// const NEW_BRICK = "/root/bricks/gv0-new";
// // The files' checksums, from node1's brick: it holds all three, as node2 wrote them (the checks above compared)
// const onNode1 = async (file: string) => (await sha256Of(node1, `${BRICK}/${file}`)) ?? `(no ${file} on node1's brick)`;
// const [helloSum, missedSum, afterLossSum] = [await onNode1("hello.bin"), await onNode1("missed.bin"), await onNode1("after-loss.txt")];

// %% labbook={"id": "hidden-replaced", "role": "hidden-check", "hint": "Run `gluster volume replace-brick gv0 node3:/root/bricks/gv0 node3:/root/bricks/gv0-new commit force` (any node). Afterwards `gluster volume info gv0` must list node3:/root/bricks/gv0-new as Brick3 and no longer node3:/root/bricks/gv0, and `gluster volume status gv0` must show it online."}
// Hidden check: gv0 is a started replica 3 with node3's new brick in place of the old, and it runs
const wantedBricks = [`node1:${BRICK}`, `node2:${BRICK}`, `node3:${NEW_BRICK}`];
const hasNewBrick = (await glusterVolumeInfo(node1, VOLUME)).bricks.includes(`node3:${NEW_BRICK}`);
await check(`gv0 is Started, replica 3, over ${wantedBricks.join(", ")}`, async () => {
  const info = await glusterVolumeInfo(node1, VOLUME);
  if (info.bricks.includes(`node3:${BRICK}`)) throw new Error(`the dead brick node3:${BRICK} is still in the volume: ${info.bricks.join(", ")}`);
  if (info.status !== "Started" || info.replicaCount !== 3 || info.bricks.join(" ") !== wantedBricks.join(" ")) {
    throw new Error(`status ${info.status}, replica ${info.replicaCount}, bricks ${info.bricks.join(", ")}`);
  }
  return `${info.status}, ${info.type} ${info.brickCount / info.replicaCount} x ${info.replicaCount}: ${info.bricks.join(", ")}`;
}, { points: 1 });
// No point waiting for a brick the volume does not have.
await check(`a glusterfsd serves node3:${NEW_BRICK}`, async () => {
  const brick = (await glusterBrickStatus(node3, VOLUME)).find((b) => b.brick === `node3:${NEW_BRICK}`);
  if (!brick?.online) throw new Error(`node3:${NEW_BRICK}: ${brick ? "offline" : "not in gluster volume status"}`);
  return `online, pid ${brick.pid}, port ${brick.port}`;
}, { within: hasNewBrick ? 20000 : 0, points: 1 });
if (c.has("kubernetes")) {
  await check(`node3:${NEW_BRICK}'s glusterfsd runs in node3's glusterd pod (section 10's DaemonSet)`, async () => {
    const brick = (await glusterBrickStatus(node3, VOLUME)).find((b) => b.brick === `node3:${NEW_BRICK}`);
    if (!brick?.pid) throw new Error(`node3:${NEW_BRICK}: ${brick ? "offline" : "not in gluster volume status"}`);
    const uid = String(await node1.$`kubectl get pods -l app=glusterd --field-selector spec.nodeName=node3 -o ${"jsonpath={.items[0].metadata.uid}"}`).trim();
    const inPod = await podOfPid(node3, brick.pid);
    if (!uid || inPod !== uid) throw new Error(`glusterfsd pid ${brick.pid} is in ${inPod ? `pod ${inPod}` : "no pod"}; node3's glusterd pod is ${uid || "missing"}`);
    return `pid ${brick.pid} in pod ${uid}`;
  }, { within: hasNewBrick ? 20000 : 0 });
}

// %% labbook={"id": "hidden-healed", "role": "hidden-check", "hint": "After replace-brick, the self-heal daemons copy every file to the new, empty brick. Wait (with a deadline) until `gluster volume heal gv0 info` shows \"Number of entries: 0\" for all three bricks, then check `ls /root/bricks/gv0-new` on node3."}
// Hidden check: the heal onto the new brick finished, and it holds every file, identical
await check("heal info: all three bricks connected, zero entries pending", async () => {
  const heal = await glusterHealInfo(node1, VOLUME);
  if (!heal.some((h) => h.brick === `node3:${NEW_BRICK}`) || pendingHeals(heal) !== 0) throw new Error(formatHealInfo(heal));
  return formatHealInfo(heal);
}, { within: hasNewBrick ? 60000 : 0, every: 500, points: 1 });
await check(`node3:${NEW_BRICK} holds hello.bin, missed.bin and after-loss.txt, identical to node1's copies`, async () => {
  for (const [file, sum] of [["hello.bin", helloSum], ["missed.bin", missedSum], ["after-loss.txt", afterLossSum]] as const) {
    const onNew = await sha256Of(node3, `${NEW_BRICK}/${file}`);
    if (onNew !== sum) throw new Error(`${file} on node3:${NEW_BRICK}: ${onNew ?? "missing"}`);
  }
  return "all three files, same sha256";
}, { within: hasNewBrick ? 20000 : 0, points: 1 });

// %% [markdown]
// ## What you built
//
// Three glusterds formed a trusted storage pool, and four commands (`peer probe`, `volume create
// replica 3`, `volume start`, `mount -t glusterfs`) gave you a filesystem kept whole on three
// nodes. Replication happens in the FUSE client, which writes every change to every brick. When
// a brick died, the client went on with the other two, and those two recorded what the dead one missed.
// When the brick came back, `glustershd` copied it over, and `heal info` counted down to zero. A brick
// whose disk is gone is not restarted but replaced (`replace-brick ... commit force`), and self-heal
// fills the new one. In Kubernetes, heketi once ran these same commands on behalf of a StorageClass;
// that in-tree path is gone since 1.26. On 1.35, a FlexVolume driver of a few lines of shell let
// kubelet make the same FUSE mount for pods on two nodes, through a static PersistentVolume and a claim.
// Then, as the lesson's homework asks, the gluster servers themselves ran in Kubernetes: a DaemonSet of
// privileged hostNetwork pods running the node's own glusterd took over the pool and gv0, made gv1 from
// a pod, and served it to a pod on node2 that wrote and a pod on node3 that read. Deleting a gluster
// pod was section 5's failure; the DaemonSet's new pod was section 6's restart, and self-heal did the rest.
//
// Nothing here outlives the cluster: the glusterds, the bricks' glusterfsd processes, the self-heal
// daemons, the FUSE clients and Kubernetes itself all run inside the nodes, and the mounts live in the
// nodes' own mount namespaces. gv0's objects were deleted before section 10, and kubelet unmounted
// what it had mounted; section 10's DaemonSet, gv1 and its two pods stay until the cluster goes.
