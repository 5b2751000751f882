// Lab 08's break-fix faults. The lab's setup injects one, chosen by the run's seed, without
// saying which; the student finds it with the checklist and the tools, and repairs it. The
// checklist and the Services' rules are here too: the lab's steps and its hidden checks (which,
// when grading, run in a fresh process) use the same ones.
// Anyone can read this file, so it hides nothing from a determined student: the point is that
// the notebook does not tell, and that two students with different seeds get different faults.
import { inContainer, labSeed, pickBySeed, type Cluster, type Node, scaledSeconds } from "labbook";

/** One command on one node, e.g. ["node2", "iptables -P FORWARD DROP"]. */
export type NodeCommand = readonly [node: string, command: string];

export interface Fault {
  id: string;
  /** What is wrong, in one line: for the instructor, never shown before the repair. */
  title: string;
  /** The checklist items it breaks (1 same-host ... 6 egress), for tests and the instructor. */
  breaks: readonly number[];
  inject: readonly NodeCommand[];
  /** Commands whose output shows the fault, as the instructor's solution demonstrates. */
  evidence: readonly NodeCommand[];
  repair: readonly NodeCommand[];
}

/** Lab 08's Services, written by hand kube-proxy style: the rules of KUBE-SERVICES (nat) on node1 and node2.
 * The kubernetes Service leads to the cluster's real kube-apiserver, which listens on node1:6443. */
export const TROUBLESHOOTING_SERVICE_RULES: readonly string[] = [
  "-d 10.96.0.1/32 -p tcp --dport 443 -m comment --comment default/kubernetes:https -j DNAT --to-destination 192.168.0.11:6443",
  "-d 10.96.0.10/32 -p udp --dport 53 -m comment --comment kube-system/kube-dns:dns -j DNAT --to-destination 10.244.2.3:53",
  "-d 10.96.0.100/32 -p tcp --dport 80 -m comment --comment default/web:http -j DNAT --to-destination 10.244.2.2:8080",
];

/** A node's pod CIDR as the controller-manager allocated it (in registration order: not always 10.244.N.0/24). */
const POD_CIDR = (node: string) => `$(kubectl get node ${node} -o jsonpath={.spec.podCIDR})`;
const WEB_SELECTOR = (app: string) => `kubectl patch service web -p '{"spec":{"selector":{"app":"${app}"}}}'`;

/**
 * The break-fix faults, on the real Kubernetes cluster of the lab's second part: pod "client" on node1
 * (where the checklist runs), "near" on node1, "far" and the Deployment "web" on node2 behind the Service
 * web 10.96.0.100, CoreDNS (2 pods) on node3, flanneld (vxlan) and kube-proxy (iptables) on every node.
 */
