// `npm run build` (also run by `npm pack` through prepack): the package's dist/.
//   1. tsc -p tsconfig.build.json: src/ as ESM JavaScript with .d.ts types (the WGSL shaders are
//      already inlined in src/kernels/webgpu/shaders.gen.ts);
//   2. dist/cli/bin.js made executable (the `resnet50` command);
//   3. esbuild: src/browser.ts as one self-contained ESM file, dist/resnet50.browser.js, that a page
//      imports from a static server with no bundler.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const bin = join(dist, 'cli', 'bin.js');
if (!readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')) throw new Error(`${bin}: no shebang line`);
chmodSync(bin, 0o755);

await build({
  entryPoints: [join(root, 'src', 'browser.ts')],
  outfile: join(dist, 'resnet50.browser.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const kib = (f) => `${(statSync(f).size / 1024).toFixed(0)} KiB`;
console.log(`dist/: ${kib(join(dist, 'resnet50.browser.js'))} browser bundle; bin ${bin.slice(root.length + 1)}`);
