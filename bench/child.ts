// Where the bench finds itself, in its two forms: the TypeScript sources run through tsx (the normal
// setting), or the esbuild bundle that scripts/device-bundle.sh builds into .device/app/ for a machine
// without node_modules (the constant DEVICE_BUNDLE is defined there at build time). Gives the
// repository root, the Node arguments that start another bench script in a child process, and the
// versions of the packages the bench measures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Set by esbuild's `define` in the device bundle only: package versions, commit and date of the build. */
declare const DEVICE_BUNDLE: { versions: Record<string, string>; built: string } | undefined;
const bundle = typeof DEVICE_BUNDLE === 'undefined' ? undefined : DEVICE_BUNDLE;

/** The device bundle's git commit and build date; undefined when running from the sources. */
export const bundleBuilt = bundle?.built;

/** The repository root (the bundle lives in ROOT/.device/app/, its chunks side by side). */
export const ROOT = join(import.meta.dirname, '..', ...(bundle ? ['..'] : []));

/** The bench scripts that run in a child process of their own. */
export type BenchScript = 'peers/run' | 'peers/run-one' | 'cold-start';

/** Node arguments that run a bench script: tsx's loader and the .ts file, or the bundle's dispatcher and the name. */
export function benchScriptArgs(name: BenchScript): string[] {
  if (bundle) return [join(import.meta.dirname, 'main.js'), name];
  // tsx by path: the CLI registers tsx by API, so process.execArgv lacks it.
  return ['--import', import.meta.resolve('tsx'), join(ROOT, 'bench', `${name}.ts`)];
}

/** An npm package's version: from node_modules, or as the bundle recorded it; '?' if neither has it. */
export function pkgVersion(name: string): string {
  if (bundle) return bundle.versions[name] ?? '?';
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
