// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes:
//       defer: [flanneld, kube-proxy]
//     variants: 8
// ---

// %% [markdown]
// # Lab 08: Troubleshooting the cluster network
//
// When a pod "cannot reach something", guessing wastes hours. The lesson gives a **checklist** that
// starts at the pod and walks outwards, one layer at a time. The first step that fails is the one
// nearest to the fault:
//
// | # | the lesson's step | here, from pod `c1` on node1 | when it fails, look at |
// |---|---|---|---|
// | 1 | **same-host pod** | ping `c2` (10.244.1.3) on the same bridge | the bridge, the host's ARP table, iptables FORWARD |
// | 2 | **cross-host pod** | ping `c3` (10.244.2.2) on node2 | routes on both nodes, ARP for the next hop, FORWARD |
// | 3 | **DNS** | `dig @10.96.0.10 web.default.svc.cluster.local` | the DNS pod, its Service, steps 1–2 |
// | 4 | **ClusterIP** | `curl http://10.96.0.100/` | the Service's iptables (DNAT) rules, conntrack |
// | 5 | **pod to apiserver** | `curl -k https://10.96.0.1/version` | the kubernetes Service, the node's INPUT chain |
// | 6 | **pod to the internet** | `curl http://203.0.113.10/` | the default route, **MASQUERADE** (source NAT) |
//
// This lab first builds a small cluster with all six paths **by hand**, turns the checklist into code,
// and shows the lesson's tools for real inside the nodes: `tcpdump`, `conntrack -L`, `arping`,
// `traceroute`, `dig`, and the two ways to watch iptables from the inside: `-j TRACE` with
// `xtables-monitor --trace`, and `-j NFLOG` with `tcpdump -i nflog:N`. Then it removes the by-hand
// network, starts the **real** flanneld and kube-proxy, and runs the same checklist against real pods,
// CoreDNS and Services (section 5). At the end, the lab **breaks something you have not seen** in the
// real cluster, and you find and repair it.
//
// ```
//             "internet" 203.0.113.10 :80 (a web server behind the gateway; routes only to the LAN)
//                                    │
//                  LAN 192.168.0.0/24, gateway 192.168.0.1 (the nodes' default route)
//   ┌───── node1 192.168.0.11 ──────┐  ┌───── node2 192.168.0.12 ─────┐  ┌─ node3 .13 ─┐
//   │ c1 10.244.1.2  (the client)   │  │ c3 10.244.2.2  web :8080     │  │ (unused     │
//   │ c2 10.244.1.3                 │  │ c4 10.244.2.3  dnsmasq :53   │  │  here)      │
//   │   └─ cni0 10.244.1.1/24       │  │   └─ cni0 10.244.2.1/24      │  │             │
//   │ kube-apiserver :6443 (real)   │  │                              │  │             │
//   │ KUBE-SERVICES (nat):          │  │ KUBE-SERVICES (the same)     │  │             │
//   │   10.96.0.1:443  -> .11:6443  │  │                              │  │             │
//   │   10.96.0.10:53  -> c4:53     │  │ MASQUERADE 10.244.2.0/24     │  │             │
//   │   10.96.0.100:80 -> c3:8080   │  │                              │  │             │
//   │ MASQUERADE 10.244.1.0/24      │  │                              │  │             │
//   └────────── eth0 ───────────────┘  └────────── eth0 ──────────────┘  └──── eth0 ───┘
//   route 10.244.2.0/24 via .12        route 10.244.1.0/24 via .11
// ```
//
// The cluster runs real Kubernetes (v1.35.4: the apiserver on node1, kubelet and containerd on every
// node), but it starts **without flanneld and kube-proxy**: until section 5 the pod network and the
// Services are yours, so nothing of Kubernetes' own collides with them. In the by-hand part:
// - the **Services** are kube-proxy-style DNAT rules written by hand (lab 07 covers kube-proxy's chains);
// - the **apiserver** is the real kube-apiserver on node1:6443, behind a hand-written `kubernetes`
//   Service 10.96.0.1:443, the same DNAT kube-proxy will write;
// - **CoreDNS** is played by dnsmasq in pod c4, until section 5 where the real CoreDNS answers;
// - the **internet** is a web server with a documentation address, 203.0.113.10 (TEST-NET-3, never
//   routed on the real internet), that labbook runs behind the LAN's gateway (`network.internet` in
//   `infra/cluster.yaml`). The nodes reach it through their default route. It knows routes only to the
//   LAN, not to the private pod subnets, so only NATed traffic gets an answer, as on the real internet.
//   It answers every request with the address it saw: `internet 203.0.113.10: hello, 192.168.0.11`.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and name the nodes
import { cluster, check, hasRoute, hasRule, addContainer, sh, capture, keepForGrader, kubectlApply, kubernetesStart, onlyWith, scaledSeconds } from "labbook";
import { injectFault, explainAndRepairFault, TROUBLESHOOTING_SERVICE_RULES, probeInPod, troubleshootingChecklist, runChecklist } from "./faults.js";
import { kubernetesTargets, kubernetesChecklist, kubeProxyTargets, serviceEndpoints, podIP } from "./faults.js";
import { networkState, stateChanges, OBSERVING_OR_ENDPOINT_RULE, type NetworkState } from "./netstate.js";

// Real Kubernetes, but flanneld and kube-proxy wait for section 5: the by-hand network comes first
const c = await cluster({ fresh: true, kubernetes: { defer: ["flanneld", "kube-proxy"] } });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
const nodes = [node1, node2, node3];

// %% [markdown]
// ## 1. Pods, routes, and an "internet"
//
// Each node gets its own `/24` of the pod network 10.244.0.0/16 on a bridge `cni0`, as Flannel's
// host-gw mode would set up (lab 02 did the same by hand). Every node forwards (`ip_forward=1`,
// FORWARD policy ACCEPT).

