import { basename } from 'node:path';
import { allocate, bytesPerSample, type PixelArray } from '../../data/dtype.js';
import { FocalError, throwIfAborted } from '../../errors.js';
import { checkRegion, type ImageLevel, type LazyImage, type RegionRequest } from '../lazy-image.js';
import { BlockCache, decodeRegion, dtypeForSample, sampleTypeOf, type DecodeStats } from './decode.js';
import { pageName, readSubIfds, type TiffPage } from './ifd.js';
import { checkBlockTables, defaultReadBudget, plan, Session, wrap, type Job } from './read.js';
import type { FileSource } from './source.js';

export interface OpenTiffOptions {
  /** Called for problems that do not stop the open (missing planes, pages skipped, …). */
  onWarning?: (message: string) => void;
  /** Most bytes one region read may return; larger requests are E_ARGUMENT. Default: defaultReadBudget(). */
  maxRegionBytes?: number;
  /** Decoded blocks kept for overlapping reads (halos), bytes. Default 64 MiB; 0 turns the cache off. */
  cacheBytes?: number;
}

/** One plane: the pages of its levels (level 0 first) and the sample of them it is. */
interface PlaneRef {
  src: FileSource;
  littleEndian: boolean;
  sample: number;
  levels: TiffPage[];
}

/**
 * Opens a TIFF, BigTIFF, ImageJ or OME-TIFF as a lazy image: dimensions, calibration and the
 * layout (planes, levels, tiles) are read now, pixels only by `readRegion`, which decodes just
 * the strips or tiles the rectangle touches. Reduced-resolution levels come from SubIFDs
 * (pyramidal OME-TIFF, as bioformats2raw/tifffile/Focal write them) or, for a one-plane file,
 * from reduced-resolution pages of the main chain (libvips' `tiffsave --pyramid`).
 *
 * Every page's block table (levels included) is checked against the file before anything is
 * read, as by readTiff (inside the file, none empty, none overlapping); a block that cannot be
 * decoded is E_FORMAT naming the file and the tile (index, column, row) and IFD. The file
 * handles stay open until `close()`.
 */
export async function openTiffImage(path: string, options: OpenTiffOptions = {}): Promise<LazyImage> {
  const warnings: string[] = [];
  const session = new Session(path, (m) => warnings.push(m), defaultReadBudget(), false);
  const maxRegionBytes = options.maxRegionBytes ?? defaultReadBudget();
  try {
    const p = await plan(session);
    const dtype = dtypeForSample(p.sampleType);
    const count = p.sizeC * p.sizeZ * p.sizeT;
    const planes: (PlaneRef | undefined)[] = new Array(count);
    for (const j of p.jobs) {
      j.targets.forEach((planeIndex, sample) => {
        if (planeIndex >= 0) planes[planeIndex] = { src: j.src, littleEndian: j.littleEndian, sample, levels: [j.page] };
      });
    }
    const levelJobs: Pick<Job, 'src' | 'page'>[] = [...p.jobs];
    // reduced-resolution levels: SubIFDs of each page, else (one plane) reduced pages of the main chain
    const subByPage = new Map<TiffPage, TiffPage[]>();
    for (const j of p.jobs) {
      if (j.page.subIfds.length === 0) continue;
      const st = session.sources.get(j.src.path)!.structure;
      const subs = await readSubIfds(j.src, st, j.page);
      for (const s of subs) sampleTypeOf(j.src, s);
      subByPage.set(j.page, subs);
    }
    const first = p.jobs[0].page;
    let levelPages: TiffPage[] = subByPage.get(first) ?? [];
    if (levelPages.length === 0 && p.jobs.length === 1) {
      levelPages = p.main.pages
        .filter((pg) => pg.index > 0 && (pg.subfileType & 1) !== 0 && pg.width < first.width && pg.samplesPerPixel === first.samplesPerPixel)
        .filter((pg) => sampleTypeOf(p.jobs[0].src, pg) === p.sampleType)
        .sort((a, b) => b.width - a.width);
      if (levelPages.length > 0) subByPage.set(first, levelPages);
    }
    const sizes = levelPages.map((pg) => [pg.width, pg.height] as const);
    for (const j of p.jobs) {
      const subs = subByPage.get(j.page) ?? [];
      const n = Math.min(subs.length, sizes.length);
      let kept = 0;
      while (kept < n && subs[kept].width === sizes[kept][0] && subs[kept].height === sizes[kept][1] && sampleTypeOf(j.src, subs[kept]) === p.sampleType) kept++;
      if (kept < sizes.length) {
        warnings.push(`${basename(path)}: ${pageName(j.page)} has ${kept} of the ${sizes.length} reduced-resolution levels of the first plane; only ${kept + 1} level(s) are used`);
        sizes.length = kept;
      }
      for (const s of subs.slice(0, kept)) levelJobs.push({ src: j.src, page: s });
    }
    for (const ref of planes) {
      if (!ref) continue;
      const job = p.jobs.find((j) => j.page === ref.levels[0])!;
      ref.levels.push(...(subByPage.get(job.page) ?? []).slice(0, sizes.length));
    }
    checkBlockTables(session, p, levelJobs);
    const levels: ImageLevel[] = [first, ...levelPages.slice(0, sizes.length)].map((pg) => ({ width: pg.width, height: pg.height, blockWidth: pg.blockWidth, blockHeight: pg.blockHeight, tiled: pg.tiled }));
    for (const w of warnings) options.onWarning?.(w);
    const stats: DecodeStats = { rounded: false };
    const cacheBytes = options.cacheBytes ?? 64 * 1024 * 1024;
    const cache = cacheBytes > 0 ? new BlockCache(cacheBytes) : undefined;
    let closed = false;
    const image: LazyImage = {
      path,
      width: p.width,
      height: p.height,
      sizeC: p.sizeC,
      sizeZ: p.sizeZ,
      sizeT: p.sizeT,
      dtype,
      rgb: p.rgb,
      calibration: p.calibration,
      channelNames: p.channelNames,
      levels,
      metadata: { ...p.metadata, ...(p.sampleType !== dtype ? { sampleType: p.sampleType } : {}) },
      async readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
        if (closed) throw new FocalError('E_ARGUMENT', `${path}: the image is closed`, { file: path });
        const r = checkRegion(image, region, path);
        const bytes = region.w * region.h * bytesPerSample(dtype);
        if (bytes > maxRegionBytes) {
          throw new FocalError('E_ARGUMENT', `${path}: a region of ${region.w}×${region.h} px (${bytes} bytes) is larger than the ${maxRegionBytes}-byte limit of one read`, { file: path, field: 'w' });
        }
        throwIfAborted(opts.signal);
        const ref = planes[r.c + r.z * p.sizeC + r.t * p.sizeC * p.sizeZ];
        if (!ref) throw new FocalError('E_FORMAT', `${path}: plane c=${r.c} z=${r.z} t=${r.t} is missing from the file`, { file: path });
        const target = allocate(dtype, region.w * region.h);
        try {
          await decodeRegion(ref.src, ref.levels[r.level], p.sampleType, ref.littleEndian, ref.sample, { x: region.x, y: region.y, w: region.w, h: region.h }, target, stats, opts.signal, cache);
        } catch (err) {
          throw wrap(path, err);
        }
        return target;
      },
      async close(): Promise<void> {
        closed = true;
        cache?.clear();
        await session.close();
      },
    };
    return image;
  } catch (err) {
    await session.close();
    throw wrap(path, err);
  }
}
