// Starts Kubernetes on a cluster's nodes, in the order `kubeadm init` and `kubeadm join` would, but with
// each part as a process of its node rather than a static pod: credentials, then containerd and the
// images on every node while etcd and the control plane start on node1, then kubelet, kube-proxy and
// flanneld everywhere. Ready means every node Ready and CoreDNS answering, as the issue defines it.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";
import { tarArchive, type TarEntry } from "../host/tar.ts";
import type { DeferrableComponent, TopologyNode } from "../topology/types.ts";
import { addonManifests } from "./addons.ts";
import type { KubernetesBuild } from "./build.ts";
import { APISERVER_SERVICE_IP, CLUSTER_DOMAIN, DNS_SERVICE_IP, POD_CIDR, SERVICE_CIDR, type KubernetesLayout } from "./layout.ts";
import { nodeFiles } from "./node-files.ts";
import { makeCredentials } from "./pki.ts";

export const NODE_SCRIPT = fileURLToPath(new URL("./node-kubernetes.sh", import.meta.url));

/** How a backend runs a script in one of its nodes, as root there: its text, arguments, environment, stdin. */
export interface NodeRunner {
  run(node: string, script: string, args: string[], env: Record<string, string>, input?: Buffer): Promise<string>;
  /** The tail of a log file of the node's /var/log, for errors; undefined if there is none. */
  logTail(node: string, file: string, lines: number): string | undefined;
}

export interface KubernetesStartOptions {
  layout: KubernetesLayout;
  build: KubernetesBuild;
  /** A private folder of the cluster's state for its credentials. */
  credentialsDir: string;
  nodes: NodeRunner;
  onProgress?: (message: string) => void;
  /** KubeletConfiguration fields over labbook's (the topology's kubernetes.kubelet). */
  kubelet?: Record<string, unknown>;
  /** How long nodes may take to be Ready and DNS to answer. */
  readyTimeoutMs?: number;
  /** Parts the lab starts itself (`labbook-kubernetes PART` in a node): then pods or Services wait for it, and so does nothing here. */
  defer?: readonly DeferrableComponent[];
}

/** Milliseconds each phase took: the benchmark's breakdown. */
export type StartPhases = Record<string, number>;

export async function startKubernetes(options: KubernetesStartOptions): Promise<StartPhases> {
  const { layout, build, nodes, onProgress = () => {} } = options;
  const phases: StartPhases = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      phases[phase] = Math.round(performance.now() - started);
    }
  };
  const script = readFileSync(NODE_SCRIPT, "utf8");
  const envOf = (node: TopologyNode) => ({
    NODE_NAME: node.name,
    NODE_IP: node.ip,
    CLUSTER_NAME: layout.name,
    KUBE_BIN: dirname(build.bin.kube),
    CONTAINERD_TEMPLATE: build.containerdRoot,
    POD_CIDR,
    SERVICE_CIDR,
  });
  const defer = new Set(options.defer ?? []);
  const phase = (node: TopologyNode, name: string, input?: Buffer) => nodes.run(node.name, script, [name], envOf(node), input);

  onProgress("making the cluster's certificates (kubeadm init phase certs, kubeconfig)");
  const credentials = await timed("certificates", () => makeCredentials(build.bin.kube, layout, options.credentialsDir));
  const addons = addonManifests(
    build.images.map((i) => i.ref),
    build.images.find((i) => i.ref.includes("coredns"))?.ref ?? "labbook/coredns:1",
  );
  const archiveFor = (node: TopologyNode) => {
    const files = [...nodeFiles(layout, node, credentials, options.kubelet), ...nodeCommand(script, envOf(node))];
    if (node.name === layout.controlPlane.name) files.push({ path: "etc/kubernetes/addons.yaml", type: "file", mode: 0o644, content: addons });
    return tarArchive(files);
  };

  onProgress(`starting containerd on ${layout.nodes.length} nodes and the control plane on ${layout.controlPlane.name}`);
  const controlPlane = layout.controlPlane;
  await timed("node files", () => Promise.all(layout.nodes.map((node) => phase(node, "prepare", archiveFor(node)))));
  // The control plane needs no container runtime: it starts while every node copies in its images.
  await Promise.all([
    ...layout.nodes.map((node) => timed(`containerd and images (${node.name})`, () => phase(node, "runtime"))),
    timed("etcd and control plane", () => phase(controlPlane, "control-plane")),
  ]);

  onProgress(defer.has("kube-proxy") ? "starting kubelet on every node (the lab starts kube-proxy)" : "starting kubelet and kube-proxy on every node");
  await timed("kubelet and kube-proxy started", () => Promise.all(layout.nodes.map(async (node) => {
    await phase(node, "kubelet");
    if (!defer.has("kube-proxy")) await phase(node, "kube-proxy");
  })));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  if (defer.has("flanneld")) {
    // Pods wait, the nodes keep their taint, until the lab starts flanneld: only the nodes' Ready is waited for.
    onProgress("waiting for every node to be Ready (the lab starts flanneld)");
    await timed("nodes Ready", () => nodesReady(layout, nodes, deadline));
  } else {
    onProgress("starting flanneld on each node once it has its pod CIDR, then waiting for every node to be Ready");
    await timed("nodes Ready", () => nodesReady(layout, nodes, deadline, (node) => timed(`flanneld (${node.name})`, () => phase(node, "flanneld"))));
  }
  // CoreDNS answers at its Service address only with pods running (flanneld) and kube-proxy's rules.
  if (defer.size > 0) return phases;
  onProgress("waiting for CoreDNS to answer");
  await timed("CoreDNS answers", () => dnsAnswers(layout, nodes, deadline));
  return phases;
}

