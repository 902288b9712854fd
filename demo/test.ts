// The self-test page: window.runSelfTest(options) runs src/platform/selftest.ts on navigator.gpu and
// returns its report (what test/browser/run.ts checks); the button does the same by hand.
import { adapterLabel, formatResult, runSelfTest } from '../src/browser.ts';
import type { SelfTestOptions } from './page-api.ts';

const log = document.getElementById('log')!;
const verdict = document.getElementById('verdict')!;
const adapter = document.querySelector('#adapter span')!;
const button = document.getElementById('go') as HTMLButtonElement;
const full224 = document.getElementById('full224') as HTMLInputElement;

function line(text: string): void {
  log.textContent += `${text}\n`;
  log.scrollTop = log.scrollHeight;
  console.log(text);
}

window.runSelfTest = async (opts: SelfTestOptions = {}) => {
  const gpu = navigator.gpu;
  if (!gpu) throw new Error('navigator.gpu is missing: no WebGPU in this browser');
  log.textContent = '';
  verdict.className = 'verdict';
  verdict.textContent = 'Running…';
  button.disabled = true;
  try {
    const report = await runSelfTest(gpu, { kernels: true, model: true, f16: true, ...opts, log: line, runtime: navigator.userAgent });
    const failed = report.results.filter((r) => !r.ok);
    verdict.className = `verdict ${report.ok ? 'ok' : 'fail'}`;
    verdict.textContent = report.ok
      ? `All ${report.results.length} checks passed in ${(report.ms / 1000).toFixed(1)} s.`
      : `${failed.length} of ${report.results.length} checks FAILED.`;
    if (failed.length) line(`failed:\n${failed.map(formatResult).join('\n')}`);
    return report;
  } finally {
    button.disabled = false;
  }
};

button.addEventListener('click', () => {
  window.runSelfTest({ full224: full224.checked }).catch((e) => {
    verdict.className = 'verdict fail';
    verdict.textContent = `Error: ${(e as Error).message}`;
  });
});

adapter.textContent = navigator.gpu ? await adapterLabel(navigator.gpu).catch((e) => `error: ${(e as Error).message}`) : 'none (no navigator.gpu)';
window.selfTestReady = true;
