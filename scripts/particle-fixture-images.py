#!/usr/bin/env python3
"""Makes the test images for plugins/cellcount's ImageJ agreement tests (deterministic, seeded).

    python3 scripts/particle-fixture-images.py OUT_DIR [SAMPLE_TIF]

Writes into OUT_DIR: shapes.tif, random.tif, discs.tif (uint8 binary, 255 = object),
blobs8.tif (uint8 grey), blobs16.tif (uint16 grey) and, when SAMPLE_TIF (samples/cells-zstack.tif)
is given, nuclei.tif (uint16: maximum projection over z of its nuclei channel), plus cases.tsv,
the Analyze Particles settings each image is measured with. Run through
scripts/make-particle-fixtures.sh, which then measures them with ImageJ.
"""
import os
import sys

import numpy as np
import tifffile



def shapes():
    a = np.zeros((40, 48), np.uint8)
    a[2:5, 2:6] = 255                         # rectangle
    a[7, 2] = a[8, 3] = a[9, 4] = 255         # diagonal line (8-connected)
    a[10:17, 10:17] = 255                     # ring ...
    a[12:15, 12:15] = 0
    a[13, 13] = 255                           # ... with a particle in its hole
    for x, y in [(10, 2), (11, 2), (11, 3), (12, 3), (12, 4)]:
        a[y, x] = 255                         # staircase
    a[0:3, 20:24] = 255                       # touches the top edge
    a[8:12, 18:22] = 255                      # square with a one-pixel hole
    a[9, 19] = 0
    a[20:30, 2:12] = 255                      # square with a diagonal-gap hole (open to outside 8-wise only)
    a[22:28, 4:10] = 0
    a[28, 9] = 0
    a[29, 10] = 0
    a[21, 25] = 255                           # single pixel
    a[30:40, 30:33] = 255                     # bar on the bottom edge
    a[33, 20:28] = 255                        # horizontal line
    a[20:26, 36:46] = 255                     # two squares touching at a corner
    a[26:30, 46:48] = 255
    a[25, 44] = 0
    return a


def random_binary(rng):
    h, w = 96, 96
    noise = rng.random((h, w))
    # smooth with a box filter (numpy only) and threshold: blobs with holes and diagonal joins
    k = 3
    pad = np.pad(noise, k, mode='wrap')
    c = np.cumsum(np.cumsum(pad, 0), 1)
    s = c[2 * k:, 2 * k:] - c[:-2 * k, 2 * k:] - c[2 * k:, :-2 * k] + c[:-2 * k, :-2 * k]
    s = s[:h, :w]
    return np.where(s > np.quantile(s, 0.62), 255, 0).astype(np.uint8)


def discs():
    h, w = 160, 200
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.zeros((h, w), np.uint8)
    # pairs and a triple of overlapping discs: (cx, cy, r)
    groups = [
        [(25, 25, 12), (45, 27, 12)],
        [(90, 25, 10), (108, 28, 14)],
        [(150, 30, 15), (172, 30, 9)],
        [(30, 80, 13), (52, 84, 13), (40, 102, 12)],
        [(100, 90, 16), (126, 90, 16)],
        [(165, 95, 11), (165, 117, 11)],
        [(30, 140, 8)],
        [(80, 140, 9), (95, 145, 9), (110, 140, 9)],
        [(160, 145, 10), (175, 140, 7)],
    ]
    for g in groups:
        for cx, cy, r in g:
            a[(xx - cx + 0.3) ** 2 + (yy - cy + 0.2) ** 2 <= r * r] = 255
    return a


def blobs(rng, n, h, w, peak, background, noise, dtype):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w), float(background))
    for _ in range(n):
        cx, cy = rng.uniform(-4, w + 4), rng.uniform(-4, h + 4)
        sx, sy = rng.uniform(2.0, 6.0), rng.uniform(2.0, 6.0)
        amp = rng.uniform(0.5, 1.0) * peak
        g = np.exp(-0.5 * (((xx - cx) / sx) ** 4 + ((yy - cy) / sy) ** 4) ** 0.5 * 4)
        img += amp * g
    # two ring-shaped cells (bright rim, dark centre) to give particles with holes
    for cx, cy, r in [(30, 100, 7), (95, 40, 9)]:
        d = np.hypot(xx - cx, yy - cy)
        img += 0.8 * peak * np.exp(-0.5 * ((d - r) / 1.5) ** 2)
    img += rng.normal(0, noise, img.shape)
    info = np.iinfo(dtype)
    return np.clip(np.round(img), info.min, info.max).astype(dtype)


