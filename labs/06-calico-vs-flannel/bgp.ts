// Calico's data plane without Calico: BIRD (Debian's bird2) on every node, iBGP between the
// nodes (a route reflector or a full mesh), each node announcing its pod block. Learned routes
// land in the kernel as `proto bird`, and pod traffic travels as plain IP, unencapsulated.
// Each node's /etc/bird and /run are private, so every node has its own config and socket.
import { ensurePod, POD_NETWORK, podSubnet, sh, type CommandResult, type Node } from "labbook";

export const BIRD_CONF = "/etc/bird/bird.conf";
export const BIRD_SOCKET = "/run/bird/bird.ctl";
export const BIRD_LOG = "/var/log/bird.log";
/** A private AS number, one for the whole cluster (iBGP), as Calico's default 64512. */
export const BGP_ASN = 64512;

/** One BGP session, as the local side configures it. */
export interface BgpPeer {
  /** The BGP protocol's name in bird, e.g. "node2" (not "rr": that is a keyword). */
  name: string;
  /** The neighbor's address on the LAN. */
  ip: string;
  /** This side reflects routes to the peer (set on the route reflector's sessions only). */
  rrClient?: boolean;
}

export interface BirdConfigSpec {
  /** The node's own LAN address: its router id and the BGP session's source. */
  routerId: string;
  peers: readonly BgpPeer[];
  asn?: number;
  /** The interface whose connected prefix (the pod block) the node announces; default cni0. */
  podInterface?: string;
}

/**
 * A bird2 config in Calico's shape: `direct` picks up the pod bridge's connected prefix, each
 * `bgp` session announces what is in the pod network, and `kernel` writes learned BGP routes
 * into the kernel. Timers are tuned (hold 9, keepalive 3, connect retry 2, no connect delay) so that a
 * lab converges in about a second instead of Calico's 90/30/120.
 */
export function birdConfig(spec: BirdConfigSpec): string {
  const asn = spec.asn ?? BGP_ASN;
  const sessions = spec.peers.map((peer) =>
    [
      `protocol bgp ${peer.name} {`,
      `  local ${spec.routerId} as ${asn};`,
      `  neighbor ${peer.ip} as ${asn};`,
      `  direct;                      # the peer is on our LAN: next hops need no recursive lookup`,
      ...(peer.rrClient ? [`  rr client;                   # this node reflects the peer's routes to its other clients`] : []),
      `  hold time 9; keepalive time 3; connect retry time 2; connect delay time 0; error wait time 1, 10;`,
      `  ipv4 {`,
      `    import all;`,
      `    export where net ~ [ ${POD_NETWORK}+ ];`,
      `  };`,
      `}`,
    ].join("\n"),
  );
  return [
    `# ${BIRD_CONF}: Calico-style BGP for this node's pod block`,
    `log "${BIRD_LOG}" all;`,
    `router id ${spec.routerId};`,
    ``,
    `protocol device { scan time 10; }`,
    ``,
    `# The pod block: the connected prefix of the pod bridge`,
    `protocol direct {`,
    `  ipv4;`,
    `  interface "${spec.podInterface ?? "cni0"}";`,
    `}`,
    ``,
    `# Learned BGP routes go into the kernel's main table (they show as "proto bird")`,
    `protocol kernel {`,
    `  ipv4 { import none; export where source = RTS_BGP; };`,
    `}`,
    ``,
    ...sessions.flatMap((session) => [session, ""]),
  ].join("\n");
}

/** Runs `birdc -s <socket> <command>` on the node, printed like `sh`. */
export async function birdc(node: Node, command: string): Promise<CommandResult> {
  return sh(node, `birdc -s ${BIRD_SOCKET} ${command}`);
}

/** Writes `config` to /etc/bird/bird.conf, then starts bird, or makes a running bird reload it. */
export async function applyBirdConfig(node: Node, config: string): Promise<void> {
  console.log(`${node.name}# cat > ${BIRD_CONF} <<'EOF'\n${config.trimEnd()}\nEOF`);
  await node.$({ input: config })`cat > ${BIRD_CONF}`;
  await sh(node, `bird -p -c ${BIRD_CONF}`); // parse only: a typo fails here, with bird's message
  const running = await node.$({ nothrow: true })`birdc -s ${BIRD_SOCKET} show status`;
  if (running.ok) await birdc(node, "configure");
  else await sh(node, `mkdir -p /run/bird && bird -c ${BIRD_CONF} -s ${BIRD_SOCKET}`);
}

