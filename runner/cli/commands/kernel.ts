import { UsageError } from "../../errors.ts";
import { installKernelSpec, KERNEL_DISPLAY_NAME, KERNEL_NAME, kernelSpecDir, type KernelSpecLocation } from "../../kernel/kernelspec.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

const USAGE = [
  "labbook kernel install [--prefix DIR | --user]",
  `  registers labbook's patched tslab kernel with Jupyter as "${KERNEL_NAME}" ("${KERNEL_DISPLAY_NAME}"), the kernel the labs name;`,
  "  default /usr/local/share/jupyter/kernels/ as root, the user's Jupyter data directory with --user or when not root,",
  "  DIR/share/jupyter/kernels/ with --prefix. Prints the kernelspec directory.",
  "labbook kernel path [--prefix DIR | --user]",
  "  prints the directory install would write, and writes nothing",
].join("\n");

export const kernel: CliCommand = {
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs("kernel", argv, {
      prefix: { type: "string" },
      user: { type: "boolean" },
    });
    const [action, extra] = positionals;
    if (action === undefined) throw new UsageError(`labbook kernel: say "install" or "path"\n${USAGE}`);
    if (extra !== undefined) throw new UsageError(`labbook kernel: unexpected argument "${extra}"`);
    if (values.prefix !== undefined && values.user) throw new UsageError("labbook kernel: --prefix and --user exclude each other");
    if (values.prefix === "") throw new UsageError("labbook kernel: --prefix needs a directory");
    const location: KernelSpecLocation = { prefix: values.prefix, user: values.user ?? false };
    switch (action) {
      case "path":
        process.stdout.write(`${kernelSpecDir(location)}\n`);
        return 0;
      case "install": {
        // It outlives this checkout's warm snapshot (a rebuild, a new Node.js): kernels start the usual way.
        const dir = installKernelSpec(location, process.env, false);
        process.stderr.write(`installed the Jupyter kernel "${KERNEL_NAME}" ("${KERNEL_DISPLAY_NAME}"):\n`);
        process.stdout.write(`${dir}\n`);
        return 0;
      }
      default:
        throw new UsageError(`labbook kernel: unknown action "${action}" (install or path)`);
    }
  },
};
