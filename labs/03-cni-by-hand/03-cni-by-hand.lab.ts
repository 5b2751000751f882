// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes:
//       defer: [flanneld]
// ---

// %% [markdown]
// # Lab 03: CNI by hand
//
// Kubernetes does not wire pods itself. When the kubelet starts a pod, the container runtime calls a
// **CNI plugin** (Container Network Interface). The contract is small:
//
// - a **plugin** is an executable, found in `CNI_PATH` (Debian installs the reference plugins in `/usr/lib/cni`);
// - the **network configuration** (JSON, normally in `/etc/cni/net.d/`) arrives on **stdin**;
// - the call's parameters arrive in **environment variables**: `CNI_COMMAND` (`ADD`, `CHECK`, `DEL`, `VERSION`),
//   `CNI_CONTAINERID`, `CNI_NETNS` (the container's network namespace), `CNI_IFNAME` (the interface to create
//   inside it) and `CNI_PATH`;
// - the **result** (interfaces, addresses, routes) comes back as JSON on **stdout**.
//
// An *interface plugin* such as `bridge` builds the plumbing, and delegates addresses to an *IPAM plugin* such as
// `host-local`, which hands them out from a subnet and remembers them in `/var/lib/cni/networks/<name>/`.
//
// ```
//  node1                      stdin: 10-mynet.conf          exec, same stdin
//   runtime (here: you) ──▶  /usr/lib/cni/bridge  ─────────▶  /usr/lib/cni/host-local
//   CNI_COMMAND=ADD ...        creates cni0 10.22.0.1/16       picks 10.22.0.2 from 10.22.0.0/16,
//                              and a veth pair, moves          writes /var/lib/cni/networks/mynet/10.22.0.2
//                              one end into the netns
//   ┌──── netns ctr1 ─────────┐
//   │ eth0 10.22.0.2/16       │──veth──▶ cni0 10.22.0.1 (isGateway) ──▶ eth0 192.168.0.11 ──▶ LAN
//   │ default via 10.22.0.1   │          ipMasq: POSTROUTING MASQUERADE for 10.22.0.2
//   └─────────────────────────┘
// ```
//
// You will play the container runtime: create the namespaces, call the plugin with `ADD`, `CHECK` and `DEL`, and
// check what it did. Then the real one takes over: this cluster runs Kubernetes (v1.35), and you watch the kubelet's
// runtime (containerd) make the same calls for a real pod, with a small logging plugin of your own in between.
//
// The cluster starts without flanneld, Kubernetes' pod network here: flannel's CNI plugin makes a bridge named
// `cni0` too, for pods on `10.244.0.0/16`, and would collide with yours. No pod can start until flanneld runs, so
// for now Kubernetes leaves node1's network alone.

// %% labbook={"id": "setup", "role": "setup"}
// Connect; this lab's cni() (cni.ts) calls a plugin exactly as a runtime does, and prints the command line
import { cluster, check, hasRule, fileContains, sh, onlyWith, kubectlApply, kubernetesStart, scaledSeconds } from "labbook";
import { cni, installCniLog, loggedCalls, callFor, showCall, CNI_LOG } from "./cni.js";

const c = await cluster({ fresh: true, kubernetes: { defer: ["flanneld"] } });
const [node1, node2] = [c.node("node1"), c.node("node2")];
await sh(node1, "ls /usr/lib/cni");

// %% [markdown]
// ## The network configuration
//
// This is the lesson's `10-mynet.conf`: a `bridge` named `cni0` that is the containers' gateway (`isGateway`) and
// masquerades their traffic (`ipMasq`), with `host-local` IPAM on `10.22.0.0/16` and a default route.
//
// One change: the lesson's file says `"cniVersion": "0.2.0"`. `CHECK` was added to the spec in version 0.4.0,
// and a plugin refuses `CHECK` for an older config, so this lab uses `"0.4.0"`. Everything else is the lesson's.
// The plugin's `VERSION` command lists the versions it speaks.
//
// Each node has its own `/etc/cni/net.d` and `/var/lib/cni`, as a real machine would. On node1 you will find
// `10-flannel.conflist` there already: Kubernetes' own config, used later in this lab.

