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
// Then the real thing: this cluster runs Kubernetes v1.35 (started for this lab), and its kubelet mounts the same
// volumes, and every other type the lesson names, into a real Pod (section 4). Then the **PersistentVolume**
// objects: why they exist, what a claim binds to, the phases the real PV controller walks a volume through with
// each reclaim policy, and dynamic provisioning by a StorageClass.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and import the pod and volume helpers
import { cluster, check, fileContains, sh, onlyWith, kubectlApply, scaledSeconds } from "labbook";
import { runPod, findPod, KUBELET_PODS } from "./pods.js";
import { kubectl, kubectlExec, parseMountinfo } from "./kubelet.js";

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
// ## 4. The real kubelet does the same, for every volume type
//
// Sections 1 to 3 played the kubelet and the runtime by hand. This cluster also runs the real ones (kubelet
// v1.35 with containerd and runc). Here is the lesson's `test-pd` again, as a real Pod on node1, with the
// lesson's other volume types as well:
//
// - **emptyDir** `cache-volume` at `/cache`, and **hostPath** `/root/data` (the directory sections 2 and 3
//   used) twice: **readOnly** at `/data`, and with **subPath** `logs` at `/logs`;
// - **configMap**: each key of a ConfigMap becomes a file; **secret**: the same for a Secret, but on a tmpfs, so
//   a secret never touches the node's disk;
// - **downwardAPI**: the pod's own fields (name, labels) as files;
// - **projected**: one directory that merges items of a ConfigMap, a Secret and the downward API.
//
// `gitRepo`, in the lesson too, is deprecated and its driver is off by default since Kubernetes 1.33 (clone into an
// emptyDir with an init container instead); NFS, CephFS, GlusterFS and cloud disks need servers or a cloud
// (lab 10 runs GlusterFS).
//
// The kubelet prepares every volume in `/var/lib/kubelet/pods/<pod UID>/volumes/<plugin>/<name>`
// (`kubernetes.io~empty-dir`, `kubernetes.io~configmap`, ...); a hostPath needs no directory of its own. For a
// subPath it makes one more bind mount, under `volume-subpaths/`. Then runc bind-mounts each one into the
// container's mount namespace at its mountPath, read-only where asked: what `runPod` did.

// %% labbook={"id": "kubelet-pod", "role": "step", "requires": ["kubernetes"]}
// A ConfigMap, a Secret, and test-pd on node1 with six kinds of volume
const VOLUMES_MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: lab09-config
data:
  app.conf: "color=blue\\n"
  mode: production
---
apiVersion: v1
kind: Secret
metadata:
  name: lab09-secret
stringData:
  password: s3cret-for-lab09
---
apiVersion: v1
kind: Pod
metadata:
  name: test-pd
  labels:
    app: lab09
spec:
  nodeName: node1                # the hostPath is node1's /root/data
  terminationGracePeriodSeconds: 1
  containers:
    - name: test-container
      image: labbook/busybox:1   # labbook builds its images; no registry is reachable
      command: ["sleep", "3600"]
      volumeMounts:
        - { name: cache-volume, mountPath: /cache }
        - { name: test-volume, mountPath: /data, readOnly: true }
        - { name: test-volume, mountPath: /logs, subPath: logs }
        - { name: config, mountPath: /etc/app }
        - { name: secret, mountPath: /etc/secret, readOnly: true }
        - { name: podinfo, mountPath: /etc/podinfo }
        - { name: all-in-one, mountPath: /etc/projected }
  volumes:
    - name: cache-volume
      emptyDir: {}
    - name: test-volume
      hostPath:
        path: /root/data
        type: Directory
    - name: config
      configMap:
        name: lab09-config
    - name: secret
      secret:
        secretName: lab09-secret
    - name: podinfo
      downwardAPI:
        items:
          - { path: name, fieldRef: { fieldPath: metadata.name } }
          - { path: labels, fieldRef: { fieldPath: metadata.labels } }
    - name: all-in-one
      projected:
        sources:
          - configMap: { name: lab09-config, items: [{ key: mode, path: mode }] }
          - secret: { name: lab09-secret, items: [{ key: password, path: password }] }
          - downwardAPI: { items: [{ path: namespace, fieldRef: { fieldPath: metadata.namespace } }] }
