// The notebook SDK. One line in a lab's first code cell:
//   import { cluster, check, reaches, hasRoute, hasRule, fileContains } from "labbook";
export { cluster, CLUSTER_VARIABLE, type ClusterOptions } from "./current-cluster.ts";
export { check, type CheckOptions } from "./check.ts";
export { reaches, hasRoute, hasRule, fileContains, type ReachOptions, type RouteExpectation } from "./expect.ts";
export { addContainer, inContainer, type ContainerSpec } from "./containers.ts";
export { sh, runShown } from "./show.ts";
export { display } from "./display.ts";
export { onlyWith } from "./requires.ts";
export { kubectlApply, kubernetesStart } from "./kubernetes.ts";
export { capture, type CaptureOptions } from "./capture.ts";
export { labSeed, pickBySeed, SEED_VARIABLE } from "./seed.ts";
export { Cluster } from "../cluster/cluster.ts";
export { Node } from "../cluster/node.ts";
export { CommandResult, CommandError } from "../cluster/result.ts";
export type { CheckOutcome } from "../notebook/results.ts";
export { setupFlannel, programNode, startEtcd, writeNetworkConfig, leaseSubnet, writeSubnetEnv, readLeases, clearBackend, ensureVxlanDevice, ensureTunDevice, etcdctl, networkConfig, flannelMtu, subnetKey, FLANNEL_PREFIX, FLANNEL_NETWORK, FLANNEL_LEASE_TTL_S, FLANNEL_VXLAN, FLANNEL_UDP, FLANNEL_HOSTGW, podMesh, flannelShape, flannelLeaseKeys, type FlannelBackend, type FlannelLease } from "./flannel.ts";
export { POD_NETWORK, nodeNumber, podSubnet, podAddress, ensurePod } from "./pod-network.ts";
export { keepForGrader, keptForGrader, GRADER_NOTES_VARIABLE } from "./grader-notes.ts";
