// Lab 08's break-fix faults. The lab's setup injects one, chosen by the run's seed, without
// saying which; the student finds it with the checklist and the tools, and repairs it. The
// checklist and the Services' rules are here too: the lab's steps and its hidden checks (which,
// when grading, run in a fresh process) use the same ones.
// Anyone can read this file, so it hides nothing from a determined student: the point is that
// the notebook does not tell, and that two students with different seeds get different faults.
import { inContainer, labSeed, pickBySeed, type Cluster, type Node } from "labbook";

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

/** Lab 08's Services, kube-proxy style: the rules of KUBE-SERVICES (nat) on node1 and node2. */
export const TROUBLESHOOTING_SERVICE_RULES: readonly string[] = [
  "-d 10.96.0.1/32 -p tcp --dport 443 -m comment --comment default/kubernetes:https -j DNAT --to-destination 192.168.0.11:6443",
  "-d 10.96.0.10/32 -p udp --dport 53 -m comment --comment kube-system/kube-dns:dns -j DNAT --to-destination 10.244.2.3:53",
  "-d 10.96.0.100/32 -p tcp --dport 80 -m comment --comment default/web:http -j DNAT --to-destination 10.244.2.2:8080",
];

const WEB_DNAT = "-d 10.96.0.100/32 -p tcp --dport 80 -m comment --comment default/web:http -j DNAT --to-destination 10.244.2.2";
const MASQUERADE = (source: string) => `-s ${source} ! -d 10.244.0.0/16 -j MASQUERADE`;

/** Lab 08's topology: pods 10.244.1.0/24 on node1 and 10.244.2.0/24 on node2, Services on 10.96.0.0/12. */
export const TROUBLESHOOTING_FAULTS: readonly Fault[] = [
  {
    id: "forward-policy-drop",
    title: "node2's FORWARD policy is DROP: node2 no longer forwards packets to its pods",
    breaks: [2, 3, 4],
    inject: [["node2", "iptables -P FORWARD DROP"]],
    evidence: [["node2", "iptables -L FORWARD -v -n | head -n 3"]],
    repair: [["node2", "iptables -P FORWARD ACCEPT"]],
  },
  {
    id: "missing-return-route",
    title: "node2 lost its route to node1's pod subnet: replies to 10.244.1.0/24 go to the LAN gateway, which drops them",
    breaks: [2, 3, 4],
    inject: [["node2", "ip route del 10.244.1.0/24 via 192.168.0.11"]],
    evidence: [["node2", "ip route get 10.244.1.2"]],
    repair: [["node2", "ip route add 10.244.1.0/24 via 192.168.0.11"]],
  },
  {
    id: "wrong-masquerade-source",
    title: "node1's MASQUERADE rule matches 10.244.9.0/24 instead of its pod subnet: pods go out with their private address",
    breaks: [6],
    inject: [["node1", `iptables -t nat -D POSTROUTING ${MASQUERADE("10.244.1.0/24")} && iptables -t nat -I POSTROUTING ${MASQUERADE("10.244.9.0/24")}`]],
    evidence: [["node1", "iptables -t nat -S POSTROUTING"]],
    repair: [
      ["node1", `iptables -t nat -D POSTROUTING ${MASQUERADE("10.244.9.0/24")}`],
      ["node1", `iptables -t nat -A POSTROUTING ${MASQUERADE("10.244.1.0/24")}`],
    ],
  },
  {
    id: "poisoned-arp",
    title: "node1 has a permanent, wrong ARP entry for node2 (192.168.0.12 -> 02:00:00:00:00:01)",
    breaks: [2, 3, 4],
    inject: [["node1", "ip neigh replace 192.168.0.12 lladdr 02:00:00:00:00:01 nud permanent dev eth0"]],
    evidence: [
      ["node1", "ip neigh show 192.168.0.12"],
      ["node1", "arping -c1 -w1 -I eth0 192.168.0.12"],
    ],
    repair: [["node1", "ip neigh del 192.168.0.12 dev eth0"]],
  },
  {
    id: "wrong-dnat-port",
    title: "node1's DNAT for the web Service (10.96.0.100:80) sends to port 8081, where nothing listens, instead of 8080",
    breaks: [4],
    inject: [["node1", `iptables -t nat -D KUBE-SERVICES ${WEB_DNAT}:8080 && iptables -t nat -A KUBE-SERVICES ${WEB_DNAT}:8081`]],
    evidence: [["node1", "iptables -t nat -S KUBE-SERVICES"]],
    repair: [
      ["node1", `iptables -t nat -D KUBE-SERVICES ${WEB_DNAT}:8081`],
      ["node1", `iptables -t nat -A KUBE-SERVICES ${WEB_DNAT}:8080`],
    ],
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
];

/** The salt that makes lab 08's choice independent of other labs' seeded choices. */
export const FAULT_SALT = "08-troubleshooting";

/** The fault a seed selects (the run's seed by default). */
export function faultForSeed(seed: string = labSeed()): Fault {
  return pickBySeed(TROUBLESHOOTING_FAULTS, FAULT_SALT, seed);
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
  await runAll(cluster, faultForSeed(seed).inject, false);
}

/** For the instructor: names the fault, runs the commands that show it, then repairs it, printing each command. */
export async function explainAndRepairFault(cluster: Cluster, fault: Fault = faultForSeed()): Promise<void> {
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

/** The lesson's six-step checklist on lab 08's cluster, each step a probe from pod c1 on node1. */
export function troubleshootingChecklist(cluster: Cluster): ChecklistItem[] {
  const node1 = cluster.node("node1");
  const item = (step: number, name: string, command: string, ok?: (stdout: string) => boolean): ChecklistItem => ({ step, name, command, probe: () => probeInPod(node1, "c1", command, ok) });
  return [
    item(1, "same-host pod: c1 -> c2 (10.244.1.3)", "ping -c1 -W1 10.244.1.3"),
    item(2, "cross-host pod: c1 -> c3 on node2 (10.244.2.2)", "ping -c1 -W1 10.244.2.2"),
    item(3, "DNS: web.default.svc.cluster.local from kube-dns 10.96.0.10", "dig +short +time=1 +tries=1 @10.96.0.10 web.default.svc.cluster.local", (out) => out === "10.96.0.100"),
    item(4, "ClusterIP: http://10.96.0.100/ (Service default/web)", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://10.96.0.100/", (out) => out === "HTTP 200"),
    item(5, "apiserver: https://10.96.0.1/version (Service default/kubernetes)", "curl -sSk -m 2 https://10.96.0.1/version", (out) => out.includes("gitVersion")),
    item(6, "egress: http://203.0.113.10/ on the internet", "curl -sS -m 2 -o /dev/null -w 'HTTP %{http_code}' http://203.0.113.10/", (out) => out === "HTTP 200"),
  ];
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