`;
let podUid = "";
let inPod = { ok: false, stdout: "", stderr: "" };
let roWriteReal = { ok: false, stdout: "", stderr: "" };
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, VOLUMES_MANIFEST, "test-pd.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/test-pd --timeout=${scaledSeconds(60)}`);
  inPod = await kubectlExec(node1, "test-pd", "echo cached-by-real-test-pd > /cache/item; for f in /data/note /logs/app.log /etc/app/app.conf /etc/secret/password /etc/podinfo/labels; do cat $f; echo; done; ls /logs /etc/projected");
  console.log(inPod.stdout + inPod.stderr);
  roWriteReal = await kubectlExec(node1, "test-pd", "touch /data/nope");
  console.log(roWriteReal.stderr);
  podUid = await kubectl(node1, "get pod test-pd -o jsonpath={.metadata.uid}");
  await sh(node1, `cd ${KUBELET_PODS}/${podUid} && find volumes volume-subpaths -mindepth 2 -maxdepth 2 && findmnt -n -o TARGET,FSTYPE -T volumes/kubernetes.io~secret/secret`);
});

// %% labbook={"id": "check-kubelet", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: each volume inside the pod, and where the kubelet keeps it on node1
await onlyWith(c, "kubernetes", async () => {
  const podDir = `${KUBELET_PODS}/${podUid}`;
  await check("inside test-pd: the hostPath file, the subPath log, the ConfigMap, the Secret and the pod's labels", () => {
    for (const seen of ["written-by-writer", "line", "color=blue", "s3cret-for-lab09", 'app="lab09"']) {
      if (!inPod.stdout.includes(seen)) throw new Error(`no "${seen}" in: ${inPod.stdout}${inPod.stderr}`);
    }
    return "written-by-writer, line, color=blue, s3cret-for-lab09, app=\"lab09\"";
  });
  await check("the projected volume merges the ConfigMap's mode, the Secret's password and the namespace", async () => {
    const files = (await kubectlExec(node1, "test-pd", "ls /etc/projected; cat /etc/projected/namespace")).stdout.split(/\s+/).filter(Boolean).join(" ");
    if (files !== "mode namespace password default") throw new Error(`ls /etc/projected; cat namespace: ${files}`);
    return `ls /etc/projected: mode namespace password; namespace: default`;
  });
  await check("the readOnly mount refuses writes: Read-only file system", () => {
    if (roWriteReal.ok || !roWriteReal.stderr.includes("Read-only file system")) throw new Error(`touch /data/nope: ${roWriteReal.stderr || "it worked"}`);
    return roWriteReal.stderr.trim();
  });
  await check("what the pod wrote in /cache is in the kubelet's emptyDir directory on node1", () => fileContains(node1, `${podDir}/volumes/kubernetes.io~empty-dir/cache-volume/item`, "cached-by-real-test-pd"));
  await check("the kubelet made one directory per volume under volumes/<plugin>/, none for the hostPath", async () => {
    const dirs = String(await node1.$`cd ${podDir}/volumes && ls -d kubernetes.io~empty-dir/cache-volume kubernetes.io~configmap/config kubernetes.io~secret/secret kubernetes.io~downward-api/podinfo kubernetes.io~projected/all-in-one`);
    const hostPathDir = await node1.$({ nothrow: true })`ls -d ${podDir}/volumes/kubernetes.io~host-path`;
    if (hostPathDir.ok) throw new Error(`a hostPath directory: ${hostPathDir.stdout}`);
    return dirs.split("\n").join(", ");
  });
  await check("the Secret is on a tmpfs: never on the node's disk", async () => {
    const fstype = String(await node1.$`findmnt -n -o FSTYPE -T ${podDir}/volumes/kubernetes.io~secret/secret`);
    if (fstype !== "tmpfs") throw new Error(`its filesystem: ${fstype}`);
    return `${podDir}/volumes/kubernetes.io~secret/secret: tmpfs`;
  });
  await check("the subPath has its own bind mount under volume-subpaths/test-volume/test-container/", async () => {
    const listing = String(await node1.$`ls ${podDir}/volume-subpaths/test-volume/test-container`);
    if (!listing) throw new Error("empty");
    return `volume-subpaths/test-volume/test-container/${listing} (the volumeMount's index)`;
  });
  await check("the same shape as runPod's: bind mounts of the kubelet's directories, /data read-only, /logs from /root/data/logs", async () => {
    const real = parseMountinfo((await node1.$`kubectl exec test-pd -- cat /proc/self/mountinfo`).stdout);
    const byHand = parseMountinfo((await limited.exec("cat /proc/self/mountinfo")).stdout);
    const cache = real.get("/cache");
    if (!cache?.root.endsWith(`/pods/${podUid}/volumes/kubernetes.io~empty-dir/cache-volume`)) throw new Error(`/cache is bound from ${cache?.root ?? "nothing"}`);
    for (const [name, mounts] of [["test-pd", real], ["limited (by hand)", byHand]] as const) {
      const [data, logs] = [mounts.get("/data"), mounts.get("/logs")];
      if (!data?.options.startsWith("ro") || !data.root.endsWith("/root/data")) throw new Error(`${name}: /data is ${JSON.stringify(data)}`);
      if (!logs?.options.startsWith("rw") || !logs.root.endsWith("/root/data/logs")) throw new Error(`${name}: /logs is ${JSON.stringify(logs)}`);
    }
    return `both: /data ro from /root/data, /logs rw from /root/data/logs; test-pd's /cache from ...${cache.root.slice(cache.root.indexOf("/pods/"))}`;
  });
  await sh(node1, "kubectl delete pod test-pd --grace-period=1");
  await check("after the pod is deleted, the kubelet removes its directory, emptyDir included", async () => {
    const left = await node1.$({ nothrow: true })`ls ${podDir}`;
    if (left.ok) throw new Error(`still there: ${left.stdout}`);
    return `${podDir}: no such directory`;
  }, { within: 30_000, every: 500 });
});

