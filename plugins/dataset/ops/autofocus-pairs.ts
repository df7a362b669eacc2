import { AUTOFOCUS_DATASET_FORMAT, AUTOFOCUS_DATASET_VERSION, AutofocusDatasetManifestSchema, type AutofocusDatasetManifestInput, FocalError, allocate, createStack, createTable, defineOperation, planeIndex, throwIfAborted, z, type JsonValue, type PixelArray } from '../../../core/index.js';
import { FOCUS_SELECTIONS, planAutofocusPairs } from '../pairs.js';

/** Columns of the `pairs` table. */
export const PAIR_COLUMNS = ['pair', 'target', 'patch', 'x', 'y', 'patchPx', 'sourceZ', 'focusZ', 'defocusUm', 'ssimToFused', 'focusSsimToFused', 'channel'] as const;

export const autofocusPairsParams = z.strictObject({
  patchPx: z.number().int().min(16).max(65536).default(512).describe('Side of the square, non-overlapping patches, px (Deep-R: 512)'),
  channel: z.number().int().min(0).max(65535).default(0).describe('Channel (0-based) of the stack used for the pairs (and of the EDOF image when it has as many channels)'),
  maxDefocusUm: z.number().min(0).max(10000).optional().describe('Keep only planes within ± this distance of the in-focus plane, µm (default: every plane)'),
  zStepUm: z.number().positive().max(10000).optional().describe("z step, µm; default: the stack's calibration (required when the stack has none)"),
  focusSelection: z.enum(FOCUS_SELECTIONS).default('patch').describe("In-focus plane = highest SSIM to the EDOF image, per 'patch' (Deep-R) or once per 'stack' (mean SSIM over the patches)"),
  includeInFocus: z.boolean().default(true).describe('Also pair the in-focus plane with itself (defocus 0 µm)'),
  dropEdgeFocus: z.boolean().default(true).describe('Drop patches whose in-focus plane is the first or last plane (their focus may lie outside the stack)'),
});

