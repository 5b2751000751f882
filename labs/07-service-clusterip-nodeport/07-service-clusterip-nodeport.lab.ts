// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes:
//       defer: [flanneld, kube-proxy]
// ---

// %% [markdown]
// # Lab 07: Service ClusterIP and NodePort
//
// A Kubernetes **Service** gives a set of pods one stable address. The lesson's example is `helloworld`:
//
//     default/helloworld   ClusterIP 10.105.189.133   port 80/TCP   NodePort 31061
//
// - **ClusterIP**: a virtual IP. No interface on any machine has it; it exists only as iptables rules.
// - **Endpoints**: the pods behind the Service (`pod IP:port`), e.g. `10.244.2.2:80` and `10.244.3.2:80`.
// - **kube-proxy** (iptables mode) runs on every node. It watches Services and Endpoints and writes
//   the same rules into every node's `nat` table. It never touches the packets itself: the kernel does.
// - **DNAT**: the first packet of a connection to `10.105.189.133:80` gets the address of one endpoint
//   written into its destination. **conntrack** remembers the choice, so the rest of the connection,
//   and the replies, are translated the same way without going through the rules again.
// - **`-m statistic --mode random --probability p`**: the rule matches a packet with probability `p`.
//   This match is how kube-proxy picks an endpoint at random.
// - **NodePort**: the same Service on port `31061` of *every* node's own address.
// - **KUBE-MARK-MASQ / KUBE-POSTROUTING**: a packet that needs source NAT gets mark `0x4000`. On the
//   way out, `MASQUERADE` rewrites its source to the node's address, so the reply comes back through
//   the node that did the DNAT.
//
// The chains kube-proxy writes, and the order a new connection goes through them:
//
// ```
//  PREROUTING (from pods and from outside) ─┐
//  OUTPUT     (from the node itself) ───────┴─▶ KUBE-SERVICES
//       │ -d 10.105.189.133/32 --dport 80 ─────────────────────────▶ KUBE-SVC-2WB5SOAIQNMPIUJO
//       │ --dst-type LOCAL (any of this node's addresses)                │ p=0.5 ─▶ KUBE-SEP-… ─ DNAT 10.244.2.2:80
//       └─────────▶ KUBE-NODEPORTS --dport 31061 ─┬─▶ KUBE-MARK-MASQ     └ rest ─▶ KUBE-SEP-… ─ DNAT 10.244.3.2:80
//                                                 └─▶ KUBE-SVC-2WB5SOAIQNMPIUJO
//  POSTROUTING ─▶ KUBE-POSTROUTING: mark 0x4000? ─▶ MASQUERADE (source := this node's address)
// ```
//
// and the cluster you build them on:
//
// ```
//    node1 192.168.0.11          node2 192.168.0.12          node3 192.168.0.13
//   ┌────────────────────┐      ┌────────────────────┐      ┌────────────────────┐
//   │ client 10.244.1.2  │      │ hello-a 10.244.2.2 │      │ hello-b 10.244.3.2 │
//   │  cni0 10.244.1.1   │      │  cni0 10.244.2.1   │      │  cni0 10.244.3.1   │
//   │ nat: KUBE-* chains │      │ nat: KUBE-* chains │      │ nat: KUBE-* chains │
//   └─────────┬──────────┘      └─────────┬──────────┘      └─────────┬──────────┘
//             └──────────────── LAN 192.168.0.0/24 ──────────────────┘
// ```
//
// You play kube-proxy: you write its chains on all three nodes, by hand. Then (sections 8 to 11) the real
// kube-proxy writes them for a real `helloworld` Deployment, and you compare its rules with yours and with the
// lesson's, line by line.
//
// The cluster runs Kubernetes v1.35.4, started **without** flanneld and kube-proxy: they would fight over
// what you build by hand (`cni0`, the pod routes, the `KUBE-*` chains). The lab starts them in section 8.

// %% labbook={"id": "setup", "role": "setup"}
// Connect to the cluster and name the nodes
import { cluster, check, addContainer, inContainer, runShown, onlyWith, kubernetesStart, scaledSeconds } from "labbook";
import { curlTally, formatTally, portProtoHash, dnatRule, dnatPackets, evenSplit, serviceRules, serviceEndpoints, printedProbabilities } from "./kube-proxy.js";

// Kubernetes without flanneld and kube-proxy: the lab starts them itself, after the by-hand part (section 8)
const c = await cluster({ fresh: true, kubernetes: { defer: ["flanneld", "kube-proxy"] } });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
const nodes = [node1, node2, node3];

// %% [markdown]
// ## 1. Pods and a flat pod network
//
// Each node gets a pod subnet out of `10.244.0.0/16`, as flannel would hand out: node*N* holds
// `10.244.N.0/24`, behind a bridge `cni0` at `10.244.N.1`. So a pod's address tells you its node: the
// lesson's endpoint `10.244.1.3` lived on the node with `10.244.1.0/24`. Here the two `helloworld` pods
// are **hello-a** (`10.244.2.2`, node2) and **hello-b** (`10.244.3.2`, node3), and **client**
// (`10.244.1.2`, node1) is a pod to send requests from.
//
// Each node forwards packets and routes the other nodes' pod subnets to them (lab 02's plain routes).
// Every node needs this, node1 included: it must reach the pods, and they must reach the client.
//
// Each helloworld pod runs a tiny HTTP server that answers with its own name. It also writes the
// address of every client it sees to `/tmp/<pod>.log`: that shows what NAT did to the source.

// %% labbook={"id": "pods", "role": "step"}
// Pods, routes between the pod subnets, and a web server in each helloworld pod
await addContainer(node1, { name: "client", address: "10.244.1.2/24", bridge: "cni0", gateway: "10.244.1.1/24" });
await addContainer(node2, { name: "hello-a", address: "10.244.2.2/24", bridge: "cni0", gateway: "10.244.2.1/24" });
await addContainer(node3, { name: "hello-b", address: "10.244.3.2/24", bridge: "cni0", gateway: "10.244.3.1/24" });
// kubelet's --hairpin-mode=hairpin-veth: a pod's bridge port may send a frame back where it came from (section 6)
await runShown(node2, ["bridge link set dev veth-hello-a hairpin on"]);
await runShown(node3, ["bridge link set dev veth-hello-b hairpin on"]);

for (const node of nodes) {
  const n = Number(node.ip.split(".")[3]) - 10; // node1 -> 1: its pod subnet is 10.244.1.0/24
  const routes = nodes.filter((other) => other !== node).map((other) => {
    const m = Number(other.ip.split(".")[3]) - 10;
    return `ip route add 10.244.${m}.0/24 via ${other.ip}`;
  });
  await runShown(node, ["sysctl -w net.ipv4.ip_forward=1", "iptables -P FORWARD ACCEPT", ...routes]);
  console.log(`${node.name}: pods in 10.244.${n}.0/24 stay on cni0`);
}

// The server: answers GET with the pod's name; logs each client's address, as the pod sees it.
const helloServer = `
import http.server, sys
name = sys.argv[1]
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, format, *args):
        print(self.client_address[0], flush=True)
http.server.ThreadingHTTPServer(("", 80), Hello).serve_forever()
`;
async function startHello(node: typeof node1, pod: string): Promise<void> {
  console.log(`${node.name}# setsid -f ip netns exec ${pod} python3 -c "$HELLO_SERVER" ${pod} > /tmp/${pod}.log 2>&1`);
  await node.$`setsid -f ip netns exec ${pod} python3 -c ${helloServer} ${pod} > /tmp/${pod}.log 2>&1`;
  // Wait (up to 5 s) until it listens, so that no request comes before the server does.
  await node.$`for i in $(seq 50); do ip netns exec ${pod} curl -s -o /dev/null http://127.0.0.1/ && exit 0; sleep 0.1; done; exit 1`;
}
await startHello(node2, "hello-a");
await startHello(node3, "hello-b");

