// The notebook SDK. One line in a lab's first code cell:
//   import { cluster, check, reaches, hasRoute, hasRule, fileContains } from "labbook";
export { cluster, CLUSTER_VARIABLE } from "./current-cluster.ts";
export { check, type CheckOptions } from "./check.ts";
export { reaches, hasRoute, hasRule, fileContains, type ReachOptions, type RouteExpectation } from "./expect.ts";
export { addContainer, inContainer, type ContainerSpec } from "./containers.ts";
export { Cluster } from "../cluster/cluster.ts";
export { Node } from "../cluster/node.ts";
export { CommandResult, CommandError } from "../cluster/result.ts";
export type { CheckOutcome } from "../run/results.ts";
