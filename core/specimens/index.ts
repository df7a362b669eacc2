/**
 * The specimen library: deterministic, randomised specimens (fluorescence and layered H&E
 * brightfield families) rendered at any pixel and field size, for training and testing every
 * learned method (Deep-R, TSVA, the staining cascade, VirFluoNet). A library floor in core,
 * with its own public entry (`focal/specimens`: core/specimens.ts), because several plugins simulate their data from it;
 * the `specimens` plugin exposes it to pipelines as `specimens.render`.
 * Families, parameters and ranges: plugins/specimens/docs/specimens.md.
 */
export { renderSpecimen, type RenderOptions, type Rendered } from './render.js';
export { FAMILIES, familyNames, familyByName } from './registry.js';
export type { Family, FluorescenceFamily, BrightfieldFamily, ParamSpec, RenderGeometry, Section } from './family.js';
export {
  renderMultiChannel, MULTICHANNEL_FAMILIES, multiChannelFamilyNames, multiChannelFamilyByName,
  type MultiChannelFamily, type MultiChannelOptions, type MultiChannelRendered, type MultiChannelImage, type MultiChannelTruth, type ChannelInfo,
} from './multichannel.js';
export type { CellShape, Fibre } from './cells.js';
export {
  renderLungTissue, renderLungAutofluorescence, renderLungHE, lungAutofluorescenceDensity, lungStainDensities, lungSection, heLungFamily, lungParams,
  LUNG_PIXEL_SIZE_UM, LUNG_AF_WAVELENGTHS_UM, LUNG_AF_CHANNELS, LUNG_OBJECTIVE_NA, LUNG_AF_COEFFICIENTS, LUNG_HE_OD,
  type LungTissue, type LungAfOptions,
} from './lung.js';
export { STAIN_OD, NUCLEAR_STAINS, COUNTER_STAINS, drawStainPair, restainSection, type Restain } from './stains.js';
