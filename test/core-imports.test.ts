// The core runs unchanged in Node, Deno and the browser: nothing in it imports Node modules, the `webgpu`
// package (Dawn for Node) or any other npm package, nor uses Node globals. File
// access and the WebGPU entry point live in per-runtime adapters (src/node.ts, src/deno.ts,
// src/browser.ts, src/platform/*). Checked here by walking the import graph from every core file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** The core: these folders and files, and everything they import. */
const CORE_DIRS = ['tensor', 'kernels', 'nn', 'weights', 'image', 'formats', 'datasets'];
const CORE_FILES = ['api.ts', 'index.ts', 'browser.ts', 'platform/deno.ts', 'platform/browser.ts', 'platform/selftest.ts'];
/** The npm packages the core may import: none (its one runtime dependency is WebGPU itself). */
const ALLOWED_PACKAGES = new Set<string>();

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return f.endsWith('.ts') ? [p] : [];
  });
}

/** Import and export-from specifiers, static and dynamic, with comments removed first. */
function specifiers(code: string): string[] {
  const text = stripComments(code);
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|[\s;}])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g)) out.push(m[1]);
  return out;
}

function stripComments(code: string): string {
  // Good enough for this code base: no '//' or '/*' inside string literals that matter here.
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function coreFiles(): string[] {
  const seeds = [...CORE_DIRS.flatMap((d) => tsFiles(join(SRC, d))), ...CORE_FILES.map((f) => join(SRC, f))];
  const seen = new Set<string>();
  const queue = seeds.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const s of specifiers(readFileSync(f, 'utf8'))) {
      if (s.startsWith('.')) queue.push(resolve(dirname(f), s));
    }
  }
  return [...seen].sort();
}

describe('the runtime-neutral core', () => {
  const files = coreFiles();

  it('the import scanner sees static, side-effect, re-export and dynamic imports', () => {
    const sample = `import { readFile } from 'node:fs';\nimport type { X } from "./x.ts";\nexport * from './y.ts';\nimport 'webgpu';\n` +
      `const m = await import('path');\n// import { gone } from 'commented-out';\nexport {\n  a,\n  b,\n} from '@petamoriken/float16';`;
    expect(specifiers(sample).sort()).toEqual(['./x.ts', './y.ts', '@petamoriken/float16', 'node:fs', 'path', 'webgpu']);
  });

  it('covers the core folders and entry points', () => {
    const rel = files.map((f) => relative(SRC, f));
    for (const d of CORE_DIRS) expect(rel.some((f) => f.startsWith(`${d}/`)), d).toBe(true);
    for (const f of ['api.ts', 'index.ts', 'kernels/webgpu/shaders.gen.ts', 'kernels/webgpu/engine.ts', 'kernels/cpu/backend.ts']) {
      expect(rel, f).toContain(f);
    }
  });

  it('imports nothing from node:, no Node builtin, not the webgpu package, and only allowed npm packages', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const s of specifiers(readFileSync(f, 'utf8'))) {
        if (s.startsWith('.')) {
          if (!s.endsWith('.ts')) bad.push(`${relative(ROOT, f)}: '${s}' (Deno and Vite need the .ts extension)`);
          continue;
        }
        if (!ALLOWED_PACKAGES.has(s)) bad.push(`${relative(ROOT, f)}: '${s}'`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('never reaches the Node-only files (src/cli, src/node.ts, src/platform/node-gpu.ts)', () => {
    // Other modules the core pulls in (e.g. src/search) are held to the same import rules above.
    const nodeOnly = files.map((f) => relative(SRC, f)).filter((f) => f.startsWith('cli/') || f === 'node.ts' || f === 'platform/node-gpu.ts');
    expect(nodeOnly).toEqual([]);
  });

  it('uses no Node globals (process, Buffer, require, __dirname)', () => {
    const bad: string[] = [];
    for (const f of files) {
      const code = stripComments(readFileSync(f, 'utf8'));
      for (const re of [/\bprocess\./, /\bBuffer\.(from|alloc|concat|isBuffer)/, /\brequire\(/, /__dirname|__filename/, /import\.meta\.(dirname|filename)/]) {
        if (re.test(code)) bad.push(`${relative(ROOT, f)}: ${re}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the shaders reach the engine as the generated module, not through the file system', () => {
    const gen = readFileSync(join(SRC, 'kernels/webgpu/shaders.gen.ts'), 'utf8');
    expect(specifiers(gen)).toEqual([]);
    expect(files.map((f) => relative(SRC, f))).toContain('kernels/webgpu/shaders.gen.ts');
  });
});