export const TROUBLESHOOTING_FAULTS: readonly Fault[] = [
  {
    id: "forward-drop-pod-traffic",
    title: "node2's FORWARD chain has a DROP rule for pod traffic (-s 10.244.0.0/16) before kube-proxy's and flannel's ACCEPTs",
    breaks: [2, 4],
    inject: [["node2", "iptables -I FORWARD -s 10.244.0.0/16 -j DROP"]],
    evidence: [["node2", "iptables -L FORWARD -v -n --line-numbers"]],
    repair: [["node2", "iptables -D FORWARD -s 10.244.0.0/16 -j DROP"]],
  },
  {
    id: "flannel-route-removed",
    title: "node2 lost flannel's route to node1's pod subnet (via flannel.1): replies to node1's pods go to the LAN gateway, which drops them",
    breaks: [2, 4],
    inject: [["node2", `ip route del ${POD_CIDR("node1")} dev flannel.1`]],
    evidence: [
      ["node2", "ip route"],
      ["node2", `ip route get $(kubectl get pod client -o jsonpath={.status.podIP})`],
    ],
    repair: [["node2", `CIDR=${POD_CIDR("node1")}; ip route add $CIDR via \${CIDR%/*} dev flannel.1 onlink`]],
  },
  {
    id: "apiserver-firewall",
    title: "node1's INPUT chain rejects port 6443 from anything outside the LAN, so pods cannot reach the apiserver",
    breaks: [5],
    inject: [["node1", "iptables -I INPUT -p tcp --dport 6443 ! -s 192.168.0.0/24 -j REJECT"]],
    evidence: [["node1", "iptables -L INPUT -v -n"]],
    repair: [["node1", "iptables -D INPUT -p tcp --dport 6443 ! -s 192.168.0.0/24 -j REJECT"]],
  },
  {
    id: "bridge-icc-drop",
    title: "node1's FORWARD chain drops traffic from cni0 to cni0 (Docker's --icc=false): pods on node1 cannot talk to each other",
    breaks: [1],
    inject: [["node1", "iptables -I FORWARD -i cni0 -o cni0 -j DROP"]],
    evidence: [["node1", "iptables -L FORWARD -v -n"]],
    repair: [["node1", "iptables -D FORWARD -i cni0 -o cni0 -j DROP"]],
  },
  {
    id: "default-route-removed",
    title: "node1 lost its default route: pods (and node1) reach nothing beyond the LAN and the pod network",
    breaks: [6],
    inject: [["node1", "ip route del default via 192.168.0.1"]],
    evidence: [
      ["node1", "ip route"],
      ["node1", "ip route get 203.0.113.10"],
    ],
    repair: [["node1", "ip route add default via 192.168.0.1"]],
  },
  {
    id: "kube-proxy-stopped",
    title: "kube-proxy is stopped on node1, and the web pod was replaced since: node1's chains still send 10.96.0.100 to the old pod's address",
    breaks: [4],
    inject: [["node1", `labbook-kubernetes stop kube-proxy > /dev/null && kubectl rollout restart deployment web > /dev/null && kubectl rollout status deployment web --timeout=${scaledSeconds(60)} > /dev/null`]],
    evidence: [
      ["node1", "pgrep -x kube-proxy || echo 'no kube-proxy process on node1'"],
      ["node1", "kubectl get endpointslices -l kubernetes.io/service-name=web"],
      ["node1", "iptables -t nat -S | grep 'default/web:http' | grep DNAT"],
    ],
    repair: [["node1", "labbook-kubernetes kube-proxy && sleep 2"]],
  },
  {
    id: "coredns-scaled-to-zero",
    title: "the coredns Deployment was scaled to 0: the kube-dns Service has no endpoints, so kube-proxy rejects DNS queries",
    breaks: [3],
    inject: [["node1", `kubectl -n kube-system scale deployment coredns --replicas=0 > /dev/null && kubectl -n kube-system wait --for=delete pod -l k8s-app=kube-dns --timeout=${scaledSeconds(60)} > /dev/null && sleep 1`]],
    evidence: [
      ["node1", "kubectl -n kube-system get deployment coredns"],
      ["node1", "kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns"],
    ],
    repair: [["node1", `kubectl -n kube-system scale deployment coredns --replicas=2 && kubectl -n kube-system rollout status deployment coredns --timeout=${scaledSeconds(60)} && sleep 2`]],
  },
  {
    id: "service-selector-mismatch",
    title: "the web Service's selector is app=wbe, which matches no pod: no endpoints, so kube-proxy rejects 10.96.0.100:80",
    breaks: [4],
    inject: [["node1", `${WEB_SELECTOR("wbe")} > /dev/null && sleep 2`]],
    evidence: [
      ["node1", "kubectl get service web -o wide"],
      ["node1", "kubectl get endpointslices -l kubernetes.io/service-name=web"],
      ["node1", "kubectl get pods -l app=web --show-labels"],
    ],
    repair: [["node1", `${WEB_SELECTOR("web")} && sleep 2`]],
  },
];

/** The salt that makes lab 08's choice independent of other labs' seeded choices. */
export const FAULT_SALT = "08-troubleshooting";

/** The step that needs the stand-in internet: on a cluster without one (a plain `vagrant up`) it is left out. */
const EGRESS_STEP = 6;

/**
 * The fault a seed selects (the run's seed by default). On a cluster without the stand-in internet, among the
 * faults that break something other than egress only: a broken egress could not be seen there.
 */
export function faultForSeed(seed: string = labSeed(), cluster?: Cluster): Fault {
  const visible = cluster && !cluster.has("internet") ? TROUBLESHOOTING_FAULTS.filter((f) => f.breaks.some((step) => step !== EGRESS_STEP)) : TROUBLESHOOTING_FAULTS;
  return pickBySeed(visible, FAULT_SALT, seed);
}

/** The checklist's steps this cluster can run: all six, or five where there is no stand-in internet (said once). */
function runnable(cluster: Cluster, items: ChecklistItem[]): ChecklistItem[] {
  if (cluster.has("internet")) return items;
  console.log(`(step ${EGRESS_STEP} is left out: ${cluster.lacks("internet")})`);
  return items.filter((item) => item.step !== EGRESS_STEP);
}

