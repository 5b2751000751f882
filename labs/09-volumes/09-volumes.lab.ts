// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes: true
// ---

// %% [markdown]
// # Lab 09: Volumes, and what the objects stand for on a node
//
// A container's own filesystem dies with it. A **volume** is storage that a Pod declares and its containers
// mount. The lesson's Pod:
//
// ```yaml
// spec:
//   containers:
//   - image: jolestar/go-probe
//     name: test-container
//     volumeMounts:
//     - mountPath: /cache
//       name: cache-volume
//   volumes:
//   - name: cache-volume
//     emptyDir: {}
// ```
//
// - **emptyDir**: an empty directory created when the Pod starts on a node, deleted when the Pod goes.
// - **hostPath**: a directory of the node itself; it outlives the Pod, and stays on that node.
// - Others in the lesson: downwardAPI, secret, configMap, projected, gitRepo, NFS/CephFS/GlusterFS, cloud disks.
// - A **volumeMount** has a `name`, a `mountPath`, and optionally `readOnly` and `subPath` (one directory
//   inside the volume).
//
// What happens on the node is plain Linux. The **kubelet** prepares each volume as a directory, for an
// emptyDir under `/var/lib/kubelet/pods/<pod>/volumes/kubernetes.io~empty-dir/<name>`. The **container
// runtime** gives the container its own **mount namespace** and root filesystem, and **bind-mounts** each
// volume at its mountPath:
//
// ```
//  node1 (mount namespace of the node)                    pod test-pd (its own mount namespace)
//  /var/lib/kubelet-model/pods/test-pd/
//    volumes/kubernetes.io~empty-dir/cache-volume/  ──bind──▶  /cache
//  /root/data  (a hostPath)                         ──bind──▶  /data        (readOnly: remount ro)
//  /root/site/public  (hostPath + subPath: public)  ──bind──▶  /srv/www
//    rootfs/  (tmpfs: the container's /, with the node's /usr and /etc read-only)
// ```
//
// Here this lab's `runPod` (pods.ts) plays the kubelet and the runtime for one pod: it creates the directories, then a
// process with a mount namespace of its own, a fresh root, the bind mounts, and `chroot`. There is no image: the
// mounts are exactly the ones Kubernetes would make. It keeps its pods under `/var/lib/kubelet-model/pods/<name>`,
// beside the real kubelet's `/var/lib/kubelet/pods/<uid>`: this cluster runs real Kubernetes too, and a real
// kubelet removes, within seconds, the folder of any pod it does not know.
//
// Then the **PersistentVolume** objects: why they exist, what a claim binds to, and the phases a volume goes
// through, with the cluster's real Kubernetes (v1.35, started for this lab).

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and import the pod and volume helpers
import { cluster, check, fileContains, sh, onlyWith, kubectlApply, VolumeLifecycle } from "labbook";
import { runPod, findPod } from "./pods.js";

const c = await cluster({ fresh: true, kubernetes: true });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];

// %% [markdown]
// ## 1. emptyDir: a directory that lives and dies with the pod
//
// The lesson's `test-pd`, with `cache-volume` mounted at `/cache`. Something written in the pod appears in the
// kubelet's directory on the node, because it is the same directory, bind-mounted.

// %% labbook={"id": "emptydir", "role": "step"}
// Start test-pd with an emptyDir at /cache, and write a file in the pod
const testPd = await runPod(node1, {
  name: "test-pd",
  volumes: [{ name: "cache-volume", emptyDir: {} }],
  volumeMounts: [{ mountPath: "/cache", name: "cache-volume" }],
});
const EMPTY_DIR = "/var/lib/kubelet-model/pods/test-pd/volumes/kubernetes.io~empty-dir/cache-volume";
console.log(String((await testPd.exec("echo cached-by-test-pd > /cache/item && grep /cache /proc/self/mountinfo")).stdout));
await sh(node1, `ls -l ${EMPTY_DIR}`);

// %% labbook={"id": "check-emptydir", "role": "check"}
// Check: the pod has its own mount namespace, and its /cache is the kubelet's directory on the node
await check("the pod runs in a mount namespace of its own", async () => {
  const [pod, host] = [String(await node1.$`readlink /proc/${testPd.pid}/ns/mnt`), String(await node1.$`readlink /proc/self/ns/mnt`)];
  if (pod === host) throw new Error(`both are ${pod}`);
  return `pod ${pod}, node ${host}`;
});
await check("what the pod wrote in /cache is at the emptyDir's path on the node", () => fileContains(node1, `${EMPTY_DIR}/item`, "cached-by-test-pd"));
await check("the node itself has no /cache: the mount exists only inside the pod", async () => {
  const seen = await node1.$({ nothrow: true })`ls /cache`;
  if (seen.ok) throw new Error(`the node sees /cache: ${seen.stdout}`);
  return "ls /cache: No such file or directory";
});

