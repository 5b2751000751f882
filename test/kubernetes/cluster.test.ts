// Real Kubernetes in the embedded cluster: one cluster (labbook up --kubernetes) for the suite, checked as
// a user would check it, with kubectl in the nodes and the probe image's answers.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { processesMarked } from "../../runner/host/procfs.ts";
import { cgroupsOf } from "../../runner/host/cgroups.ts";
import { clusterDir, markerFor, stateRoot } from "../../runner/host/state.ts";
import { Cluster } from "../../runner/cluster/cluster.ts";
import type { Node } from "../../runner/cluster/node.ts";
import { NODE_SCRIPT } from "../../runner/kubernetes/start.ts";
import { KUBERNETES_VERSION, checkKubernetesVersion } from "../../runner/kubernetes/versions.ts";
import { portProtoHash } from "../../labs/07-service-clusterip-nodeport/kube-proxy.ts";
import { loadTopology } from "../../runner/topology/load.ts";
import { finished, labbook, startLabbook, until } from "../helpers/cli.ts";
import { suiteCluster, uniqueClusterName, upTestCluster } from "../helpers/cluster.ts";

const backend = new NetnsBackend();

async function apply(node: Node, manifest: string): Promise<void> {
  await node.run("kubectl apply -f -", { input: manifest });
}

/** `kubectl exec` in pod `pod`: its stdout. */
async function inPod(node: Node, pod: string, command: string): Promise<string> {
  return String(await node.run(`kubectl exec ${pod} -- sh -c ${JSON.stringify(command)}`));
}

/** The probe's text answer as key/value pairs. */
function probeAnswer(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
}

const PROBES = `apiVersion: apps/v1
kind: Deployment
metadata: {name: probe}
spec:
  replicas: 3
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: probe}}}
      containers:
      - name: probe
        image: labbook/probe:1
        env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        ports: [{containerPort: 80}]
        # A generous timeout: on a loaded CI machine a 1 s probe can fail three times in a row, and a pod that is
        # not Ready has no KUBE-SEP chain.
        readinessProbe: {httpGet: {path: /healthz, port: 80}, periodSeconds: 1, timeoutSeconds: 5}
---
apiVersion: v1
kind: Service
metadata: {name: probe}
spec:
  selector: {app: probe}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: probe-np}
spec:
  type: NodePort
  selector: {app: probe}
  ports: [{name: http, port: 80, targetPort: 80, nodePort: 30080}]
`;

interface PodInfo {
  name: string;
  ip: string;
  node: string;
}