async function runAll(cluster: Cluster, commands: readonly NodeCommand[], print: boolean): Promise<void> {
  for (const [node, command] of commands) {
    if (print) console.log(`${node}# ${command}`);
    const result = await cluster.node(node).run(command, { nothrow: print });
    if (print && result.stdout.trim()) console.log(result.stdout.trimEnd());
    if (print && result.stderr.trim()) console.log(result.stderr.trimEnd());
  }
}

/** Injects the seed's fault and prints nothing about it. */
export async function injectFault(cluster: Cluster, seed: string = labSeed()): Promise<void> {
  await runAll(cluster, faultForSeed(seed, cluster).inject, false);
}

/** For the instructor: names the fault, runs the commands that show it, then repairs it, printing each command. */
export async function explainAndRepairFault(cluster: Cluster, fault: Fault = faultForSeed(labSeed(), cluster)): Promise<void> {
  console.log(`The injected fault: ${fault.title}\n\nWhat shows it:`);
  await runAll(cluster, fault.evidence, true);
  console.log("\nThe repair:");
  await runAll(cluster, fault.repair, true);
}

export interface ChecklistItem {
  step: number;
  name: string;
  /** What the probe runs in pod c1 on node1. */
  command: string;
  /** Returns the last line the command printed, or throws with the command and all it printed. */
  probe: () => Promise<string>;
}

/** Runs `command` in pod `pod` on `node`; passes (returns the last line printed) when it exits 0 and `ok(stdout)` holds, throws with the evidence otherwise. */
export async function probeInPod(node: Node, pod: string, command: string, ok: (stdout: string) => boolean = () => true): Promise<string> {
  const result = await inContainer(node, pod, command);
  const output = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join("\n");
  if (!result.ok || !ok(result.stdout.trim())) throw new Error(`${pod}# ${command}\n${output || "(no output)"}\n(exit code ${result.exitCode})`);
  return output.split("\n").pop() ?? "";
}