// %% labbook={"id": "delete-emptydir", "role": "step"}
// Delete the pod: the kubelet removes its directory, emptyDir included
await testPd.delete();

// %% labbook={"id": "check-emptydir-gone", "role": "check"}
// Check: the emptyDir's data is gone with the pod
await check("after the pod is deleted, its emptyDir is gone", async () => {
  const left = await node1.$({ nothrow: true })`ls ${EMPTY_DIR}`;
  if (left.ok) throw new Error(`still there: ${left.stdout}`);
  return "no such directory";
});

// %% [markdown]
// ## 2. hostPath: the node's own directory outlives the pod
//
// The lesson's example mounts the node's `/data`. Here the host path is `/root/data`: a node's `/root` is its
// own, while `/data` would be the machine's root filesystem, which labs never write. A `writer` pod writes,
// is deleted, and a `reader` pod on the same node finds the file.

// %% labbook={"id": "hostpath", "role": "step"}
// writer writes to /data (hostPath /root/data), is deleted; reader mounts the same path
const DATA_VOLUME = { name: "test-volume", hostPath: { path: "/root/data" } };
const writer = await runPod(node1, { name: "writer", volumes: [DATA_VOLUME], volumeMounts: [{ name: "test-volume", mountPath: "/data" }] });
await writer.exec("echo written-by-writer > /data/note");
await writer.delete();
await sh(node1, "cat /root/data/note");
const reader = await runPod(node1, { name: "reader", volumes: [DATA_VOLUME], volumeMounts: [{ name: "test-volume", mountPath: "/data" }] });
const readBack = await reader.exec("cat /data/note");
console.log(readBack.stdout);

// %% labbook={"id": "check-hostpath", "role": "check"}
// Check: the data survived the pod that wrote it
await check("the file written by the deleted pod is still at the host path", () => fileContains(node1, "/root/data/note", "written-by-writer"));
await check("a new pod mounting the same host path reads it", () => {
  if (readBack.stdout.trim() !== "written-by-writer") throw new Error(`reader saw: ${readBack.stdout}${readBack.stderr}`);
  return "reader: written-by-writer";
});
await check("hostPath is per node: node2 does not have the file", async () => {
  const other = await node2.$({ nothrow: true })`cat /root/data/note`;
  if (other.ok) throw new Error(`node2 has it: ${other.stdout}`);
  return "node2: No such file or directory";
});

// %% [markdown]
// ## 3. readOnly and subPath
//
// `readOnly: true` makes the runtime remount the bind mount read-only (`mount -o remount,bind,ro`): writes fail
// with *Read-only file system*, whatever the file permissions say. `subPath` mounts one directory inside the
// volume instead of its root, so a container sees only its part.

// %% labbook={"id": "options", "role": "step"}
// One pod, the same hostPath twice: read-only at /data, and subPath "logs" read-write at /logs
await sh(node1, "mkdir -p /root/data/logs");
const limited = await runPod(node1, {
  name: "limited",
  volumes: [DATA_VOLUME],
  volumeMounts: [{ name: "test-volume", mountPath: "/data", readOnly: true }, { name: "test-volume", mountPath: "/logs", subPath: "logs" }],
});
const roWrite = await limited.exec("echo nope > /data/nope");
const subWrite = await limited.exec("echo line > /logs/app.log && ls /logs");
console.log(roWrite.stderr, subWrite.stdout);

// %% labbook={"id": "check-options", "role": "check"}
// Check: the read-only mount refuses writes; the subPath mount writes into logs/ only
await check("writing to the readOnly mount fails with Read-only file system", () => {
  if (roWrite.ok || !roWrite.stderr.includes("Read-only file system")) throw new Error(`exit ${roWrite.exitCode}: ${roWrite.stderr}`);
  return roWrite.stderr.trim();
});
await check("the subPath write landed in /root/data/logs on the node", () => fileContains(node1, "/root/data/logs/app.log", "line"));
await check("through the subPath mount the pod does not see the volume's other files", async () => {
  const listing = (await limited.exec("ls /logs")).stdout.trim();
  if (listing !== "app.log") throw new Error(`ls /logs: ${listing}`);
  return "ls /logs: app.log (no note, no logs/)";
});

