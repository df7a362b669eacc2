/**
 * How the host registers the built-in plugins: from their static manifests
 * (plugins/builtin-manifests.ts, generated from the code) with a loader that imports a plugin's
 * code the first time one of its operations is needed — the path a third-party plugin takes.
 * So `focal plugins` and `focal schema` import no plugin code, and a pipeline imports only
 * the plugins it uses. The eager list of definitions stays in plugins/index.ts (tests, scripts).
 */
import type { PluginDef, PluginRegistry } from '../core/index.js';
import { builtinManifests } from './builtin-manifests.js';

type Loader = () => Promise<PluginDef>;
const def = (m: { default: PluginDef }) => m.default;

/** Plugin id → import of its definition. Add a new built-in here and in plugins/index.ts, then `npm run manifests`. */
export const builtinLoaders: Record<string, Loader> = {
  cellcount: () => import('./cellcount/index.js').then(def),
  dataset: () => import('./dataset/index.js').then(def),
  deconvolution: () => import('./deconvolution/index.js').then(def),
  deepr: () => import('./deepr/index.js').then(def),
  edof: () => import('./edof/index.js').then(def),
  elastic: () => import('./elastic/index.js').then(def),
  filter: () => import('./filter/index.js').then(def),
  focus: () => import('./focus/index.js').then(def),
  math: () => import('./math/index.js').then(def),
  metrics: () => import('./metrics/index.js').then(def),
  optics: () => import('./optics/index.js').then(def),
  specimens: () => import('./specimens/index.js').then(def),
  stack: () => import('./stack/index.js').then(def),
  staining: () => import('./staining/index.js').then(def),
  stackreg: () => import('./stackreg/index.js').then(def),
  tsva: () => import('./tsva/index.js').then(def),
  virfluonet: () => import('./virfluonet/index.js').then(def),
};

/** Registers every built-in plugin lazily (manifest now, code on first use). */
export function registerBuiltins(registry: PluginRegistry): void {
  for (const manifest of builtinManifests) {
    const load = builtinLoaders[manifest.id];
    if (!load) throw new Error(`built-in plugin '${manifest.id}' has a manifest but no loader in plugins/builtins.ts`);
    // generated from the code and already in PluginManifestSchema's output form (checked by test/builtin-manifests.test.ts)
    registry.registerLazyPlugin(manifest, load, 'builtin', { parsed: true });
  }
}
