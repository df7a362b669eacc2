import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { CATALOG, COMPUTE_SERVICE, createContainer, defaultThreads, IO_SERVICE, LOGGER, MemoryLogger, PipelineRunner, PluginRegistry, SERVICE_PROVIDER } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';

describe('dependency injection', () => {
  function host() {
    const registry = new PluginRegistry();
    for (const p of builtinPlugins) registry.registerPlugin(p);
    const logger = new MemoryLogger();
    return { registry, logger, container: createContainer({ catalog: registry, logger, threads: 3 }) };
  }

  it('resolves every service by its token, and the runner with its injected dependencies', () => {
    const { container, registry, logger } = host();
    expect(container.resolve(CATALOG)).toBe(registry);
    expect(container.resolve(LOGGER)).toBe(logger);
    expect(container.resolve(COMPUTE_SERVICE).threads).toBe(3);
    const io = container.resolve(IO_SERVICE);
    expect(typeof io.readStack).toBe('function');
    expect(container.resolve(IO_SERVICE)).toBe(io); // singleton within a host
    expect(container.resolve(SERVICE_PROVIDER).resolve(COMPUTE_SERVICE).threads).toBe(3);
    const runner = container.resolve(PipelineRunner);
    expect(runner).toBeInstanceOf(PipelineRunner);
    // constructor injection really happened (not undefined fields)
    expect((runner as unknown as { catalog: unknown }).catalog).toBe(registry);
    expect((runner as unknown as { io: unknown }).io).toBe(io);
  });

  it('gives each host its own services', () => {
    const a = host();
    const b = host();
    expect(a.container.resolve(IO_SERVICE)).not.toBe(b.container.resolve(IO_SERVICE));
    expect(a.container.resolve(CATALOG)).not.toBe(b.container.resolve(CATALOG));
  });

  it('reads the thread count from FOCAL_THREADS, else the cores', () => {
    expect(defaultThreads({ FOCAL_THREADS: '5' })).toBe(5);
    expect(defaultThreads({ FOCAL_THREADS: 'x' })).toBeGreaterThanOrEqual(1);
  });
});