// %% [markdown]
// ## 4. PersistentVolume, PersistentVolumeClaim, StorageClass
//
// Why not always put storage in the Pod spec? The lesson gives the reasons: **lifecycle** (storage that outlives
// Pods), **cleanup and reuse**, **Pod replicas** that each need their own, and **environments** (the same Pod spec
// in a test cluster and in a cloud). So Kubernetes splits it:
//
// - a **PersistentVolume** (PV) is a piece of storage the cluster has: its **capacity**, **access modes**
//   (`ReadWriteOnce` one node may mount it read-write; `ReadOnlyMany` many nodes read-only; `ReadWriteMany` many
//   nodes read-write), **mount options**, a **reclaim policy** (`Retain`, `Recycle`, `Delete`) and a **phase**
//   (`Available`, `Bound`, `Released`, `Failed`);
// - a **PersistentVolumeClaim** (PVC) is a request: this much, with these modes, of this class. The control plane
//   binds it to a fitting PV, and a Pod names the claim, not the storage;
// - a **StorageClass** names a **provisioner** that creates PVs on demand for claims of its class, so nobody
//   has to create PVs in advance (the lesson's `qingcloud/volume-provisioner`, or `kubernetes.io/glusterfs` in lab 10).
//
// The lesson's objects, for QingCloud's volume plugin:
//
// ```yaml
// kind: PersistentVolume
// apiVersion: v1
// metadata:
//   name: qingcloud-pv
//   labels:
//     type: qingcloud
// spec:
//   capacity:
//     storage: 10Gi
//   accessModes:
//     - ReadWriteOnce
//   flexVolume:
//     driver: "qingcloud/flex-volume"
//     fsType: "ext4"
//     options:
//       volumeID: "vol-xxxx"
// ---
// kind: PersistentVolumeClaim
// apiVersion: v1
// metadata:
//   name: qingcloud-pvc
// spec:
//   storageClassName: qingcloud-storageclass
//   accessModes:
//     - ReadWriteOnce
//   resources:
//     requests:
//       storage: 3Gi
// ---
// kind: StorageClass
// apiVersion: storage.k8s.io/v1
// metadata:
//   name: qingcloud-storageclass
//   annotations:
//     storageclass.kubernetes.io/is-default-class: "true"
// provisioner: qingcloud/volume-provisioner
// ```
//
// They need QingCloud's driver and provisioner, which exist only on QingCloud. (The lesson puts
// `persistentVolumeReclaimPolicy: Recycle` on the claim; it belongs on a PV, as below.) The manifests this lab
// applies have the same shape, with parts any cluster has: a `manual` StorageClass with no provisioner (static
// provisioning), a hostPath PV of that class, a claim for 3Gi, and a Pod that mounts the claim.
//
// These are API objects: they need Kubernetes. The next two cells are the real manifests and the real
// `kubectl` steps. `labbook run` skips them on the embedded backend, and they run on the Vagrant backend with
// Kubernetes provisioned.

// %% labbook={"id": "pv-manifests", "role": "step", "requires": ["kubernetes"]}
// The manifests: a StorageClass, a hostPath PV of that class, a claim for 3Gi, and a pod that uses the claim
const MANIFESTS = `kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: manual
provisioner: kubernetes.io/no-provisioner   # static: an administrator creates the PVs
volumeBindingMode: Immediate
reclaimPolicy: Retain
---
kind: PersistentVolume
apiVersion: v1
metadata:
  name: lab09-pv
  labels:
    type: local
spec:
  storageClassName: manual
  capacity:
    storage: 10Gi
  accessModes:
    - ReadWriteOnce
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: /root/pv/lab09-pv
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: lab09-pvc
spec:
  storageClassName: manual
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 3Gi
---
kind: Pod
apiVersion: v1
metadata:
  name: lab09-pod
spec:
  containers:
    - name: app
      image: labbook/busybox:1   # labbook builds its images; no registry is reachable
      command: ["sh", "-c", "echo hello from a PVC > /data/hello && sleep 3600"]
      volumeMounts:
        - mountPath: /data
          name: storage
  volumes:
    - name: storage
      persistentVolumeClaim:
        claimName: lab09-pvc
`;
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, MANIFESTS, "lab09.yaml");
});