// %% labbook={"id": "check-pods", "role": "check"}
// Check: the client pod reaches both helloworld pods directly, by their pod IPs
for (const [pod, ip] of [["hello-a", "10.244.2.2"], ["hello-b", "10.244.3.2"]]) {
  await check(`client gets "${pod}" from http://${ip}/`, async () => {
    const answer = await inContainer(node1, "client", `curl -s --max-time 2 http://${ip}/`);
    if (answer.stdout.trim() !== pod) throw new Error(`the answer was "${answer.stdout.trim()}" (exit ${answer.exitCode})`);
    return `${ip} answered "${pod}"`;
  }, { within: 5000 });
}

// %% [markdown]
// ## 2. Chain names: kube-proxy's hash
//
// kube-proxy names a Service's chain after the **service port**, not after the ClusterIP. From
// `pkg/proxy/iptables/proxier.go`:
//
// ```go
// func portProtoHash(servicePortName string, protocol string) string {
// 	hash := sha256.Sum256([]byte(servicePortName + protocol))
// 	encoded := base32.StdEncoding.EncodeToString(hash[:])
// 	return encoded[:16]
// }
// // KUBE-SVC-<portProtoHash(servicePortName, protocol)>
// // KUBE-SEP-<same, over servicePortName + protocol + endpoint>, endpoint like "10.244.2.2:80"
// ```
//
// - `servicePortName` is `namespace/name:portname`. `helloworld`'s port has no name, so in the
//   lesson's kube-proxy it is `default/helloworld:`. The trailing colon is also in the rule comments,
//   `"default/helloworld:"`.
// - `protocol` is lower case: `tcp`. The two strings are joined with no separator.
// - SHA-256, then base32 (RFC 4648: `A–Z2–7`, 5 bits a character), cut to 16 characters (80 bits).
//   iptables limits chain names to 28 characters, and `KUBE-SVC-` + 16 is 25.
// - Why a hash? Every node works out the same name on its own, with no coordination. The name stays
//   the same across kube-proxy restarts, so kube-proxy can find and replace its own chains. And it
//   uses only characters that are safe in a chain name.
//
// Below, the same computation: `portProtoHash` (in this lab's `kube-proxy.ts`) does it with
// `node:crypto` and a few lines of base32, since Node.js has no base32 encoder.

// %% labbook={"id": "hash", "role": "step"}
// kube-proxy's chain names, computed as kube-proxy computes them
// portProtoHash (this lab's kube-proxy.ts) is base32(sha256(servicePortName + protocol + endpoint))[:16]

const SERVICE_PORT = "default/helloworld:"; // namespace/name:portname, and the port has no name
const SVC = `KUBE-SVC-${portProtoHash(SERVICE_PORT, "tcp")}`;
const sepChain = (endpoint: string) => `KUBE-SEP-${portProtoHash(SERVICE_PORT, "tcp", endpoint)}`;
const SEP_A = sepChain("10.244.2.2:80"); // hello-a
const SEP_B = sepChain("10.244.3.2:80"); // hello-b

console.log(`sha256("default/helloworld:tcp")              -> ${SVC}   (lesson: KUBE-SVC-2WB5SOAIQNMPIUJO)`);
console.log(`sha256("default/helloworld:tcp10.244.1.3:80") -> ${sepChain("10.244.1.3:80")}   (lesson: KUBE-SEP-3F6YTS3NO7JJQOGS)`);
console.log(`sha256("default/helloworld:tcp10.244.2.2:80") -> ${SEP_A}   (hello-a)`);
console.log(`sha256("default/helloworld:tcp10.244.3.2:80") -> ${SEP_B}   (hello-b)`);
console.log(`newer kube-proxy, no colon for an unnamed port: sha256("default/helloworld" + "tcp") -> KUBE-SVC-${portProtoHash("default/helloworld", "tcp")}`);

// %% labbook={"id": "check-hash", "role": "check"}
// Check: our hash gives the lesson's own chain names
await check("the service chain is the lesson's KUBE-SVC-2WB5SOAIQNMPIUJO", () => {
  if (SVC !== "KUBE-SVC-2WB5SOAIQNMPIUJO") throw new Error(`computed ${SVC}`);
  return `${SVC} = KUBE-SVC- + base32(sha256("default/helloworld:" + "tcp"))[:16]`;
});
await check("the lesson's endpoint 10.244.1.3:80 hashes to its KUBE-SEP-3F6YTS3NO7JJQOGS", () => {
  const sep = sepChain("10.244.1.3:80");
  if (sep !== "KUBE-SEP-3F6YTS3NO7JJQOGS") throw new Error(`computed ${sep}`);
  return `${sep} = KUBE-SEP- + base32(sha256("default/helloworld:" + "tcp" + "10.244.1.3:80"))[:16]`;
});

// %% [markdown]
// Both of the lesson's names come out exactly. The lesson's kube-proxy printed a service port name as
// `"%s:%s"` (namespace/name, a colon, the port name), even when the port name was empty. Newer
// kube-proxy releases leave the colon out when the port has no name (`default/helloworld`), so on a
// current cluster the same Service would get the chain printed above, not `2WB5SOAIQNMPIUJO`. The recipe
// has not changed, only the input string: the chain name is stable within one kube-proxy version,
// not across versions. The by-hand part uses the lesson's form; section 9 computes the real one.

// %% [markdown]
// ## 3. The chains, on every node
//
// These are the lesson's rules, plus the parts its excerpt leaves out: the KUBE-SEP chain for each
// endpoint, the NodePort's KUBE-MARK-MASQ, and the masquerade rule. kube-proxy does not add rules one at a
// time. It writes the whole table with `iptables-restore --noflush`: each `:CHAIN - [0:0]` line creates
// that chain, or empties it if it exists, and the built-in chains keep their other rules.
//
// - **KUBE-SERVICES** (from PREROUTING and OUTPUT): one rule per Service port matches
//   `ClusterIP:port`. Its last rule sends traffic for any address of this node (`--dst-type LOCAL`) to
//   KUBE-NODEPORTS.
// - **KUBE-NODEPORTS**: `--dport 31061` marks the packet for masquerade, then goes to the Service.
// - **KUBE-SVC-…**: picks an endpoint. With *n* endpoints, rule *i* (from 0) matches with probability
//   `1/(n−i)`, and the last rule always matches. For two endpoints that is `0.5`, then the rest. Each
//   endpoint gets ½.
// - **KUBE-SEP-…**: one per endpoint: `DNAT --to-destination pod:port`. Before that, a rule marks the
//   packet for masquerade if the pod is talking to itself (hairpin, see section 6).
// - **KUBE-MARK-MASQ** sets mark `0x4000`. **KUBE-POSTROUTING** masquerades marked packets.
//
// kube-proxy started with `--cluster-cidr` also adds `! -s 10.244.0.0/16 -d 10.105.189.133/32 … -j
// KUBE-MARK-MASQ`, which masquerades ClusterIP traffic that does not come from a pod. This lab leaves it out:
// nothing here needs it.
//
// kube-proxy writes `--probability 0.5000000000` (10 decimals). iptables stores it as an integer
// fraction of 2³¹ and prints it back as `0.50000000000`. For ⅓ it prints `0.33333333349`. These nodes
// run iptables-nft (`iptables -V`), so the rules are really nftables rules: `nft list table ip nat`
// shows `statistic` as `meta random & 2147483647 < 1073741824`.