describe("Kubernetes in the embedded cluster", function () {
  this.timeout(180_000);
  const cluster = suiteCluster({ backend, kubernetes: true });
  let node1: Node;
  let probes: PodInfo[] = [];

  before(async () => {
    node1 = cluster().node("node1");
    await apply(node1, PROBES);
    await node1.$`kubectl rollout status deployment/probe --timeout=120s`;
    const lines = String(await node1.$`kubectl get pods -l app=probe -o jsonpath=${"{range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{\"\\n\"}{end}"}`);
    probes = lines.trim().split("\n").map((line) => {
      const [name, ip, node] = line.split(" ");
      return { name: name!, ip: ip!, node: node! };
    });
  });

  it("has three Ready nodes at the pinned version, with kubectl and an admin kubeconfig on every node", async () => {
    const nodes = JSON.parse(String(await node1.$`kubectl get nodes -o json`)) as { items: Array<{ metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string }; conditions: Array<{ type: string; status: string }> } }> };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), ["node1", "node2", "node3"]);
    for (const node of nodes.items) {
      assert.equal(node.status.nodeInfo.kubeletVersion, KUBERNETES_VERSION);
      assert.equal(node.status.conditions.find((c) => c.type === "Ready")?.status, "True", `${node.metadata.name} is not Ready`);
    }
    for (const node of cluster().nodes) {
      assert.match(String(await node.$`kubectl version -o json`), new RegExp(`"gitVersion": "${KUBERNETES_VERSION.replace(/\./g, "\\.")}"`));
    }
    assert.ok(cluster().has("kubernetes"));
  });

  it("spreads a Deployment of labbook/probe:1 over the three nodes", () => {
    assert.equal(probes.length, 3);
    assert.deepEqual(probes.map((p) => p.node).sort(), ["node1", "node2", "node3"]);
    assert.ok(probes.every((p) => p.ip.startsWith("10.244.")), `pod IPs: ${probes.map((p) => p.ip).join(", ")}`);
  });

  it("reaches pods on other nodes without NAT: the probe sees the client pod's own IP", async () => {
    const [a, b] = probes;
    const answer = probeAnswer(await inPod(node1, a!.name, `wget -qO- http://${b!.ip}/`));
    assert.equal(answer.pod, b!.name);
    assert.equal(answer.pod_ip, b!.ip);
    assert.equal(answer.client_ip, a!.ip, `the probe on ${b!.node} saw ${answer.client_ip}, not ${a!.name}'s ${a!.ip}`);
    assert.notEqual(a!.node, b!.node);
  });

  it("answers a ClusterIP Service and a NodePort Service from pods and from nodes", async () => {
    const clusterIp = String(await node1.$`kubectl get service probe -o jsonpath={.spec.clusterIP}`);
    assert.match(clusterIp, /^10\.(9[6-9]|1[01]\d)\./);
    const fromPod = probeAnswer(await inPod(node1, probes[0]!.name, `wget -qO- http://${clusterIp}/`));
    assert.ok(probes.some((p) => p.name === fromPod.pod), `unknown pod ${fromPod.pod}`);
    for (const node of cluster().nodes) {
      const viaClusterIp = probeAnswer(String(await node.$`curl -s -m 5 http://${clusterIp}/`));
      assert.ok(probes.some((p) => p.name === viaClusterIp.pod));
      for (const target of cluster().nodes) {
        const viaNodePort = probeAnswer(String(await node.$`curl -s -m 5 http://${target.ip}:30080/`));
        assert.ok(probes.some((p) => p.name === viaNodePort.pod), `${node.name} -> ${target.name}:30080 answered ${JSON.stringify(viaNodePort)}`);
      }
    }
    const fromPodNodePort = probeAnswer(await inPod(node1, probes[1]!.name, `wget -qO- http://192.168.0.13:30080/`));
    assert.ok(probes.some((p) => p.name === fromPodNodePort.pod));
  });

  it("has kube-proxy's KUBE-SERVICES, KUBE-SVC-* and KUBE-SEP-* chains on every node, named by the lesson's hash", async () => {
    const svc = `KUBE-SVC-${portProtoHash("default/probe:http", "tcp")}`;
    const seps = probes.map((p) => `KUBE-SEP-${portProtoHash("default/probe:http", "tcp", `${p.ip}:80`)}`);
    for (const node of cluster().nodes) {
      // kube-proxy on each node syncs on its own schedule; give it time to catch up with the endpoints.
      let rules = "";
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
        rules = String(await node.$`iptables-save -t nat`);
        if (seps.every((sep) => rules.includes(`:${sep} `))) break;
      }
      assert.match(rules, /^:KUBE-SERVICES /m, `${node.name} has no KUBE-SERVICES`);
      assert.ok(rules.includes(`:${svc} `), `${node.name} has no ${svc}`);
      assert.match(rules, new RegExp(`-A KUBE-SERVICES .*default/probe:http cluster IP.* -j ${svc}`));
      const missing = seps.filter((sep) => !rules.includes(`:${sep} `));
      if (missing.length > 0) {
        const pods = String(await node1.$`kubectl get pods -l app=probe -o wide`);
        assert.fail(`${node.name} has no ${missing.join(", ")} after 60 s; the probe pods now:\n${pods}`);
      }
      assert.ok(rules.includes(`-A ${svc} `), `${node.name} has no rule in ${svc}`);
    }
  });

  it("resolves a Service's name through CoreDNS from a pod", async () => {
    const clusterIp = String(await node1.$`kubectl get service probe -o jsonpath={.spec.clusterIP}`);
    const lookup = await inPod(node1, probes[2]!.name, "nslookup probe.default.svc.cluster.local");
    assert.match(lookup, new RegExp(`Address:\\s+${clusterIp.replace(/\./g, "\\.")}`));
    assert.match(await inPod(node1, probes[2]!.name, "cat /etc/resolv.conf"), /nameserver 10\.96\.0\.10/);
  });

  it("reaches the apiserver at 10.96.0.1:443 from a pod", async () => {
    const version = await inPod(node1, probes[1]!.name, "/probe get -k https://10.96.0.1:443/version");
    assert.match(version, new RegExp(`"gitVersion": "${KUBERNETES_VERSION.replace(/\./g, "\\.")}"`));
  });

  it("binds a PVC to a hostPath PV, and a pod writes through it to its node's directory", async () => {
    await apply(node1, `apiVersion: v1
kind: PersistentVolume
metadata: {name: test-pv}
spec:
  storageClassName: manual
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /root/pv/test-pv}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: test-pvc}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: pvc-writer}
spec:
  containers:
  - {name: app, image: "labbook/busybox:1", command: [sh, -c, "echo through-the-claim > /data/hello && sleep 3600"], volumeMounts: [{name: data, mountPath: /data}]}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: test-pvc}}
`);
    await node1.$`kubectl wait --for=jsonpath={.status.phase}=Bound pvc/test-pvc --timeout=60s`;
    assert.equal(String(await node1.$`kubectl get pvc test-pvc -o jsonpath={.spec.volumeName}`), "test-pv");
    await node1.$`kubectl wait --for=condition=Ready pod/pvc-writer --timeout=90s`;
    const on = String(await node1.$`kubectl get pod pvc-writer -o jsonpath={.spec.nodeName}`);
    assert.equal(String(await cluster().node(on).$`cat /root/pv/test-pv/hello`), "through-the-claim");
  });

  it("mounts emptyDir, configMap, secret and downwardAPI volumes with the right contents", async () => {
    await apply(node1, `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: volumes, labels: {tier: lab}}
spec:
  containers:
  - name: app
    image: labbook/busybox:1
    command: [sh, -c, "echo scratch > /scratch/file && sleep 3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: settings, mountPath: /etc/settings}
    - {name: token, mountPath: /etc/token}
    - {name: info, mountPath: /etc/info}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: settings, configMap: {name: settings}}
  - {name: token, secret: {secretName: token}}
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
`);
    await node1.$`kubectl wait --for=condition=Ready pod/volumes --timeout=90s`;
    assert.equal(await inPod(node1, "volumes", "cat /scratch/file"), "scratch");
    assert.equal(await inPod(node1, "volumes", "cat /etc/settings/color"), "blue");
    assert.equal(await inPod(node1, "volumes", "cat /etc/token/password"), "s3cret");
    assert.equal(await inPod(node1, "volumes", "cat /etc/info/name"), "volumes");
    assert.match(await inPod(node1, "volumes", "cat /etc/info/labels"), /tier="lab"/);
    // The emptyDir is the kubelet's directory on the node, as lab 09 teaches.
    const [uid, on] = String(await node1.$`kubectl get pod volumes -o jsonpath=${"{.metadata.uid} {.spec.nodeName}"}`).split(" ");
    assert.equal(String(await cluster().node(on!).$`cat /var/lib/kubelet/pods/${uid!}/volumes/kubernetes.io~empty-dir/scratch/file`), "scratch");
  });

  it("refuses, at once and by name, a pod whose image no node has, listing the images that exist", async () => {
    const refused = await node1.$({ nothrow: true })`kubectl run missing --image nginx:1.27`;
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /image nginx:1\.27 is not on this cluster .*local images: labbook\/busybox:1, labbook\/probe:1/);
    const deployment = await node1.$({ nothrow: true })`kubectl create deployment web --image httpd:2`;
    assert.match(deployment.stderr, /image httpd:2 is not on this cluster/);
  });

  it("names a port another program of the node holds, instead of failing later", async () => {
    // Kubernetes' start, again, on a node whose etcd and apiserver already listen.
    const again = await node1.run(`NODE_NAME=node1 sh -s control-plane`, { input: readFileSync(NODE_SCRIPT, "utf8"), nothrow: true });
    assert.equal(again.exitCode, 1);
    assert.match(again.stderr, /node1: port 2379 is already in use there \(users:\(\("etcd"/);
  });

  it("runs two Kubernetes clusters at once with the same addresses and no cross-talk", async () => {
    const other = await upTestCluster({ backend, kubernetes: true });
    try {
      const otherNode1 = other.node("node1");
      assert.equal(otherNode1.ip, node1.ip);
      // Its own objects only: none of this cluster's services or pods.
      assert.equal((await otherNode1.$({ nothrow: true })`kubectl get service probe`).exitCode, 1);
      assert.equal(String(await otherNode1.$`kubectl get pods -A -l app=probe -o name`), "");
      // Its own certificate authority: this cluster's admin credentials are refused there.
      const ours = String(await node1.$`cat /etc/kubernetes/pki/ca.crt`);
      assert.notEqual(String(await otherNode1.$`cat /etc/kubernetes/pki/ca.crt`), ours);
      // The same pod address answers with each cluster's own pod.
      await otherNode1.$`kubectl run solo --image labbook/probe:1 --env POD_NAME=solo`;
      await otherNode1.$`kubectl wait --for=condition=Ready pod/solo --timeout=90s`;
      const soloIp = String(await otherNode1.$`kubectl get pod solo -o jsonpath={.status.podIP}`);
      const there = probeAnswer(String(await otherNode1.$`curl -s -m 5 http://${soloIp}/`));
      assert.equal(there.pod, "solo");
      const here = await node1.$({ nothrow: true })`curl -s -m 3 http://${soloIp}/`;
      assert.ok(!here.stdout.includes("pod: solo"), "this cluster reached the other cluster's pod");
    } finally {
      await other.down();
    }
  });
});

describe("Kubernetes start-up and take-down", function () {
  this.timeout(180_000);
  const marked = (name: string) => processesMarked((m) => m === markerFor(name));

  it("leaves nothing after kill -9 of `labbook up --kubernetes` halfway, once down --all has run", async () => {
    const name = uniqueClusterName("k");
    const child = startLabbook(["up", "--kubernetes", "--name", name]);
    const exit = finished(child);
    // Halfway: containerd and the control plane are starting in the nodes.
    await until(() => existsSync(join(clusterDir(name), "nodes", "node1", "log", "kubernetes", "kube-apiserver.log")), "the apiserver to start", 60_000);
    child.kill("SIGKILL");
    await exit;
    assert.ok(marked(name).length > 0, "the killed up left no process: the test did not kill it halfway");
    await labbook(["down", "--all"]);
    assert.deepEqual(marked(name), []);
    assert.equal(existsSync(clusterDir(name)), false);
    assert.deepEqual(cgroupsOf(stateRoot()).filter((c) => c.includes(`.${name}.`)), []);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(clusterDir(name)), "a mount of the killed cluster is still there");
    assert.ok(!mounts.includes("/var/lib/containerd/io.containerd"), "a container's mount reached the host");
  });

  it("refuses a Kubernetes version it does not build, naming the one it does, before any node starts", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-topology-"));
    try {
      const file = join(dir, "cluster.yaml");
      const text = readFileSync(loadTopology().source, "utf8") + "kubernetes:\n  version: v1.30.0\n";
      writeFileSync(file, text);
      assert.throws(() => checkKubernetesVersion(loadTopology(file)), new RegExp(`kubernetes\\.version.*labbook builds and runs Kubernetes ${KUBERNETES_VERSION.replace(/\./g, "\\.")} only, not v1\\.30\\.0`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says how to build Kubernetes when it is not built, before any node starts", async () => {
    const empty = mkdtempSync(join(tmpdir(), "labbook-cache-"));
    const cache = process.env.LABBOOK_CACHE_DIR;
    process.env.LABBOOK_CACHE_DIR = empty; // the CLI inherits it
    try {
      const name = uniqueClusterName("k");
      const result = await labbook(["up", "--kubernetes", "--name", name]);
      assert.notEqual(result.code, 0);
      assert.equal(existsSync(clusterDir(name)), false);
      assert.match(result.stderr, /Kubernetes v1\.35\.\d+ is not built on this machine yet: run "labbook kubernetes build"/);
    } finally {
      if (cache === undefined) delete process.env.LABBOOK_CACHE_DIR;
      else process.env.LABBOOK_CACHE_DIR = cache;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("names a node that never goes Ready, with the end of its kubelet log", async () => {
    // A real failure: kubelet refuses this machine's cgroup v1 when the topology's kubelet settings say so.
    const topology = loadTopology();
    const failing = { ...topology, kubernetes: { version: KUBERNETES_VERSION, kubelet: { failCgroupV1: true } } };
    await assert.rejects(
      Cluster.up({ backend, name: uniqueClusterName("k"), topology: failing }),
      /node node1 never went Ready .*the end of its kubelet log[\s\S]*cgroup v1/,
    );
  });
});
