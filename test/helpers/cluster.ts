import { Cluster, type UpOptions } from "../../runner/cluster/cluster.ts";

let counter = 0;

/** A fresh cluster with a name unique to this test run, taken down after the suite. */
export function uniqueClusterName(prefix = "t"): string {
  return `${prefix}${process.pid}-${++counter}`;
}

export function upTestCluster(options: UpOptions = {}): Promise<Cluster> {
  return Cluster.up({ name: uniqueClusterName(), ...options });
}

/** One cluster for the enclosing suite: up before its first test, down after its last. */
export function suiteCluster(options: UpOptions = {}): () => Cluster {
  let cluster: Cluster | undefined;
  before(async () => {
    cluster = await upTestCluster(options);
  });
  after(async () => {
    await cluster?.down();
  });
  return () => cluster!;
}
