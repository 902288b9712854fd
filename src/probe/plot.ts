// A small hand-written SVG of the sweep: validation top-1 against λ on a log axis, the chosen λ
// marked.

export interface PlotPoint {
  lambda: number;
  /** percent */
  accuracy: number;
}

export interface PlotOptions {
  title?: string;
  /** the chosen λ, marked with a dashed line */
  chosen?: number;
  width?: number;
  height?: number;
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

/** 10 with a superscript exponent, as SVG text content. */
const decadeLabel = (e: number): string => `10<tspan dy="-5" font-size="9">${e < 0 ? '−' : ''}${Math.abs(e)}</tspan>`;

/** A "nice" tick spacing giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function sweepPlotSvg(points: readonly PlotPoint[], options: PlotOptions = {}): string {
  const W = options.width ?? 640;
  const H = options.height ?? 400;
  const m = { left: 64, right: 24, top: 40, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const sorted = [...points].filter((p) => p.lambda > 0 && Number.isFinite(p.accuracy)).sort((a, b) => a.lambda - b.lambda);
  const logs = sorted.map((p) => Math.log10(p.lambda));
  const xMin = Math.floor(Math.min(-6, ...logs));
  const xMax = Math.ceil(Math.max(6, ...logs));
  const accs = sorted.map((p) => p.accuracy);
  let yMin = accs.length ? Math.min(...accs) : 0;
  let yMax = accs.length ? Math.max(...accs) : 100;
  const pad = Math.max((yMax - yMin) * 0.08, 0.5);
  yMin = Math.max(0, yMin - pad);
  yMax = Math.min(100, yMax + pad);
  if (yMax <= yMin) yMax = yMin + 1;
  const yStep = niceStep(yMax - yMin, 5);
  yMin = Math.floor(yMin / yStep) * yStep;
  yMax = Math.ceil(yMax / yStep) * yStep;
  const sx = (lg: number) => m.left + ((lg - xMin) / (xMax - xMin)) * pw;
  const sy = (a: number) => m.top + (1 - (a - yMin) / (yMax - yMin)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title ?? 'Linear probe: validation accuracy vs L2 strength λ')}</text>`);
  // grid and ticks
  out.push('<g stroke="#ddd" stroke-width="1">');
  for (let e = xMin; e <= xMax; e++) out.push(`<line x1="${fmt(sx(e))}" y1="${m.top}" x2="${fmt(sx(e))}" y2="${m.top + ph}"/>`);
  for (let v = yMin; v <= yMax + yStep / 2; v += yStep) out.push(`<line x1="${m.left}" y1="${fmt(sy(v))}" x2="${m.left + pw}" y2="${fmt(sy(v))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="black"/>`);
  out.push('<g text-anchor="middle">');
  for (let e = xMin; e <= xMax; e += 2) out.push(`<text x="${fmt(sx(e))}" y="${m.top + ph + 18}">${decadeLabel(e)}</text>`);
  out.push('</g>');
  out.push('<g text-anchor="end">');
  const decimals = yStep < 1 ? (yStep < 0.1 ? 2 : 1) : 0;
  for (let v = yMin; v <= yMax + yStep / 2; v += yStep) out.push(`<text x="${m.left - 6}" y="${fmt(sy(v) + 4)}">${v.toFixed(decimals)}</text>`);
  out.push('</g>');
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">λ (L2 strength; scikit-learn C = 1/λ), log scale</text>`);
  out.push(`<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">validation top-1 accuracy (%)</text>`);
  // chosen λ
  if (options.chosen !== undefined && options.chosen > 0) {
    const xv = sx(Math.log10(options.chosen));
    const x = fmt(xv);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#d62728" stroke-dasharray="4 3"/>`);
    // the label inside the frame, on the side of the line with more room
    const right = xv < m.left + pw / 2;
    out.push(
      `<text x="${fmt(xv + (right ? 5 : -5))}" y="${m.top + ph - 8}" text-anchor="${right ? 'start' : 'end'}" fill="#d62728">` +
        `chosen λ = ${escapeXml(options.chosen.toExponential(2))}</text>`,
    );
  }
  // the curve
  if (sorted.length) {
    const path = sorted.map((p, i) => `${i ? 'L' : 'M'}${fmt(sx(logs[i]))} ${fmt(sy(p.accuracy))}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
    out.push('<g fill="#1f77b4">');
    for (const [i, p] of sorted.entries()) {
      out.push(`<circle cx="${fmt(sx(logs[i]))}" cy="${fmt(sy(p.accuracy))}" r="3"><title>λ = ${p.lambda.toExponential(3)}: ${p.accuracy.toFixed(2)}%</title></circle>`);
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