// %% labbook={"id": "pv-kubectl", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: the claim binds to lab09-pv, and the pod's file lands in the PV's directory
await onlyWith(c, "kubernetes", async () => {
  await check("lab09-pvc is Bound to lab09-pv", async () => {
    const claim = String(await node1.$`kubectl get pvc lab09-pvc -o jsonpath={.status.phase}/{.spec.volumeName}`);
    if (claim !== "Bound/lab09-pv") throw new Error(`kubectl get pvc: ${claim}`);
    return claim;
  }, { within: 60_000, every: 1000 });
  await check("the pod's file is in the PV's host path on its node", async () => {
    const node = String(await node1.$`kubectl get pod lab09-pod -o jsonpath={.spec.nodeName}`);
    const file = await c.node(node).$`cat /root/pv/lab09-pv/hello`;
    return `${node}: ${file.stdout.trim()}`;
  }, { within: 120_000, every: 2000 });
  await sh(node1, "kubectl delete pod lab09-pod --grace-period=1 && kubectl delete pvc lab09-pvc && kubectl get pv lab09-pv");
});

// %% [markdown]
// ## 5. The phases a PersistentVolume goes through
//
// Section 4 ran the real PV controller. The next cells walk through all of its **rules**, one at a time, with
// labbook's small model of them (`VolumeLifecycle`). This is a model of the lifecycle the objects follow, not
// Kubernetes. What it does to the data is real, though: each volume is a directory on
// node1, and `Recycle` and `Delete` really empty or remove it.
//
// - A new PV is **Available**. A new claim binds to the **smallest** Available PV of its class that has the
//   capacity and all the requested access modes; both become **Bound**.
// - When the claim is deleted, the PV becomes **Released**. Then its reclaim policy acts: **Retain** keeps it
//   Released with its data (an administrator must clean it up); **Recycle** scrubs it (`rm -rf volume/*`) and makes
//   it Available again (deprecated in Kubernetes); **Delete** removes the PV and its storage.

// %% labbook={"id": "lifecycle", "role": "step"}
// Three PVs on node1, one per reclaim policy; four claims; then three claims go and a fifth comes
const book = new VolumeLifecycle(node1);
await book.createVolume({ name: "pv-retain", capacityGi: 5, accessModes: ["ReadWriteOnce"], reclaimPolicy: "Retain", storageClassName: "manual", path: "/root/pv/pv-retain" });
await book.createVolume({ name: "pv-recycle", capacityGi: 5, accessModes: ["ReadWriteOnce", "ReadOnlyMany"], reclaimPolicy: "Recycle", storageClassName: "manual", path: "/root/pv/pv-recycle" });
await book.createVolume({ name: "pv-delete", capacityGi: 10, accessModes: ["ReadWriteOnce"], reclaimPolicy: "Delete", storageClassName: "manual", path: "/root/pv/pv-delete" });
console.log(book.table());
const phases = (): string => ["pv-retain", "pv-recycle", "pv-delete"].map((pv) => `${pv}=${book.phaseOf(pv)}`).join(" ");
const atStart = phases();
const claimA = book.createClaim({ name: "claim-a", requestGi: 3, accessModes: ["ReadWriteOnce"], storageClassName: "manual" });
const claimB = book.createClaim({ name: "claim-b", requestGi: 4, accessModes: ["ReadOnlyMany"], storageClassName: "manual" });
const claimC = book.createClaim({ name: "claim-c", requestGi: 8, accessModes: ["ReadWriteOnce"], storageClassName: "manual" });
const claimD = book.createClaim({ name: "claim-d", requestGi: 1, accessModes: ["ReadWriteMany"], storageClassName: "manual" });
console.log(book.table());
const whileBound = phases();
// Data written through the bound volumes, then the claims deleted
await sh(node1, "for pv in pv-retain pv-recycle pv-delete; do echo precious > /root/pv/$pv/data; done");
for (const claim of ["claim-a", "claim-b", "claim-c"]) await book.deleteClaim(claim);
console.log(book.table());
const afterDelete = phases();
// A new claim: the Released pv-retain is not offered again, the recycled one is
const claimE = book.createClaim({ name: "claim-e", requestGi: 2, accessModes: ["ReadWriteOnce"], storageClassName: "manual" });