/** kubectl as the cluster's admin, on the control-plane node. */
function kubectl(layout: KubernetesLayout, nodes: NodeRunner, command: string): Promise<string> {
  return nodes.run(layout.controlPlane.name, `export KUBECONFIG=/etc/kubernetes/admin.conf; ${command}`, [], {});
}

/**
 * Starts flanneld on each node as soon as the controller manager has given it a pod CIDR (`startFlannel`),
 * and returns once every node is Ready with its flanneld running; names what failed otherwise.
 */
async function nodesReady(layout: KubernetesLayout, nodes: NodeRunner, deadline: number, startFlannel?: (node: TopologyNode) => Promise<unknown>): Promise<void> {
  const flannelDone = new Set<string>();
  const flannelStarted = new Set<string>();
  let flannelFailed: unknown;
  for (;;) {
    const lines = (await kubectl(layout, nodes, `kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.spec.podCIDR}{"\\n"}{end}'`)).trim().split("\n");
    const listed = new Map(lines.map((l) => l.split(" ")).map(([name, ready, cidr]) => [name!, { ready: ready === "True", cidr }]));
    for (const node of layout.nodes) {
      if (!startFlannel) flannelDone.add(node.name);
      if (!startFlannel || !listed.get(node.name)?.cidr || flannelStarted.has(node.name)) continue;
      flannelStarted.add(node.name);
      startFlannel(node).then(() => flannelDone.add(node.name), (error: unknown) => (flannelFailed ??= error));
    }
    if (flannelFailed) throw flannelFailed;
    const waiting = layout.nodes.filter((n) => !listed.get(n.name)?.ready || !flannelDone.has(n.name));
    if (waiting.length === 0) return;
    // A kubelet that exited will not come back: say so now, not at the deadline.
    const dead = waiting.filter((n) => /\] "command failed"/.test(nodes.logTail(n.name, "kubernetes/kubelet.log", 3) ?? ""));
    if (dead.length > 0) throw notReady(dead, nodes, lines);
    if (Date.now() > deadline) {
      const notRegistered = waiting.filter((n) => !listed.get(n.name)?.ready);
      if (notRegistered.length > 0) throw notReady(notRegistered, nodes, lines);
      throw noFlannel(waiting, nodes, (name) => listed.get(name)?.cidr);
    }
    await sleep(200);
  }
}

/** Returns once CoreDNS answers for the kubernetes Service from the control-plane node. */
async function dnsAnswers(layout: KubernetesLayout, nodes: NodeRunner, deadline: number): Promise<void> {
  const query = `dig +short +time=1 +tries=1 @${DNS_SERVICE_IP} kubernetes.default.svc.${CLUSTER_DOMAIN} || true`;
  for (;;) {
    if ((await nodes.run(layout.controlPlane.name, query, [], {})).trim() === APISERVER_SERVICE_IP) return;
    if (Date.now() > deadline) {
      const pods = await kubectl(layout, nodes, "kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide 2>&1 || true");
      throw new LabbookError(`CoreDNS did not answer at ${DNS_SERVICE_IP} in time:\n${pods.trim()}`);
    }
    await sleep(200);
  }
}

function noFlannel(waiting: TopologyNode[], nodes: NodeRunner, cidrOf: (node: string) => string | undefined): LabbookError {
  const parts = waiting.map((n) => {
    const why = cidrOf(n.name) ? "" : " (the node has no pod CIDR: is kube-controller-manager running?)";
    return `node ${n.name} is Ready, but flanneld never leased its pod subnet${why}; the end of its flanneld log:\n${nodes.logTail(n.name, "kubernetes/flanneld.log", 12) ?? "(no log)"}`;
  });
  return new LabbookError(parts.join("\n"));
}

function notReady(waiting: TopologyNode[], nodes: NodeRunner, lines: string[]): LabbookError {
  const parts = waiting.map((node) => {
    const tail = nodes.logTail(node.name, "kubernetes/kubelet.log", 12);
    const listed = lines.find((l) => l.startsWith(`${node.name} `));
    return `node ${node.name} never went Ready (${listed ? `Ready=${listed.split(" ")[1] || "unknown"}` : "it never registered"}); the end of its kubelet log (/var/log/kubernetes/kubelet.log):\n${tail ?? "(no log)"}`;
  });
  return new LabbookError(parts.join("\n"));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `labbook-kubernetes PART` in each node: this script with the node's settings, for a lab that starts a
 * deferred part itself (`labbook-kubernetes flanneld`, `labbook-kubernetes kube-proxy`), as root of the node.
 */
function nodeCommand(script: string, env: Record<string, string>): TarEntry[] {
  const settings = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`).join("\n");
  return [
    { path: "etc/kubernetes/labbook-node.env", type: "file", mode: 0o644, content: Buffer.from(`${settings}\n`) },
    { path: "etc/kubernetes/labbook-kubernetes", type: "file", mode: 0o755, content: Buffer.from(script.replace(/^#!\/bin\/sh\n/, "#!/bin/sh\nset -a; . /etc/kubernetes/labbook-node.env; set +a\n" + OWNER_FROM_INIT)) },
  ];
}

/** A command a lab runs over SSH has no LABBOOK_OWNER; the node's first process has it (host/procfs.ts's marker). */
const OWNER_FROM_INIT = `LABBOOK_OWNER=\${LABBOOK_OWNER:-$(tr '\\0' '\\n' </proc/1/environ 2>/dev/null | sed -n 's/^LABBOOK_OWNER=//p')}\n`;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}