// %% labbook={"id": "write-config", "role": "step"}
// Write /etc/cni/net.d/10-mynet.conf on node1, and ask the plugin which spec versions it supports
const mynet = {
  cniVersion: "0.4.0",
  name: "mynet",
  type: "bridge",
  bridge: "cni0",
  isGateway: true,
  ipMasq: true,
  ipam: { type: "host-local", subnet: "10.22.0.0/16", routes: [{ dst: "0.0.0.0/0" }] },
};
const MYNET = "/etc/cni/net.d/10-mynet.conf";
await node1.$({ input: JSON.stringify(mynet, null, 2) + "\n" })`cat > ${MYNET}`;
await sh(node1, `cat ${MYNET}`);
await cni(node1, { command: "VERSION", config: MYNET, containerId: "none", netns: "none" });

// %% [markdown]
// ## ADD: attach a container
//
// A runtime first creates the container's network namespace, then calls `ADD`. Here the "container" is a named
// network namespace, `ctr1`.

// %% labbook={"id": "add-ctr1", "role": "step"}
// ip netns add ctr1, then CNI_COMMAND=ADD
await sh(node1, "ip netns add ctr1");
const added = await cni(node1, { command: "ADD", config: MYNET, containerId: "ctr1", netns: "ctr1" });
const ctr1Address = String((added.json.ips as Array<{ address: string }>)[0]!.address).split("/")[0]!;

// %% labbook={"id": "check-add", "role": "check"}
// Check: the result, the interface and route inside the netns, the bridge, the lease and the masquerade rule
await check("the result gives an address in 10.22.0.0/16 and the gateway 10.22.0.1", () => {
  const ip = (added.json.ips as Array<{ address: string; gateway: string }>)[0]!;
  if (!/^10\.22\.\d+\.\d+\/16$/.test(ip.address)) throw new Error(`address ${ip.address} is not in 10.22.0.0/16`);
  if (ip.gateway !== "10.22.0.1") throw new Error(`gateway is ${ip.gateway}`);
  return `ips[0]: ${ip.address}, gateway ${ip.gateway}`;
});
await check("ctr1 has eth0 with that address", async () => {
  const eth0 = String(await node1.$`ip -n ctr1 -br addr show eth0`);
  if (!eth0.includes(`${ctr1Address}/16`)) throw new Error(eth0);
  return eth0.trim();
});
await check("ctr1's default route goes via 10.22.0.1 on eth0", async () => {
  const route = String(await node1.$`ip -n ctr1 route show default`);
  if (!route.includes("via 10.22.0.1 dev eth0")) throw new Error(`ip route: ${route || "(no default route)"}`);
  return route.trim();
});
await check("cni0 holds the gateway address (isGateway)", async () => {
  const bridge = String(await node1.$`ip -br addr show cni0`);
  if (!bridge.includes("10.22.0.1/16")) throw new Error(bridge);
  return bridge.trim();
});
await check("host-local recorded the lease for ctr1", () => fileContains(node1, `/var/lib/cni/networks/mynet/${ctr1Address}`, "ctr1"));
await check("ipMasq added a MASQUERADE rule for ctr1", () => hasRule(node1, "nat", "POSTROUTING", `-s ${ctr1Address}/32`));
await check("ctr1 reaches its gateway and, masqueraded, node2", async () => {
  for (const target of ["10.22.0.1", "192.168.0.12"]) {
    const ping = await node1.$({ nothrow: true })`ip netns exec ctr1 ping -c1 -W2 ${target}`;
    if (!ping.ok) throw new Error(`no answer from ${target}: ${ping.stdout}`);
  }
  return "10.22.0.1 and 192.168.0.12 answer";
});

// %% [markdown]
// ## CHECK: is the container still wired as ADD left it?
//
// A runtime calls `CHECK` with the config plus ADD's result as `prevResult`. The plugin compares the result with
// the real state and fails if they differ. Below, CHECK passes; then the address is removed from `eth0` behind
// the plugin's back, CHECK reports it, and putting the address back heals it.

// %% labbook={"id": "check-ctr1", "role": "step"}
// CNI_COMMAND=CHECK, before and after damaging the container's interface
const healthy = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json });
await sh(node1, "ip -n ctr1 addr flush dev eth0");
const damaged = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json, nothrow: true });
await sh(node1, `ip -n ctr1 addr add ${ctr1Address}/16 dev eth0`);
await sh(node1, "ip -n ctr1 route add default via 10.22.0.1");
const healed = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json, nothrow: true });