// %% [markdown]
// ## 5. PersistentVolume, PersistentVolumeClaim, StorageClass
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
// These are API objects: the next two cells apply them to the cluster's Kubernetes and let the real PV
// controller bind the claim (on a backend without Kubernetes they are skipped, and say so).

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
`;
// The claim comes once the PV exists: a claim the controller sees first stays Pending until its next pass (15 s).
const CLAIM_MANIFEST = `kind: PersistentVolumeClaim
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
`;
// The pod comes once the claim is Bound: the scheduler would otherwise set it aside, and retry only after a back-off.
const POD_MANIFEST = `kind: Pod
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
  await kubectlApply(node1, CLAIM_MANIFEST, "lab09-pvc.yaml");
  await sh(node1, `kubectl wait --for=jsonpath={.status.phase}=Bound pvc/lab09-pvc --timeout=${scaledSeconds(60)}`);
  await kubectlApply(node1, POD_MANIFEST, "lab09-pod.yaml");
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
// ## 6. The phases a PersistentVolume goes through, with the real PV controller
//
// The PV controller in kube-controller-manager (node1) follows these rules:
//
// - A new PV is **Available**. A new claim binds to the **smallest** Available PV of its class that has the
//   capacity and all the requested access modes; both become **Bound**. A claim nothing fits stays **Pending**.
// - When the claim is deleted, the PV becomes **Released**. Then its reclaim policy acts: **Retain** keeps it
//   Released with its data: nobody else gets it until an administrator acts; **Delete** removes the PV and its
//   storage; **Recycle** scrubs it (`rm -rf volume/*` in a recycler pod) and makes it Available again
//   (deprecated: see section 8).
//
// Three hostPath PVs of class `manual`, one per reclaim policy, all on node1 (their `nodeAffinity` says so, and
// the scheduler puts a pod that uses them there). They live under `/tmp/lab09/` because the hostPath plugin
// deletes only directories under `/tmp/` (it is meant for tests): the controller manager runs `rm -rf` on
// node1 itself. Four claims, and a pod that writes through two of them.

