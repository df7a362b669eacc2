import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultThreads, type BackendName } from '../../core/index.js';
import { detectBackends, loadOnnxRuntime, loadTf, type BackendReport } from '../../core/ml.js';
import { ONNX_TELEMETRY_VARIABLE, onnxTelemetryOff } from '../../core/index.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

export interface OrtProvider {
  name: string;
  /** Built into onnxruntime-node's binary. */
  bundled: boolean;
  /** For providers not bundled: whether their shared library was found beside the binary. */
  libraryFound?: boolean;
}

export interface OrtReport {
  available: boolean;
  version?: string;
  detail: string;
  providers: OrtProvider[];
  /** Whether onnxruntime's usage telemetry is off in this process (Focal turns it off unless ORT_DISABLE_TELEMETRY is set). */
  telemetryOff: boolean;
}

export interface DoctorReport {
  node: string;
  platform: string;
  cpu: { model: string; cores: number; availableParallelism: number; memoryGiB: number };
  focalThreads: number;
  requestedBackend: string;
  backends: BackendReport[];
  /** The backend loadTf activates here (null when it cannot start). */
  defaultBackend: BackendName | null;
  defaultBackendError?: string;
  onnxruntime: OrtReport;
}

/** onnxruntime-node: version and execution providers (CUDA/TensorRT need their provider libraries installed). */
export async function detectOnnxRuntime(): Promise<OrtReport> {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('onnxruntime-node');
  } catch {
    return { available: false, detail: 'not installed (npm install onnxruntime-node)', providers: [], telemetryOff: onnxTelemetryOff() };
  }
  try {
    const ort = (await loadOnnxRuntime()) as unknown as {
      env?: { versions?: { node?: string } };
      listSupportedBackends?: () => Array<{ name: string; bundled: boolean }>;
    };
    const binDir = join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
    const files = existsSync(binDir) ? readdirSync(binDir) : [];
    const providers: OrtProvider[] = (ort.listSupportedBackends?.() ?? []).map((b) => {
      if (b.bundled) return { name: b.name, bundled: true };
      const found = files.some((f) => f.toLowerCase().includes(`providers_${b.name.toLowerCase()}`));
      return { name: b.name, bundled: false, libraryFound: found };
    });
    return { available: true, version: ort.env?.versions?.node, detail: 'loaded', providers, telemetryOff: onnxTelemetryOff() };
  } catch (err) {
    return { available: false, detail: `installed but failed to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, providers: [], telemetryOff: onnxTelemetryOff() };
  }
}

export async function collectDoctorReport(): Promise<DoctorReport> {
  const list = cpus();
  const backends = await detectBackends();
  let defaultBackend: BackendName | null = null;
  let defaultBackendError: string | undefined;
  try {
    defaultBackend = (await loadTf()).backend;
  } catch (err) {
    defaultBackendError = err instanceof Error ? err.message : String(err);
  }
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: {
      model: list[0]?.model.trim() ?? 'unknown',
      cores: list.length,
      availableParallelism: availableParallelism(),
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    focalThreads: defaultThreads(),
    requestedBackend: process.env.FOCAL_BACKEND?.trim() || 'auto',
    backends,
    defaultBackend,
    ...(defaultBackendError ? { defaultBackendError } : {}),
    onnxruntime: await detectOnnxRuntime(),
  };
}

export function formatDoctorReport(r: DoctorReport): string {
  const lines = [
    'Focal doctor',
    `  node:        ${r.node} (${r.platform})`,
    `  cpu:         ${r.cpu.model}, ${r.cpu.cores} cores (${r.cpu.availableParallelism} usable), ${r.cpu.memoryGiB} GiB RAM`,
    `  threads:     ${r.focalThreads} (FOCAL_THREADS or usable cores)`,
    '',
    'TensorFlow.js backends (best first):',
  ];
  const width = Math.max(...r.backends.map((b) => b.name.length));
  for (const b of r.backends) lines.push(`  ${b.available ? '✓' : '✗'} ${b.name.padEnd(width)}  ${b.detail}`);
  lines.push(
    `  requested: ${r.requestedBackend} (FOCAL_BACKEND or --backend)`,
    r.defaultBackend ? `  default:   ${r.defaultBackend}` : `  default:   none — ${r.defaultBackendError ?? 'no backend could start'}`,
    '',
    'onnxruntime-node (inference):',
  );
  const o = r.onnxruntime;
  lines.push(`  ${o.available ? '✓' : '✗'} onnxruntime-node${o.version ? ` ${o.version}` : ''}  ${o.detail}`);
  for (const p of o.providers) {
    const state = p.bundled
      ? 'bundled'
      : p.libraryFound
        ? 'provider library installed'
        : 'provider library not installed (Linux x64 with CUDA 12: node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12; see docs/install.md)';
    lines.push(`      provider ${p.name}: ${state}`);
  }
  const variable = `${ONNX_TELEMETRY_VARIABLE}=${process.env[ONNX_TELEMETRY_VARIABLE] ?? ''}`;
  lines.push(o.telemetryOff
    ? `  telemetry: off (${variable}; Focal sets it unless you do)`
    : `  telemetry: ON (${variable}): onnxruntime records model names and system metrics in ~/.cache/Microsoft and uploads them; unset it or set 1 to turn it off`);
  return lines.join('\n');
}

export async function doctorCommand(opts: { json?: boolean }, _globals: GlobalOptions): Promise<void> {
  const report = await collectDoctorReport();
  if (opts.json) printJsonLine(report);
  else process.stdout.write(`${formatDoctorReport(report)}\n`);
  if (!report.defaultBackend) process.exitCode = 1;
}