// %% labbook={"id": "check-check", "role": "check"}
// Check: CHECK passed, then failed naming the missing address, then passed again
await check("CHECK passes on a freshly added container", () => healthy.ok);
await check("CHECK fails once the address is gone, and says which", () => {
  if (damaged.ok) throw new Error("CHECK passed although eth0 had no address");
  return String(damaged.json.msg);
});
await check("CHECK passes again after the address and route are restored", () => {
  if (!healed.ok) throw new Error(String(healed.json.msg));
  return "ok";
});

// %% [markdown]
// ## A second container
//
// `host-local` never gives one address twice: it keeps a file per lease and remembers the last one it handed out.

// %% labbook={"id": "add-ctr2", "role": "step"}
// A second container, ctr2, on the same network
await sh(node1, "ip netns add ctr2");
const added2 = await cni(node1, { command: "ADD", config: MYNET, containerId: "ctr2", netns: "ctr2" });
const ctr2Address = String((added2.json.ips as Array<{ address: string }>)[0]!.address).split("/")[0]!;
await sh(node1, "ls /var/lib/cni/networks/mynet");

// %% labbook={"id": "check-two", "role": "check"}
// Check: two distinct addresses, and the containers reach each other over cni0
await check("ctr1 and ctr2 got distinct addresses in 10.22.0.0/16", () => {
  if (ctr1Address === ctr2Address) throw new Error(`both got ${ctr1Address}`);
  if (!ctr2Address.startsWith("10.22.")) throw new Error(`ctr2 got ${ctr2Address}`);
  return `ctr1 ${ctr1Address}, ctr2 ${ctr2Address}`;
});
await check("ctr1 reaches ctr2 across the bridge", async () => {
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr1 ping -c1 -W2 ${ctr2Address}`;
  if (!ping.ok) throw new Error(ping.stdout);
  return `${ctr2Address} answers`;
});

// %% [markdown]
// ## DEL: detach a container
//
// When a pod stops, the runtime calls `DEL` with the same parameters. The plugin removes the interface, the IPAM
// plugin releases the address, and the masquerade rules go. DEL must also succeed when there is nothing left to
// delete, because a runtime may call it twice.

// %% labbook={"id": "del-ctr2", "role": "step"}
// CNI_COMMAND=DEL for ctr2, twice
await cni(node1, { command: "DEL", config: MYNET, containerId: "ctr2", netns: "ctr2" });
const again = await cni(node1, { command: "DEL", config: MYNET, containerId: "ctr2", netns: "ctr2", nothrow: true });

// %% labbook={"id": "check-del", "role": "check"}
// Check: the interface, the lease and the rules are gone; ctr1 is untouched
await check("ctr2 has no eth0 any more", async () => {
  const links = String(await node1.$`ip -n ctr2 -br link`);
  if (links.includes("eth0")) throw new Error(links);
  return links.trim();
});
await check("only ctr1's veth is left on cni0", async () => {
  const ports = (await node1.$`ip -br link show master cni0`).lines();
  if (ports.length !== 1) throw new Error(`cni0's ports:\n${ports.join("\n")}`);
  return ports[0]!;
});
await check("host-local released ctr2's address", async () => {
  const leases = (await node1.$`ls /var/lib/cni/networks/mynet`).lines();
  if (leases.includes(ctr2Address)) throw new Error(`still leased: ${leases.join(" ")}`);
  return `leases now: ${leases.join(" ")}`;
});
await check("no rule mentions ctr2's address", async () => {
  const rules = String(await node1.$`iptables -t nat -S`);
  if (rules.includes(ctr2Address)) throw new Error(rules);
  return "none";
});
await check("a second DEL succeeds: there is nothing left to delete", () => again.ok || String(again.json.msg));


