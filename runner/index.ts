// The labbook SDK: what labs, tests and the CLI import.
export { Cluster, DEFAULT_CLUSTER_NAME, type UpOptions } from "./cluster/cluster.ts";
export { Node } from "./cluster/node.ts";
export { NodeGroup } from "./cluster/group.ts";
export { CommandResult, CommandError } from "./cluster/result.ts";
export type { Dollar, RunOptions } from "./cluster/dollar.ts";
export { getBackend, backendNames } from "./backend/registry.ts";
export type { Backend, Capability, ClusterDescription, ClusterStatus, DownReport } from "./backend/types.ts";
export { loadTopology, parseTopology, TopologyError } from "./topology/load.ts";
export type { Topology, TopologyNode } from "./topology/types.ts";
export { ClusterNotFoundError, LabbookError, UsageError } from "./errors.ts";