// %% labbook={"id": "lifecycle", "role": "step", "requires": ["kubernetes"]}
// Three PVs (Retain, Recycle, Delete), four claims, and a pod that writes through claim-a and claim-c
const PVS_MANIFEST = ([["pv-retain", "5Gi", "[ReadWriteOnce]", "Retain"], ["pv-recycle", "6Gi", "[ReadWriteOnce, ReadOnlyMany]", "Recycle"], ["pv-delete", "10Gi", "[ReadWriteOnce]", "Delete"]] as const)
  .map(([name, size, modes, policy]) => `kind: PersistentVolume
apiVersion: v1
metadata:
  name: ${name}
spec:
  storageClassName: manual
  capacity: { storage: ${size} }
  accessModes: ${modes}
  persistentVolumeReclaimPolicy: ${policy}
  hostPath: { path: /tmp/lab09/${name} }
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions: [{ key: kubernetes.io/hostname, operator: In, values: [node1] }]
`).join("---\n");
const claim = (name: string, modes: string, size: string): string => `kind: PersistentVolumeClaim
apiVersion: v1
metadata: { name: ${name} }
spec: { storageClassName: manual, accessModes: ${modes}, resources: { requests: { storage: ${size} } } }
`;
const CLAIMS_MANIFEST = [claim("claim-a", "[ReadWriteOnce]", "3Gi"), claim("claim-b", "[ReadOnlyMany]", "4Gi"), claim("claim-c", "[ReadWriteOnce]", "8Gi"), claim("claim-d", "[ReadWriteMany]", "1Gi"), `kind: Pod
apiVersion: v1
metadata: { name: lab09-writer }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: writer
      image: labbook/busybox:1
      command: ["sh", "-c", "echo precious > /retain/data && echo precious > /delete/data && sleep 3600"]
      volumeMounts:
        - { name: retain, mountPath: /retain }
        - { name: recycle, mountPath: /recycle, readOnly: true }
        - { name: delete, mountPath: /delete }
  volumes:
    - { name: retain, persistentVolumeClaim: { claimName: claim-a } }
    - { name: recycle, persistentVolumeClaim: { claimName: claim-b, readOnly: true } }
    - { name: delete, persistentVolumeClaim: { claimName: claim-c } }
`].join("---\n");
const pvPhases = async (): Promise<string> => kubectl(node1, "get pv pv-retain pv-recycle pv-delete -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}'");
let atStart = "";
await onlyWith(c, "kubernetes", async () => {
  // The administrator's part of static provisioning: the storage itself (pv-recycle holds an earlier user's file).
  await sh(node1, "mkdir -p /tmp/lab09/pv-retain /tmp/lab09/pv-recycle /tmp/lab09/pv-delete && echo precious > /tmp/lab09/pv-recycle/data");
  await kubectlApply(node1, PVS_MANIFEST, "pvs.yaml");
  atStart = await pvPhases();
  await sh(node1, "kubectl get pv");
  await kubectlApply(node1, CLAIMS_MANIFEST, "claims.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/lab09-writer --timeout=${scaledSeconds(60)} && kubectl get pv,pvc && kubectl get pod lab09-writer -o wide`);
});

// %% labbook={"id": "check-lifecycle", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: Available, then each claim Bound to the smallest volume that fits
await onlyWith(c, "kubernetes", async () => {
  await check("new volumes are Available", () => atStart.trim() === "pv-retain=Available pv-recycle=Available pv-delete=Available" || atStart);
  await check("claims bind to the smallest volume that fits: a to pv-retain, b (ReadOnlyMany) to pv-recycle, c (8Gi) to pv-delete", async () => {
    const bound = await kubectl(node1, "get pvc claim-a claim-b claim-c -o jsonpath='{range .items[*]}{.metadata.name}->{.spec.volumeName}/{.status.phase} {end}'");
    if (bound !== "claim-a->pv-retain/Bound claim-b->pv-recycle/Bound claim-c->pv-delete/Bound") throw new Error(bound);
    return bound;
  }, { within: 30_000, every: 500 });
  await check("claim-d (ReadWriteMany) stays Pending: no volume offers that mode", async () => {
    const phase = await kubectl(node1, "get pvc claim-d -o jsonpath={.status.phase}");
    return phase === "Pending" || `claim-d is ${phase}`;
  });
  await check("the pod runs on node1 (the PVs' nodeAffinity) and its files are in the PVs' directories there", async () => {
    const where = await kubectl(node1, "get pod lab09-writer -o jsonpath={.spec.nodeName}");
    if (where !== "node1") throw new Error(`lab09-writer is on ${where}`);
    return `node1; ${await fileContains(node1, "/tmp/lab09/pv-retain/data", "precious")}; ${await fileContains(node1, "/tmp/lab09/pv-delete/data", "precious")}`;
  });
});

// %% labbook={"id": "release", "role": "step", "requires": ["kubernetes"]}
// The pod goes, then claims a, b and c: each PV is Released and its reclaim policy acts
await onlyWith(c, "kubernetes", async () => {
  await sh(node1, "kubectl delete pod lab09-writer --grace-period=1 && kubectl delete pvc claim-a claim-b claim-c");
  await node1.$`sleep 1`;
  await sh(node1, "kubectl get pv; ls /tmp/lab09");
});

// %% labbook={"id": "check-release", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: Retain keeps a Released PV and its data, Delete removes both, Recycle fails here
await onlyWith(c, "kubernetes", async () => {
  await check("Retain: pv-retain is Released, still names claim-a, and keeps its data", async () => {
    const state = await kubectl(node1, "get pv pv-retain -o jsonpath={.status.phase}/{.spec.claimRef.name}");
    if (state !== "Released/claim-a") throw new Error(`pv-retain: ${state}`);
    return `${state}; ${await fileContains(node1, "/tmp/lab09/pv-retain/data", "precious")}`;
  }, { within: 30_000, every: 500 });
  await check("Delete: the PV pv-delete and its directory on node1 are gone", async () => {
    const [pv, dir] = [await node1.$({ nothrow: true })`kubectl get pv pv-delete`, await node1.$({ nothrow: true })`ls /tmp/lab09/pv-delete`];
    if (pv.ok || dir.ok) throw new Error(`PV ${pv.ok ? "still there" : "gone"}, directory ${dir.ok ? "still there" : "gone"}`);
    return "kubectl get pv pv-delete: NotFound; /tmp/lab09/pv-delete: no such directory";
  }, { within: 30_000, every: 500 });
  await check("Recycle: pv-recycle is Failed, because the recycler pod's image is refused here (section 8)", async () => {
    const state = await kubectl(node1, "get pv pv-recycle -o jsonpath={.status.phase}:{.status.message}");
    if (!state.startsWith("Failed:") || !state.includes("recycler pod")) throw new Error(`pv-recycle: ${state}`);
    return `${state.slice(0, 160)}...`;
  }, { within: 30_000, every: 500 });
});

// %% labbook={"id": "reuse", "role": "step", "requires": ["kubernetes"]}
// A new claim: nothing is Available. The administrator reclaims pv-retain by hand, and the claim binds
let claimEPhase = "";
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, claim("claim-e", "[ReadWriteOnce]", "2Gi"), "claim-e.yaml");
  await node1.$`sleep 1`;
  await sh(node1, "kubectl get pvc claim-e");
  claimEPhase = await kubectl(node1, "get pvc claim-e -o jsonpath={.status.phase}");
  // Retain leaves the cleanup to a person: look at the data (kept, here), then forget the old claim.
  await sh(node1, `cat /tmp/lab09/pv-retain/data && kubectl patch pv pv-retain -p '{"spec":{"claimRef":null}}' && sleep 1 && kubectl get pv pv-retain`);
  // The controller looks at Pending claims again every 15 s; a change to the claim makes it look now.
  await sh(node1, "kubectl annotate pvc claim-e lab09.labbook.dev/look-again=now");
});

