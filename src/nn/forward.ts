// The one forward pass: it walks a Network's steps (network.ts) on any Backend, and releases each
// value right after the last step that reads it (never a value it returns).
import type { Backend } from './backend.ts';
import { operands, type Network, type StageName, type Step } from './network.ts';

export { STAGE_NAMES, type StageName } from './network.ts';

export interface ForwardResult<V> {
  /** The embedding [N, featureDim]. */
  readonly features: V;
  /** Classifier logits [N, numClasses], or null when the network has no classifier. */
  readonly logits: V | null;
  /** The stage outputs asked for in `keep`, NCHW-shaped. */
  readonly stages: ReadonlyMap<StageName, V>;
}

function run<V>(b: Backend<V>, s: Step, v: readonly V[]): V {
  switch (s.op) {
    case 'conv':
      return b.conv2d(v[s.x], s.conv, s.residual === undefined ? { relu: s.relu } : { relu: s.relu, residual: v[s.residual] });
    case 'maxPool':
      return b.maxPool(v[s.x], { zeroPadding: s.zeroPadding });
    case 'avgPool':
      return b.avgPool(v[s.x], s.size);
    case 'globalAvgPool':
      return b.globalAvgPool(v[s.x]);
    case 'linear':
      return b.linear(v[s.x], s.fc);
    case 'groupNorm':
      return b.groupNorm(v[s.x], s.gn, { relu: s.relu });
    case 'attentionTokens':
      return b.attentionTokens(v[s.x], v[s.mean], s.tokens);
    case 'attention':
      return b.attention(v[s.q], v[s.kv], s.heads);
  }
}

export function forward<V>(b: Backend<V>, net: Network, input: V, keep: ReadonlySet<StageName> = new Set()): ForwardResult<V> {
  const returned = new Set<number>([net.features]);
  if (net.logits !== null) returned.add(net.logits);
  for (const [name, v] of net.stages) if (keep.has(name)) returned.add(v);
  // lastUse[v]: the step after which value v is dead (its own step when nothing reads it).
  const lastUse = Array.from({ length: net.steps.length + 1 }, (_, v) => v - 1);
  net.steps.forEach((s, i) => {
    for (const v of operands(s)) lastUse[v] = Math.max(lastUse[v], i);
  });
  const dying = net.steps.map((): number[] => []);
  lastUse.forEach((i, v) => {
    if (!returned.has(v) && i >= 0) dying[i].push(v);
  });
  const values: V[] = [input];
  net.steps.forEach((s, i) => {
    values.push(run(b, s, values));
    for (const v of dying[i]) b.release(values[v]);
  });
  const stages = new Map<StageName, V>();
  for (const [name, v] of net.stages) if (keep.has(name)) stages.set(name, values[v]);
  return { features: values[net.features], logits: net.logits === null ? null : values[net.logits], stages };
}