/** The lesson's six-step checklist on the by-hand cluster, each step a probe from pod c1 on node1. */
export function troubleshootingChecklist(cluster: Cluster): ChecklistItem[] {
  const node1 = cluster.node("node1");
  const item = (step: number, name: string, command: string, ok?: (stdout: string) => boolean): ChecklistItem => ({ step, name, command, probe: () => probeInPod(node1, "c1", command, ok) });
  return runnable(cluster, [
    item(1, "same-host pod: c1 -> c2 (10.244.1.3)", "ping -c1 -W1 10.244.1.3"),
    item(2, "cross-host pod: c1 -> c3 on node2 (10.244.2.2)", "ping -c1 -W1 10.244.2.2"),
    item(3, "DNS: web.default.svc.cluster.local from kube-dns 10.96.0.10", "dig +short +time=1 +tries=1 @10.96.0.10 web.default.svc.cluster.local", (out) => out === "10.96.0.100"),
    item(4, "ClusterIP: http://10.96.0.100/ (Service default/web)", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://10.96.0.100/", (out) => out === "HTTP 200"),
    item(5, "apiserver: https://10.96.0.1/version (Service default/kubernetes)", "curl -sSk -m 2 https://10.96.0.1/version", (out) => out.includes("gitVersion")),
    item(6, "egress: http://203.0.113.10/ on the internet", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://203.0.113.10/", (out) => out === "HTTP 200"),
  ]);
}

/** Runs every probe at once and prints a line per step: ✓ with the last line seen, or ✗ with the evidence. */
export async function runChecklist(items: readonly ChecklistItem[]): Promise<void> {
  const outcomes = await Promise.all(items.map(async (item) => {
    try {
      return { item, ok: true, seen: await item.probe() };
    } catch (error) {
      return { item, ok: false, seen: (error as Error).message };
    }
  }));
  for (const { item, ok, seen } of outcomes) console.log(`${ok ? "✓" : "✗"} ${item.step}. ${item.name}\n    ${seen.replace(/\n/g, "\n    ")}`);
}

/** The pods the real part's checklist uses: the client's network namespace on node1 (containerd's cni-...), and the addresses it pings. */
export interface KubernetesTargets {
  clientNetns: string;
  near: string;
  far: string;
}

/** A pod's IP, as the apiserver has it. */
export async function podIP(node: Node, pod: string, namespace = "default"): Promise<string> {
  return (await node.$`kubectl -n ${namespace} get pod ${pod} -o jsonpath={.status.podIP}`).stdout.trim();
}

/** The network namespace on `node` that holds `ip`: for a real pod, the one containerd made (cni-...). */
export async function netnsWithAddress(node: Node, ip: string): Promise<string> {
  const found = await node.run(`for n in $(ip netns list | cut -d' ' -f1); do ip -n $n -4 -o addr show | grep -q " ${ip}/" && echo $n; done; true`);
  const netns = found.stdout.trim().split("\n")[0] ?? "";
  if (!netns) throw new Error(`no network namespace on ${node.name} holds ${ip}`);
  return netns;
}

export async function kubernetesTargets(cluster: Cluster): Promise<KubernetesTargets> {
  const node1 = cluster.node("node1");
  return { clientNetns: await netnsWithAddress(node1, await podIP(node1, "client")), near: await podIP(node1, "near"), far: await podIP(node1, "far") };
}

/** The same six steps on the real cluster, from pod "client" on node1 (run in its network namespace, with the node's tools). */
export function kubernetesChecklist(cluster: Cluster, targets: KubernetesTargets): ChecklistItem[] {
  const node1 = cluster.node("node1");
  const item = (step: number, name: string, command: string, ok?: (stdout: string) => boolean): ChecklistItem => ({ step, name, command, probe: () => probeInPod(node1, targets.clientNetns, command, ok) });
  return runnable(cluster, [
    item(1, `same-host pod: client -> near on node1 (${targets.near})`, `ping -c1 -W1 ${targets.near}`),
    item(2, `cross-host pod: client -> far on node2 (${targets.far})`, `ping -c1 -W1 ${targets.far}`),
    item(3, "DNS: web.default.svc.cluster.local from CoreDNS behind kube-dns 10.96.0.10", "dig +short +time=1 +tries=1 @10.96.0.10 web.default.svc.cluster.local", (out) => out === "10.96.0.100"),
    item(4, "ClusterIP: http://10.96.0.100/ (Service default/web, through kube-proxy)", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://10.96.0.100/", (out) => out === "HTTP 200"),
    item(5, "apiserver: https://10.96.0.1/version (Service default/kubernetes)", "curl -sSk -m 2 https://10.96.0.1/version", (out) => out.includes("gitVersion")),
    item(6, "egress: http://203.0.113.10/ on the internet", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://203.0.113.10/", (out) => out === "HTTP 200"),
  ]);
}

/** Where kube-proxy's chains on `node` send a Service port: the DNAT targets of the KUBE-SEP chains its KUBE-SVC chain jumps to ("ns/name:port"). */
export async function kubeProxyTargets(node: Node, servicePort: string): Promise<string[]> {
  const rules = (await node.$`iptables-save -t nat`).lines().filter((l) => l.startsWith("-A "));
  const entry = rules.find((l) => l.startsWith("-A KUBE-SERVICES ") && l.includes(`--comment "${servicePort} cluster IP"`));
  const svc = entry && /-j (KUBE-SVC-\S+)/.exec(entry)?.[1];
  if (!svc) return [];
  const seps = rules.filter((l) => l.startsWith(`-A ${svc} `)).map((l) => /-j (KUBE-SEP-\S+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  return seps.map((sep) => rules.find((l) => l.startsWith(`-A ${sep} `) && l.includes("-j DNAT"))).map((l) => /--to-destination (\S+)/.exec(l ?? "")?.[1] ?? "?").sort();
}

/** The ready endpoints the apiserver lists for a Service port, as "ip:port", sorted. */
export async function serviceEndpoints(node: Node, namespace: string, service: string, portName: string): Promise<string[]> {
  const json = JSON.parse((await node.$`kubectl -n ${namespace} get endpointslices -l kubernetes.io/service-name=${service} -o json`).stdout) as {
    items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] | null; ports?: { name?: string; port?: number }[] | null }[];
  };
  const out: string[] = [];
  for (const slice of json.items) {
    const port = slice.ports?.find((p) => (p.name ?? "") === portName)?.port;
    if (port === undefined) continue;
    for (const e of slice.endpoints ?? []) if (e.conditions?.ready !== false) out.push(`${e.addresses[0]}:${port}`);
  }
  return out.sort();
}
