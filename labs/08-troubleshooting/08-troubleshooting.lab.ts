// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
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
// This lab builds a small cluster with all six paths, turns the checklist into code, and then shows
// the lesson's tools for real inside the nodes: `tcpdump`, `conntrack -L`, `arping`, `traceroute`,
// `dig`, and the two ways to watch iptables from the inside: `-j TRACE` with `xtables-monitor --trace`,
// and `-j NFLOG` with `tcpdump -i nflog:N`. At the end, the lab **breaks something you have not
// seen**, and you find and repair it.
//
// ```
//             "internet" 203.0.113.10 :80 (a web server behind the gateway; routes only to the LAN)
//                                    │
//                  LAN 192.168.0.0/24, gateway 192.168.0.1 (the nodes' default route)
//   ┌───── node1 192.168.0.11 ──────┐  ┌───── node2 192.168.0.12 ─────┐  ┌─ node3 .13 ─┐
//   │ c1 10.244.1.2  (the client)   │  │ c3 10.244.2.2  web :8080     │  │ (unused     │
//   │ c2 10.244.1.3                 │  │ c4 10.244.2.3  dnsmasq :53   │  │  here)      │
//   │   └─ cni0 10.244.1.1/24       │  │   └─ cni0 10.244.2.1/24      │  │             │
//   │ "apiserver" HTTPS :6443       │  │                              │  │             │
//   │ KUBE-SERVICES (nat):          │  │ KUBE-SERVICES (the same)     │  │             │
//   │   10.96.0.1:443  -> .11:6443  │  │                              │  │             │
//   │   10.96.0.10:53  -> c4:53     │  │ MASQUERADE 10.244.2.0/24     │  │             │
//   │   10.96.0.100:80 -> c3:8080   │  │                              │  │             │
//   │ MASQUERADE 10.244.1.0/24      │  │                              │  │             │
//   └────────── eth0 ───────────────┘  └────────── eth0 ──────────────┘  └──── eth0 ───┘
//   route 10.244.2.0/24 via .12        route 10.244.1.0/24 via .11
// ```
//
// Three stand-ins, because this machine has no Kubernetes binaries and must never reach the real internet:
// - the **Services** are kube-proxy-style DNAT rules written by hand (lab 07 covers kube-proxy itself);
// - the **apiserver** is a small Python HTTPS server on node1:6443 that answers `/version`, behind the
//   `kubernetes` Service 10.96.0.1:443, as the real one is;
// - the **internet** is a web server with a documentation address, 203.0.113.10 (TEST-NET-3, never
//   routed on the real internet), that labbook runs behind the LAN's gateway (`network.internet` in
//   `infra/cluster.yaml`). The nodes reach it through their default route. It knows routes only to the
//   LAN, not to the private pod subnets, so only NATed traffic gets an answer, as on the real internet.
//   It answers every request with the address it saw: `internet 203.0.113.10: hello, 192.168.0.11`.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and name the nodes
import { cluster, check, hasRoute, hasRule, addContainer, sh, capture, keepForGrader } from "labbook";
import { injectFault, explainAndRepairFault, TROUBLESHOOTING_SERVICE_RULES, probeInPod, troubleshootingChecklist, runChecklist } from "./faults.js";
import { networkState, stateChanges, type NetworkState } from "./netstate.js";

const c = await cluster({ fresh: true });
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
await check("node1 reaches the internet through its default route, and is seen as 192.168.0.11", async () => {
  const answer = String(await node1.$`curl -sS -m 2 http://203.0.113.10/`);
  if (!answer.endsWith("hello, 192.168.0.11")) throw new Error(`the internet said: ${answer}`);
  return answer;
}, { within: 3000 });

// %% [markdown]
// ## 2. Services, DNS, the apiserver, and NAT on the way out
//
// kube-proxy turns each Service into a DNAT rule: a packet for the ClusterIP and port gets the
// address and port of a pod. Here one `KUBE-SERVICES` chain per node holds three Services, one rule
// each (lab 07 shows the full chain structure and load balancing):
//
// - `default/kubernetes` 10.96.0.1:443 → the "apiserver" on node1, 192.168.0.11:6443;
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
// The servers behind them: web in c3, dnsmasq in c4, the apiserver stand-in on node1
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