// %% [markdown]
// ## Kubernetes makes the same calls
//
// When the kubelet starts a pod, it asks the container runtime (containerd, through the CRI) for a **pod sandbox**.
// containerd creates the sandbox's network namespace under `/var/run/netns/cni-<uuid>` and calls a CNI plugin with
// `ADD`, exactly as you did:
//
// - the config is the **first file by name** in `/etc/cni/net.d` (a `.conflist` is a list of plugins, called in
//   order); containerd watches the folder and reloads it when a file changes;
// - the plugins are in `CNI_PATH=/opt/cni/bin`, the lesson's path (here it holds Debian's plugins and flannel's);
// - `CNI_IFNAME` is `eth0`, and one more variable says which pod this is: `CNI_ARGS`, with `K8S_POD_NAMESPACE`,
//   `K8S_POD_NAME` and `K8S_POD_INFRA_CONTAINER_ID` (the sandbox, also `CNI_CONTAINERID`).
//
// The config is `10-flannel.conflist`: its `flannel` plugin reads the node's subnet from flanneld
// (`/run/flannel/subnet.env`) and **delegates** to the same `bridge` plugin you called, on a bridge `cni0`, with
// `host-local` addresses from the node's `/24` of `10.244.0.0/16`.
//
// To see the calls, put a plugin of your own in between: `cni-log` (in `cni.ts`) is a shell script that appends
// its `CNI_*` variables and its stdin to `/var/log/cni-calls.log`, then runs the plugin named by its config's
// `wraps` field with the same environment and stdin. `00-logged.conflist` is flannel's list with `cni-log` wrapping
// `flannel`; `00-` sorts before `10-`, so containerd uses it.
//
// First the by-hand network goes, as a runtime would take it down: `DEL` for ctr1, the namespaces, and the bridge
// (the bridge plugin never deletes a bridge: flannel's `bridge` call would find your `cni0` with `10.22.0.1/16` on
// it, and fail). Then the wrapper, then flanneld, which lets pods onto the nodes.

// %% labbook={"id": "teardown-mynet", "role": "step"}
// DEL ctr1 as a runtime would, then remove the namespaces, the bridge cni0 and 10-mynet.conf
await cni(node1, { command: "DEL", config: MYNET, containerId: "ctr1", netns: "ctr1" });
await sh(node1, `ip netns del ctr1 && ip netns del ctr2 && ip link del cni0 && rm ${MYNET}`);
await sh(node1, "ip -br link show type bridge; ls /etc/cni/net.d /var/lib/cni/networks/mynet");

// %% labbook={"id": "k8s-flanneld", "role": "step", "requires": ["kubernetes"]}
// Install the logging wrapper on node1, then start flanneld on every node: pods may come
await onlyWith(c, "kubernetes", async () => {
  await installCniLog(node1);
  await kubernetesStart(c, "flanneld");
  await sh(node1, "cat /run/flannel/subnet.env; kubectl get node node1 -o jsonpath='{.spec.podCIDR}{\"\\n\"}'");
});

// %% [markdown]
// ## A real pod, and the call that wired it
//
// A pod pinned to node1 (`nodeName`), from the local `labbook/busybox:1` image. Once it is Ready, the log holds the
// runtime's `ADD` for it, shown below as the command line you would type. Then its network namespace: the one
// `CNI_NETNS` named, which is also the namespace of the sandbox's process (`ctr` lists the sandbox `pause` and its
// PID; `ip netns identify PID` names its namespace).