// %% labbook={"id": "chains", "role": "step"}
// kube-proxy's nat rules for helloworld, written with iptables-restore on every node
const COMMENT = `-m comment --comment "${SERVICE_PORT}"`;
const natRules = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:${SVC} - [0:0]
:${SEP_A} - [0:0]
:${SEP_B} - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE
-A KUBE-SERVICES -d 10.105.189.133/32 -p tcp -m comment --comment "${SERVICE_PORT} cluster IP" -m tcp --dport 80 -j ${SVC}
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -p tcp ${COMMENT} -m tcp --dport 31061 -j KUBE-MARK-MASQ
-A KUBE-NODEPORTS -p tcp ${COMMENT} -m tcp --dport 31061 -j ${SVC}
-A ${SVC} ${COMMENT} -m statistic --mode random --probability 0.5000000000 -j ${SEP_A}
-A ${SVC} ${COMMENT} -j ${SEP_B}
-A ${SEP_A} -s 10.244.2.2/32 ${COMMENT} -j KUBE-MARK-MASQ
-A ${SEP_A} -p tcp ${COMMENT} -m tcp -j DNAT --to-destination 10.244.2.2:80
-A ${SEP_B} -s 10.244.3.2/32 ${COMMENT} -j KUBE-MARK-MASQ
-A ${SEP_B} -p tcp ${COMMENT} -m tcp -j DNAT --to-destination 10.244.3.2:80
COMMIT
`;
console.log("# the same input on node1, node2 and node3:  iptables-restore --noflush <<'EOF'");
console.log(natRules + "EOF");
for (const node of nodes) await node.$({ input: natRules })`iptables-restore --noflush`;
console.log(`\nnode3# iptables -t nat -S ${SVC}`);
console.log(String(await node3.$`iptables -t nat -S ${SVC}`));

// %% labbook={"id": "check-chains", "role": "check"}
// Check: every node has the portals, the ClusterIP rule, the NodePort rule and the split
for (const node of nodes) {
  await check(`${node.name}: PREROUTING, OUTPUT and POSTROUTING jump to the KUBE chains`, async () => {
    const nat = (await node.$`iptables -t nat -S`).lines();
    const missing = ["-A PREROUTING", "-A OUTPUT"].filter((p) => !nat.some((l) => l.startsWith(p) && l.endsWith("-j KUBE-SERVICES")));
    if (!nat.some((l) => l.startsWith("-A POSTROUTING") && l.endsWith("-j KUBE-POSTROUTING"))) missing.push("-A POSTROUTING");
    if (missing.length) throw new Error(`no jump from ${missing.join(", ")}`);
    return "all three hooks jump into kube-proxy's chains";
  });
  await check(`${node.name}: 10.105.189.133:80 and port 31061 lead to ${SVC}, which splits 0.5 / rest`, async () => {
    const services = (await node.$`iptables -t nat -S KUBE-SERVICES`).stdout;
    const nodeports = (await node.$`iptables -t nat -S KUBE-NODEPORTS`).stdout;
    const split = (await node.$`iptables -t nat -S ${SVC}`).lines().filter((l) => l.includes("-j KUBE-SEP-"));
    if (!services.includes(`-d 10.105.189.133/32 -p tcp`) || !services.includes(`--dport 80 -j ${SVC}`)) throw new Error(`KUBE-SERVICES is:\n${services}`);
    if (!nodeports.includes(`--dport 31061 -j ${SVC}`)) throw new Error(`KUBE-NODEPORTS is:\n${nodeports}`);
    if (split.length !== 2 || !split[0]!.includes("--probability 0.50000000000") || split[1]!.includes("statistic")) throw new Error(`${SVC} is:\n${split.join("\n")}`);
    return `${split.length} jumps: p=0.5 to ${SEP_A}, the rest to ${SEP_B}`;
  });
}

// %% [markdown]
// ## 4. ClusterIP from a pod
//
// The client pod sends 100 requests to `http://10.105.189.133/`, each on a new TCP connection. Its
// first packet (the SYN) enters node1 from `cni0` and goes through PREROUTING, KUBE-SERVICES,
// `KUBE-SVC-…` and one `KUBE-SEP-…`, where DNAT picks the pod. Nothing is rewritten on node2 or node3.
// The reply comes back through node1, where conntrack puts `10.105.189.133` back as its source.
//
// **How even?** Each request is a fair coin toss. Over 100, each pod's count follows a binomial
// distribution with mean 50 and standard deviation 5. The check accepts **30 to 70**: that is 4σ on either side,
// so a correct setup fails it about once in 30,000 runs. A wrong probability (all to one pod, or
// 0.9 / 0.1) lands far outside.
//
// **The counters.** A rule's packet counter counts the packets it matched. The nat table sees only
// the first packet of each connection, so each request adds exactly one to one `KUBE-SEP-…` DNAT rule
// on node1. The counters are zeroed first (`iptables -t nat -Z`). After the run, each DNAT counter must
// equal the number of answers from that pod. One exception, on a busy machine: a SYN lost before conntrack
// confirmed its connection meets the nat table again when it is retransmitted. So a counter may exceed the
// answers, by at most the client's retransmitted TCP segments (`RetransSegs` in `/proc/net/snmp`).

// %% labbook={"id": "clusterip-pod", "role": "step"}
// 100 requests from the client pod to the ClusterIP, then node1's counters
// dnatRule(node, sep) (kube-proxy.ts): the DNAT rule of a KUBE-SEP chain, with its counters, from iptables-save -c
const podEndpoints = [["hello-a", SEP_A], ["hello-b", SEP_B]] as const;

await runShown(node1, ["iptables -t nat -Z"]);
const fromPod = await curlTally(node1, "http://10.105.189.133/", 100, { container: "client" });
console.log(formatTally(fromPod));
console.log(`\nnode1# iptables-save -c -t nat | grep -- "-j DNAT"   # [packets:bytes] before each rule`);
for (const [, sep] of podEndpoints) {
  const rule = await dnatRule(node1, sep);
  console.log(rule ? `[${rule.packets}:${rule.bytes}] ${rule.rule}` : `(no DNAT rule in ${sep})`);
}

// %% labbook={"id": "check-clusterip-pod", "role": "check"}
// Check: every request answered, an even split, and the counters agree
// evenSplit(tally, pods, low, high) (kube-proxy.ts): passes when no request failed and each pod answered low-high times
/** Passes when each pod's KUBE-SEP DNAT counter on `node` equals its answers in `tally` (plus, at most, the SYNs retransmitted). */
async function countersMatch(node: typeof node1, tally: Awaited<ReturnType<typeof curlTally>>, endpoints: readonly (readonly [string, string])[]): Promise<string> {
  const seen: string[] = [];
  for (const [pod, sep] of endpoints) {
    const packets = await dnatPackets(node, sep), answers = tally.answers.get(pod) ?? 0;
    seen.push(`${pod}: ${answers} answers, ${sep} DNAT ${packets} packets`);
    if (packets < answers || packets > answers + tally.retransmitted) {
      throw new Error(`counters and answers differ on ${node.name} (${tally.retransmitted} TCP segments retransmitted):\n  ${seen.join("\n  ")}`);
    }
  }
  return seen.join("; ") + (tally.retransmitted > 0 ? ` (${tally.retransmitted} TCP segments retransmitted)` : "");
}
await check("100 requests from the client pod split evenly between hello-a and hello-b", () => evenSplit(fromPod, ["hello-a", "hello-b"], 30, 70));
await check("node1's KUBE-SEP DNAT counters equal the answers from each pod", () => countersMatch(node1, fromPod, podEndpoints));
await check("the pods saw the client pod's own address (ClusterIP traffic is not masqueraded)", async () => {
  const sources = new Set((await node2.$`tail -n 20 /tmp/hello-a.log`).lines());
  if (sources.size !== 1 || !sources.has("10.244.1.2")) throw new Error(`hello-a's last clients: ${[...sources].join(", ")}`);
  return "hello-a's log: 10.244.1.2";
});