// %% labbook={"id": "check-reuse", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: a Released volume is not offered again until an administrator frees it
await onlyWith(c, "kubernetes", async () => {
  await check("claim-e stayed Pending while pv-retain was Released", () => claimEPhase === "Pending" || `claim-e was ${claimEPhase}`);
  await check("once its claimRef is removed, pv-retain is offered again and claim-e binds to it, old data included", async () => {
    const bound = await kubectl(node1, "get pvc claim-e -o jsonpath={.status.phase}/{.spec.volumeName}");
    if (bound !== "Bound/pv-retain") throw new Error(`claim-e: ${bound}`);
    return `claim-e: ${bound}; ${await fileContains(node1, "/tmp/lab09/pv-retain/data", "precious")} (scrub it first, in real life)`;
  }, { within: 30_000, every: 500 });
});

// %% [markdown]
// ## 7. Dynamic provisioning: a StorageClass makes the PV
//
// Nobody created a PV for this claim: the StorageClass names a **provisioner**, and the PV controller calls it
// when a claim of that class comes. The lesson's is `qingcloud/volume-provisioner`; this cluster's
// controller manager runs with `--enable-hostpath-provisioner=true`, Kubernetes' own provisioner for tests:
// `kubernetes.io/host-path` makes a directory `/tmp/hostpath_pv/<uuid>` on the node that runs the controller
// manager (node1) and a hostPath PV for it, named `pvc-<the claim's UID>`. It knows only that one node, and
// its PVs carry no nodeAffinity, so the pod is pinned to node1 by hand. The class's `reclaimPolicy: Delete`
// (the default for provisioned PVs) removes the PV and its directory with the claim, as a cloud deletes the disk.

