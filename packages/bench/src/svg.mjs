// svg.mjs — two small dependency-free SVG charts for the report.
//   lineChart:    events/s against N (log-log), one line per system, min–max whiskers.
//   latencyChart: latency against percentile on a "nines" axis (p50, p90, p99, p99.9), log y.

const W = 900;
const H = 440;
const M = { left: 78, right: 280, top: 44, bottom: 56 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

export function fmtNum(v) {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function frame(title, xLabel, yLabel, body, legend) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>
${body}
<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${legend}
</svg>
`;
}

function legendOf(series) {
  return series
    .map((s, i) => {
      const y = M.top + 8 + i * 20;
      const x = M.left + PW + 16;
      return `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${x + 28}" y="${y + 4}">${esc(s.name)}</text>`;
    })
    .join('\n');
}

function scaleLog(lo, hi, a, b) {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  return (v) => a + ((Math.log10(v) - l0) / (l1 - l0)) * (b - a);
}

/**
 * series: [{ name, color, dash?, points: [{ x, y, lo, hi }] }]; x and y > 0.
 */
export function lineChart({ title, xLabel, yLabel, series, xs }) {
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.lo ?? p.y, p.hi ?? p.y])).filter((v) => v > 0);
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const xLo = Math.min(...xs);
  const xHi = Math.max(...xs);
  const sx = xLo === xHi ? () => M.left + PW / 2 : scaleLog(xLo, xHi, M.left + 20, M.left + PW - 20);
  const sy = scaleLog(yLo, yHi, M.top + PH, M.top);
  let body = '';
  for (const t of logTicks(yLo, yHi)) {
    const y = sy(t).toFixed(1);
    body += `<line x1="${M.left}" y1="${y}" x2="${M.left + PW}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${+y + 4}" text-anchor="end">${fmtNum(t)}</text>\n`;
  }
  for (const x of xs) {
    const px = sx(x).toFixed(1);
    body += `<line x1="${px}" y1="${M.top}" x2="${px}" y2="${M.top + PH}" stroke="#eee"/><text x="${px}" y="${M.top + PH + 18}" text-anchor="middle">${fmtNum(x)}</text>\n`;
  }
  for (const s of series) {
    const pts = s.points.filter((p) => p.y > 0);
    if (!pts.length) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>\n`;
    for (const p of pts) {
      const px = sx(p.x).toFixed(1);
      if (p.lo > 0 && p.hi > 0)
        body += `<line x1="${px}" y1="${sy(p.lo).toFixed(1)}" x2="${px}" y2="${sy(p.hi).toFixed(1)}" stroke="${s.color}" stroke-width="1.2"/>`;
      body += `<circle cx="${px}" cy="${sy(p.y).toFixed(1)}" r="3.2" fill="${s.color}"><title>${esc(s.name)} N=${p.x}: ${fmtNum(p.y)}</title></circle>\n`;
    }
  }
  return frame(title, xLabel, yLabel, body, legendOf(series));
}

export const LATENCY_QUANTILES = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999];

/** series: [{ name, color, dash?, values: [latency µs at each of LATENCY_QUANTILES] }] */
export function latencyChart({ title, series }) {
  const nines = (q) => -Math.log10(1 - q);
  const xLo = nines(0.5);
  const xHi = nines(0.999);
  const sx = (q) => M.left + 20 + ((nines(q) - xLo) / (xHi - xLo)) * (PW - 40);
  const ys = series.flatMap((s) => s.values).filter((v) => v > 0);
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const sy = scaleLog(yLo, yHi, M.top + PH, M.top);
  let body = '';
  for (const t of logTicks(yLo, yHi)) {
    const y = sy(t).toFixed(1);
    body += `<line x1="${M.left}" y1="${y}" x2="${M.left + PW}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${+y + 4}" text-anchor="end">${fmtNum(t)}</text>\n`;
  }
  for (const [q, label] of [[0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99'], [0.999, 'p99.9']]) {
    const px = sx(q).toFixed(1);
    body += `<line x1="${px}" y1="${M.top}" x2="${px}" y2="${M.top + PH}" stroke="#eee"/><text x="${px}" y="${M.top + PH + 18}" text-anchor="middle">${label}</text>\n`;
  }
  for (const s of series) {
    const d = LATENCY_QUANTILES.map((q, i) => `${i ? 'L' : 'M'}${sx(q).toFixed(1)},${sy(s.values[i]).toFixed(1)}`).join(' ');
    body += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>\n`;
  }
  return frame(title, 'percentile of samples (receiver idle between samples)', 'wake-up latency (µs, log)', body, legendOf(series));
}