// %% [markdown]
// ## 5. ClusterIP from a node: the OUTPUT path
//
// A process on node1 itself does not go through PREROUTING: its packets start in **OUTPUT**. That is
// why kube-proxy hooks KUBE-SERVICES into both. node1 needs a route to `10.105.189.133` before the
// rules ever see the packet. Its default route does it. After DNAT, the kernel routes the packet again,
// now to the pod's address, and it leaves via node2 or node3. The source is node1's own `192.168.0.11`,
// which the pods can answer directly.

// %% labbook={"id": "clusterip-node", "role": "step"}
// 100 requests from node1 itself (the OUTPUT path)
await runShown(node1, ["iptables -t nat -Z"]);
const fromNode = await curlTally(node1, "http://10.105.189.133/", 100);
console.log(formatTally(fromNode));
console.log(String(await node1.$`iptables -t nat -L OUTPUT -v -n -x`));

// %% labbook={"id": "check-clusterip-node", "role": "check"}
// Check: the OUTPUT path splits evenly too, and the counters agree
await check("100 requests from node1 split evenly between hello-a and hello-b", () => evenSplit(fromNode, ["hello-a", "hello-b"], 30, 70));
await check("node1's KUBE-SEP DNAT counters equal the answers, again", () => countersMatch(node1, fromNode, podEndpoints));

// %% [markdown]
// ## 6. NodePort on every node, masquerade and hairpin
//
// `http://<any node>:31061/` reaches the Service. The client pod tries all three nodes. Take a request
// to node2 (`192.168.0.12:31061`) that node2 sends to hello-b on node3:
//
// - **without masquerade** the SYN reaches hello-b with source `10.244.1.2`. hello-b answers
//   straight to node1, from `10.244.3.2:80`. The client expects an answer from `192.168.0.12:31061`,
//   so it drops this one (it answers with a reset). The connection fails.
// - **with masquerade** (KUBE-NODEPORTS → KUBE-MARK-MASQ, then KUBE-POSTROUTING on node2) the SYN
//   leaves node2 with source `192.168.0.12`. hello-b answers node2, and node2's conntrack undoes both
//   NATs. hello-b's log shows `192.168.0.12` as its client.
// - a request to **node3**'s NodePort that lands on node3's own hello-b leaves node3 by `cni0`.
//   MASQUERADE uses the address of the interface the packet leaves by, so hello-b sees `10.244.3.1`.
//
// **Hairpin**: a pod may call its own Service and be picked itself. That takes two things:
//
// - *masquerade*: after DNAT the packet has source = destination = `10.244.2.2`, and the pod's kernel
//   drops a packet that claims to come from its own address. `-A KUBE-SEP-… -s 10.244.2.2/32 -j
//   KUBE-MARK-MASQ` makes the source the bridge's `10.244.2.1`, which the pod answers.
// - *hairpin mode on the bridge port*: the nodes have `net.bridge.bridge-nf-call-iptables = 1` (check
//   with `sysctl`), as Kubernetes requires, so iptables sees frames while they cross `cni0`. A
//   Service packet is DNATed inside the bridge and must leave by the port it came in on, `veth-hello-a`.
//   A Linux bridge never does that, unless the port has `hairpin on`. kubelet sets it
//   (`--hairpin-mode=hairpin-veth`); section 1 did too. Without it, these requests time out.

// %% labbook={"id": "nodeport", "role": "step"}
// The NodePort on each node, from the client pod; then hello-a calls its own Service
const linesBefore = Number(String(await node3.$`wc -l < /tmp/hello-b.log`));
const nodePortTallies = new Map<string, Awaited<ReturnType<typeof curlTally>>>();
for (const node of nodes) {
  const tally = await curlTally(node1, `http://${node.ip}:31061/`, 20, { container: "client" });
  nodePortTallies.set(node.name, tally);
  console.log(formatTally(tally));
}
const helloBClients = (await node3.$`tail -n +${linesBefore + 1} /tmp/hello-b.log | sort | uniq -c`).stdout;
console.log(`\nnode3# tail -n +${linesBefore + 1} /tmp/hello-b.log | sort | uniq -c   # who hello-b saw\n${helloBClients}`);

const hairpin = await curlTally(node2, "http://10.105.189.133/", 20, { container: "hello-a" });
console.log(formatTally(hairpin));

// %% labbook={"id": "check-nodeport", "role": "check"}
// Check: the NodePort answers on every node, from both pods; masquerade and hairpin work
for (const node of nodes) {
  await check(`${node.ip}:31061 (${node.name}) answers all 20 requests, from both pods`, () => evenSplit(nodePortTallies.get(node.name)!, ["hello-a", "hello-b"], 1, 19));
}
await check("hello-b saw NodePort clients as node addresses, never as the client pod", () => {
  const sources = helloBClients.trim().split("\n").map((l) => l.trim().split(/\s+/)[1]);
  if (sources.includes("10.244.1.2")) throw new Error(`hello-b saw the pod's own address:\n${helloBClients}`);
  if (!sources.includes("192.168.0.12")) throw new Error(`hello-b never saw node2's address:\n${helloBClients}`);
  return `hello-b's clients: ${sources.join(", ")}`;
});
await check("hairpin: hello-a calling its own Service gets every answer, some from itself", () => evenSplit(hairpin, ["hello-a", "hello-b"], 1, 19));

// %% [markdown]
// ## 7. A third endpoint, by hand
//
// Scale `helloworld` to three pods, by hand. **hello-c** goes on node3 at `10.244.3.3` (node3's `cni0` and the
// routes are already there), with hairpin mode on its bridge port and its server started. Then kube-proxy's part,
// **on every node**:
//
// 1. a chain `KUBE-SEP-…` for `10.244.3.3:80`, named by the hash, with a hairpin `KUBE-MARK-MASQ` rule and the DNAT;
// 2. the `KUBE-SVC-…` chain rewritten with three jumps, in order: `--probability 0.3333333333` to the first
//    endpoint, `0.5000000000` to the second, and the last with no probability.
//
// Why ⅓, ½, then the rest? The first rule takes ⅓ of all connections. The second sees the ⅔ left and
// takes half of them, which is another ⅓. The last rule gets the final ⅓. Writing ⅓ on both rules
// would give ⅓, then ⅔·⅓ = 2/9, and 4/9 for the last.

// %% labbook={"id": "endpoint-by-hand", "role": "step"}
// hello-c, its KUBE-SEP chain, and a 1/3, 1/2, rest split on every node
await addContainer(node3, { name: "hello-c", address: "10.244.3.3/24", bridge: "cni0", gateway: "10.244.3.1/24" });
await runShown(node3, ["bridge link set dev veth-hello-c hairpin on"]);
await startHello(node3, "hello-c");
const SEP_C = sepChain("10.244.3.3:80");
const rules3 = `*nat
:${SVC} - [0:0]
:${SEP_C} - [0:0]
-A ${SVC} ${COMMENT} -m statistic --mode random --probability 0.3333333333 -j ${SEP_A}
-A ${SVC} ${COMMENT} -m statistic --mode random --probability 0.5000000000 -j ${SEP_B}
-A ${SVC} ${COMMENT} -j ${SEP_C}
-A ${SEP_C} -s 10.244.3.3/32 ${COMMENT} -j KUBE-MARK-MASQ
-A ${SEP_C} -p tcp ${COMMENT} -m tcp -j DNAT --to-destination 10.244.3.3:80
COMMIT
`;
console.log(rules3);
for (const node of nodes) await node.$({ input: rules3 })`iptables-restore --noflush`;
await runShown(node1, ["iptables -t nat -Z"]);
const threeWay = await curlTally(node1, "http://10.105.189.133/", 150, { container: "client" });
console.log(formatTally(threeWay));

