// The notebook SDK. One line in a lab's first code cell:
//   import { cluster, check, reaches, hasRoute, hasRule, fileContains } from "labbook";
export { cluster, CLUSTER_VARIABLE, type ClusterOptions } from "./current-cluster.ts";
export { check, type CheckOptions } from "./check.ts";
export { reaches, hasRoute, hasRule, fileContains, type ReachOptions, type RouteExpectation } from "./expect.ts";
export { addContainer, inContainer, type ContainerSpec } from "./containers.ts";
export { sh, runShown } from "./show.ts";
export { capture, type CaptureOptions } from "./capture.ts";
export { labSeed, pickBySeed, SEED_VARIABLE } from "./seed.ts";
export { Cluster } from "../cluster/cluster.ts";
export { Node } from "../cluster/node.ts";
export { CommandResult, CommandError } from "../cluster/result.ts";
export type { CheckOutcome } from "../run/results.ts";
export { cni, CniError, CNI_PATH, type CniCall, type CniOutcome } from "./cni.ts";
export { curlTally, formatTally, ruleCounters, type Tally, type TallyOptions, type RuleCounter } from "./kube-proxy.ts";
export { networkState, stateChanges, OBSERVING_RULE, type NetworkState } from "./netstate.ts";
export { TROUBLESHOOTING_FAULTS, FAULT_SALT, faultForSeed, injectFault, explainAndRepairFault, type Fault, type NodeCommand } from "./faults.ts";
