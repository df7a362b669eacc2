/**
 * Focal's built-in plugins, registered by the host as loaded code
 * (`registry.registerPlugin(p)` for each). Add new built-ins to this list.
 */
import type { PluginDef } from '../core/index.js';
import { cellcountPlugin } from './cellcount/index.js';
import { datasetPlugin } from './dataset/index.js';
import { deconvolutionPlugin } from './deconvolution/index.js';
import { deeprPlugin } from './deepr/index.js';
import { edofPlugin } from './edof/index.js';
import { elasticPlugin } from './elastic/index.js';
import { filterPlugin } from './filter/index.js';
import { focusPlugin } from './focus/index.js';
import { mathPlugin } from './math/index.js';
import { metricsPlugin } from './metrics/index.js';
import { opticsPlugin } from './optics/index.js';
import { stackPlugin } from './stack/index.js';
import { stainingPlugin } from './staining/index.js';
import { stackregPlugin } from './stackreg/index.js';
import { specimensPlugin } from './specimens/index.js';
import { tsvaPlugin } from './tsva/index.js';
import { virfluonetPlugin } from './virfluonet/index.js';

/**
 * The built-in definitions by name, for tests that run a bundled pipeline spanning several
 * plugins (a plugin's folder never imports another plugin's folder; it may import this list).
 */
export { cellcountPlugin, datasetPlugin, deconvolutionPlugin, deeprPlugin, edofPlugin, elasticPlugin, filterPlugin, focusPlugin, mathPlugin, metricsPlugin, opticsPlugin, stackPlugin, stackregPlugin, specimensPlugin, stainingPlugin, tsvaPlugin, virfluonetPlugin };

export const builtinPlugins: PluginDef[] = [stackPlugin, filterPlugin, mathPlugin, metricsPlugin, focusPlugin, cellcountPlugin, opticsPlugin, elasticPlugin, stackregPlugin, edofPlugin, datasetPlugin, deconvolutionPlugin, deeprPlugin, specimensPlugin, tsvaPlugin, virfluonetPlugin, stainingPlugin];