export interface BgpSession {
  name: string;
  /** bird's protocol state: up, start, down... */
  state: string;
  /** The BGP state, e.g. Established, Active, Connect. */
  info: string;
}

/** The BGP sessions in `birdc show protocols` on the node (quietly: for checks). */
export async function bgpSessions(node: Node): Promise<BgpSession[]> {
  const result = await node.$({ nothrow: true })`birdc -s ${BIRD_SOCKET} show protocols`;
  if (!result.ok) throw new Error(`${node.name}: bird is not running: ${(result.stdout + result.stderr).trim()}`);
  return result
    .lines()
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1] === "BGP")
    .map((fields) => ({ name: fields[0]!, state: fields[3]!, info: fields.slice(5).join(" ") }));
}

/** Throws unless every BGP session on the node is Established (and there is at least one). */
export async function expectEstablished(node: Node, expected?: readonly string[]): Promise<string> {
  const sessions = await bgpSessions(node);
  const describe = sessions.map((s) => `${s.name} ${s.info || s.state}`).join(", ") || "no BGP sessions";
  for (const name of expected ?? []) if (!sessions.some((s) => s.name === name)) throw new Error(`${node.name}: no session ${name} (${describe})`);
  if (sessions.length === 0 || sessions.some((s) => !s.info.startsWith("Established"))) throw new Error(`${node.name}: ${describe}`);
  return `${node.name}: ${describe}`;
}

/** The kernel routes bird installed on the node (`ip route show proto bird`), as lines. */
export async function birdRoutes(node: Node): Promise<string[]> {
  return (await node.$`ip route show proto bird`).lines().map((line) => line.trim());
}

/** Throws unless the node has a `proto bird` route to each other node's pod block via that node. */
export async function expectBirdRoutes(node: Node, others: readonly Node[]): Promise<string> {
  const routes = await birdRoutes(node);
  for (const other of others) {
    const wanted = `${podSubnet(other)} via ${other.ip}`;
    if (!routes.some((route) => route.startsWith(wanted))) throw new Error(`${node.name} has no proto bird route ${wanted}; it has:\n  ${routes.join("\n  ") || "(none)"}`);
  }
  return `${node.name}: ${routes.join("; ")}`;
}

export interface CalicoBgpOptions {
  /** The nodes to run BGP on (default: all of them given). */
  nodes: readonly Node[];
  /** The route reflector (default the first node); null for a full mesh. */
  reflector?: Node | null;
}

/** The peers of `node`: the reflector's clients, the reflector, or every other node (full mesh). */
export function bgpPeers(node: Node, nodes: readonly Node[], reflector: Node | null): BgpPeer[] {
  if (reflector === null) return nodes.filter((n) => n !== node).map((n) => ({ name: n.name, ip: n.ip }));
  if (node === reflector) return nodes.filter((n) => n !== node).map((n) => ({ name: n.name, ip: n.ip, rrClient: true }));
  return [{ name: reflector.name, ip: reflector.ip }];
}

/**
 * Calico's BGP mode on `nodes`: for each, the pod (if missing), forwarding, a bird config with
 * its sessions, and bird started. Does not wait for the sessions: check them with a deadline.
 */
export async function setupCalicoBgp(options: CalicoBgpOptions): Promise<void> {
  const reflector = options.reflector === undefined ? options.nodes[0]! : options.reflector;
  for (const node of options.nodes) {
    await ensurePod(node);
    await sh(node, "sysctl -w net.ipv4.ip_forward=1");
    await applyBirdConfig(node, birdConfig({ routerId: node.ip, peers: bgpPeers(node, options.nodes, reflector) }));
  }
}

/** Stops bird on the node, if it runs; its kernel routes go with it. */
export async function stopBird(node: Node): Promise<void> {
  if ((await node.$({ nothrow: true })`birdc -s ${BIRD_SOCKET} show status`).ok) await birdc(node, "down");
}