// %% labbook={"id": "dynamic", "role": "step", "requires": ["kubernetes"]}
// A StorageClass with a provisioner, a claim of that class, and a pod on node1 that uses it
const DYNAMIC_MANIFEST = `kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: hostpath-dynamic
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: lab09-dynamic
spec:
  storageClassName: hostpath-dynamic
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`;
const DYNAMIC_POD_MANIFEST = `kind: Pod
apiVersion: v1
metadata:
  name: lab09-dynamic-pod
spec:
  nodeName: node1            # where the provisioner made the directory
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: labbook/busybox:1
      command: ["sh", "-c", "echo provisioned-for-me > /data/hello && sleep 3600"]
      volumeMounts: [{ name: data, mountPath: /data }]
  volumes:
    - { name: data, persistentVolumeClaim: { claimName: lab09-dynamic } }
`;
let provisioned = "";
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, DYNAMIC_MANIFEST, "dynamic.yaml");
  await sh(node1, `kubectl wait --for=jsonpath={.status.phase}=Bound pvc/lab09-dynamic --timeout=${scaledSeconds(60)} && kubectl get pvc lab09-dynamic`);
  await kubectlApply(node1, DYNAMIC_POD_MANIFEST, "dynamic-pod.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/lab09-dynamic-pod --timeout=${scaledSeconds(60)}`);
  provisioned = await kubectl(node1, "get pvc lab09-dynamic -o jsonpath={.spec.volumeName}");
  await sh(node1, `kubectl get pv ${provisioned} -o yaml | grep -e provisioned-by -e path: -e persistentVolumeReclaimPolicy && ls /tmp/hostpath_pv`);
});