// %% labbook={"id": "pods", "role": "step"}
// Pods on node1 and node2, forwarding, and the routes
await addContainer(node1, { name: "c1", address: "10.244.1.2/24", bridge: "cni0", gateway: "10.244.1.1/24" });
await addContainer(node1, { name: "c2", address: "10.244.1.3/24", bridge: "cni0", gateway: "10.244.1.1/24" });
await addContainer(node2, { name: "c3", address: "10.244.2.2/24", bridge: "cni0", gateway: "10.244.2.1/24" });
await addContainer(node2, { name: "c4", address: "10.244.2.3/24", bridge: "cni0", gateway: "10.244.2.1/24" });
for (const node of nodes) {
  await node.$`sysctl -w net.ipv4.ip_forward=1`;
  await node.$`iptables -P FORWARD ACCEPT`;
}
await sh(node1, "ip route add 10.244.2.0/24 via 192.168.0.12");
await sh(node2, "ip route add 10.244.1.0/24 via 192.168.0.11");

// %% labbook={"id": "check-pods", "role": "check"}
// Check: the routes are in place, and the internet answers node1 (without a pod in the way)
await check("node1 routes node2's pod subnet via node2", () => hasRoute(node1, "10.244.2.0/24", { via: "192.168.0.12" }));
await check("node2 routes node1's pod subnet via node1", () => hasRoute(node2, "10.244.1.0/24", { via: "192.168.0.11" }));
await onlyWith(c, "internet", () => check("node1 reaches the internet through its default route, and is seen as 192.168.0.11", async () => {
  const answer = String(await node1.$`curl -sS -m 2 http://203.0.113.10/`);
  if (!answer.endsWith("hello, 192.168.0.11")) throw new Error(`the internet said: ${answer}`);
  return answer;
}, { within: 3000 }));

// %% [markdown]
// ## 2. Services, DNS, the apiserver, and NAT on the way out
//
// kube-proxy turns each Service into a DNAT rule: a packet for the ClusterIP and port gets the
// address and port of a pod. Here one `KUBE-SERVICES` chain per node holds three Services, one rule
// each (lab 07 shows the full chain structure and load balancing):
//
// - `default/kubernetes` 10.96.0.1:443 → the real kube-apiserver on node1, 192.168.0.11:6443;
// - `kube-system/kube-dns` 10.96.0.10:53/udp → **dnsmasq** in pod c4, playing CoreDNS;
// - `default/web` 10.96.0.100:80 → a web server in pod c3 on port 8080.
//
// Traffic from pods to anything outside the pod network is **MASQUERADE**d: it leaves with the node's
// address, the only one the internet can answer.

// %% labbook={"id": "services", "role": "step"}
// KUBE-SERVICES and MASQUERADE on node1 and node2
const SERVICE_RULES = TROUBLESHOOTING_SERVICE_RULES; // this lab's list (faults.ts): kubernetes, kube-dns, web
for (const [node, podSubnet] of [[node1, "10.244.1.0/24"], [node2, "10.244.2.0/24"]] as const) {
  await sh(node, "iptables -t nat -N KUBE-SERVICES");
  await sh(node, "iptables -t nat -A PREROUTING -j KUBE-SERVICES");
  await sh(node, "iptables -t nat -A OUTPUT -j KUBE-SERVICES");
  for (const rule of SERVICE_RULES) await sh(node, `iptables -t nat -A KUBE-SERVICES ${rule}`);
  await sh(node, `iptables -t nat -A POSTROUTING -s ${podSubnet} ! -d 10.244.0.0/16 -j MASQUERADE`);
}

// %% labbook={"id": "servers", "role": "step"}
// The servers behind them: web in c3, dnsmasq in c4 (the apiserver on node1 is the real one)
await sh(node2, "setsid -f ip netns exec c3 python3 -m http.server 8080 --bind 10.244.2.2 > /var/log/web.log 2>&1");
// dnsmasq answers the cluster's names itself and forwards nothing (--no-resolv): there is no upstream here
const RECORDS: Record<string, string> = {
  "kubernetes.default.svc.cluster.local": "10.96.0.1",
  "kube-dns.kube-system.svc.cluster.local": "10.96.0.10",
  "web.default.svc.cluster.local": "10.96.0.100",
  "www.example.com": "203.0.113.10",
};
const hostRecords = Object.entries(RECORDS).map(([name, ip]) => `--host-record=${name},${ip}`).join(" ");
await sh(node2, `setsid -f ip netns exec c4 dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file --user=root --listen-address=10.244.2.3 --bind-interfaces ${hostRecords} --log-queries --log-facility=/var/log/dnsmasq.log`);

// Wait until each one listens (ss in the server's own namespace)
for (const [node, netns, port] of [[node2, "c3", 8080], [node2, "c4", 53], [node1, "", 6443]] as const) {
  const ss = netns ? `ip netns exec ${netns} ss -ltnuH` : "ss -ltnuH";
  await node.$`timeout ${scaledSeconds(20)} sh -c ${`until ${ss} | grep -q ':${port} '; do sleep 0.1; done`}`;
}
console.log("all three servers listen (6443: the real kube-apiserver)");

// %% [markdown]
// ## 3. The checklist as code
//
// Each probe runs from pod `c1` with `ip netns exec c1 ...`, and when it fails it shows the command
// and what it printed. The six probes are `troubleshootingChecklist` (in this lab's `faults.ts`,
// so that the hidden checks use the very same ones); the next cell prints each one's command first.
// `runChecklist(CHECKLIST)` runs all six at once and prints ✓ or ✗ for each: you will use it again in
// the break-fix exercise.

// %% labbook={"id": "checklist", "role": "step"}
// The six steps, each a probe from c1 that returns what it saw or throws with it
/** Runs `command` in pod c1; passes (returns the last line) when it exits 0 and `ok(stdout)` holds, throws with the evidence otherwise. */
const fromC1 = (command: string, ok?: (stdout: string) => boolean) => probeInPod(node1, "c1", command, ok);
// The checklist (this lab's faults.ts): for each step, its command in c1 and what its output must be
const CHECKLIST = troubleshootingChecklist(c);
for (const item of CHECKLIST) console.log(`${item.step}. ${item.name}\n    c1# ${item.command}`);
console.log("");
await runChecklist(CHECKLIST);

