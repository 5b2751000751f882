// papermill's parameter options, for `labbook run`: -p NAME VALUE (typed), -r NAME VALUE (a string as is),
// -y YAML and -f FILE (a YAML map), in papermill's spellings and ours. node:util's parseArgs cannot take an
// option with two values, so these are taken out of argv first; later ones override earlier ones.
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { parseParameterValue, parseParameterYaml, type ParameterValue } from "../notebook/parameters.ts";

const PAIR = new Map([
  ["-p", "typed"], ["--parameters", "typed"],
  ["-r", "raw"], ["--parameters-raw", "raw"], ["--parameters_raw", "raw"],
]);
const YAML_TEXT = new Set(["-y", "--parameters-yaml", "--parameters_yaml"]);
const YAML_FILE = new Set(["-f", "--parameters-file", "--parameters_file"]);

export interface ParameterArgs {
  /** argv without the parameter options. */
  rest: string[];
  values: Record<string, ParameterValue>;
}

export function takeParameterArgs(command: string, argv: string[]): ParameterArgs {
  const rest: string[] = [];
  const values: Record<string, ParameterValue> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const pair = PAIR.get(arg);
    if (pair) {
      const [name, value] = [argv[i + 1], argv[i + 2]];
      if (name === undefined || value === undefined) throw new UsageError(`labbook ${command}: ${arg} takes a name and a value, e.g. ${arg} seconds 5`);
      if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new UsageError(`labbook ${command}: ${arg} ${name}: a parameter name is a TypeScript identifier`);
      values[name] = pair === "raw" ? value : parseParameterValue(value);
      i += 2;
    } else if (YAML_TEXT.has(arg) || YAML_FILE.has(arg)) {
      const given = argv[++i];
      if (given === undefined) throw new UsageError(`labbook ${command}: ${arg} takes ${YAML_FILE.has(arg) ? "a YAML file" : "YAML text"}`);
      let text = given;
      if (YAML_FILE.has(arg)) {
        try {
          text = readFileSync(given, "utf8");
        } catch (error) {
          throw new UsageError(`labbook ${command}: ${arg} ${given}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
        }
      }
      Object.assign(values, parseParameterYaml(text, YAML_FILE.has(arg) ? given : `${arg} text`));
    } else {
      rest.push(arg);
    }
  }
  return { rest, values };
}