// %% labbook={"id": "check-endpoint-by-hand", "role": "check"}
// Check: every node splits 1/3, 1/2, rest over three KUBE-SEP chains, and the traffic follows
await check("on every node the service chain jumps to the three KUBE-SEP chains with p = 1/3, 1/2, rest", async () => {
  const wanted = ["10.244.2.2:80", "10.244.3.2:80", "10.244.3.3:80"].map(sepChain);
  for (const node of nodes) {
    const split = (await node.$`iptables -t nat -S ${SVC}`).lines().filter((l) => / -j KUBE-SEP-/.test(l))
      .map((l) => `${/--probability (\S+)/.exec(l)?.[1] ?? "rest"} -> ${/-j (\S+)/.exec(l)![1]}`);
    const expected = [`0.33333333349 -> ${wanted[0]}`, `0.50000000000 -> ${wanted[1]}`, `rest -> ${wanted[2]}`];
    if (split.join() !== expected.join()) throw new Error(`${node.name}: ${SVC} has ${split.join(", ") || "no jumps"}`);
  }
  return `node1, node2, node3: 0.33333333349, 0.50000000000, rest`;
});
// 25-75 of 150 at p = 1/3 (mean 50, σ ≈ 5.8): a correct split falls outside about once in 100,000 runs.
await check("150 requests from the client pod reach hello-a, hello-b and hello-c, each 25-75 times", () => evenSplit(threeWay, ["hello-a", "hello-b", "hello-c"], 25, 75));
await check("node1's DNAT counter for hello-c's KUBE-SEP chain equals hello-c's answers", async () => {
  const packets = await dnatPackets(node1, SEP_C), answers = threeWay.answers.get("hello-c") ?? 0;
  // A SYN lost before conntrack confirmed its connection meets the nat table again when it is retransmitted.
  if (packets <= 0 || packets < answers || packets > answers + threeWay.retransmitted) throw new Error(`${SEP_C} DNAT counted ${packets} packets; hello-c answered ${answers} times`);
  return `${SEP_C}: ${packets} packets = ${answers} answers`;
});

// %% [markdown]
// ## 8. The real kube-proxy and flannel
//
// Now Kubernetes does the same. This cluster came up without flanneld and kube-proxy (the lab's metadata says
// `kubernetes: {defer: [flanneld, kube-proxy]}`), because they own what you built:
//
// - flannel's CNI plugin makes its own `cni0` bridge, with the `.1` address of the node's pod subnet, and flanneld
//   routes the other nodes' subnets (over `flannel.1`, its VXLAN device). Your `cni0` and your routes would clash.
// - kube-proxy rewrites `KUBE-SERVICES`, `KUBE-NODEPORTS` and the rest, and deletes `KUBE-SVC-`/`KUBE-SEP-` chains
//   it did not make.
//
// So first you take your part down on every node: the pods (their servers, then their network namespaces; each
// veth pair goes with its namespace), `cni0`, the routes, the three hooks and every `KUBE-*` chain in `nat`
// but `KUBE-KUBELET-CANARY` (kubelet's: it checks with it that nobody flushed the table). node1's rules are saved
// first, to compare with kube-proxy's. Then `labbook-kubernetes flanneld` and `labbook-kubernetes kube-proxy` start
// the real ones on each node, as the cluster's start would have.
//
// The controller manager gives each node a `/24` in the order the nodes registered (`kubectl get node -o
// jsonpath={.spec.podCIDR}`), so node*N* no longer has to hold `10.244.N.0/24`.

// %% labbook={"id": "teardown", "role": "step", "requires": ["kubernetes"]}
// Take the by-hand pods, bridges, routes and KUBE-* chains down, then start flanneld and kube-proxy
let byHand: string[] = []; // node1's nat table as you wrote it
const byHandPods: Record<string, string[]> = { node1: ["client"], node2: ["hello-a"], node3: ["hello-b", "hello-c"] };
await onlyWith(c, "kubernetes", async () => {
  byHand = (await node1.$`iptables -t nat -S`).lines();
  for (const node of nodes) {
    const routes = nodes.filter((other) => other !== node).map((other) => `ip route del 10.244.${Number(other.ip.split(".")[3]) - 10}.0/24 via ${other.ip}`);
    await runShown(node, [
      ...byHandPods[node.name]!.map((pod) => `ip netns pids ${pod} | xargs -r kill; ip netns del ${pod}`),
      "ip link del cni0",
      ...routes,
      `iptables -t nat -D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
      `iptables -t nat -D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
      `iptables -t nat -D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
      `chains=$(iptables -t nat -S | awk '/^-N KUBE-/ && $2 != "KUBE-KUBELET-CANARY" {print $2}'); for ch in $chains; do iptables -t nat -F $ch; done; for ch in $chains; do iptables -t nat -X $ch; done`,
    ]);
  }
  // kube-proxy first: CoreDNS starts once flanneld lifts the taint, and must find 10.96.0.1 answering.
  for (const part of ["kube-proxy", "flanneld"] as const) {
    await kubernetesStart(c, part).catch(async (error: Error) => {
      // Why it did not come up: the end of each node's log of it
      for (const node of nodes) console.log(`${node.name}# tail -n 15 /var/log/kubernetes/${part}.log\n${(await node.$({ nothrow: true })`tail -n 15 /var/log/kubernetes/${part}.log`).stdout}`);
      throw error;
    });
  }
  await runShown(node1, ["kubectl get nodes -o custom-columns=NODE:.metadata.name,POD-CIDR:.spec.podCIDR"]);
});

// %% labbook={"id": "check-teardown", "role": "check", "requires": ["kubernetes"]}
// Check: flanneld routes the other nodes' pod subnets, and kube-proxy writes the kubernetes Service's chains
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) {
    await check(`${node.name}: a route to each other node's pod subnet, over flannel.1`, async () => {
      const routes = (await node.$`ip route`).lines();
      const seen: string[] = [];
      for (const other of nodes.filter((o) => o !== node)) {
        const cidr = (await node1.$`kubectl get node ${other.name} -o jsonpath={.spec.podCIDR}`).stdout.trim();
        const route = routes.find((r) => r.startsWith(`${cidr} `));
        if (!route?.includes("dev flannel.1")) throw new Error(`${other.name}'s ${cidr}: ${route ?? "no route"}`);
        seen.push(route);
      }
      return seen.join("; ");
    }, { within: 10000 });
  }
  await check("kube-proxy wrote the kubernetes Service's chains on every node", async () => {
    for (const node of nodes) {
      const rules = await serviceRules(node, "default/kubernetes:https");
      if (rules.jumps.length !== 1) throw new Error(`${node.name}: ${rules.clusterIPRule ?? "no KUBE-SERVICES rule for default/kubernetes:https"}`);
    }
    return "10.96.0.1:443 -> KUBE-SVC-… -> one KUBE-SEP-… on node1, node2, node3";
  }, { within: 10000 });
});

