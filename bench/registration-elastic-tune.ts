/**
 * Tuning sweep for elastic.register's defaults (issue 24) on the TUNING part of the
 * registration test set only (plugins/elastic/testset.ts; the held-out families are never
 * run here). Each configuration is a JSON object of ElasticOptions overrides on top of the
 * current defaults; prints mean interior endpoint error (px, pixels ≥ 16 px from the border)
 * and total time per metric.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/registration-elastic-tune.js [--size PX] [--per-family N] [--metric ssd|mi] '{"bendingWeight":10}' …
 */
import { registerElastic, type ElasticOptions } from '../plugins/elastic/register.js';
import { endpointError } from '../plugins/elastic/synthetic.js';
import { registrationCases, renderCase, type RegistrationPair } from '../plugins/elastic/testset.js';
import { isMain } from './common.js';

export const TUNE_MARGIN_PX = 16;

export interface TuneRow {
  config: string;
  metric: 'ssd' | 'mi';
  meanErrorPx: number;
  worstCaseMeanErrorPx: number;
  seconds: number;
}

export function tune(configs: ElasticOptions[], sizePx: number, perFamily: number, metrics: Array<'ssd' | 'mi'>, log: (s: string) => void): TuneRow[] {
  const cases = registrationCases('tuning', sizePx, perFamily).filter((c) => metrics.includes(c.metric));
  const pairs = new Map<string, RegistrationPair>();
  for (const c of cases) pairs.set(c.id, renderCase(c));
  const rows: TuneRow[] = [];
  for (const cfg of configs) {
    for (const metric of metrics) {
      let sum = 0, worst = 0, secs = 0, k = 0;
      const per: string[] = [];
      for (const c of cases.filter((q) => q.metric === metric)) {
        const p = pairs.get(c.id)!;
        const t0 = performance.now();
        const r = registerElastic({ data: p.moving, width: p.width, height: p.height }, { data: p.fixed, width: p.width, height: p.height }, { ...cfg, metric });
        secs += (performance.now() - t0) / 1000;
        const e = endpointError(r.ux, r.uy, p.ux, p.uy, p.width, p.height, TUNE_MARGIN_PX).mean;
        per.push(`${c.family}:${e.toFixed(3)}`);
        sum += e;
        worst = Math.max(worst, e);
        k++;
      }
      const row: TuneRow = { config: JSON.stringify(cfg), metric, meanErrorPx: sum / k, worstCaseMeanErrorPx: worst, seconds: secs };
      rows.push(row);
      log(`${row.config} ${metric}: mean ${row.meanErrorPx.toFixed(4)} px, worst ${worst.toFixed(3)}, ${secs.toFixed(1)} s  [${per.join(' ')}]`);
    }
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  let size = 256, perFamily = 1;
  let metrics: Array<'ssd' | 'mi'> = ['ssd', 'mi'];
  const configs: ElasticOptions[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--size') size = Number(argv[++i]);
    else if (argv[i] === '--per-family') perFamily = Number(argv[++i]);
    else if (argv[i] === '--metric') metrics = [argv[++i] as 'ssd' | 'mi'];
    else configs.push(JSON.parse(argv[i]) as ElasticOptions);
  }
  tune(configs.length ? configs : [{}], size, perFamily, metrics, (s) => console.log(s));
}