// %% labbook={"id": "check-dynamic", "role": "check", "requires": ["kubernetes"]}
// Check on Kubernetes: the provisioner made the PV and its directory; Delete removes both with the claim
await onlyWith(c, "kubernetes", async () => {
  const pvPath = provisioned ? await kubectl(node1, `get pv ${provisioned} -o jsonpath={.spec.hostPath.path}`) : "";
  await check("the claim is Bound to a PV named pvc-<claim UID>, provisioned by kubernetes.io/host-path, reclaim policy Delete", async () => {
    const uid = await kubectl(node1, "get pvc lab09-dynamic -o jsonpath={.metadata.uid}");
    const pv = await kubectl(node1, `get pv ${provisioned} -o jsonpath='{.metadata.annotations.pv\\.kubernetes\\.io/provisioned-by} {.spec.persistentVolumeReclaimPolicy} {.spec.storageClassName}'`);
    if (provisioned !== `pvc-${uid}` || pv !== "kubernetes.io/host-path Delete hostpath-dynamic") throw new Error(`PV ${provisioned || "(none)"}: ${pv}`);
    return `${provisioned}: ${pv}`;
  });
  await check("the pod's file is in the provisioned directory /tmp/hostpath_pv/<uuid> on node1", async () => {
    if (!pvPath.startsWith("/tmp/hostpath_pv/")) throw new Error(`the PV's path: ${pvPath}`);
    return `${pvPath}: ${await fileContains(node1, `${pvPath}/hello`, "provisioned-for-me")}`;
  }, { within: 10_000, every: 500 });
  await sh(node1, "kubectl delete pod lab09-dynamic-pod --grace-period=1 && kubectl delete pvc lab09-dynamic");
  await check("deleting the claim deletes the provisioned PV and its directory", async () => {
    const [pv, dir] = [await node1.$({ nothrow: true })`kubectl get pv ${provisioned}`, await node1.$({ nothrow: true })`ls ${pvPath}`];
    if (pv.ok || dir.ok) throw new Error(`PV ${pv.ok ? "still there" : "gone"}, ${pvPath} ${dir.ok ? "still there" : "gone"}`);
    return `${provisioned}: NotFound; ${pvPath}: no such directory`;
  }, { within: 30_000, every: 500 });
});

// %% [markdown]
// ## 8. Recycle: deprecated, and what v1.35 still does
//
// `Recycle` scrubbed a released volume in place and offered it again. It is deprecated (the apiserver warns
// when a PV asks for it: *"The Recycle reclaim policy is deprecated. Instead, the recommended approach is to
// use dynamic provisioning"*), and only NFS and hostPath ever had it. Dynamic provisioning does it better: a
// fresh volume per claim, deleted with it.
//
// v1.35 still runs it for hostPath: the PV controller starts a pod `recycler-for-<pv>` that mounts the volume at
// `/scrub` and empties it. That pod's image is `registry.k8s.io/build-image/debian-base`, which this cluster does
// not have: its image policy refuses the pod, so `pv-recycle` went **Failed**, with that refusal as its
// message (section 6). The data stays. A controller manager can be given its own recycler pod with
// `--pv-recycler-pod-template-filepath-hostpath` (an image it has, such as `labbook/busybox:1`, running
// `rm -rf /scrub/..?* /scrub/.[!.]* /scrub/*`, pinned to the volume's node, since the hostPath recycler "only
// works in single node clusters"). This cluster's controller manager is not started with that flag. Tried by
// hand on v1.35.4: with such a template the recycler pod ran and emptied the directory, but the PV stayed
// Released after the pod completed, so Recycle is shown here as it fails, not as it should work.