// %% labbook={"id": "k8s-pod", "role": "step", "requires": ["kubernetes"]}
// kubectl apply a pod on node1, wait until it is Ready, and read the runtime's ADD for it
const demo = await onlyWith(c, "kubernetes", async () => {
  await kubectlApply(node1, `apiVersion: v1
kind: Pod
metadata:
  name: cni-demo
spec:
  nodeName: node1
  terminationGracePeriodSeconds: 0
  containers:
  - name: sleep
    image: labbook/busybox:1
    command: ["sleep", "3600"]
`, "cni-demo.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/cni-demo --timeout=${scaledSeconds(90)} && kubectl get pod cni-demo -o wide`);
  const pod = (await node1.$`kubectl get pod cni-demo -o json`).json<{ metadata: { uid: string }; status: { podIP: string } }>();
  const add = callFor(await loggedCalls(node1), "cni-demo", "ADD");
  if (add) showCall(node1, add);
  else console.log(`no ADD for cni-demo in ${CNI_LOG}`);
  const id = add?.env.CNI_CONTAINERID ?? "";
  const netns = (add?.env.CNI_NETNS ?? "").split("/").pop() ?? "";
  await sh(node1, `ip netns list; ip -n ${netns} -br addr; ip -n ${netns} route`);
  const task = (await node1.$({ nothrow: true })`ctr -n k8s.io task ls`).lines().find((line) => line.startsWith(id));
  const pid = task?.split(/\s+/)[1] ?? "";
  await sh(node1, `ctr -n k8s.io task ls | grep -e ^TASK -e ^${id.slice(0, 12) || "none"}; ip netns identify ${pid}`);
  await sh(node1, `cat /var/lib/cni/flannel/${id}; echo; ls /var/lib/cni/networks/cbr0; cat /var/lib/cni/networks/cbr0/${pod.status.podIP}; echo`);
  const podCidr = String(await node1.$`kubectl get node node1 -o jsonpath={.spec.podCIDR}`).trim();
  return { uid: pod.metadata.uid, ip: pod.status.podIP, add, id, netns, pid, podCidr };
});

// %% labbook={"id": "k8s-check-add", "role": "check", "requires": ["kubernetes"]}
// Check: the runtime's ADD follows the contract you used, names the pod, and made eth0 in the pod's netns
await onlyWith(c, "kubernetes", async () => {
  const { add, id, netns, ip, uid, pid, podCidr } = demo!;
  const gateway = podCidr.replace(/\.0\/24$/, ".1");
  await check("containerd called ADD with the variables you set by hand, and CNI_PATH=/opt/cni/bin", () => {
    if (!add) throw new Error(`no ADD for cni-demo in node1's ${CNI_LOG}`);
    const env = add.env;
    const wrong = [
      env.CNI_COMMAND !== "ADD" && `CNI_COMMAND=${env.CNI_COMMAND}`,
      env.CNI_IFNAME !== "eth0" && `CNI_IFNAME=${env.CNI_IFNAME}`,
      env.CNI_PATH !== "/opt/cni/bin" && `CNI_PATH=${env.CNI_PATH}`,
      !/^\/var\/run\/netns\/cni-[0-9a-f-]+$/.test(env.CNI_NETNS ?? "") && `CNI_NETNS=${env.CNI_NETNS}`,
      !/^[0-9a-f]{64}$/.test(id) && `CNI_CONTAINERID=${id}`,
    ].filter(Boolean);
    if (wrong.length) throw new Error(wrong.join(", "));
    return `CNI_COMMAND=ADD CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin CNI_NETNS=${env.CNI_NETNS} CNI_CONTAINERID=${id.slice(0, 12)}...`;
  });
  await check("CNI_ARGS name the pod: K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID (the sandbox), K8S_POD_UID", () => {
    const args = add?.args ?? {};
    if (args.K8S_POD_NAMESPACE !== "default" || args.K8S_POD_NAME !== "cni-demo" || args.K8S_POD_INFRA_CONTAINER_ID !== id) throw new Error(`CNI_ARGS=${add?.env.CNI_ARGS}`);
    if (args.K8S_POD_UID !== uid) throw new Error(`K8S_POD_UID=${args.K8S_POD_UID}, the pod's uid is ${uid}`);
    return Object.keys(args).join(", ");
  });
  await check("stdin is the first config in /etc/cni/net.d: 00-logged.conflist's cni-log, wrapping flannel", async () => {
    const first = (await node1.$`ls /etc/cni/net.d`).lines()[0];
    const list = (await node1.$`cat /etc/cni/net.d/${first}`).json<{ name: string; plugins: Array<Record<string, unknown>> }>();
    const stdin = add?.stdin ?? {};
    if (first !== "00-logged.conflist" || stdin.type !== "cni-log" || stdin.wraps !== "flannel" || stdin.name !== list.name || stdin.cniVersion === undefined) {
      throw new Error(`first config ${first}; stdin ${JSON.stringify(stdin)}`);
    }
    return `${first}: network ${list.name}, plugin cni-log wrapping flannel, cniVersion ${String(stdin.cniVersion)}`;
  });
  await check("the netns CNI_NETNS named holds eth0 with the pod's IP, and its default route via cni0's gateway", async () => {
    const eth0 = String(await node1.$`ip -n ${netns} -br addr show eth0`);
    const route = String(await node1.$`ip -n ${netns} route show default`);
    if (!eth0.includes(` ${ip}/24`) || !route.includes(`via ${gateway} dev eth0`)) throw new Error(`kubectl says ${ip}; in ${netns}: ${eth0}${route}`);
    return `${netns}: ${eth0.trim().replace(/\s+/g, " ")}, ${route.trim()}`;
  });
  await check("the sandbox's process lives in that netns", async () => {
    const named = String(await node1.$({ nothrow: true })`ip netns identify ${pid || "0"}`).trim();
    if (!pid || named !== netns) throw new Error(`sandbox PID ${pid || "(none)"} is in "${named}", not ${netns}`);
    return `PID ${pid}: ${named}`;
  });
  await check("flannel delegated to bridge as you configured it: cni0, isGateway, host-local on node1's pod CIDR", async () => {
    const delegate = (await node1.$`cat /var/lib/cni/flannel/${id}`).json<{ type: string; bridge?: string; isGateway: boolean; ipam: { type: string; ranges?: Array<Array<{ subnet: string }>>; subnet?: string } }>();
    const subnet = delegate.ipam.subnet ?? delegate.ipam.ranges?.[0]?.[0]?.subnet;
    if (delegate.type !== "bridge" || (delegate.bridge ?? "cni0") !== "cni0" || !delegate.isGateway || delegate.ipam.type !== "host-local" || subnet !== podCidr) throw new Error(JSON.stringify(delegate));
    const bridge = String(await node1.$`ip -br addr show cni0`);
    if (!bridge.includes(`${gateway}/24`)) throw new Error(`cni0: ${bridge}`);
    return `type bridge, bridge cni0 (${gateway}/24), isGateway, host-local ${subnet}`;
  });
  await check("host-local leased the pod's IP to the sandbox, as it did to ctr1", () => fileContains(node1, `/var/lib/cni/networks/cbr0/${ip}`, id));
});

// %% [markdown]
// What the runtime did is what you did by hand, call for call:
//
// | | by hand (ctr1) | the runtime (cni-demo) |
// | --- | --- | --- |
// | `CNI_COMMAND` | `ADD` | `ADD` |
// | `CNI_CONTAINERID` | `ctr1` | the sandbox's ID, also in `CNI_ARGS` as `K8S_POD_INFRA_CONTAINER_ID` |
// | `CNI_NETNS` | `/var/run/netns/ctr1` | `/var/run/netns/cni-<uuid>`, the sandbox process's netns |
// | `CNI_IFNAME`, `CNI_PATH` | `eth0`, `/usr/lib/cni` | `eth0`, `/opt/cni/bin` |
// | `CNI_ARGS` | (none) | `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_INFRA_CONTAINER_ID`, `K8S_POD_UID`, `IgnoreUnknown=1` |
// | stdin | `10-mynet.conf` | the first plugin of `00-logged.conflist`, with the list's `name` and `cniVersion` |
// | bridge config | `10-mynet.conf` | flannel's delegate, kept in `/var/lib/cni/flannel/<id>` |
// | lease | `/var/lib/cni/networks/mynet/<ip>` | `/var/lib/cni/networks/cbr0/<ip>` (`cbr0` is the network's name) |
//
// flannel's delegate differs from `10-mynet.conf` where flannel knows better: no `bridge` field (the plugin's
// default is `cni0`), `ipMasq: false` (flanneld masquerades itself, `--ip-masq`), `isDefaultGateway` (the default
// route), the node's `/24` as the range, and the VXLAN MTU, 1450.

// %% [markdown]
// ## DEL, when the pod goes
//
// Deleting the pod stops its sandbox, and the runtime calls `DEL` with the same container ID and namespace. The
// lease goes, as ctr2's did.

// %% labbook={"id": "k8s-delete", "role": "step", "requires": ["kubernetes"]}
// kubectl delete the pod, and read the runtime's DEL for it
const demoDel = await onlyWith(c, "kubernetes", async () => {
  await sh(node1, "kubectl delete pod cni-demo --wait");
  let del = callFor(await loggedCalls(node1), "cni-demo", "DEL");
  for (let i = 0; !del && i < 50; i++) { // the object goes first; the sandbox's teardown follows within moments
    await new Promise((resolve) => setTimeout(resolve, 100));
    del = callFor(await loggedCalls(node1), "cni-demo", "DEL");
  }
  if (del) showCall(node1, del);
  else console.log(`no DEL for cni-demo in ${CNI_LOG}`);
  return del;
});

// %% labbook={"id": "k8s-check-del", "role": "check", "requires": ["kubernetes"]}
// Check: DEL came with the same container ID and netns, and the lease is released
await onlyWith(c, "kubernetes", async () => {
  await check("DEL came for the same sandbox and netns as ADD", () => {
    if (!demoDel) throw new Error(`no DEL for cni-demo in node1's ${CNI_LOG}`);
    if (demoDel.env.CNI_CONTAINERID !== demo!.id || demoDel.env.CNI_NETNS !== demo!.add?.env.CNI_NETNS) throw new Error(`DEL: ${demoDel.env.CNI_CONTAINERID} ${demoDel.env.CNI_NETNS}`);
    return `CNI_COMMAND=DEL CNI_CONTAINERID=${demo!.id.slice(0, 12)}...`;
  });
  await check("host-local released the pod's IP", async () => {
    const leases = (await node1.$`ls /var/lib/cni/networks/cbr0`).lines();
    if (leases.includes(demo!.ip)) throw new Error(`still leased: ${leases.join(" ")}`);
    return `leases now: ${leases.join(" ")}`;
  }, { within: 5000 });
});

// %% [markdown]
// ## Exercise: a second network, and a pod on node2
//
// 1. Write a second network configuration, `/etc/cni/net.d/20-othernet.conf` on node1: a network named `othernet`
//    on a bridge `cni1`, gateway and masquerade as before, with `host-local` addresses from **`10.23.0.0/16`** and a
//    default route. Then attach a new container namespace `ctr3` to it with `ADD` (interface `eth0`) by hand.
//    Kubernetes' pods on node1 must keep their network (`cni0`).
// 2. Install the logging wrapper on **node2** too (`installCniLog`), and run a pod named **`web`** from
//    `labbook/probe:1` on node2. Its `ADD` must be in node2's `/var/log/cni-calls.log`.

// %% labbook={"id": "exercise-othernet", "role": "exercise", "points": 4}
// Your turn (1): write 20-othernet.conf, create the netns ctr3, and call ADD
// const othernet = { ... };
// await node1.$({ input: JSON.stringify(othernet) })`cat > /etc/cni/net.d/20-othernet.conf`;
// await sh(node1, "ip netns add ctr3");
// await cni(node1, { command: "ADD", ... });

// %% labbook={"id": "solution-othernet", "role": "solution", "points": 4}
// Solution (1)
const othernet = { ...mynet, name: "othernet", bridge: "cni1", ipam: { type: "host-local", subnet: "10.23.0.0/16", routes: [{ dst: "0.0.0.0/0" }] } };
await node1.$({ input: JSON.stringify(othernet, null, 2) + "\n" })`cat > /etc/cni/net.d/20-othernet.conf`;
await sh(node1, "ip netns add ctr3");
await cni(node1, { command: "ADD", config: "/etc/cni/net.d/20-othernet.conf", containerId: "ctr3", netns: "ctr3" });

// %% labbook={"id": "exercise-web", "role": "exercise", "points": 3, "requires": ["kubernetes"]}
// Your turn (2): the wrapper on node2, and a pod "web" from labbook/probe:1 on node2
// await onlyWith(c, "kubernetes", async () => {
//   await installCniLog(node2);
//   await kubectlApply(node1, `...`, "web.yaml");
// });

// %% labbook={"id": "solution-web", "role": "solution", "points": 3, "requires": ["kubernetes"]}
// Solution (2)
await onlyWith(c, "kubernetes", async () => {
  await installCniLog(node2);
  await kubectlApply(node1, `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: node2
  containers:
  - name: probe
    image: labbook/probe:1
`, "web.yaml");
  await sh(node1, `kubectl wait --for=condition=Ready pod/web --timeout=${scaledSeconds(90)}`);
});

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, onlyWith } from "labbook";
// import { loggedCalls, callFor, CNI_LOG } from "./cni.js";
// const c = await cluster();
// const [node1, node2] = [c.node("node1"), c.node("node2")];

