// Entry of the device bundle (scripts/device-bundle.sh bundles it into .device/app/main.js, run by
// .device/run.sh): `node .device/app/main.js NAME [args…]` runs one bench script, as
// `npx tsx bench/NAME.ts [args…]` would, on a machine with no node_modules and no tsx:
//   info         the WebGPU adapter, its features and limits (as `npx resnet50 info`)
//   bench        the suite, with `npx resnet50 bench`'s options (src/cli/bench.ts)
//   tune, profile   `npx resnet50 tune` / `profile` (src/cli/profile.ts)
//   artifacts [BATCH…]   the seeded weights, their ONNX export (scripts/export_onnx.py with $PYTHON)
//                and the peers' CPU reference logits at 224² for each BATCH (bench/peers/common.ts)
//   peers/run, peers/run-one, cold-start   the scripts the suite starts in child processes
// (bench/child.ts gives the children this entry and the name, instead of tsx and the .ts file).
const SCRIPTS: Record<string, () => Promise<unknown>> = {
  info: async () => {
    const { nodeGpu } = await import('../../src/platform/node-gpu.ts');
    const { describeAdapter } = await import('../../src/kernels/webgpu/engine.ts');
    console.log(await describeAdapter(nodeGpu()));
    process.exit(0);
  },
  bench: async () => {
    const { benchCommand } = await import('../../src/cli/bench.ts');
    process.exit(await benchCommand(process.argv.slice(2)));
  },
  tune: async () => {
    const { profileMain } = await import('../../src/cli/profile.ts');
    process.exit(await profileMain('tune', process.argv.slice(2)));
  },
  profile: async () => {
    const { profileMain } = await import('../../src/cli/profile.ts');
    process.exit(await profileMain('profile', process.argv.slice(2)));
  },
  artifacts: async () => {
    const { ensureArtifacts, referenceLogits, WEIGHTS_SEED } = await import('../peers/common.ts');
    const { weights } = ensureArtifacts(WEIGHTS_SEED, { onnx: true }, console.log);
    for (const batch of process.argv.slice(2).map(Number)) {
      const { path, ms } = referenceLogits(WEIGHTS_SEED, weights, [batch, 3, 224, 224]);
      console.log(`CPU reference, batch ${batch}: ${ms === null ? 'cached' : `${(ms / 1000).toFixed(1)} s`} → ${path}`);
    }
  },
  'peers/run': () => import('../peers/run.ts'),
  'peers/run-one': () => import('../peers/run-one.ts'),
  'cold-start': () => import('../cold-start.ts'),
};

const [name] = process.argv.splice(2, 1); // the scripts parse process.argv.slice(2) as their own
const script = SCRIPTS[name];
if (!script) {
  console.error(`usage: node ${process.argv[1]} ${Object.keys(SCRIPTS).join('|')} [args…]`);
  process.exit(2);
}
await script();