// The "apiserver": a stand-in, not kube-apiserver. HTTPS with a self-signed certificate for the
// kubernetes Service's address, answering /version with the same JSON shape as the real one.
const APISERVER = `
import http.server, json, ssl
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path in ("/version", "/healthz")
        body = (json.dumps({"major": "1", "minor": "28", "gitVersion": "v1.28.0-labbook-stand-in"}) if self.path == "/version" else "ok" if found else "not found").encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer(("192.168.0.11", 6443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/root/apiserver/cert.pem", "/root/apiserver/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
`;
await sh(node1, "mkdir -p /root/apiserver");
await sh(node1, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=kube-apiserver -addext subjectAltName=IP:10.96.0.1,IP:192.168.0.11 -keyout /root/apiserver/key.pem -out /root/apiserver/cert.pem 2>/dev/null");
await node1.put(Buffer.from(APISERVER), "/root/apiserver/server.py");
await sh(node1, "setsid -f python3 /root/apiserver/server.py > /var/log/apiserver.log 2>&1");

// Wait until each one listens (ss in the server's own namespace)
for (const [node, netns, port] of [[node2, "c3", 8080], [node2, "c4", 53], [node1, "", 6443]] as const) {
  const ss = netns ? `ip netns exec ${netns} ss -ltnuH` : "ss -ltnuH";
  await node.$`timeout 5 sh -c ${`until ${ss} | grep -q ':${port} '; do sleep 0.1; done`}`;
}
console.log("all three servers listen");

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
await check("the internet saw node1's address (192.168.0.11), not the pod's: MASQUERADE worked", async () => {
  const answer = await fromC1("curl -sS -m 2 http://203.0.113.10/");
  if (!answer.endsWith("hello, 192.168.0.11")) throw new Error(`the internet said: ${answer}`);
  return answer;
});

// %% [markdown]
// ## 4. The tools, for real inside the nodes
//
// Each tool answers one question. `capture(node, {iface, filter}, during)` runs `tcpdump` on a node
// while something else happens, and `sh(node, command)` prints a command and its output as a terminal
// would.
//
// ### tcpdump on eth0: what is on the wire?
// Between node1 and node2 the pod addresses travel unchanged (no NAT between pods). On its way to the
// internet, the same pod leaves node1's eth0 as node1: that is MASQUERADE (POSTROUTING runs before
// the packet reaches the wire, so tcpdump on eth0 sees the rewritten source).

// %% labbook={"id": "tool-tcpdump", "role": "step"}
// tcpdump: on node2's eth0 while c1 pings c3, and on node1's eth0 while c1 fetches from the internet
const onWire = await capture(node2, { iface: "eth0", filter: "icmp", count: 2 }, () => fromC1("ping -c1 -W1 10.244.2.2"));
const atEdge = await capture(node1, { iface: "eth0", filter: "tcp port 80 and host 203.0.113.10", count: 1 }, () => fromC1("curl -s -o /dev/null http://203.0.113.10/"));

// %% labbook={"id": "check-tcpdump", "role": "check"}
// Check: pod addresses between nodes, node1's address at the internet
await check("on node2's eth0, the ping goes 10.244.1.2 > 10.244.2.2", () => {
  if (!onWire.some((l) => l.includes("10.244.1.2 > 10.244.2.2: ICMP echo request"))) throw new Error(onWire.join("\n") || "no packets");
  return onWire[0]!;
});
await check("on node1's eth0, the request to the internet comes from 192.168.0.11", () => {
  if (!atEdge[0]?.includes("192.168.0.11.")) throw new Error(atEdge.join("\n") || "no packets");
  return atEdge[0];
});

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
const arping = await sh(node1, "arping -c1 -w1 -I eth0 192.168.0.12");
const neighbour = await sh(node1, "ip neigh show 192.168.0.12");
const node2Mac = (await node2.$`cat /sys/class/net/eth0/address`).stdout.trim();
console.log(`node2's eth0 is ${node2Mac}`);

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
await sh(node1, "ip netns exec c1 traceroute -n -q1 -w1 203.0.113.10");
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
// host, so here LOG counts packets but prints nothing. The cell below shows that.
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
await check("the node cannot see or set nf_log_all_netns", async () => {
  const sysctl = await node1.$({ nothrow: true })`sysctl net.netfilter.nf_log_all_netns`;
  if (sysctl.ok) throw new Error(`it is visible: ${sysctl.stdout}`);
  return sysctl.stderr.trim();
});

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
// ## 5. Break-fix
//
// The next cell records the network's state (iptables rules, policies and routes on every node) and
// then **injects one fault** somewhere in the cluster. Which one depends on your **seed**: `labbook run
// --seed S` sets it headless, `labbook notebook --seed S` in Jupyter (both put it in the kernel's `LABBOOK_SEED`); two
// students with different seeds usually get different faults. The notebook does not say which fault you got.
// (The faults are listed in this lab's faults.ts, so a determined student could look it up there.
// That is like reading the answer key: it teaches nothing.)
//
// How to work:
// 1. Run the checklist (the cell after the next). Note which steps fail. The first failing step
//    is usually the nearest to the fault, and later failures often follow from it.
// 2. Use the table at the top of this lab and the tools of section 4 to find the exact cause. Look
//    at both ends of a failing path: `iptables -S`, `iptables -t nat -S`, `iptables -L -v -n`
//    (counters!), `ip route`, `ip route get`, `ip neigh`, `arping`, `tcpdump`, `conntrack -L`,
//    TRACE and NFLOG all work here.
// 3. Repair **the fault itself**, with the command that undoes it. Don't flush tables, don't add
//    accept-everything rules, don't change routes or rules that are right. The hidden checks compare
//    the cluster with its state before the fault. TRACE, NFLOG and LOG rules you leave behind are
//    ignored, because they only watch.
// 4. Run the checklist again: every step must pass.

// %% labbook={"id": "inject", "role": "step"}
// Record the network's state, then break one thing. Which one depends on your seed.
const baseline: NetworkState[] = await Promise.all(nodes.map((node) => networkState(node)));
keepForGrader("baseline", baseline); // the grader compares with it, in a kernel of its own
await injectFault(c);
console.log("A fault was injected somewhere in the cluster. Run the checklist to see what it breaks.");

// %% labbook={"id": "diagnose", "role": "step"}
// Run the checklist. Run this cell again after each change you make.
await runChecklist(CHECKLIST);

// %% labbook={"id": "exercise-repair", "role": "exercise", "points": 8}
// Your turn: find the fault with the tools from section 4, then repair it here.
// Looking (examples):
//   await sh(node1, "iptables -L -v -n");  await sh(node2, "iptables -t nat -S");  await sh(node2, "ip route");
//   await sh(node1, "ip neigh");  await sh(node1, "arping -c1 -w1 -I eth0 192.168.0.12");
//   await capture(node2, { iface: "eth0", filter: "icmp" }, () => fromC1("ping -c1 -W1 10.244.2.2"));
// Repairing: the one command (or two) that undoes the fault, on the node where it is:
//   await sh(nodeN, "...");
// Then: await runChecklist(CHECKLIST);

// %% labbook={"id": "solution-repair", "role": "solution", "points": 8}
// Solution (instructor): faults.ts knows the fault the seed chose; it shows the evidence, then repairs it
await explainAndRepairFault(c);
await runChecklist(CHECKLIST);

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, hasRule, keptForGrader } from "labbook";
// import { troubleshootingChecklist, TROUBLESHOOTING_SERVICE_RULES } from "./faults.js";
// import { networkState, stateChanges, type NetworkState } from "./netstate.js";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
// const nodes = [node1, node2, node3];
// const CHECKLIST = troubleshootingChecklist(c);
// const SERVICE_RULES = TROUBLESHOOTING_SERVICE_RULES;
// // The state before the fault, as the step that injected it recorded it
// const baseline = keptForGrader<NetworkState[]>("baseline");

