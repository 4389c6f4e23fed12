/** What the benchmark's and the fault suite's command lines share: `--only=`, the log, the exit. */
import { nowMs } from './protocol.js';

/** The parts named by `--only=a,b` (every known one without it); an unknown name is an error. */
export function parseOnly<T extends string>(args: readonly string[], known: readonly T[]): T[] {
  const onlyArg = args.find((arg) => arg.startsWith('--only='));
  const only = onlyArg ? (onlyArg.slice('--only='.length).split(',') as T[]) : [...known];
  for (const name of only) {
    if (!known.includes(name)) throw new Error(`unknown part ${name}; known: ${known.join(', ')}`);
  }
  return only;
}

/** A console log whose lines carry the seconds since `started`: `[bench   12s] ...`. */
export function stampedLog(name: string, started: number): (line: string) => void {
  return (line) => {
    const seconds = ((nowMs() - started) / 1000).toFixed(0).padStart(4);
    console.log(`[${name} ${seconds}s] ${line}`);
  };
}

/** Runs the command's main and exits 0, or prints the error and exits 1 (agents left running are killed). */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