// %% [markdown]
// ## 9. `kubectl create deployment`, `kubectl expose`: the ClusterIP
//
// The lesson's two commands. The Deployment runs two pods of `labbook/probe:1` (it answers with its pod's name,
// like the lesson's `go-probe`); `kubectl expose` makes the Service, a ClusterIP by default. The apiserver picks a
// free ClusterIP in `10.96.0.0/12`, so it is not `10.105.189.133`. kube-proxy on every node sees the Service and
// its EndpointSlice and writes the chains.
//
// Then three listings, rule by rule: the lesson's `iptables -S -t nat`, yours (saved before the teardown), and
// kube-proxy's. To compare their *shape*, the hashes, addresses, comments and probabilities are masked (`…`).
// What you will see:
//
// - the hooks, `KUBE-SERVICES`'s ClusterIP rule, the `KUBE-SVC` jumps, and each `KUBE-SEP`'s hairpin mark and
//   DNAT are the same rules as yours and the lesson's;
// - the comment is `"default/helloworld"`, without the lesson's colon: the port has no name (section 2);
// - `KUBE-SVC` starts with a rule you left out: `! -s 10.244.0.0/16 -d <ClusterIP> … -j KUBE-MARK-MASQ`. This
//   kube-proxy runs with `--cluster-cidr`, so ClusterIP traffic that does not come from a pod is masqueraded;
// - `KUBE-POSTROUTING` returns unmarked packets first, clears the mark, then `MASQUERADE --random-fully`: the
//   same job as your one rule, and the mark no longer follows the packet (a packet may go through NAT again,
//   e.g. over VXLAN);
// - the hooks have their comment "kubernetes service portals", as in the lesson.
//
// The chain names: kube-proxy 1.35 hashes `default/helloworld` + `tcp`, since the port has no name. The cell
// computes it from the real Service (namespace, name, port name) with the same `portProtoHash`.

// %% labbook={"id": "clusterip-real", "role": "step", "requires": ["kubernetes"]}
// kubectl create deployment, kubectl expose, and kube-proxy's rules next to yours and the lesson's
/** kube-proxy's servicePortName: namespace/name, then ":portname" only when the port has a name (1.35). */
let servicePortName = "", clusterIP = "";
/** Waits (up to 20 s) until kube-proxy on every node has `endpoints` KUBE-SEP jumps for helloworld (and the NodePort rule, if given). */
async function kubeProxyCaughtUp(endpoints: number, nodePort?: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const all = await Promise.all(nodes.map((node) => serviceRules(node, servicePortName)));
    if (all.every((r) => r.jumps.length === endpoints && (nodePort === undefined || r.nodePortRules.some((l) => l.includes(`--dport ${nodePort} `))))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`kube-proxy did not write ${endpoints} endpoints for ${servicePortName} on every node within 20 s`);
}
/** A rule's shape: hashes, addresses, comments, probabilities and ports masked. */
const shape = (rule: string) => rule.replace(/KUBE-(SVC|SEP|EXT)-[A-Z2-7]{16}/g, "KUBE-$1-…").replace(/--comment "[^"]*"/g, "--comment …")
  .replace(/\d+\.\d+\.\d+\.\d+(\/\d+|:\d+)?/g, "…").replace(/--probability \S+/g, "--probability …").replace(/--dport \d+/g, "--dport …");
// The lesson's listing (one space added before its "-j KUBE-SEP-3F6YTS3NO7JJQOGS", which the excerpt lost)
const lessonRules = [
  `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
  `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
  `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
  `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/helloworld:" -m tcp --dport 31061 -j KUBE-SVC-2WB5SOAIQNMPIUJO`,
  `-A KUBE-SERVICES -d 10.105.189.133/32 -p tcp -m comment --comment "default/helloworld: cluster IP" -m tcp --dport 80 -j KUBE-SVC-2WB5SOAIQNMPIUJO`,
  `-A KUBE-SVC-2WB5SOAIQNMPIUJO -m comment --comment "default/helloworld:" -j KUBE-SEP-3F6YTS3NO7JJQOGS`,
  `-A KUBE-SEP-3F6YTS3NO7JJQOGS -p tcp -m comment --comment "default/helloworld:" -m tcp -j DNAT --to-destination 10.244.1.3:80`,
];
let realRules: string[] = []; // node1's rules for helloworld, and the hooks
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, [
    "kubectl create deployment helloworld --image=labbook/probe:1 --replicas=2",
    `kubectl rollout status deployment/helloworld --timeout=${scaledSeconds(120)}`,
    "kubectl expose deployment helloworld --port=80",
    "kubectl get pods -l app=helloworld -o wide",
    "kubectl get service helloworld",
  ]);
  const [namespace, name, portName, ip] = (await node1.$`kubectl get service helloworld -o jsonpath=${"{.metadata.namespace}|{.metadata.name}|{.spec.ports[0].name}|{.spec.clusterIP}"}`).stdout.split("|");
  servicePortName = `${namespace}/${name}${portName ? `:${portName}` : ""}`;
  clusterIP = ip!;
  await kubeProxyCaughtUp(2);
  const endpoints = await serviceEndpoints(node1, "helloworld");
  console.log(`\nthe Service's port has name "${portName}": servicePortName = "${servicePortName}"`);
  console.log(`KUBE-SVC-${portProtoHash(servicePortName, "tcp")} = KUBE-SVC- + base32(sha256("${servicePortName}" + "tcp"))[:16]`);
  for (const e of endpoints) console.log(`KUBE-SEP-${portProtoHash(servicePortName, "tcp", `${e.ip}:80`)} = KUBE-SEP- + base32(sha256("${servicePortName}tcp${e.ip}:80"))[:16]   (${e.pod})`);
  console.log(`\nnode1# iptables -S -t nat | grep -e 'kubernetes service portals' -e 'postrouting rules' -e '${servicePortName}'`);
  const nat = (await node1.$`iptables -S -t nat`).lines();
  const mine = await serviceRules(node1, servicePortName);
  const sepChains = new Set(mine.jumps.map((j) => j.target));
  realRules = nat.filter((l) => l.includes('"kubernetes service portals"') || l.includes('"kubernetes postrouting rules"') || l.includes(`"${servicePortName}`)
    || l.startsWith("-A KUBE-POSTROUTING") || [...sepChains].some((s) => l.startsWith(`-A ${s} `)));
  console.log(realRules.join("\n"));
  console.log("\nrule by rule, masked (lesson / yours / kube-proxy's):");
  const mineByHand = byHand.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|KUBE-)/.test(l));
  for (const rule of realRules) {
    const s = shape(rule);
    const inLesson = lessonRules.some((l) => shape(l) === s), inYours = mineByHand.some((l) => shape(l) === s);
    console.log(`${inLesson ? "L" : "-"} ${inYours ? "Y" : "-"}  ${s}`);
  }
  console.log("(L: the same shape is in the lesson's listing; Y: in yours)");
});

// %% labbook={"id": "check-clusterip-real", "role": "check", "requires": ["kubernetes"]}
// Check: kube-proxy's chains are yours, named by the hash you computed, and the ClusterIP splits the traffic
await onlyWith(c, "kubernetes", async () => {
  const endpoints = await serviceEndpoints(node1, "helloworld");
  const svcName = `KUBE-SVC-${portProtoHash(servicePortName, "tcp")}`;
  await check(`the real chain names are the hash of "${servicePortName}" (+ "tcp" + endpoint), on every node`, async () => {
    const wanted = endpoints.map((e) => `KUBE-SEP-${portProtoHash(servicePortName, "tcp", `${e.ip}:80`)} -> ${e.ip}:80`).sort();
    for (const node of nodes) {
      const rules = await serviceRules(node, servicePortName);
      const seen = rules.jumps.map((j) => `${j.target} -> ${j.dnat ?? "no DNAT"}`).sort();
      if (rules.svc !== svcName || seen.join() !== wanted.join()) throw new Error(`${node.name}: ${rules.svc ?? "no KUBE-SVC chain"} with ${seen.join(", ")}; computed ${svcName} with ${wanted.join(", ")}`);
    }
    return `${svcName}; ${wanted.join(", ")}`;
  });
  await check("the lesson's ClusterIP rules, and yours, have the same shape as kube-proxy's", () => {
    const realShapes = new Set(realRules.map(shape));
    const missing = [...lessonRules.filter((l) => !l.startsWith("-A KUBE-NODEPORTS")), ...byHand.filter((l) => /^-A (PREROUTING|OUTPUT|KUBE-SERVICES -d|KUBE-SVC-|KUBE-SEP-)/.test(l))]
      .filter((l) => !realShapes.has(shape(l)));
    if (missing.length) throw new Error(`not in kube-proxy's rules:\n${missing.join("\n")}`);
    return "hooks, the ClusterIP rule, the KUBE-SVC jumps, the hairpin mark and the DNAT: same rules";
  });
  await check(`on every node ${svcName} masquerades non-pod sources, then splits 0.50000000000 / rest`, async () => {
    for (const node of nodes) {
      const rules = await serviceRules(node, servicePortName);
      const first = rules.svcRules[0] ?? "";
      const split = rules.jumps.map((j) => j.probability ?? "rest").join(", ");
      if (!first.includes(`! -s 10.244.0.0/16 -d ${clusterIP}/32`) || !first.endsWith("-j KUBE-MARK-MASQ") || split !== "0.50000000000, rest") throw new Error(`${node.name}:\n${rules.svcRules.join("\n")}`);
      if (!rules.jumps.every((j) => j.sepRules[0]?.includes("-j KUBE-MARK-MASQ") && j.sepRules[1]?.includes("-j DNAT"))) throw new Error(`${node.name}: ${rules.jumps.map((j) => j.sepRules.join("\n")).join("\n")}`);
    }
    return `"! -s 10.244.0.0/16 -d ${clusterIP}/32 … -j KUBE-MARK-MASQ", then 0.50000000000, rest; each KUBE-SEP: hairpin mark, DNAT`;
  });
  const tally = await curlTally(node1, `http://${clusterIP}/`, 100, { field: "pod" });
  console.log(formatTally(tally));
  await check(`100 requests from node1 to ${clusterIP} split evenly between the two pods`, () => evenSplit(tally, endpoints.map((e) => e.pod), 30, 70));
});