def main():
    out = sys.argv[1]
    sample = sys.argv[2] if len(sys.argv) > 2 else None
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261121)
    tifffile.imwrite(os.path.join(out, 'shapes.tif'), shapes())
    tifffile.imwrite(os.path.join(out, 'random.tif'), random_binary(rng))
    tifffile.imwrite(os.path.join(out, 'discs.tif'), discs())
    tifffile.imwrite(os.path.join(out, 'blobs8.tif'), blobs(rng, 45, 128, 128, 170, 20, 8, np.uint8))
    tifffile.imwrite(os.path.join(out, 'blobs16.tif'), blobs(rng, 45, 128, 128, 30000, 1000, 900, np.uint16))
    cases = [
        # name, image, lower, upper, minSize, maxSize, minCirc, maxCirc, exclude, include
        ('shapes', 'shapes.tif', 128, 255, 0, 'Infinity', 0, 1, 0, 0),
        ('shapes-include', 'shapes.tif', 128, 255, 0, 'Infinity', 0, 1, 0, 1),
        ('shapes-exclude', 'shapes.tif', 128, 255, 0, 'Infinity', 0, 1, 1, 0),
        ('shapes-size-circ', 'shapes.tif', 128, 255, 3, 40, 0.5, 1, 0, 0),
        ('random', 'random.tif', 128, 255, 0, 'Infinity', 0, 1, 0, 0),
        ('random-include', 'random.tif', 128, 255, 0, 'Infinity', 0, 1, 0, 1),
        ('random-filtered', 'random.tif', 128, 255, 10, 'Infinity', 0.3, 1, 1, 1),
        ('discs', 'discs.tif', 128, 255, 0, 'Infinity', 0, 1, 0, 0),
        ('blobs8', 'blobs8.tif', 90, 255, 0, 'Infinity', 0, 1, 0, 0),
        ('blobs8-include', 'blobs8.tif', 90, 255, 20, 'Infinity', 0, 1, 1, 1),
        ('blobs8-dark-objects', 'blobs8.tif', 0, 60, 0, 'Infinity', 0, 1, 0, 0),
        ('blobs16', 'blobs16.tif', 15000, 65535, 0, 'Infinity', 0, 1, 0, 0),
        ('blobs16-include', 'blobs16.tif', 15000, 65535, 25, 2000, 0.2, 1, 0, 1),
    ]
    if sample:
        stack = tifffile.imread(sample)  # (z, c, y, x)
        mip = stack[:, 0].max(axis=0).astype(np.uint16)
        tifffile.imwrite(os.path.join(out, 'nuclei.tif'), mip)
        # Otsu's threshold of the projection (a fixed number here: the agreement test is about particles)
        hist = np.bincount(mip.ravel(), minlength=65536).astype(float)
        levels = np.arange(65536)
        w0 = np.cumsum(hist)
        m0 = np.cumsum(hist * levels)
        total, mtotal = w0[-1], m0[-1]
        with np.errstate(divide='ignore', invalid='ignore'):
            between = (mtotal * w0 - m0 * total) ** 2 / (w0 * (total - w0))
        t = int(np.nanargmax(between[:-1]))
        cases += [
            ('nuclei', 'nuclei.tif', t + 1, 65535, 0, 'Infinity', 0, 1, 0, 0),
            ('nuclei-filtered', 'nuclei.tif', t + 1, 65535, 170, 280, 0.85, 1, 1, 1),
        ]
    with open(os.path.join(out, 'cases.tsv'), 'w') as f:
        f.write('name\timage\tlower\tupper\tminSize\tmaxSize\tminCirc\tmaxCirc\texclude\tinclude\n')
        for c in cases:
            f.write('\t'.join(str(v) for v in c) + '\n')


if __name__ == '__main__':
    main()
