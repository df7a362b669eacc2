/**
 * TensorFlow.js backend selection for Focal's deep-learning runtime.
 *
 * Best first: `@tensorflow/tfjs-node-gpu` (CUDA), `@tensorflow/tfjs-node`
 * (libtensorflow, multi-threaded CPU), `@tensorflow/tfjs-backend-wasm`
 * (XNNPACK, SIMD, one thread in Node), then tfjs's pure-JS `cpu` backend.
 * The two tfjs-node packages are optional dependencies (they download
 * libtensorflow when installed); everything is imported lazily so that
 * pipelines without deep learning never load TensorFlow.js.
 *
 * Override with FOCAL_BACKEND=<name> or `focal --backend <name>`; a backend
 * asked for by name that cannot load is an error (E_UNSUPPORTED) that says why
 * and how to enable it — never a silent fallback.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FocalError } from '../errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export type { BackendName } from './backend-names.js';
import type { BackendName } from './backend-names.js';

export interface BackendReport {
  name: BackendName;
  available: boolean;
  /** Why not (and how to enable it), or what was found. */
  detail: string;
}

export type Tf = typeof import('@tensorflow/tfjs');

import { BACKEND_NAMES, parseBackendName } from './backend-names.js';
export { BACKEND_NAMES, parseBackendName } from './backend-names.js';

const PACKAGE: Record<BackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

const HOW_TO_ENABLE: Record<BackendName, string> = {
  'tfjs-node-gpu':
    'npm install @tensorflow/tfjs-node-gpu to enable; needs Linux x64, an NVIDIA GPU with CUDA 11.2 + cuDNN 8.1, and the libtensorflow download at install time',
  'tfjs-node': 'npm install @tensorflow/tfjs-node to enable; needs the libtensorflow download at install time',
  wasm: 'reinstall Focal (npm ci) to restore @tensorflow/tfjs-backend-wasm',
  cpu: 'reinstall Focal (npm ci) to restore @tensorflow/tfjs',
};

/** tfjs's registered name for each of Focal's backends. */
const TF_BACKEND: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const require = createRequire(import.meta.url);

function resolvePackage(name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

interface WasmGlobal {
  validate(bytes: Uint8Array): boolean;
}
const wasmGlobal = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;

function wasmSimd(): boolean {
  try {
    // The smallest module using a SIMD instruction (i8x16.splat), as tfjs-backend-wasm checks it.
    return wasmGlobal!.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]));
  } catch {
    return false;
  }
}

/**
 * Tries to load a tfjs-node package (which registers the 'tensorflow' backend
 * in the shared tfjs engine). Cached: libtensorflow is loaded once per process.
 */
const nodeLoads = new Map<BackendName, Promise<BackendReport>>();
function loadNodePackage(name: 'tfjs-node-gpu' | 'tfjs-node'): Promise<BackendReport> {
  let p = nodeLoads.get(name);
  if (!p) {
    p = (async (): Promise<BackendReport> => {
      const pkg = PACKAGE[name];
      if (!resolvePackage(pkg)) return { name, available: false, detail: `not installed (${HOW_TO_ENABLE[name]})` };
      try {
        const mod = (await import(pkg)) as { version?: Record<string, string> };
        const tfVersion = mod.version?.['tfjs-node'] ?? mod.version?.['tfjs-core'];
        return { name, available: true, detail: `installed${tfVersion ? ` (${pkg} ${tfVersion})` : ''}, libtensorflow loaded` };
      } catch (err) {
        return { name, available: false, detail: `installed but failed to load: ${message(err)} (${HOW_TO_ENABLE[name]})` };
      }
    })();
    nodeLoads.set(name, p);
  }
  return p;
}

function probeWasm(): BackendReport {
  if (!wasmGlobal) return { name: 'wasm', available: false, detail: 'this Node has no WebAssembly' };
  if (!resolvePackage(PACKAGE.wasm)) return { name: 'wasm', available: false, detail: `not installed (${HOW_TO_ENABLE.wasm})` };
  return {
    name: 'wasm',
    available: true,
    detail: `XNNPACK, ${wasmSimd() ? 'SIMD' : 'no SIMD'}, 1 thread (multi-threaded wasm is not supported by tfjs-backend-wasm in Node)`,
  };
}