// %% labbook={"id": "hidden-othernet", "role": "hidden-check", "hint": "othernet must be a separate bridge network (cni1, 10.23.0.0/16) with ctr3 attached, and flannel's cni0 must keep working."}
// Hidden check: the second network exists as specified, ctr3 is on it, and the pods' network is untouched
await check("20-othernet.conf is a bridge network named othernet on cni1 with 10.23.0.0/16", async () => {
  const conf = (await node1.$`cat /etc/cni/net.d/20-othernet.conf`).json<{ name: string; type: string; bridge: string; ipam: { subnet: string } }>();
  if (conf.name !== "othernet" || conf.type !== "bridge" || conf.bridge !== "cni1" || conf.ipam?.subnet !== "10.23.0.0/16") throw new Error(JSON.stringify(conf));
  return "as specified";
}, { points: 1 });
await check("ctr3 has an address in 10.23.0.0/16 and a default route via 10.23.0.1", async () => {
  const address = String(await node1.$`ip -n ctr3 -br addr show eth0`);
  const route = String(await node1.$`ip -n ctr3 route show default`);
  if (!/ 10\.23\.\d+\.\d+\/16/.test(address) || !route.includes("via 10.23.0.1")) throw new Error(`${address}${route}`);
  return address.trim();
}, { points: 1 });
await check("host-local leased ctr3's address from othernet and ctr3 reaches its gateway", async () => {
  const leases = String(await node1.$`grep -l ctr3 /var/lib/cni/networks/othernet/*`);
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr3 ping -c1 -W2 10.23.0.1`;
  if (!ping.ok) throw new Error(ping.stdout);
  return leases.trim();
}, { points: 1 });
await check("ctr3 reaches node2, masqueraded", async () => {
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr3 ping -c1 -W2 192.168.0.12`;
  if (!ping.ok) throw new Error(ping.stdout);
  return "192.168.0.12 answers";
}, { points: 1 });
await onlyWith(c, "kubernetes", async () => {
  await check("the pods' network is untouched: cni0 still holds node1's pod gateway", async () => {
    const podCidr = String(await node1.$`kubectl get node node1 -o jsonpath={.spec.podCIDR}`).trim();
    const bridge = String(await node1.$`ip -br addr show cni0`);
    if (!bridge.includes(podCidr.replace(/\.0\/24$/, ".1/24"))) throw new Error(`node1's pod CIDR is ${podCidr}; ${bridge}`);
    return bridge.trim().replace(/\s+/g, " ");
  });
});

