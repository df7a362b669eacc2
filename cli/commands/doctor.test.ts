import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../main.js';
import { collectDoctorReport, formatDoctorReport } from './doctor.js';

const savedEnv = process.env.FOCAL_BACKEND;
afterEach(() => {
  vi.restoreAllMocks();
  if (savedEnv === undefined) delete process.env.FOCAL_BACKEND;
  else process.env.FOCAL_BACKEND = savedEnv;
  process.exitCode = undefined;
});

async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe('focal doctor', () => {
  it('reports the machine, every backend with a reason, the default and onnxruntime', async () => {
    delete process.env.FOCAL_BACKEND;
    const r = await collectDoctorReport();
    expect(r.node).toBe(process.version);
    expect(r.cpu.cores).toBeGreaterThan(0);
    expect(r.backends.map((b) => b.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(r.defaultBackend).toBe(r.backends.find((b) => b.available)!.name);
    expect(r.onnxruntime.available).toBe(true);
    expect(r.onnxruntime.providers.some((p) => p.name === 'cpu' && p.bundled)).toBe(true);
    const text = formatDoctorReport(r);
    expect(text).toContain(`default:   ${r.defaultBackend}`);
    for (const b of r.backends) expect(text).toContain(b.detail);
    expect(text).toMatch(/onnxruntime-node \d+\.\d+/);
    if (process.env.ORT_DISABLE_TELEMETRY === undefined || process.env.ORT_DISABLE_TELEMETRY === '1') {
      expect(r.onnxruntime.telemetryOff).toBe(true);
      expect(text).toContain('telemetry: off (ORT_DISABLE_TELEMETRY=1');
    }
  });

  it('--backend on the root program sets the backend; --json prints one JSON object', async () => {
    const { code, stdout } = await capture(['--backend', 'cpu', 'doctor', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim());
    expect(report.requestedBackend).toBe('cpu');
    expect(report.defaultBackend).toBe('cpu');
    expect(process.env.FOCAL_BACKEND).toBe('cpu');
  });

  it('an unknown --backend is a usage error naming the flag', async () => {
    const { code, stderr } = await capture(['--backend', 'cuda', 'doctor']);
    expect(code).toBe(2);
    expect(stderr).toContain("--backend: unknown backend 'cuda'");
  });

  it('a requested backend that cannot start makes doctor say why and exit 1', async () => {
    const missing = (await collectDoctorReport()).backends.find((b) => !b.available);
    if (!missing) return; // everything installed here
    const { code, stdout } = await capture(['--backend', missing.name, 'doctor']);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`default: +none — backend '${missing.name}' is not available`));
  });
});