// %% labbook={"id": "hidden-repair", "role": "hidden-check", "hint": "Run the checklist: the first failing step points at the fault. Repair that one thing with the command that undoes it; don't flush tables or add accept-everything rules."}
// Hidden check: the checklist passes again, and the repair changed nothing else
for (const item of CHECKLIST) await check(`${item.step}. ${item.name}`, item.probe, { within: 3000, points: 1 });
await check("the Services' DNAT rules and the pod-subnet MASQUERADE are as the lab set them", async () => {
  for (const rule of SERVICE_RULES) {
    const target = /--to-destination (\S+)/.exec(rule)![1]!;
    const address = /-d (\S+)/.exec(rule)![1]!;
    await hasRule(node1, "nat", "KUBE-SERVICES", new RegExp(`-d ${address.replace(/\./g, "\\.")} .*--to-destination ${target.replace(/\./g, "\\.")}$`));
  }
  await hasRule(node1, "nat", "POSTROUTING", /^-A POSTROUTING -s 10\.244\.1\.0\/24 ! -d 10\.244\.0\.0\/16 -j MASQUERADE$/);
  return "three DNAT rules and the MASQUERADE for 10.244.1.0/24 are in place";
}, { points: 1 });
await check("nothing else changed: every node's rules, policies and routes are as before the fault", async () => {
  const now = await Promise.all(nodes.map((node) => networkState(node)));
  const changes = stateChanges(baseline, now);
  if (changes.length > 0) throw new Error(`differences from the state before the fault:\n${changes.join("\n")}`);
  return `${now.reduce((n, s) => n + s.rules.length, 0)} rules and ${now.reduce((n, s) => n + s.routes.length, 0)} routes as before`;
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