/**
 * What can run here, best first. Loads (but does not activate) the tfjs-node
 * packages where installed, so that a broken native install is reported.
 */
export async function detectBackends(): Promise<BackendReport[]> {
  const gpu = await loadNodePackage('tfjs-node-gpu');
  const node = await loadNodePackage('tfjs-node');
  const cpuOk = resolvePackage(PACKAGE.cpu) !== undefined;
  return [
    gpu,
    node,
    probeWasm(),
    { name: 'cpu', available: cpuOk, detail: cpuOk ? 'pure JavaScript, always available (slowest)' : `not installed (${HOW_TO_ENABLE.cpu})` },
  ];
}

let tfModule: Promise<Tf> | undefined;
let active: BackendName | undefined;
let wasmPathsSet = false;

async function activate(tf: Tf, name: BackendName): Promise<void> {
  if (name === 'tfjs-node-gpu' || name === 'tfjs-node') {
    const report = await loadNodePackage(name);
    if (!report.available) throw new Error(report.detail);
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      // The .wasm binaries ship in the package's dist folder; point there explicitly
      // so that bundling Focal's JavaScript elsewhere does not break the lookup.
      wasm.setWasmPaths(`${join(dirname(require.resolve(PACKAGE.wasm)), '/')}`);
      wasmPathsSet = true;
    }
    registerWasmTrainingKernels(tf);
  }
  const ok = await tf.setBackend(TF_BACKEND[name]);
  if (!ok) throw new Error(`tf.setBackend('${TF_BACKEND[name]}') failed`);
  await tf.ready();
}

/**
 * Loads TensorFlow.js once per process and activates the requested backend
 * (`options.backend`, else FOCAL_BACKEND, else the best available). Calling it
 * again returns the same `tf`; a different explicit backend switches to it.
 * `threads` is accepted for API symmetry; the wasm backend runs one thread in
 * Node (see docs/ml-runtime.md) and tfjs-node sizes its own thread pool.
 */
export async function loadTf(options: { backend?: BackendName; threads?: number } = {}): Promise<{
  tf: Tf;
  backend: BackendName;
  reports: BackendReport[];
}> {
  const requested = options.backend ?? parseBackendName(process.env.FOCAL_BACKEND);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new FocalError('E_ARGUMENT', `threads must be a positive integer, got ${options.threads}`, { field: 'threads' });
  }
  tfModule ??= import('@tensorflow/tfjs');
  const tf = await tfModule;
  const reports = await detectBackends();

  if (requested) {
    const report = reports.find((r) => r.name === requested)!;
    if (!report.available) {
      throw new FocalError('E_UNSUPPORTED', `backend '${requested}' is not available: ${report.detail}`, { field: 'backend' });
    }
    if (active !== requested || tf.getBackend() !== TF_BACKEND[requested]) {
      try {
        await activate(tf, requested);
      } catch (err) {
        throw new FocalError('E_UNSUPPORTED', `backend '${requested}' failed to start: ${message(err)}`, { field: 'backend' }, { cause: err });
      }
      active = requested;
    }
    return { tf, backend: requested, reports };
  }

  if (active && tf.getBackend() === TF_BACKEND[active]) return { tf, backend: active, reports };
  const failures: string[] = [];
  for (const report of reports) {
    if (!report.available) continue;
    try {
      await activate(tf, report.name);
      active = report.name;
      return { tf, backend: report.name, reports };
    } catch (err) {
      report.available = false;
      report.detail = `failed to start: ${message(err)}`;
      failures.push(`${report.name}: ${report.detail}`);
    }
  }
  throw new FocalError('E_UNSUPPORTED', `no TensorFlow.js backend could start (${failures.join('; ') || 'none installed'})`);
}

/** The backend activated by the last loadTf in this process, if any. */
export function activeBackend(): BackendName | undefined {
  return active;
}