// %% labbook={"id": "check-lifecycle", "role": "check"}
// Check: Available, then Bound, then Released and each reclaim policy, for real on node1
await check("new volumes are Available", () => atStart === "pv-retain=Available pv-recycle=Available pv-delete=Available" || atStart);
await check("claims bind to the smallest volume that fits: a to pv-retain, b (ReadOnlyMany) to pv-recycle, c (8Gi) to pv-delete", () => {
  const bound = [claimA, claimB, claimC].map((claim) => `${claim.name}->${claim.volume}`).join(" ");
  if (bound !== "claim-a->pv-retain claim-b->pv-recycle claim-c->pv-delete") throw new Error(bound);
  return `${bound}; ${whileBound}`;
});
await check("claim-d (ReadWriteMany) stays Pending: no volume offers that mode", () => claimD.phase === "Pending" || `claim-d is ${claimD.phase}`);
await check("Retain: pv-retain is Released and keeps its data", async () => {
  if (book.phaseOf("pv-retain") !== "Released") throw new Error(afterDelete);
  return `${await fileContains(node1, "/root/pv/pv-retain/data", "precious")}; ${afterDelete}`;
});
await check("Recycle: pv-recycle was scrubbed (empty directory) and offered again", async () => {
  const left = String(await node1.$`ls -A /root/pv/pv-recycle`);
  if (left !== "" || claimE.volume !== "pv-recycle") throw new Error(`left: "${left}", claim-e bound to ${claimE.volume}`);
  return "empty; claim-e bound to it, not to the Released pv-retain";
});
await check("Delete: pv-delete and its directory are gone", async () => {
  const dir = await node1.$({ nothrow: true })`ls /root/pv/pv-delete`;
  if (dir.ok || book.phaseOf("pv-delete") !== "gone") throw new Error(`directory ${dir.ok ? "still there" : "gone"}, PV ${book.phaseOf("pv-delete")}`);
  return "both gone";
});

// %% [markdown]
// ## Exercise: a web pod that can only read its site
//
// On **node2**, the setup below puts a site in `/root/site`: `public/index.html` for visitors, and `secret.txt`
// that must stay hidden. Start a pod named **`web`** on node2 with a hostPath volume `site` (`/root/site`), mounted
// at **`/srv/www`** with **`subPath: public`** and **`readOnly: true`**. The pod must see `index.html`, must not
// see `secret.txt`, and must not be able to write.

// %% labbook={"id": "exercise-setup", "role": "step"}
// The site on node2
await sh(node2, "mkdir -p /root/site/public && echo '<h1>lab 09</h1>' > /root/site/public/index.html && echo do-not-serve > /root/site/secret.txt");

// %% labbook={"id": "exercise-web", "role": "exercise", "points": 3}
// Your turn: runPod(node2, { name: "web", volumes: [...], volumeMounts: [...] })

// %% labbook={"id": "solution-web", "role": "solution", "points": 3}
// Solution
await runPod(node2, {
  name: "web",
  volumes: [{ name: "site", hostPath: { path: "/root/site" } }],
  volumeMounts: [{ name: "site", mountPath: "/srv/www", subPath: "public", readOnly: true }],
});

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check } from "labbook";
// import { findPod } from "./pods.js";
// const c = await cluster();
// const node2 = c.node("node2");

// %% labbook={"id": "hidden-web", "role": "hidden-check", "hint": "One pod named web on node2; the volume is the hostPath /root/site, and its mount uses subPath public and readOnly."}
// Hidden check: the web pod on node2 serves public/ only, read-only
const web = await findPod(node2, "web").catch((error: Error) => error);
await check("pod web runs on node2 and sees index.html at /srv/www", async () => {
  if (web instanceof Error) throw web;
  const page = await web.exec("cat /srv/www/index.html");
  if (!page.stdout.includes("lab 09")) throw new Error(`cat /srv/www/index.html: ${page.stdout}${page.stderr}`);
  return "index.html served";
}, { points: 1 });
await check("the pod cannot see secret.txt: /srv/www is the volume's public/ only", async () => {
  if (web instanceof Error) throw web;
  const mount = (await web.exec("grep ' /srv/www ' /proc/self/mountinfo")).stdout.trim().split(" ");
  const visible = await web.exec("ls /srv/www /srv");
  if (!mount[3]?.endsWith("/site/public") || visible.stdout.includes("secret.txt")) throw new Error(`mount root ${mount[3] ?? "(no mount at /srv/www)"}; ls: ${visible.stdout}`);
  return `mounted from ${mount[3]}`;
}, { points: 1 });
await check("the mount is read-only", async () => {
  if (web instanceof Error) throw web;
  const write = await web.exec("touch /srv/www/defaced");
  if (write.ok || !write.stderr.includes("Read-only")) throw new Error(`touch /srv/www/defaced: exit ${write.exitCode} ${write.stderr}`);
  return write.stderr.trim();
}, { points: 1 });

// %% [markdown]
// ## Next
//
// Lab 10 puts a real distributed filesystem, GlusterFS, behind a volume: replicated across the three nodes, so the
// data survives a dead node, and provisioned by a StorageClass on Kubernetes.