// %% [markdown]
// ## Exercise: a web pod that can only read its site
//
// On **node2**, the setup below puts a site in `/root/site`: `public/index.html` for visitors, and `secret.txt`
// that must stay hidden. Start a pod named **`web`** on node2 with a hostPath volume `site` (`/root/site`), mounted
// at **`/srv/www`** with **`subPath: public`** and **`readOnly: true`**. The pod must see `index.html`, must not
// see `secret.txt`, and must not be able to write.
//
// Do it twice: first with `runPod`, by hand; then as a real Kubernetes Pod named **`web`** (default namespace,
// image `labbook/busybox:1` running `sleep 3600`, on node2: `nodeName: node2`), applied with `kubectlApply`.
// The kubelet must give it the same mount.

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

// %% labbook={"id": "exercise-web-pod", "role": "exercise", "points": 3, "requires": ["kubernetes"]}
// Your turn, on Kubernetes: await onlyWith(c, "kubernetes", () => kubectlApply(node1, `kind: Pod ...`, "web.yaml"));

// %% labbook={"id": "solution-web-pod", "role": "solution", "points": 3, "requires": ["kubernetes"]}
// Solution, on Kubernetes
await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, `kind: Pod
apiVersion: v1
metadata:
  name: web
spec:
  nodeName: node2
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: labbook/busybox:1
      command: ["sleep", "3600"]
      volumeMounts:
        - { name: site, mountPath: /srv/www, subPath: public, readOnly: true }
  volumes:
    - name: site
      hostPath: { path: /root/site }
`, "web.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/web --timeout=${scaledSeconds(60)}`);
});

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, onlyWith } from "labbook";
// import { findPod } from "./pods.js";
// import { kubectl, kubectlExec, parseMountinfo } from "./kubelet.js";
// const c = await cluster();
// const [node1, node2] = [c.node("node1"), c.node("node2")];

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

// %% labbook={"id": "hidden-web-pod", "role": "hidden-check", "requires": ["kubernetes"], "hint": "A Pod named web in the default namespace, Running on node2 (nodeName: node2), image labbook/busybox:1; a hostPath volume /root/site mounted at /srv/www with subPath: public and readOnly: true."}
// Hidden check on Kubernetes: the real Pod web on node2 serves public/ only, read-only
await onlyWith(c, "kubernetes", async () => {
  await check("Pod web is Running on node2 and sees index.html at /srv/www", async () => {
    const state = await kubectl(node1, "get pod web -o jsonpath={.spec.nodeName}/{.status.phase}");
    if (state !== "node2/Running") throw new Error(`pod web: ${state}`);
    const page = await kubectlExec(node1, "web", "cat /srv/www/index.html");
    if (!page.stdout.includes("lab 09")) throw new Error(`cat /srv/www/index.html: ${page.stdout}${page.stderr}`);
    return "node2/Running; index.html served";
  }, { points: 1, within: 10_000, every: 1000 });
  await check("the kubelet bound /root/site/public, not the whole site: no secret.txt", async () => {
    const mount = parseMountinfo((await kubectlExec(node1, "web", "cat /proc/self/mountinfo")).stdout).get("/srv/www");
    const visible = await kubectlExec(node1, "web", "ls /srv/www /srv");
    if (!mount?.root.endsWith("/root/site/public") || visible.stdout.includes("secret.txt")) throw new Error(`mount root ${mount?.root ?? "(no mount at /srv/www)"}; ls: ${visible.stdout}${visible.stderr}`);
    return `mounted from ${mount.root}`;
  }, { points: 1 });
  await check("the Pod's mount is read-only", async () => {
    const write = await kubectlExec(node1, "web", "touch /srv/www/defaced");
    if (write.ok || !write.stderr.includes("Read-only")) throw new Error(`touch /srv/www/defaced: ${write.ok ? "it worked" : write.stderr}`);
    return write.stderr.trim();
  }, { points: 1 });
});

// %% [markdown]
// ## Next
//
// Lab 10 puts a real distributed filesystem, GlusterFS, behind a volume: replicated across the three nodes, so the
// data survives a dead node, and provisioned by a StorageClass on Kubernetes.