// %% [markdown]
// ## 10. NodePort
//
// `kubectl patch` turns the Service into a NodePort (the lesson's `helloworld` was one): the apiserver picks a
// port in 30000-32767, and the ClusterIP and its chains stay. kube-proxy adds the NodePort rules. Compared with
// yours:
//
// - `KUBE-NODEPORTS --dport <port>` does not mark and jump itself: it jumps to a chain `KUBE-EXT-<same hash>`,
//   which marks (`KUBE-MARK-MASQ`, comment "masquerade traffic for … external destinations") and then jumps to
//   `KUBE-SVC-…`. Your two rules, moved into their own chain (kube-proxy 1.24 and later), so that a Service with
//   `externalTrafficPolicy: Local` can skip the mark there;
// - one more rule, `-d 127.0.0.0/8 … -m nfacct`: a NodePort on `127.0.0.1`, counted in an `nfacct` counter
//   (this kube-proxy lets localhost reach NodePorts, and counts it, for the metrics).

// %% labbook={"id": "nodeport-real", "role": "step", "requires": ["kubernetes"]}
// kubectl patch to NodePort, kube-proxy's KUBE-NODEPORTS and KUBE-EXT chains, and the NodePort on every node
let nodePort = "";
const nodePortAnswers = new Map<string, Awaited<ReturnType<typeof curlTally>>>();
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, [`kubectl patch service helloworld -p '{"spec":{"type":"NodePort"}}'`, "kubectl get service helloworld"]);
  nodePort = (await node1.$`kubectl get service helloworld -o jsonpath={.spec.ports[0].nodePort}`).stdout.trim();
  await kubeProxyCaughtUp(2, nodePort);
  const rules = await serviceRules(node2, servicePortName);
  console.log(`\nnode2# iptables -t nat -S KUBE-NODEPORTS; iptables -t nat -S ${rules.ext}`);
  console.log([...rules.nodePortRules, ...rules.extRules].join("\n"));
  for (const node of nodes) {
    const tally = await curlTally(node1, `http://${node.ip}:${nodePort}/`, 20, { field: "pod" });
    nodePortAnswers.set(node.name, tally);
    console.log(formatTally(tally));
  }
});

// %% labbook={"id": "check-nodeport-real", "role": "check", "requires": ["kubernetes"]}
// Check: KUBE-NODEPORTS -> KUBE-EXT -> (KUBE-MARK-MASQ, KUBE-SVC) on every node, and every node's NodePort answers
await onlyWith(c, "kubernetes", async () => {
  const hash = portProtoHash(servicePortName, "tcp");
  await check(`on every node --dport ${nodePort} jumps to KUBE-EXT-${hash}, which marks, then jumps to KUBE-SVC-${hash}`, async () => {
    for (const node of nodes) {
      const rules = await serviceRules(node, servicePortName);
      const plain = rules.nodePortRules.find((l) => !l.includes("127.0.0.0/8"));
      const ext = rules.extRules.map((l) => /-j (\S+)/.exec(l)?.[1]);
      if (plain !== `-A KUBE-NODEPORTS -p tcp -m comment --comment "${servicePortName}" -m tcp --dport ${nodePort} -j KUBE-EXT-${hash}` || ext.join() !== `KUBE-MARK-MASQ,KUBE-SVC-${hash}`) {
        throw new Error(`${node.name}:\n${[...rules.nodePortRules, ...rules.extRules].join("\n")}`);
      }
    }
    return `the lesson's "-A KUBE-NODEPORTS … --dport 31061 -j KUBE-SVC-…" with KUBE-EXT-${hash} between, holding your KUBE-MARK-MASQ`;
  });
  const pods = (await serviceEndpoints(node1, "helloworld")).map((e) => e.pod);
  for (const node of nodes) {
    await check(`${node.ip}:${nodePort} (${node.name}) answers all 20 requests, from both pods`, () => evenSplit(nodePortAnswers.get(node.name)!, pods, 1, 19));
  }
});

// %% [markdown]
// ## 11. Scaling: KUBE-SEP chains come and go
//
// `kubectl scale` changes the Deployment; the ReplicaSet makes or deletes pods; the EndpointSlice follows the ready
// pods; kube-proxy rewrites `KUBE-SVC-…` on every node and adds or deletes the `KUBE-SEP-…` chains. With three
// endpoints the probabilities are yours from section 7, as iptables prints them back: `0.33333333349`,
// `0.50000000000`, then the rest. With one, a single jump with no `statistic` at all, as in the lesson's listing.

// %% labbook={"id": "scale-real", "role": "step", "requires": ["kubernetes"]}
// kubectl scale to 3, then to 1, and KUBE-SVC on node3 each time
const scaled = new Map<number, Awaited<ReturnType<typeof serviceRules>>[]>(); // replicas -> every node's rules
await onlyWith(c, "kubernetes", async () => {
  for (const replicas of [3, 1]) {
    await runShown(node1, [`kubectl scale deployment helloworld --replicas=${replicas}`, `kubectl rollout status deployment/helloworld --timeout=${scaledSeconds(120)}`]);
    await kubeProxyCaughtUp(replicas);
    scaled.set(replicas, await Promise.all(nodes.map((node) => serviceRules(node, servicePortName))));
    console.log(`node3# iptables -t nat -S KUBE-SVC-${portProtoHash(servicePortName, "tcp")}`);
    console.log(String(await node3.$`iptables -t nat -S KUBE-SVC-${portProtoHash(servicePortName, "tcp")}`));
  }
});