// %% labbook={"id": "check-checklist", "role": "check"}
// Check: on the healthy cluster, every step passes, and egress leaves with node1's address
for (const item of CHECKLIST) await check(`${item.step}. ${item.name}`, item.probe, { within: 5000 });
await onlyWith(c, "internet", () => check("the internet saw node1's address (192.168.0.11), not the pod's: MASQUERADE worked", async () => {
  const answer = await fromC1("curl -sS -m 2 http://203.0.113.10/");
  if (!answer.endsWith("hello, 192.168.0.11")) throw new Error(`the internet said: ${answer}`);
  return answer;
}));

// %% [markdown]
// ## 4. The tools, for real inside the nodes
//
// Each tool answers one question. `capture(node, {iface, filter}, during)` runs `tcpdump` on a node
// while something else happens, and `sh(node, command)` prints a command and its output as a terminal
// would.
//
// ### tcpdump on the LAN interface (eth0; eth1 on a VM): what is on the wire?
// Between node1 and node2 the pod addresses travel unchanged (no NAT between pods). On its way to the
// internet, the same pod leaves node1's eth0 as node1: that is MASQUERADE (POSTROUTING runs before
// the packet reaches the wire, so tcpdump on eth0 sees the rewritten source).

// %% labbook={"id": "tool-tcpdump", "role": "step"}
// tcpdump: on node2's eth0 while c1 pings c3, and on node1's eth0 while c1 fetches from the internet
const onWire = await capture(node2, { iface: node2.lanInterface, filter: "icmp", count: 2 }, () => fromC1("ping -c1 -W1 10.244.2.2"));
const atEdge = await onlyWith(c, "internet", () => capture(node1, { iface: node1.lanInterface, filter: "tcp port 80 and host 203.0.113.10", count: 1 }, () => fromC1("curl -s -o /dev/null http://203.0.113.10/")));

// %% labbook={"id": "check-tcpdump", "role": "check"}
// Check: pod addresses between nodes, node1's address at the internet
await check(`on node2's ${node2.lanInterface}, the ping goes 10.244.1.2 > 10.244.2.2`, () => {
  if (!onWire.some((l) => l.includes("10.244.1.2 > 10.244.2.2: ICMP echo request"))) throw new Error(onWire.join("\n") || "no packets");
  return onWire[0]!;
});
await onlyWith(c, "internet", () => check(`on node1's ${node1.lanInterface}, the request to the internet comes from 192.168.0.11`, () => {
  if (!atEdge?.[0]?.includes("192.168.0.11.")) throw new Error(atEdge?.join("\n") || "no packets");
  return atEdge[0];
}));

// %% [markdown]
// ### conntrack -L: what did NAT do to a connection?
// DNAT and MASQUERADE decide once per connection and remember the decision in the connection
// tracking table. Each entry shows the packet as it was sent (`src=10.244.1.2 dst=10.96.0.100 dport=80`)
// and the reply the node expects (`src=10.244.2.2 sport=8080`): the Service's real backend.

// %% labbook={"id": "tool-conntrack", "role": "step"}
// conntrack: a request to the ClusterIP, then node1's table for that destination
await fromC1("curl -s -o /dev/null http://10.96.0.100/");
const tracked = await sh(node1, "conntrack -L -p tcp -d 10.96.0.100");

// %% labbook={"id": "check-conntrack", "role": "check"}
// Check: the entry maps the ClusterIP to the web pod's port 8080
await check("conntrack shows 10.96.0.100:80 answered by 10.244.2.2:8080", () => {
  const entry = tracked.lines().find((l) => /dst=10\.96\.0\.100 .*dport=80 src=10\.244\.2\.2 .*sport=8080/.test(l));
  if (!entry) throw new Error(tracked.stdout || "no entries");
  return entry;
});

// %% [markdown]
// ### arping and the ARP table: who owns that address?
// A node sends a packet for 10.244.2.0/24 to node2's MAC address, learned by **ARP**. `ip neigh`
// shows what node1 believes; `arping` asks the LAN now, and the answer comes from the real owner.
// When the two disagree, the table is wrong.

// %% labbook={"id": "tool-arping", "role": "step"}
// arping node2 from node1, and compare with node1's neighbour table and node2's real MAC
const arping = await sh(node1, `arping -c1 -w1 -I ${node1.lanInterface} 192.168.0.12`);
const neighbour = await sh(node1, "ip neigh show 192.168.0.12");
const node2Mac = (await node2.$`cat /sys/class/net/${node2.lanInterface}/address`).stdout.trim();
console.log(`node2's ${node2.lanInterface} is ${node2Mac}`);

// %% labbook={"id": "check-arping", "role": "check"}
// Check: arping's answer and node1's table both name node2's real MAC
await check("arping gets the answer from node2's MAC", () => {
  if (!arping.stdout.toLowerCase().includes(node2Mac)) throw new Error(arping.stdout);
  return arping.lines().find((l) => l.includes("reply")) ?? arping.stdout;
});
await check("node1's neighbour entry for 192.168.0.12 is node2's MAC", () => {
  if (!neighbour.stdout.includes(`lladdr ${node2Mac}`)) throw new Error(neighbour.stdout || "no entry");
  return neighbour.stdout.trim();
});

// %% [markdown]
// ### traceroute and dig: which way, and which name?
// `traceroute` lists the routers on the way: for a pod on node2, c1's gateway (cni0), then node2.
// `dig` asks the DNS server directly and shows the answer and who gave it. dnsmasq's log on node2
// shows the query came from 10.244.1.2: the Service DNAT changed only the destination.

