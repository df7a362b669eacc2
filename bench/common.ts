/**
 * Helpers shared by the benchmarks in bench/: the machine description every section of
 * docs/benchmarks.md states, rewriting one `<!-- bench:<topic> -->` section of that file
 * (never the others), order statistics of repeated timings, and the "run as main" check.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../core/index.js';

/** The machine a benchmark ran on. */
export interface MachineInfo {
  /** CPU model name (of the first core). */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Total RAM, GiB (unrounded). */
  ramGiB: number;
  /** Node version, e.g. "v20.11.1". */
  node: string;
  /** OS type and kernel release, e.g. "Linux 6.1.0". */
  os: string;
  /** 1-, 5- and 15-minute load averages when machineInfo() was called. */
  load: number[];
}

/** Describes this machine now (call it at the start of a run to record the load there). */
export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return { cpu: cpu[0]?.model.trim() ?? 'unknown', cores: cpu.length, ramGiB: totalmem() / 2 ** 30, node: process.version, os: `${osType()} ${release()}`, load: loadavg() };
}

/** "CPU, N cores, X GiB RAM, OS, Node v…": the machine part of a section's "Machine:" line. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`;
}

/** Load averages as "a / b / c" with `digits` decimals (default 1). */
export function formatLoad(load: number[], digits = 1): string {
  return load.map((v) => v.toFixed(digits)).join(' / ');
}

/** Today's date (UTC), YYYY-MM-DD. */
export function isoDate(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Median of a non-empty list (mean of the two middle values for an even count); does not reorder `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The p-th percentile (0…100) of a non-empty list by the nearest-rank-below rule: sorted[min(n − 1, ⌊p/100 · n⌋)]. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const NEW_DOCS = '# Benchmarks\n\nMeasured with the scripts in bench/. Each section is rewritten by its script.\n';

/**
 * Writes `markdown` as the `<!-- bench:<topic> -->` … `<!-- /bench:<topic> -->` section of the
 * file at `docsPath` (created, with its folder, if absent), leaving every other section as it
 * is; the section is appended when the file has no such markers yet. `markdown` may be the
 * section's body or already include both markers. Written atomically (other benchmarks may
 * rewrite their own sections of the same file at the same time).
 */
export async function replaceBenchSection(docsPath: string, topic: string, markdown: string): Promise<void> {
  const open = `<!-- bench:${topic} -->`;
  const close = `<!-- /bench:${topic} -->`;
  const body = markdown.trim();
  const section = body.startsWith(open) && body.endsWith(close) ? body : `${open}\n${body}\n${close}`;
  let text: string;
  try {
    text = await readFile(docsPath, 'utf8');
  } catch {
    text = NEW_DOCS;
  }
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + close.length) : `${text.trimEnd()}\n\n${section}\n`;
  await writeFileAtomic(docsPath, text, { mkdir: true });
}

/** What every benchmark's options say about docs/benchmarks.md. */
export interface BenchDocsOptions {
  /** Rewrite the section (default true). */
  writeDocs?: boolean;
  /** The Markdown file (default docs/benchmarks.md under the `root` given to writeBenchDocs). */
  docsPath?: string;
}

/**
 * A benchmark's last step: unless `options.writeDocs` is false, {@link replaceBenchSection} of
 * `options.docsPath` (default `<root>/docs/benchmarks.md`, root defaulting to the working
 * directory), then logs the path written.
 */
export async function writeBenchDocs(options: BenchDocsOptions, topic: string, markdown: string, log: (message: string) => void, root = process.cwd()): Promise<void> {
  if (options.writeDocs === false) return;
  const docs = resolve(options.docsPath ?? join(root, 'docs', 'benchmarks.md'));
  await replaceBenchSection(docs, topic, markdown);
  log(`wrote ${docs}`);
}

/** True when the module whose `import.meta.url` is given is the script Node was started with. */
export function isMain(importMetaUrl: string): boolean {
  return !!process.argv[1] && importMetaUrl === pathToFileURL(resolve(process.argv[1])).href;
}

/** A benchmark's command-line flags. */
export interface BenchArgs {
  /** The number after `flag` (e.g. `--reps 5`), or undefined when the flag is absent. */
  number(flag: string): number | undefined;
  /** Whether `flag` (e.g. `--no-docs`) was given. */
  has(flag: string): boolean;
}

/** Parses flags from `argv` (default: this process's arguments after the script). */
export function benchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  return {
    number(flag) {
      const i = argv.indexOf(flag);
      return i >= 0 ? Number(argv[i + 1]) : undefined;
    },
    has: (flag) => argv.includes(flag),
  };
}

/**
 * The body of a benchmark run as main: runs `bench` with the command-line flags, writes
 * `print(result)` (if given) to stdout, and on failure writes the error to stderr and sets
 * exit code 1.
 */
export function runBenchMain<T>(bench: (args: BenchArgs) => Promise<T>, print?: (result: T) => string): void {
  bench(benchArgs()).then(
    (r) => {
      if (print) process.stdout.write(`${print(r)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** A process run under GNU time (see {@link timedProcess}). */
export interface TimedProcess {
  /** Wall time, s. */
  seconds: number;
  /** User + system CPU time of the process (all its threads), s. */
  cpuSeconds: number;
  /** Peak resident set size, MiB. */
  peakMiB: number;
  /** Exit status (0: success). */
  status: number;
  stderr: string;
}

/**
 * Runs a command under GNU time (`/usr/bin/time`): wall and CPU seconds, peak RSS, exit status
 * and stderr. Throws when the command fails, unless `allowFailure` (then read `status`).
 */
export function timedProcess(cmd: string, args: string[], options: { allowFailure?: boolean } = {}): TimedProcess {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const status = r.status ?? -1;
  if (status !== 0 && !options.allowFailure) throw new Error(`${cmd} ${args.join(' ')} failed (${status}): ${r.stderr.slice(-3000)}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(last);
  if (!m) throw new Error(`no /usr/bin/time line in: ${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, cpuSeconds: Number(m[3]) + Number(m[4]), status, stderr: r.stderr };
}