// %% labbook={"id": "hidden-web", "role": "hidden-check", "requires": ["kubernetes"], "hint": "A pod named web from labbook/probe:1 must run on node2, with the cni-log wrapper as node2's first CNI config, so that its ADD is in node2's /var/log/cni-calls.log."}
// Hidden check: web runs on node2, node2's runtime called cni-log for it, and the netns it named holds web's IP
await onlyWith(c, "kubernetes", async () => {
  const got = await node1.$({ nothrow: true })`kubectl get pod web -o json`; // no pod: kubectl fails, and the checks say so
  const pod = got.ok ? got.json<{ spec?: { nodeName?: string; containers?: Array<{ image: string }> }; status?: { phase?: string; podIP?: string } }>() : {};
  const ip = pod.status?.podIP ?? "";
  await check("web runs on node2 from labbook/probe:1", () => {
    if (pod.spec?.nodeName !== "node2" || pod.status?.phase !== "Running" || pod.spec.containers?.[0]?.image !== "labbook/probe:1") {
      throw new Error(`web: node ${pod.spec?.nodeName ?? "(no pod)"}, phase ${pod.status?.phase}, image ${pod.spec?.containers?.[0]?.image}`);
    }
    return `web on node2, ${ip}`;
  }, { points: 1 });
  await check("node2's runtime called cni-log (wrapping flannel) with ADD for web", async () => {
    const add = callFor(await loggedCalls(node2), "web", "ADD");
    if (!add || add.stdin.type !== "cni-log" || add.stdin.wraps !== "flannel" || add.args.K8S_POD_NAMESPACE !== "default") throw new Error(`no such ADD in node2's ${CNI_LOG}`);
    return `CNI_CONTAINERID=${String(add.env.CNI_CONTAINERID).slice(0, 12)}... CNI_NETNS=${add.env.CNI_NETNS}`;
  }, { points: 1 });
  await check("the netns of that call holds eth0 with web's IP, and web answers from node1 on it", async () => {
    const add = callFor(await loggedCalls(node2), "web", "ADD");
    const netns = (add?.env.CNI_NETNS ?? "").split("/").pop() || "none";
    const eth0 = await node2.$({ nothrow: true })`ip -n ${netns} -br addr show eth0`;
    if (!ip || !eth0.stdout.includes(` ${ip}/`)) throw new Error(`web's IP ${ip || "(none)"}; ${netns}: ${eth0.stdout.trim() || eth0.stderr.trim()}`);
    const answer = await node1.$({ nothrow: true })`curl -s -m 3 http://${ip}/`;
    if (!answer.ok || !answer.stdout.includes("web")) throw new Error(`http://${ip}/ from node1: ${answer.stdout || answer.stderr}`);
    return `${netns}: ${eth0.stdout.trim().replace(/\s+/g, " ")}; ${answer.stdout.trim().split("\n")[0]}`;
  }, { points: 1 });
});

// %% [markdown]
// ## What Kubernetes adds
//
// Nothing to the contract: the runtime calls the first config in `/etc/cni/net.d` with the same `CNI_*`
// variables you set, plus `CNI_ARGS` naming the pod, and keeps the plugin's result. The `bridge` plugin only
// connects pods on one node: flannel's plugin (lab 05) gives it each node's own subnet, and flanneld makes the
// routes or tunnels between the nodes, which is why `web` on node2 answers node1.
