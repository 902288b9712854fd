// The `resnet50` command line: embed, classify, info, probe, convert, bench, index, search, worker.
import { parseArgs } from 'node:util';
import { CliError } from './files.ts';
import { convert } from './convert.ts';
import { embedCommand, type EmbedOptions } from './embed.ts';
import { WEIGHTS_HELP } from './weights.ts';

const USAGE = `usage:
  resnet50 embed <inputs…> [--weights msvision|<name>|<url>|<file>] [--sha256 HEX] [--preset torchvision|msvision|clip|bit]
                 [--arch torchvision|clip-rn50|bit-r50x1] [--out <file.npy|.json|.jsonl>] [--batch 8] [--device webgpu|cpu] [--precision f32|f16] [--quiet]
                 [--tuning cached|off|tune]
      writes the [N, D] embeddings (N rows in input order; D = 2048 for ResNet-50 and BiT, 1024 for CLIP)
  resnet50 classify <inputs…> [--weights torchvision-v2|…] [--top 5] [same options as embed]
      writes the [N, classes] logits and prints the top-k classes (ImageNet names for 1000 classes, else indices)
  resnet50 info
      prints the WebGPU adapter, its features and limits
  resnet50 probe --train-features X.npy --train-labels y.npy --test-features … --test-labels … [--out report.json]
      linear-probe evaluation of embeddings (logistic regression, λ swept as in CLIP); see 'resnet50 probe --help'
  resnet50 probe --dataset cifar10,…|seed --root <folder> [--weights msvision|…] [--table table.md] [--out report.json]
      the seed's seven benchmarks read from their files as distributed, scored as CLIP did, beside the seed's table
  resnet50 convert <in.pth|in.pt|in.npz|in.safetensors> <out.safetensors> [--dtype f32|f16] [--fold-bn] [--arch …]
      writes a weights file as safetensors (its own names, or with BatchNorm folded into the convs)
  resnet50 tune [--batch 1,8,32] [--precision f32,f16] [--size 224] [--runs 5]
      times every kernel candidate per distinct ResNet-50 layer on this adapter and caches the winners
  resnet50 profile [--batch 1] [--precision f32] [--size 224] [--tuning cached|off|tune] [--json FILE]
      GPU time of every dispatch of a forward (timestamp queries), and the host time around it
  resnet50 bench [--batch 1,8,32] [--runs 5] [--precision f32,f16] [--kernels] [--peers] [--json FILE]
      benchmarks the WebGPU engine on seeded weights (and with --peers TF.js, ONNX Runtime); see 'resnet50 bench --help'
  resnet50 index <folder> [--weights msvision|…] --out <index> [--preset] [--batch] [--device] [--precision]
      embeds a folder's images into a search index, updated incrementally; see 'resnet50 index --help'
  resnet50 search <image…> --index <index> [--k 10] [--weights <file>] [--json]
      the k indexed images most similar to each query (cosine similarity)
  resnet50 index <folder> --db <path|uri> [--queue redis://…] / resnet50 search <image…> --db <path|uri> [--exact]
      the same in a LanceDB database, with a vector index from 100,000 rows, embedded here or by workers
  resnet50 worker --queue redis://… [--concurrency 1] [--exit-when-idle] [--lock-seconds 30]
      embeds the shards 'index --queue' put on a BullMQ queue; see 'resnet50 worker --help'
  resnet50 bench search [--rows 100000,1000000] [--dim 2048] [--queries 200]
      recall@10, latency and build time of the LanceDB vector index against flat CPU and GPU scans

inputs: JPEG and PNG images (decoded and preprocessed by --preset: torchvision = Resize(256) with PIL's
antialiased bilinear, CenterCrop(224), ImageNet normalisation; msvision = the Microsoft Vision Model's
recipe: BGR, OpenCV bilinear 256×256, crop [16:240]; clip = Resize(224) with PIL's bicubic,
CenterCrop(224), CLIP's mean and std; bit = Resize(256) PIL bilinear, CenterCrop(224), mean 0.5,
std 0.5), folders of them (walked in sorted order), and preprocessed float32 NCHW tensors in .npy
files ([N, 3, H, W] or [3, H, W], H, W ≥ 32). A file that cannot be read is reported and skipped;
the exit status is then 1.
${WEIGHTS_HELP}`;

const OPTIONS = {
  weights: { type: 'string' },
  sha256: { type: 'string' },
  device: { type: 'string', default: 'webgpu' },
  precision: { type: 'string', default: 'f32' },
  out: { type: 'string' },
  top: { type: 'string', default: '5' },
  batch: { type: 'string', default: '8' },
  quiet: { type: 'boolean', short: 'q' },
  preset: { type: 'string' },
  arch: { type: 'string' },
  dtype: { type: 'string' },
  'fold-bn': { type: 'boolean' },
  tuning: { type: 'string', default: 'cached' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function info(): Promise<void> {
  const { nodeGpu } = await import('../platform/node-gpu.ts');
  const { describeAdapter } = await import('../kernels/webgpu/engine.ts');
  console.log(await describeAdapter(nodeGpu()));
}

/** Runs the CLI; returns the exit status. Errors become one line on stderr, no stack trace. */
export async function main(argv: string[]): Promise<number> {
  // probe has its own options; hand it the rest of the line untouched.
  if (argv[0] === 'probe') return (await import('./probe.ts')).probeCommand(argv.slice(1));
  if (argv[0] === 'worker') return (await import('./worker.ts')).workerCommand(argv.slice(1));
  if (argv[0] === 'bench' && argv[1] === 'search') return (await import('./bench-search.ts')).benchSearchCommand(argv.slice(2));
  if (argv[0] === 'tune' || argv[0] === 'profile') return (await import('./profile.ts')).profileMain(argv[0], argv.slice(1));
  if (argv[0] === 'bench') return (await import('./bench.ts')).benchCommand(argv.slice(1));
  if (argv[0] === 'index' || argv[0] === 'search') return (await import('./search.ts')).searchMain(argv[0], argv.slice(1));
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      console.log(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'embed' || command === 'classify') return await embedCommand(command, rest, values as EmbedOptions);
    else if (command === 'info') await info();
    else if (command === 'convert') await convert(rest, values);
    else throw new CliError(`unknown command '${command}'\n${USAGE}`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50: ${known ? message : `${(e as Error).name ?? 'error'}: ${message}`}\n`);
    return 1;
  }
}
