/**
 * Summarises V8 CPU profiles (from `npm run bench -- --cpu-prof=api,worker`) without a
 * browser: self time by package and by function, and the inclusive time of chosen
 * functions (any frame on the stack), optionally inside a time window of the profile.
 *
 *   node --import tsx bench/profile-summary.ts [--window=10-14] [--inclusive=fnA,fnB] file.cpuprofile...
 *
 * `--window` is in seconds from the start of the profile (the app's start).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where code lives: a dependency, a workspace package or app, Node itself, or V8 bookkeeping. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  const workspace = /\/(apps|packages|bench)\/([^/]+)\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

const args = process.argv.slice(2);
const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const window = option('window')?.split('-').map(Number);
const inclusive = option('inclusive')?.split(',').filter(Boolean) ?? [];
const top = Number(option('top') ?? 25);

function summarise(path: string): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byInclusive = new Map<string, number>(inclusive.map((name) => [name, 0]));
  let t = profile.startTime;
  let counted = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const seconds = (t - profile.startTime) / 1e6;
    if (window && (seconds < window[0]! || seconds > window[1]!)) return;
    const node = nodes.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle++;
      return;
    }
    counted++;
    const owner = ownerOf(url, functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
    const name = `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
    if (inclusive.length > 0) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = nodes.get(at)?.callFrame.functionName ?? '';
        if (byInclusive.has(frame) && !seen.has(frame)) {
          seen.add(frame);
          byInclusive.set(frame, (byInclusive.get(frame) ?? 0) + 1);
        }
      }
    }
  });
  const pct = (count: number) => `${((100 * count) / Math.max(1, counted)).toFixed(1).padStart(5)}%`;
  const span = window
    ? `${window[0]}-${window[1]} s`
    : `${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`;
  console.log(
    `\n${path}: ${span}; busy in ${((100 * counted) / Math.max(1, counted + idle)).toFixed(0)}% of samples`,
  );
  const list = (title: string, entries: Map<string, number>) => {
    console.log(`${title} (share of busy samples):`);
    for (const [name, count] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${pct(count)}  ${name}`);
    }
  };
  list('self time by owner', byOwner);
  list('self time by function', byFunction);
  if (inclusive.length > 0) list('inclusive time', byInclusive);
}

const paths = args.filter((arg) => !arg.startsWith('--'));
if (paths.length === 0) {
  console.error(
    'usage: node --import tsx bench/profile-summary.ts [--window=a-b] [--inclusive=f,g] <file.cpuprofile>...',
  );
  process.exit(2);
}
for (const path of paths) summarise(path);
