#!/usr/bin/env python3
"""Fixtures for plugins/deconvolution: scikit-image 0.19 richardson_lucy (clip=False) on
small deterministic inputs. Run with Debian's python3-skimage:

    /usr/bin/python3 scripts/make-deconvolution-fixtures.py

Writes plugins/deconvolution/fixtures/skimage-rl.json: for each case the image (float32
values), the PSF, the iteration count and scikit-image's result, arrays base64-encoded
little-endian (image/psf float32, expected float64). scikit-image is run in float64
(inputs cast), so the fixture is exact up to float64 rounding.
"""
import base64
import json
import os

import numpy as np
import skimage
from skimage.restoration import richardson_lucy


def b64(a, dtype):
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).astype('<' + np.dtype(dtype).str[1:]).tobytes()).decode()


def case(name, image, psf, iters):
    expected = richardson_lucy(image.astype(np.float64), psf.astype(np.float64), iters, clip=False)
    return {
        'name': name,
        'shape': list(image.shape),  # numpy order: (z,) y, x
        'psfShape': list(psf.shape),
        'iterations': iters,
        'image': b64(image, np.float32),
        'psf': b64(psf, np.float32),
        'expected': b64(expected, np.float64),
    }


def main():
    rng = np.random.default_rng(20260321)
    # 2D: blobs on a background, blurred by an asymmetric 9×9 PSF, plus noise
    y, x = np.mgrid[0:64, 0:64]
    truth = 20 + np.zeros((64, 64))
    for cx, cy, r, a in [(14, 20, 3, 400), (40, 12, 5, 250), (30, 44, 2, 600), (52, 50, 4, 300), (8, 58, 3, 500)]:
        truth += a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    ky, kx = np.mgrid[-4:5, -4:5]
    psf = np.exp(-(kx ** 2) / (2 * 1.8 ** 2) - ((ky - 0.7) ** 2) / (2 * 1.2 ** 2)) + 0.05 * (kx == 2) * (ky == -1)
    psf = (psf / psf.sum()).astype(np.float32)
    from scipy.signal import convolve
    blurred = convolve(truth, psf.astype(np.float64), mode='same')
    image = rng.poisson(blurred).astype(np.float32)
    cases = [case('2d-64x64-psf9x9', image, psf, 10)]

    # 3D: 10 × 20 × 24 volume, 5 × 7 × 5 PSF
    z, y, x = np.mgrid[0:10, 0:20, 0:24]
    vol = 5 + 300 * np.exp(-((x - 9) ** 2 + (y - 8) ** 2 + 2 * (z - 4) ** 2) / 8) + 200 * np.exp(-((x - 17) ** 2 + (y - 13) ** 2 + (z - 6) ** 2) / 5)
    kz, ky, kx = np.mgrid[-2:3, -3:4, -2:3]
    psf3 = np.exp(-(kx ** 2) / 2.0 - (ky ** 2) / 3.0 - ((kz + 0.3) ** 2) / 1.5)
    psf3 = (psf3 / psf3.sum()).astype(np.float32)
    vol = convolve(vol, psf3.astype(np.float64), mode='same') + rng.normal(0, 0.5, vol.shape)
    cases.append(case('3d-24x20x10-psf5x7x5', vol.astype(np.float32), psf3, 6))

    out = os.path.join(os.path.dirname(__file__), '..', 'plugins', 'deconvolution', 'fixtures', 'skimage-rl.json')
    with open(out, 'w') as f:
        json.dump({'skimage': skimage.__version__, 'cases': cases}, f)
    print('wrote', os.path.normpath(out))


if __name__ == '__main__':
    main()
