// What the demo and self-test pages expose on window for scripts (test/browser/run.ts reads these).
import type { SelfTestReport } from '../src/platform/selftest.ts';

/** What a finished demo run leaves on window.demoResult. */
export interface DemoResult {
  readonly weights: string;
  readonly seeded: boolean;
  readonly device: string;
  readonly top: { index: number; label: string | null; probability: number }[] | null;
  readonly embeddingNorm: number | null;
  readonly forwardMs: number;
  readonly firstRun: boolean;
}

export interface SelfTestOptions {
  kernels?: boolean;
  model?: boolean;
  full224?: boolean;
  f16?: boolean;
}

declare global {
  interface Window {
    /** demo (index.html): the last run's result, or its error message. */
    demoResult?: DemoResult;
    demoError?: string;
    /** test.html: runs the GPU-vs-CPU self-test and returns its report. */
    runSelfTest: (opts?: SelfTestOptions) => Promise<SelfTestReport>;
    selfTestReady?: boolean;
  }
}