export const autofocusPairs = defineOperation({
  id: 'dataset.autofocus-pairs',
  title: 'Autofocus training pairs (Deep-R)',
  description:
    "Deep-R's data preparation: crops an aligned z-stack and its EDOF image into non-overlapping patches, takes as in-focus plane of each patch the one with the highest SSIM to the EDOF image, and pairs each plane within the defocus range (input) with the in-focus patch (target), labelled with its defocus distance.",
  inputs: {
    stack: { type: 'stack', description: 'Aligned z-stack (one time point), e.g. from stackreg.align' },
    fused: { type: 'stack', description: 'Its EDOF (all-in-focus) image, e.g. from edof.fuse: one plane, or one per channel of the stack' },
  },
  outputs: {
    inputs: { type: 'stack', description: 'Defocused patches, one per pair (t = pair index), same pixel type as the stack' },
    targets: { type: 'stack', description: 'In-focus patches, one per kept patch (t = the `target` column of pairs)' },
    pairs: { type: 'table', description: `One row per pair: ${PAIR_COLUMNS.join(', ')}` },
    manifest: { type: 'json', description: 'Dataset manifest: format, version, counts, patch size, pixel size, z step, defocus range, channel, files' },
  },
  params: autofocusPairsParams,
  run(ctx, { stack, fused }, params) {
    if (params.channel >= stack.sizeC) throw new FocalError('E_PARAMS', `channel: ${params.channel} is not a channel of the stack (it has ${stack.sizeC}: 0…${stack.sizeC - 1})`, { field: 'channel' });
    if (stack.sizeT !== 1) throw new FocalError('E_PORT', `stack has ${stack.sizeT} time points; give one z-stack (one field of view)`, { field: 'stack' });
    if (fused.width !== stack.width || fused.height !== stack.height) {
      throw new FocalError('E_PORT', `fused: ${fused.width}×${fused.height} does not match the stack's ${stack.width}×${stack.height}`, { field: 'fused' });
    }
    if (fused.sizeZ !== 1 || fused.sizeT !== 1 || (fused.sizeC !== 1 && fused.sizeC !== stack.sizeC)) {
      throw new FocalError('E_PORT', `fused: expected one plane or one plane per channel of the stack (${stack.sizeC}), got c=${fused.sizeC}, z=${fused.sizeZ}, t=${fused.sizeT}`, { field: 'fused' });
    }
    const zStepUm = params.zStepUm ?? stack.calibration.zStepUm;
    if (zStepUm === undefined || !(zStepUm > 0)) {
      throw new FocalError('E_PARAMS', 'zStepUm: the stack has no z step calibration; give zStepUm (µm) so that defocus distances can be computed', { field: 'zStepUm' });
    }
    if (params.patchPx > stack.width || params.patchPx > stack.height) {
      throw new FocalError('E_PARAMS', `patchPx: ${params.patchPx} px patches do not fit in the ${stack.width}×${stack.height} stack`, { field: 'patchPx' });
    }
    const c = params.channel;
    const planes = Array.from({ length: stack.sizeZ }, (_, zi) => stack.planes[planeIndex(stack, c, zi, 0)]);
    const fusedPlane = fused.planes[fused.sizeC === 1 ? 0 : c];
    const { patches, pairs } = planAutofocusPairs(planes, fusedPlane, stack.width, stack.height, {
      patchPx: params.patchPx,
      zStepUm,
      maxDefocusUm: params.maxDefocusUm,
      focusSelection: params.focusSelection,
      includeInFocus: params.includeInFocus,
      dropEdgeFocus: params.dropEdgeFocus,
      onPatch: (done, total) => {
        throwIfAborted(ctx.signal);
        ctx.progress((0.8 * done) / total, 'choosing in-focus planes');
      },
    });
    const kept = patches.filter((p) => !p.dropped);
    if (pairs.length === 0) {
      const why = kept.length === 0 ? `every patch's in-focus plane is the first or last plane (dropEdgeFocus)` : 'no plane lies within maxDefocusUm of the in-focus plane';
      throw new FocalError('E_PARAMS', `maxDefocusUm: no pairs: ${why}`, { field: kept.length === 0 ? 'dropEdgeFocus' : 'maxDefocusUm' });
    }
    const P = params.patchPx;
    const crop = (plane: PixelArray, x0: number, y0: number): PixelArray => {
      const out = allocate(stack.dtype, P * P);
      for (let y = 0; y < P; y++) out.set(plane.subarray((y0 + y) * stack.width + x0, (y0 + y) * stack.width + x0 + P), y * P);
      return out;
    };
    const { pixelWidthUm, pixelHeightUm } = stack.calibration;
    const calibration = { ...(pixelWidthUm !== undefined ? { pixelWidthUm } : {}), ...(pixelHeightUm !== undefined ? { pixelHeightUm } : {}) };
    const channelNames = stack.channelNames[c] !== undefined ? [stack.channelNames[c]] : [];
    const inputs = createStack({
      width: P, height: P, dtype: stack.dtype, sizeT: pairs.length, calibration, channelNames,
      planes: pairs.map((p) => crop(planes[p.sourceZ], p.x, p.y)),
      metadata: { dataset: AUTOFOCUS_DATASET_FORMAT, role: 'inputs' },
    });
    throwIfAborted(ctx.signal);
    const targets = createStack({
      width: P, height: P, dtype: stack.dtype, sizeT: kept.length, calibration, channelNames,
      planes: kept.map((p) => crop(planes[p.focusZ], p.x, p.y)),
      metadata: { dataset: AUTOFOCUS_DATASET_FORMAT, role: 'targets' },
    });
    const table = createTable([...PAIR_COLUMNS], pairs.map((p) => ({
      pair: p.pair, target: p.target, patch: p.patch, x: p.x, y: p.y, patchPx: P, sourceZ: p.sourceZ, focusZ: p.focusZ,
      defocusUm: Number(p.defocusUm.toFixed(6)), ssimToFused: p.ssimToFused, focusSsimToFused: patches[p.patch].ssimToFused[p.focusZ], channel: c,
    })));
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of pairs) {
      lo = Math.min(lo, p.defocusUm);
      hi = Math.max(hi, p.defocusUm);
    }
    const manifestInput: AutofocusDatasetManifestInput = {
      format: AUTOFOCUS_DATASET_FORMAT,
      version: AUTOFOCUS_DATASET_VERSION,
      files: { inputs: 'inputs.tif', targets: 'targets.tif', pairs: 'pairs.csv' },
      pairs: pairs.length,
      targets: kept.length,
      patches: patches.length,
      droppedPatches: patches.filter((p) => p.dropped).map((p) => ({ patch: p.patch, x: p.x, y: p.y, focusZ: p.focusZ })),
      patchPx: P,
      dtype: stack.dtype,
      channel: c,
      ...(stack.channelNames[c] !== undefined ? { channelName: stack.channelNames[c] } : {}),
      ...(pixelWidthUm !== undefined ? { pixelSizeUm: pixelWidthUm } : {}),
      zStepUm,
      defocusRangeUm: [lo, hi],
      defocusSign: 'defocusUm = (sourceZ - focusZ) * zStepUm',
      focusSelection: params.focusSelection,
      focusCriterion: 'highest SSIM to the EDOF image',
      normalisation: 'none: raw values; Deep-R normalises each pair to zero mean, unit variance when training',
      source: { width: stack.width, height: stack.height, sizeZ: stack.sizeZ, sizeC: stack.sizeC },
    };
    // the format's one schema (core): what is written is what every reader accepts
    const manifest = AutofocusDatasetManifestSchema.parse(manifestInput) as JsonValue;
    ctx.progress(1);
    ctx.log.info(`${pairs.length} pairs from ${kept.length} of ${patches.length} patches`);
    return { inputs, targets, pairs: table, manifest };
  },
});