// %% labbook={"id": "check-scale-real", "role": "check", "requires": ["kubernetes"]}
// Check: three endpoints gave 1/3, 1/2, rest; one endpoint left one KUBE-SEP chain, the others are gone
await onlyWith(c, "kubernetes", async () => {
  await check("at 3 replicas every node had --probability 0.33333333349, 0.50000000000, then an unconditional jump", () => {
    for (const [i, rules] of scaled.get(3)!.entries()) {
      const split = rules.jumps.map((j) => j.probability ?? "rest").join(", ");
      const last = rules.svcRules[rules.svcRules.length - 1] ?? "";
      if (split !== "0.33333333349, 0.50000000000, rest" || last.includes("statistic") || !last.includes("-j KUBE-SEP-")) throw new Error(`${nodes[i]!.name}: ${split}`);
    }
    return "node1, node2, node3: 0.33333333349, 0.50000000000, rest";
  });
  await check("at 1 replica one KUBE-SEP chain is left, without statistic, and the two others are deleted on every node", async () => {
    const before = scaled.get(3)![0]!.jumps.map((j) => j.target);
    for (const [i, rules] of scaled.get(1)!.entries()) {
      const node = nodes[i]!;
      if (rules.jumps.length !== 1 || rules.jumps[0]!.probability !== undefined) throw new Error(`${node.name}: ${rules.svcRules.join("\n")}`);
      const gone = before.filter((s) => s !== rules.jumps[0]!.target);
      for (const sep of gone) {
        if ((await node.$({ nothrow: true })`iptables -t nat -S ${sep}`).ok) throw new Error(`${node.name} still has ${sep}`);
      }
    }
    return `kept ${scaled.get(1)![0]!.jumps[0]!.target}; deleted the other two`;
  }, { within: 5000 });
});

// %% [markdown]
// ## Exercise: three pods behind NodePort 30080
//
// On the real objects now. Make `helloworld` run **3** pods again, and move its NodePort to **30080**, a port of
// your choosing instead of the apiserver's (`kubectl patch service helloworld -p '{"spec":{"ports":[{"port":80,
// "nodePort":30080}]}}'`: the ports list merges by `port`). Then send 150 requests to `http://192.168.0.12:30080/`
// from node1 and look at the split, and at kube-proxy's `KUBE-SVC-…` chain on any node.
//
// `curlTally(node1, url, 150, { field: "pod" })` counts the answers by the probe's `pod:` line.

// %% labbook={"id": "exercise-real", "role": "exercise", "points": 4, "requires": ["kubernetes"]}
// Your turn: scale helloworld to 3 and give it NodePort 30080, then look at the split
// await runShown(node1, ["kubectl scale deployment helloworld --replicas=...", ...]);
// const split = await curlTally(node1, "http://192.168.0.12:30080/", 150, { field: "pod" });

// %% labbook={"id": "solution-real", "role": "solution", "points": 4, "requires": ["kubernetes"]}
// Solution: kubectl scale and kubectl patch, then 150 requests to node2's NodePort
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, [
    "kubectl scale deployment helloworld --replicas=3",
    `kubectl rollout status deployment/helloworld --timeout=${scaledSeconds(120)}`,
    `kubectl patch service helloworld -p '{"spec":{"ports":[{"port":80,"nodePort":30080}]}}'`,
    "kubectl get service,endpointslices -l app=helloworld",
  ]);
  await kubeProxyCaughtUp(3, "30080");
  console.log(formatTally(await curlTally(node1, "http://192.168.0.12:30080/", 150, { field: "pod" })));
  console.log(String(await node2.$`iptables -t nat -S KUBE-SVC-${portProtoHash(servicePortName, "tcp")}`));
});

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check } from "labbook";
// import { curlTally, evenSplit, portProtoHash, serviceRules, serviceEndpoints, printedProbabilities } from "./kube-proxy.js";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
// const nodes = [node1, node2, node3];

// %% labbook={"id": "hidden-real-rules", "role": "hidden-check", "hint": "kubectl get endpointslices -l kubernetes.io/service-name=helloworld must list 3 ready pods, and kubectl get service helloworld must show 80:30080/TCP. kube-proxy then writes the rules on every node by itself."}
// Hidden check: kube-proxy's own rules on every node: NodePort 30080, and three KUBE-SEP chains at 1/3, 1/2, rest
await check("on every node kube-proxy sends --dport 30080 to helloworld, split over 3 endpoints: 0.33333333349, 0.50000000000, rest", async () => {
  // servicePortName as kube-proxy 1.35 writes it, from the real Service: namespace/name, and ":port" for a named port
  const [namespace, name, portName] = (await node1.$({ nothrow: true })`kubectl get service helloworld -o jsonpath=${"{.metadata.namespace}|{.metadata.name}|{.spec.ports[0].name}"}`).stdout.split("|");
  const spn = `${namespace}/${name}${portName ? `:${portName}` : ""}`, hash = portProtoHash(spn, "tcp");
  const endpoints = await serviceEndpoints(node1, "helloworld");
  const wanted = endpoints.map((e) => `KUBE-SEP-${portProtoHash(spn, "tcp", `${e.ip}:80`)} -> ${e.ip}:80`).sort();
  if (endpoints.length !== 3) throw new Error(`helloworld has ${endpoints.length} ready endpoints: ${endpoints.map((e) => e.pod).join(", ") || "none"}`);
  for (const node of nodes) {
    const rules = await serviceRules(node, spn);
    if (!rules.nodePortRules.some((l) => l.includes("--dport 30080 -j KUBE-EXT-" + hash))) throw new Error(`${node.name}: KUBE-NODEPORTS has ${rules.nodePortRules.join("\n") || "no rule for " + spn}`);
    const split = rules.jumps.map((j) => j.probability ?? "rest").join(", ");
    if (split !== [...printedProbabilities(3), "rest"].join(", ")) throw new Error(`${node.name}: KUBE-SVC-${hash} splits ${split || "nowhere"}`);
    const seen = rules.jumps.map((j) => `${j.target} -> ${j.dnat ?? "no DNAT"}`).sort();
    if (seen.join() !== wanted.join()) throw new Error(`${node.name}: ${seen.join(", ")}; the endpoints hash to ${wanted.join(", ")}`);
  }
  return `node1, node2, node3: --dport 30080 -> KUBE-EXT-${hash}; 0.33333333349, 0.50000000000, rest over ${wanted.join(", ")}`;
}, { points: 2 });

// %% labbook={"id": "hidden-real-traffic", "role": "hidden-check", "hint": "Each of the 3 helloworld pods must answer about a third of 150 requests to http://192.168.0.12:30080/ from node1."}
// Hidden check: 150 requests to node2's NodePort 30080 reach all three pods about evenly
const pods = (await serviceEndpoints(node1, "helloworld").catch(() => [])).map((e) => e.pod);
const viaNodePort = await curlTally(node1, "http://192.168.0.12:30080/", 150, { field: "pod", show: false, timeout: 1 });
await check("150 requests to 192.168.0.12:30080 reach the three helloworld pods, each 25-75 times", () => {
  if (pods.length !== 3) throw new Error(`helloworld has ${pods.length} ready pods: ${pods.join(", ") || "none"}`);
  return evenSplit(viaNodePort, pods, 25, 75);
}, { points: 2 });

// %% [markdown]
// ## What you built
//
// You wrote by hand the chains kube-proxy writes on every node: KUBE-SERVICES for the ClusterIP,
// KUBE-NODEPORTS for the NodePort, one KUBE-SVC chain that picks an endpoint with `statistic`
// probabilities, one KUBE-SEP chain per endpoint that does the DNAT, and the mark-and-masquerade pair
// for traffic whose reply would otherwise take another path. You also named the chains the way
// kube-proxy names them. The ClusterIP answered from a pod (PREROUTING) and from a node (OUTPUT), and
// every DNAT was counted on the node that made it. No machine owns `10.105.189.133`: the Service
// exists only as rules, the same on every node.
//
// Then `kubectl create deployment` and `kubectl expose` made the real kube-proxy write the same rules on every
// node, named by the same hash (of `default/helloworld` now, the port having no name), with two additions: the
// `--cluster-cidr` masquerade rule and the `KUBE-EXT` chain between `KUBE-NODEPORTS` and `KUBE-SVC`. `kubectl
// scale` added and deleted `KUBE-SEP` chains and rewrote the probabilities, ⅓, ½ and the rest, as you did.
