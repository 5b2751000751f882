// Labs show their work: a command is printed as a person would type it at the node's
// prompt, then run, and what it prints follows, as in a terminal.
import type { Node } from "../cluster/node.ts";
import type { CommandResult } from "../cluster/result.ts";

/** Prints `node# command`, runs it (throwing if it fails), and prints its output. */
export async function sh(node: Node, command: string): Promise<CommandResult> {
  console.log(`${node.name}# ${command}`);
  const result = await node.run(command);
  const output = `${result.stdout}${result.stderr}`.trimEnd();
  if (output) console.log(output);
  return result;
}

/** `sh` for each command in order; throws at the first that fails. */
export async function runShown(node: Node, commands: readonly string[]): Promise<void> {
  for (const command of commands) await sh(node, command);
}
