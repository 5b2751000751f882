// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
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
// You play kube-proxy: you write its chains on all three nodes, by hand.

// %% labbook={"id": "setup", "role": "setup"}
// Connect to the cluster and name the nodes
import { cluster, check, addContainer, inContainer, runShown } from "labbook";
import { curlTally, formatTally, portProtoHash, dnatRule, dnatPackets, evenSplit } from "./kube-proxy.js";

const c = await cluster({ fresh: true });
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
// not across versions. This lab uses the lesson's form throughout.

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
// ## Exercise: a third endpoint
//
// Scale `helloworld` to three pods. Add **hello-c** on node3 at `10.244.3.3` (node3's `cni0` and the
// routes are already there), turn on hairpin mode on its bridge port `veth-hello-c` as for the others,
// and start its server with `startHello(node3, "hello-c")`. Then do
// kube-proxy's part **on every node**:
//
// 1. a chain `KUBE-SEP-…` for `10.244.3.3:80`, named by the hash (`sepChain("10.244.3.3:80")`), with a
//    hairpin `KUBE-MARK-MASQ` rule and the DNAT;
// 2. `KUBE-SVC-2WB5SOAIQNMPIUJO` (`SVC`) rewritten with three jumps, in order: `--probability 0.3333333333` to the first
//    endpoint, `0.5000000000` to the second, and the last with no probability.
//
// Why ⅓, ½, then the rest? The first rule takes ⅓ of all connections. The second sees the ⅔ left and
// takes half of them, which is another ⅓. The last rule gets the final ⅓. Writing ⅓ on both rules
// would give ⅓, then ⅔·⅓ = 2/9, and 4/9 for the last.

// %% labbook={"id": "exercise-endpoint", "role": "exercise", "points": 4}
// Your turn: a third pod, hello-c, and kube-proxy's rules for three endpoints on every node
// await addContainer(node3, { name: "hello-c", address: ..., bridge: "cni0", gateway: "10.244.3.1/24" });
// await runShown(node3, ["bridge link set dev veth-hello-c hairpin on"]);
// await startHello(node3, "hello-c");
// const SEP_C = sepChain(...);
// const rules3 = `*nat
// :${SVC} - [0:0]
// :${SEP_C} - [0:0]
// -A ${SVC} ${COMMENT} -m statistic --mode random --probability ... -j ${SEP_A}
// ... two more jumps, then the KUBE-SEP chain for hello-c (see the "chains" cell) ...
// COMMIT
// `;
// for (const node of nodes) await node.$({ input: rules3 })`iptables-restore --noflush`;

// %% labbook={"id": "solution-endpoint", "role": "solution", "points": 4}
// Solution: hello-c, its KUBE-SEP chain, and a 1/3, 1/2, rest split on every node
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

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check } from "labbook";
// import { curlTally, evenSplit, dnatPackets, portProtoHash } from "./kube-proxy.js";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
// const nodes = [node1, node2, node3];
// // The chain names, from the service port as kube-proxy names them (section 2)
// const SVC = `KUBE-SVC-${portProtoHash("default/helloworld:", "tcp")}`;
// const sepChain = (endpoint: string) => `KUBE-SEP-${portProtoHash("default/helloworld:", "tcp", endpoint)}`;

// %% labbook={"id": "hidden-split", "role": "hidden-check", "hint": "On every node, KUBE-SVC-2WB5SOAIQNMPIUJO needs exactly three jumps: --probability 0.3333333333, then 0.5, then one with no probability. The new endpoint's chain is KUBE-SEP- plus the hash of \"default/helloworld:tcp10.244.3.3:80\", and it must DNAT to 10.244.3.3:80."}
// Hidden check: every node's service chain splits 1/3, 1/2, rest over the three endpoint chains
await check("on every node the service chain jumps to the three KUBE-SEP chains with p = 1/3, 1/2, rest", async () => {
  const wanted = ["10.244.2.2:80", "10.244.3.2:80", "10.244.3.3:80"].map(sepChain);
  const seen: string[] = [];
  for (const node of nodes) {
    const jumps = (await node.$`iptables -t nat -S ${SVC}`).lines().filter((l) => / -j KUBE-SEP-/.test(l));
    const split = jumps.map((l) => ({ target: /-j (KUBE-SEP-\S+)/.exec(l)![1]!, p: Number(/--probability ([\d.]+)/.exec(l)?.[1] ?? "1") }));
    const describe = split.map((s) => `p=${s.p} -> ${s.target}`).join(", ");
    const ok = split.length === 3 && Math.abs(split[0]!.p - 1 / 3) < 0.001 && Math.abs(split[1]!.p - 1 / 2) < 0.001 && split[2]!.p === 1
      && wanted.every((w) => split.some((s) => s.target === w));
    if (!ok) throw new Error(`${node.name}: ${SVC} has ${describe || "no jumps"}; expected 0.333…, 0.5, rest over ${wanted.join(", ")}`);
    const dnat = (await node.$({ nothrow: true })`iptables -t nat -S ${wanted[2]!}`).stdout;
    if (!dnat.includes("-j DNAT --to-destination 10.244.3.3:80")) throw new Error(`${node.name}: ${wanted[2]} does not DNAT to 10.244.3.3:80:\n${dnat || "(no such chain)"}`);
    seen.push(node.name);
  }
  return `${seen.join(", ")}: 0.333…, 0.5, rest; ${wanted[2]} DNATs to 10.244.3.3:80`;
}, { points: 2 });

// %% labbook={"id": "hidden-traffic", "role": "hidden-check", "hint": "Start hello-c's server (startHello) and check that curl http://10.244.3.3/ from the client pod answers \"hello-c\". Each third of the traffic must reach it, which needs the 1/3, 1/2, rest probabilities on node1 too."}
// Hidden check: 150 requests reach all three pods about evenly, and hello-c's DNAT counter counts them
// Give hello-c's server up to 3 s to answer, then zero node1's counters and count.
await node1.$({ nothrow: true, timeout: 3000 })`ip netns exec client sh -c ${"until curl -s -o /dev/null --max-time 1 http://10.244.3.3/; do sleep 0.1; done"}`;
await node1.$`iptables -t nat -Z`;
const threeWay = await curlTally(node1, "http://10.105.189.133/", 150, { container: "client", show: false });
// 25-75 of 150 at p = 1/3 (mean 50, σ ≈ 5.8): a correct split falls outside about once in 100,000 runs.
await check("150 requests from the client pod reach hello-a, hello-b and hello-c, each 25-75 times", () => evenSplit(threeWay, ["hello-a", "hello-b", "hello-c"], 25, 75), { points: 1 });
await check("node1's DNAT counter for hello-c's KUBE-SEP chain equals hello-c's answers", async () => {
  const sep = sepChain("10.244.3.3:80"), packets = await dnatPackets(node1, sep), answers = threeWay.answers.get("hello-c") ?? 0;
  // A SYN lost before conntrack confirmed its connection meets the nat table again when it is retransmitted.
  if (packets <= 0 || packets < answers || packets > answers + threeWay.retransmitted) {
    throw new Error(`${sep} DNAT counted ${packets < 0 ? "nothing (no such rule)" : `${packets} packets`}; hello-c answered ${answers} times`);
  }
  return `${sep}: ${packets} packets = ${answers} answers`;
}, { points: 1 });

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