// %% labbook={"id": "tool-traceroute-dig", "role": "step"}
// traceroute from c1 to c3 and to the internet; dig from c1; dnsmasq's log
const toC3 = await sh(node1, "ip netns exec c1 traceroute -n -q1 -w1 10.244.2.2");
await onlyWith(c, "internet", () => sh(node1, "ip netns exec c1 traceroute -n -q1 -w1 203.0.113.10"));
const dug = await sh(node1, "ip netns exec c1 dig @10.96.0.10 kubernetes.default.svc.cluster.local +noall +answer +stats");
const dnsLog = await sh(node2, "tail -n 2 /var/log/dnsmasq.log");

// %% labbook={"id": "check-traceroute-dig", "role": "check"}
// Check: the hops, the answer, and the client address dnsmasq saw
await check("traceroute c1 -> c3 goes through 10.244.1.1 then 192.168.0.12", () => {
  const hops = toC3.lines().filter((l) => /^\s*\d+\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  if (hops.join(" ") !== "10.244.1.1 192.168.0.12 10.244.2.2") throw new Error(`hops: ${hops.join(" ")}`);
  return `hops: ${hops.join(" -> ")}`;
});
await check("dig gets kubernetes.default.svc.cluster.local = 10.96.0.1", () => {
  if (!/kubernetes\.default\.svc\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.96\.0\.1\b/.test(dug.stdout)) throw new Error(dug.stdout);
  return "answered 10.96.0.1";
});
await check("dnsmasq saw the query from 10.244.1.2", () => {
  if (!dnsLog.stdout.includes("from 10.244.1.2")) throw new Error(dnsLog.stdout);
  return dnsLog.lines().find((l) => l.includes("from 10.244.1.2"))!;
});

// %% [markdown]
// ### Watching iptables: why not `-j LOG` and kern.log?
//
// The lesson debugs iptables with a **LOG** rule and `tail -f /var/log/kern.log`:
//
//     iptables -t nat -A POSTROUTING -p tcp -m tcp -d 172.17.0.0/16 -j LOG --log-prefix "POSTROUTING"
//
// LOG hands the packet to the kernel's log, the same ring buffer as `dmesg`, which syslog copies to
// kern.log. That ring buffer belongs to the whole machine, so the kernel writes LOG messages only
// for the host's own (initial) network namespace. From any other namespace, such as every node here
// or a real container, LOG is **silent** unless the host-wide sysctl
// `net.netfilter.nf_log_all_netns=1` is set. That switch exists only in the host's namespace, and it
// would make every container on the machine able to fill the host's log. labbook never changes the
// host, so here LOG counts packets but prints nothing. The cell below shows that. (On VMs each node is a
// machine of its own, with its own kernel: there LOG writes to the node's kernel log, and `dmesg` shows it.)
//
// Two tools work from inside a namespace, and they are better anyway:
// - **TRACE** (`-t raw ... -j TRACE`) marks packets, and `xtables-monitor --trace` prints every rule
//   and policy each marked packet meets, table by table, in that namespace only. (With the legacy
//   iptables the output went to the kernel log too; with the nf_tables backend used here it goes
//   to xtables-monitor.)
// - **NFLOG** (`-j NFLOG --nflog-group N`) sends matching packets to user space over netlink, and
//   `tcpdump -i nflog:N` shows them as a capture, for that namespace only.

// %% labbook={"id": "tool-log", "role": "step"}
// The lesson's LOG rule, adapted to this cluster: it matches and counts, but writes nothing here
await sh(node1, `iptables -t nat -I POSTROUTING -p tcp -d 10.244.2.0/24 -j LOG --log-prefix "POSTROUTING "`);
await fromC1("curl -s -o /dev/null http://10.96.0.100/");
const logCounters = await sh(node1, "iptables -t nat -L POSTROUTING -v -n -x");
await sh(node1, `iptables -t nat -D POSTROUTING -p tcp -d 10.244.2.0/24 -j LOG --log-prefix "POSTROUTING "`);
// Where did the message go? No kern.log in the node (no syslog, and nothing was logged),
// and no nf_log_all_netns in its /proc/sys: that switch lives only in the host's namespace.
for (const command of ["ls /var/log", "ls /proc/sys/net/netfilter | grep -i log"]) await sh(node1, command);

// %% labbook={"id": "check-log", "role": "check"}
// Check: the LOG rule counted the connection's first packet (the nat table sees only that one)
await check("the LOG rule's counter rose", () => {
  const row = logCounters.lines().find((l) => l.includes(" LOG "));
  const packets = Number(row?.trim().split(/\s+/)[0] ?? 0);
  if (!(packets > 0)) throw new Error(logCounters.stdout);
  return `${packets} packet(s) matched, and no log line was written anywhere in the node`;
});
if (c.has("vm")) {
  // A VM is the machine: its own kernel, its own log, and the rule runs in its initial namespace.
  await check("on a VM the node is the machine: LOG wrote the packet to its kernel log", async () => {
    const line = (await node1.$({ nothrow: true })`dmesg | grep "POSTROUTING " | tail -n 1`).stdout.trim();
    if (!line) throw new Error("no POSTROUTING line in node1's dmesg");
    return line;
  });
} else {
  await check("the node cannot see or set nf_log_all_netns", async () => {
    const sysctl = await node1.$({ nothrow: true })`sysctl net.netfilter.nf_log_all_netns`;
    if (sysctl.ok) throw new Error(`it is visible: ${sysctl.stdout}`);
    return sysctl.stderr.trim();
  });
}

// %% [markdown]
// ### TRACE with xtables-monitor: every rule a packet meets
// The lesson's `iptables -t raw -A PREROUTING -s 172.17.0.0/16 -j TRACE`, narrowed to one ping from c1
// to c3. `xtables-monitor --trace` prints a `PACKET:` line, then a `TRACE:` line per rule or policy:
// `table:chain:rule:handle:verdict`. Read it top to bottom to see where a packet goes, and where it dies.

// %% labbook={"id": "tool-trace", "role": "step"}
// TRACE: mark c1's pings to c3 in raw PREROUTING, watch with xtables-monitor, then remove the mark
await sh(node1, "iptables -t raw -A PREROUTING -p icmp -s 10.244.1.2 -d 10.244.2.2 -j TRACE");
const trace = await sh(node1, "timeout 3 xtables-monitor --trace > /tmp/trace.txt & sleep 0.3; ip netns exec c1 ping -c1 -W1 10.244.2.2 > /dev/null; sleep 0.2; kill $!; wait; cat /tmp/trace.txt");
await sh(node1, "iptables -t raw -D PREROUTING -p icmp -s 10.244.1.2 -d 10.244.2.2 -j TRACE");
console.log(`${trace.lines().filter((l) => l.includes("TRACE:")).length} TRACE lines: one per rule or policy the ping met on node1`);

// %% labbook={"id": "check-trace", "role": "check"}
// Check: the trace shows raw, nat and the FORWARD verdict
await check("the trace shows the TRACE rule, the KUBE-SERVICES jump and FORWARD's ACCEPT", () => {
  for (const step of ["raw:PREROUTING:rule", "nat:PREROUTING:rule:", "JUMP:KUBE-SERVICES", "filter:FORWARD:policy:ACCEPT"]) {
    if (!trace.stdout.includes(step)) throw new Error(`no "${step}" in:\n${trace.stdout}`);
  }
  return trace.lines().filter((l) => l.includes("TRACE:")).length + " TRACE lines";
});
await check("the TRACE rule is gone again", async () => {
  const raw = String(await node1.$`iptables -t raw -S PREROUTING`);
  if (raw.includes("TRACE")) throw new Error(raw);
  return "raw PREROUTING has no TRACE rule";
});

// %% [markdown]
// ### NFLOG with tcpdump: did the packet get this far?
// An NFLOG rule inserted first in a chain sees every packet that enters the chain, before any rule
// or the policy can drop it. Here node2 logs packets it forwards to c3, to group 5, and
// `tcpdump -i nflog:5` shows them.

// %% labbook={"id": "tool-nflog", "role": "step"}
// NFLOG: node2 copies forwarded packets for c3 to group 5; tcpdump reads the group
await sh(node2, "iptables -I FORWARD -p icmp -d 10.244.2.2 -j NFLOG --nflog-group 5 --nflog-prefix to-c3");
const logged = await capture(node2, { iface: "nflog:5", count: 1 }, () => fromC1("ping -c1 -W1 10.244.2.2"));
const nflogCounters = await sh(node2, "iptables -L FORWARD -v -n -x");
await sh(node2, "iptables -D FORWARD -p icmp -d 10.244.2.2 -j NFLOG --nflog-group 5 --nflog-prefix to-c3");
console.log(`NFLOG group 5 gave tcpdump ${logged.length} packet(s); the rule is removed again`);

// %% labbook={"id": "check-nflog", "role": "check"}
// Check: tcpdump got the packet from the NFLOG group
await check("tcpdump -i nflog:5 shows c1's ping to c3", () => {
  if (!logged.some((l) => l.includes("10.244.1.2 > 10.244.2.2: ICMP echo request"))) throw new Error(logged.join("\n") || "nothing captured");
  return logged[0]!;
});
await check("the NFLOG rule counted it", () => {
  const row = nflogCounters.lines().find((l) => l.includes("NFLOG"));
  if (!row || !(Number(row.trim().split(/\s+/)[0]) > 0)) throw new Error(nflogCounters.stdout);
  return row.trim();
});

// %% [markdown]
// ## 5. The real thing: flanneld, kube-proxy, CoreDNS
//
// Now Kubernetes takes over what you built. Its flanneld and kube-proxy would collide with the by-hand
// network, so it goes first:
// - flannel's CNI plugin makes a bridge **cni0** with the node's own pod subnet, and refuses one that
//   already has another address (yours has 10.244.1.1/24, and node1's subnet may be another /24);
// - kube-proxy owns `KUBE-SERVICES` and rewrites it; flanneld writes its own routes and MASQUERADE.
//
// So the next cell stops the servers, deletes the pods (their network namespaces), the bridges, the
// routes, the hand-written chain and the MASQUERADE rules. It pins CoreDNS to node3 (so that each step
// of the checklist crosses to a different place: DNS to node3, the web pod to node2), then starts
// flanneld and kube-proxy on every node (`labbook-kubernetes flanneld|kube-proxy`), and creates:
// - pod **client** on node1 (the checklist runs in its network namespace, with the node's tools);
// - pod **near** on node1 and pod **far** on node2 (steps 1 and 2);
// - Deployment **web** (one `labbook/probe:1` pod on node2) behind Service **web**, ClusterIP
//   10.96.0.100 port 80 (step 4), the same address as your by-hand Service.

// %% labbook={"id": "k8s-start", "role": "step", "requires": ["kubernetes"]}
// Tear down the by-hand network, start flanneld and kube-proxy, create the pods and the web Service
await sh(node2, "for ns in c3 c4; do ip netns pids $ns | xargs -r kill; done");
for (const [node, pods, podSubnet, other, otherNode] of [[node1, ["c1", "c2"], "10.244.1.0/24", "10.244.2.0/24", "192.168.0.12"], [node2, ["c3", "c4"], "10.244.2.0/24", "10.244.1.0/24", "192.168.0.11"]] as const) {
  for (const pod of pods) await sh(node, `ip netns del ${pod}`);
  await sh(node, "ip link del cni0");
  await sh(node, `ip route del ${other} via ${otherNode}`);
  await sh(node, "iptables -t nat -D PREROUTING -j KUBE-SERVICES && iptables -t nat -D OUTPUT -j KUBE-SERVICES");
  await sh(node, "iptables -t nat -F KUBE-SERVICES && iptables -t nat -X KUBE-SERVICES");
  await sh(node, `iptables -t nat -D POSTROUTING -s ${podSubnet} ! -d 10.244.0.0/16 -j MASQUERADE`);
}
// CoreDNS on node3 only; Recreate, because its two pods are still Pending (no flanneld yet)
await sh(node1, `kubectl -n kube-system patch deployment coredns -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null},"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"node3"}}}}}'`);
// kube-proxy first: CoreDNS's pods start as soon as flanneld lifts the taint, and their first call to the
// apiserver at 10.96.0.1 must find kube-proxy's rules (a failed first list backs off for up to 30 s).
await kubernetesStart(c, "kube-proxy");
await kubernetesStart(c, "flanneld");
/** A probe pod on `node`, gone at once when deleted. */
const probePod = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 0
  containers: [{name: probe, image: labbook/probe:1}]
---
`;
const MANIFEST = `
${probePod("client", "node1")}${probePod("near", "node1")}${probePod("far", "node2")}apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node2}
      terminationGracePeriodSeconds: 0
      containers: [{name: probe, image: labbook/probe:1}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.100
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
`;
console.log(MANIFEST);
await kubectlApply(node1, MANIFEST, "troubleshooting.yaml");
await sh(node1, `kubectl wait --for=condition=Ready pod client near far --timeout=${scaledSeconds(90)}`);
await sh(node1, `kubectl rollout status deployment web --timeout=${scaledSeconds(90)}`);
await sh(node1, `kubectl -n kube-system rollout status deployment coredns --timeout=${scaledSeconds(90)}`);
await sh(node1, "kubectl get pods -A -o wide");
await sh(node1, "kubectl get nodes -o custom-columns=NODE:.metadata.name,POD-CIDR:.spec.podCIDR");

// %% [markdown]
// ### Kubernetes did what you did by hand
//
// Compare kube-proxy's chains with your three DNAT rules. Each of your rules becomes a rule in
// `KUBE-SERVICES` with the same match (`-d <ClusterIP>/32 -p <proto> --dport <port>`), a jump to a
// `KUBE-SVC-<hash>` chain (one per Service port, which picks an endpoint) and a `KUBE-SEP-<hash>` chain
// (one per endpoint) whose rule is your DNAT: `-j DNAT --to-destination <pod>:<port>`. The `kubernetes`
// Service's target is exactly yours: 192.168.0.11:6443. The routes are flannel's vxlan ones
// (`via 10.244.N.0 dev flannel.1 onlink`) where yours were host-gw style (`via 192.168.0.12`), and the
// MASQUERADE is flanneld's (`FLANNEL-POSTRTG`: pod network to anything but the pod network and multicast).

// %% labbook={"id": "k8s-compare", "role": "step", "requires": ["kubernetes"]}
// kube-proxy's chains for the three Services, flannel's routes and MASQUERADE, on node1
await sh(node1, "iptables -t nat -S KUBE-SERVICES | grep -E '10.96.0.(1|10|100)/32'");
await sh(node1, "iptables-save -t nat | grep -E '^-A KUBE-(SVC|SEP)-' | grep -E 'default/(web|kubernetes)'");
await sh(node1, "ip route | grep 10.244.");
await sh(node1, "iptables -t nat -S FLANNEL-POSTRTG");
const webIP = await podIP(node1, (await node1.$`kubectl get pods -l app=web -o jsonpath={.items[0].metadata.name}`).stdout.trim());
const node2Cidr = (await node1.$`kubectl get node node2 -o jsonpath={.spec.podCIDR}`).stdout.trim();

// %% labbook={"id": "check-k8s-compare", "role": "check", "requires": ["kubernetes"]}
// Check: the same Services, DNATs, route and NAT as by hand, written by kube-proxy and flanneld
for (const rule of SERVICE_RULES) {
  const [, address, proto, port, comment] = /-d (\S+) -p (\S+) --dport (\d+) -m comment --comment (\S+)/.exec(rule)!;
  await check(`kube-proxy matches ${address} ${proto}/${port} as your rule did (${comment})`, () =>
    hasRule(node1, "nat", "KUBE-SERVICES", new RegExp(`^-A KUBE-SERVICES -d ${address!.replace(/\./g, "\\.")} -p ${proto} .*--comment "${comment} cluster IP" .*--dport ${port} -j KUBE-SVC-`)),
    // kube-proxy writes a Service's rules once it has seen its ready endpoints: a second or so after the pods.
    { within: 10000 });
}
await check("default/kubernetes: kube-proxy's DNAT is yours, 192.168.0.11:6443", async () => {
  const targets = await kubeProxyTargets(node1, "default/kubernetes:https");
  if (targets.join(" ") !== "192.168.0.11:6443") throw new Error(`kube-proxy DNATs to: ${targets.join(" ") || "nothing"}`);
  return `KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP -> DNAT ${targets[0]}`;
}, { within: 5000 });
await check("default/web: kube-proxy DNATs to the web pod, as your rule did to c3", async () => {
  const targets = await kubeProxyTargets(node1, "default/web:http");
  if (targets.join(" ") !== `${webIP}:80`) throw new Error(`kube-proxy DNATs to: ${targets.join(" ") || "nothing"}; the web pod is ${webIP}`);
  return `DNAT ${targets[0]} (by hand: 10.244.2.2:8080)`;
}, { within: 5000 });
await check("kube-system/kube-dns: kube-proxy DNATs to both CoreDNS pods, as yours did to dnsmasq", async () => {
  const [targets, endpoints] = [await kubeProxyTargets(node1, "kube-system/kube-dns:dns"), await serviceEndpoints(node1, "kube-system", "kube-dns", "dns")];
  if (targets.length !== 2 || targets.join(" ") !== endpoints.join(" ")) throw new Error(`kube-proxy: ${targets.join(" ")}; endpoints: ${endpoints.join(" ")}`);
  return `DNAT ${targets.join(", ")}`;
}, { within: 5000 });
await check("flanneld routes node2's pod subnet through flannel.1 (vxlan), where yours went via 192.168.0.12", () =>
  hasRoute(node1, node2Cidr, { dev: "flannel.1" }));
await check("flanneld MASQUERADEs the pod network going elsewhere, as your POSTROUTING rule did", () =>
  hasRule(node1, "nat", "FLANNEL-POSTRTG", /^-A FLANNEL-POSTRTG -s 10\.244\.0\.0\/16 ! -d 224\.0\.0\.0\/4 .*-j MASQUERADE/));

// %% [markdown]
// ### The checklist on the real cluster
//
// The same six steps, now from pod **client**. A real pod's network namespace is one containerd made
// (`cni-<id>` in `ip netns list`); the lab finds client's by its address, and runs each probe there with
// the node's `ping`, `dig` and `curl`, as it did in c1. Step 3 asks the real CoreDNS, step 4 goes
// through kube-proxy's chains, step 5 reaches the apiserver through the `kubernetes` Service, and step 6
// leaves through flanneld's MASQUERADE.

// %% labbook={"id": "k8s-checklist", "role": "step", "requires": ["kubernetes"]}
// The six steps from pod client on node1
const TARGETS = await kubernetesTargets(c);
console.log(`client's network namespace on node1: ${TARGETS.clientNetns}\n`);
const K8S_CHECKLIST = kubernetesChecklist(c, TARGETS);
for (const item of K8S_CHECKLIST) console.log(`${item.step}. ${item.name}\n    client# ${item.command}`);
console.log("");
await runChecklist(K8S_CHECKLIST);
const fromClient = (command: string) => probeInPod(node1, TARGETS.clientNetns, command);
await fromClient("curl -s -o /dev/null http://10.96.0.100/");
const realTracked = await sh(node1, "conntrack -L -p tcp -d 10.96.0.100");

// %% labbook={"id": "check-k8s-checklist", "role": "check", "requires": ["kubernetes"]}
// Check: every step passes on the real cluster; NAT did what it did by hand
for (const item of K8S_CHECKLIST) await check(`${item.step}. ${item.name}`, item.probe, { within: 5000 });
await onlyWith(c, "internet", () => check("the internet saw node1's address, not the pod's: flanneld's MASQUERADE worked", async () => {
  const answer = await fromClient("curl -sS -m 2 http://203.0.113.10/");
  if (!answer.endsWith("hello, 192.168.0.11")) throw new Error(`the internet said: ${answer}`);
  return answer;
}));
await check("conntrack shows 10.96.0.100:80 answered by the web pod's port 80", () => {
  const entry = realTracked.lines().find((l) => new RegExp(`dst=10\\.96\\.0\\.100 .*dport=80 src=${webIP.replace(/\./g, "\\.")} .*sport=80`).test(l));
  if (!entry) throw new Error(realTracked.stdout || "no entries");
  return entry;
});

// %% [markdown]
// ## 6. Break-fix, on the real cluster
//
// The next cell records the network's state (iptables rules, policies and routes on every node) and
// then **injects one fault** somewhere in the cluster: in a node's network, or in Kubernetes itself (a
// component, a Deployment, a Service). Which one depends on your **seed**: `labbook run --seed S` sets
// it headless, `labbook notebook --seed S` in Jupyter (both put it in the kernel's `LABBOOK_SEED`); in a class, the
// copy your instructor assigned you names your variant, which is your seed. Two
// students with different seeds usually get different faults. The notebook does not say which fault you got.
// (The faults are listed in this lab's faults.ts, so a determined student could look it up there.
// That is like reading the answer key: it teaches nothing.)
//
// How to work:
// 1. Run the checklist (the cell after the next). Note which steps fail. The first failing step
//    is usually the nearest to the fault, and later failures often follow from it.
// 2. Use the table at the top of this lab and the tools of section 4 to find the exact cause. Look
//    at both ends of a failing path: `iptables -S`, `iptables -t nat -S`, `iptables -L -v -n`
//    (counters!), `ip route`, `ip route get`, `ip neigh`, `tcpdump`, `conntrack -L`, TRACE and NFLOG
//    all work here. And ask Kubernetes: `kubectl get pods -A -o wide`, `kubectl get svc,endpointslices`,
//    `kubectl -n kube-system get deploy`, and `pgrep -a kube-proxy` / `pgrep -a flanneld` on each node.
// 3. Repair **the fault itself**, with the command that undoes it. Don't flush tables, don't add
//    accept-everything rules, don't change routes or rules that are right. The hidden checks compare
//    the cluster with its state before the fault, and kube-proxy's chains with the apiserver's
//    endpoints. TRACE, NFLOG and LOG rules you leave behind are ignored, because they only watch.
//    To restart a part of Kubernetes on a node: `labbook-kubernetes kube-proxy` (or `flanneld`).
// 4. Run the checklist again: every step must pass.
//
// A hint for a FORWARD rule: a `FORWARD` **policy** of DROP (Docker sets one) does not stop pod traffic
// here, because flanneld's `FLANNEL-FWD` chain accepts everything from and to 10.244.0.0/16. A DROP
// *rule* placed before it does.

// %% labbook={"id": "inject", "role": "step", "requires": ["kubernetes"]}
// Record the network's state, then break one thing. Which one depends on your seed.
const baseline: NetworkState[] = await Promise.all(nodes.map((node) => networkState(node)));
keepForGrader("baseline", baseline); // the grader compares with it, in a kernel of its own
await injectFault(c);
console.log("A fault was injected somewhere in the cluster. Run the checklist to see what it breaks.");

// %% labbook={"id": "diagnose", "role": "step", "requires": ["kubernetes"]}
// Run the checklist. Run this cell again after each change you make.
await runChecklist(K8S_CHECKLIST);

// %% labbook={"id": "exercise-repair", "role": "exercise", "points": 8, "requires": ["kubernetes"]}
// Your turn: find the fault with the tools from section 4 and kubectl, then repair it here.
// Looking (examples):
//   await sh(node1, "iptables -L -v -n");  await sh(node2, "iptables -t nat -S");  await sh(node2, "ip route");
//   await sh(node1, "kubectl get pods -A -o wide");  await sh(node1, "kubectl get svc,endpointslices");
//   await sh(node1, "pgrep -a kube-proxy");  await sh(node1, "kubectl -n kube-system get deploy");
//   await capture(node2, { iface: node2.lanInterface, filter: "udp port 8472" }, () => fromClient(`ping -c1 -W1 ${TARGETS.far}`));
// Repairing: the one command (or two) that undoes the fault, on the node where it is:
//   await sh(nodeN, "...");
// Then: await runChecklist(K8S_CHECKLIST);

// %% labbook={"id": "solution-repair", "role": "solution", "points": 8, "requires": ["kubernetes"]}
// Solution (instructor): faults.ts knows the fault the seed chose; it shows the evidence, then repairs it
await explainAndRepairFault(c);
await runChecklist(K8S_CHECKLIST);

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, keptForGrader } from "labbook";
// import { kubernetesTargets, kubernetesChecklist, kubeProxyTargets, serviceEndpoints } from "./faults.js";
// import { networkState, stateChanges, OBSERVING_OR_ENDPOINT_RULE, type NetworkState } from "./netstate.js";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
// const nodes = [node1, node2, node3];
// const K8S_CHECKLIST = kubernetesChecklist(c, await kubernetesTargets(c));
// // The state before the fault, as the step that injected it recorded it
// const baseline = keptForGrader<NetworkState[]>("baseline");

