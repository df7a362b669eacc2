/** Line plots moved to core's learning kit (core/ml/plot.ts); re-exported for Deep-R's tools. */
export { legendTextWidthPx, renderLinePlot, type Series, type PlotOptions } from '../../core/index.js';
