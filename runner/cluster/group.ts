import { makeDollar, type Dollar } from "./dollar.ts";
import type { Node } from "./node.ts";
import type { CommandResult } from "./result.ts";

/** Several nodes addressed at once; commands run on all of them in parallel. */
export class NodeGroup {
  /** Runs the same command on every node of the group; results come in the group's order. */
  readonly $: Dollar<CommandResult[]>;
  readonly nodes: readonly Node[];

  constructor(nodes: readonly Node[]) {
    this.nodes = nodes;
    this.$ = makeDollar((command, options) => Promise.all(this.nodes.map((node) => node.run(command, options))));
  }

  /** Runs `fn` for every node in parallel, e.g. to give each its own command. */
  map<T>(fn: (node: Node) => Promise<T>): Promise<T[]> {
    return Promise.all(this.nodes.map(fn));
  }
}