// %% labbook={"id": "hidden-repair", "role": "hidden-check", "requires": ["kubernetes"], "hint": "Run the checklist: the first failing step points at the fault. Look at the nodes (iptables, routes) and at Kubernetes (pods, Services, endpoints, kube-proxy on each node). Repair that one thing with the command that undoes it; don't flush tables or add accept-everything rules."}
// Hidden check: the checklist passes again, Kubernetes is whole, and the repair changed nothing else
for (const item of K8S_CHECKLIST) await check(`${item.step}. ${item.name}`, item.probe, { within: 3000, points: 1 });
await check("kube-proxy and flanneld run on every node", async () => {
  for (const node of nodes) for (const part of ["kube-proxy", "flanneld"]) {
    const found = await node.$({ nothrow: true })`pgrep -x ${part}`;
    if (!found.ok) throw new Error(`no ${part} process on ${node.name}`);
  }
  return "3 kube-proxy and 3 flanneld processes";
}, { points: 1 });
await check("the Services are as the lab made them, with endpoints, and every node's kube-proxy chains lead to exactly those", async () => {
  const web = JSON.parse((await node1.$`kubectl get service web -o json`).stdout) as { spec: { clusterIP: string; selector?: Record<string, string> } };
  if (web.spec.clusterIP !== "10.96.0.100" || JSON.stringify(web.spec.selector) !== '{"app":"web"}') throw new Error(`service web: ${web.spec.clusterIP}, selector ${JSON.stringify(web.spec.selector)}`);
  const services = [["default", "web", "http", 1], ["kube-system", "kube-dns", "dns", 2], ["default", "kubernetes", "https", 1]] as const;
  for (const [namespace, name, port, count] of services) {
    const endpoints = await serviceEndpoints(node1, namespace, name, port);
    if (endpoints.length !== count) throw new Error(`${namespace}/${name} has ${endpoints.length} ready endpoint(s), not ${count}: ${endpoints.join(" ") || "none"}`);
    for (const node of nodes) {
      const targets = await kubeProxyTargets(node, `${namespace}/${name}:${port}`);
      if (targets.join(" ") !== endpoints.join(" ")) throw new Error(`${node.name}'s kube-proxy chains send ${namespace}/${name}:${port} to ${targets.join(" ") || "nothing"}; the endpoints are ${endpoints.join(" ")}`);
    }
  }
  return "web (selector app=web), kube-dns (2 CoreDNS pods) and kubernetes: endpoints and every node's chains agree";
}, { within: 5000, points: 1 });
await check("nothing else changed: every node's rules, policies and routes are as before the fault", async () => {
  const now = await Promise.all(nodes.map((node) => networkState(node)));
  const changes = stateChanges(baseline, now, OBSERVING_OR_ENDPOINT_RULE);
  if (changes.length > 0) throw new Error(`differences from the state before the fault:\n${changes.join("\n")}`);
  return `${now.reduce((n, s) => n + s.rules.length, 0)} rules and ${now.reduce((n, s) => n + s.routes.length, 0)} routes as before (kube-proxy's per-endpoint KUBE-SEP chains checked above instead)`;
}, { points: 1 });

// %% [markdown]
// ## What you practised
//
// A fault shows up as a pattern across the checklist: which steps fail, and which still pass, narrows
// it down before any tool is used. Then each tool answers one question: **ip route get** (which way?),
// **ip neigh / arping** (to which MAC?), **tcpdump** (is it on the wire, with which addresses?),
// **iptables -L -v** counters, **TRACE** and **NFLOG** (which rule takes it?), **conntrack -L** (what
// did NAT decide?), **dig** (which name, from whom?). Inside a namespace, watch iptables with TRACE and
// NFLOG, not LOG: LOG writes to the host's kernel log, which a namespace cannot reach.
//
// On a real cluster the same layers have owners: the bridge and the routes are flannel's (its CNI plugin
// and flanneld), the DNAT chains are kube-proxy's, DNS is the CoreDNS Deployment behind `kube-dns`. So
// a fault can also be in Kubernetes' objects or components: a Service whose selector matches no pod (no
// endpoints: kube-proxy writes a REJECT), a Deployment scaled to 0, or a kube-proxy that stopped and no
// longer follows the endpoints (its old rules stay, and go stale). `kubectl get endpointslices` and
// `pgrep` on each node find those; the same iptables and route tools find the rest.
