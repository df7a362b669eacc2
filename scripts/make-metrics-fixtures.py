#!/usr/bin/python3
"""Generates the reference values for the metrics and focus plugins' tests with tools
independent of Focal: Debian's python3-skimage 0.19 (PSNR, SSIM, MSE, rgb2ycbcr),
python3-scipy (Sobel) and python3-numpy (Pearson r, BerHu, and an independent NumPy
re-implementation of the algorithm `tf.image.ssim_multiscale` documents, since TensorFlow
cannot be installed here).

Run from the repository root with Debian's python3:
    /usr/bin/python3 scripts/make-metrics-fixtures.py
Writes plugins/metrics/fixtures/metrics.json and plugins/focus/fixtures/sharpness.json.
Deterministic (seeded NumPy generator). Pixel arrays are stored as little-endian base64.
"""
import base64
import json
import os

import numpy as np
from scipy import ndimage, signal
import skimage
from skimage.color import rgb2ycbcr
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(20261121)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()).decode('ascii')


def structured(h, w, lo, hi):
    """Sinusoids + Gaussian blobs + a step edge, scaled to [lo, hi]."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.sin(x / 5.0) * np.cos(y / 7.0) + 0.5 * np.sin((x + 2 * y) / 11.0)
    for _ in range(6):
        cx, cy, s = RNG.uniform(0, w), RNG.uniform(0, h), RNG.uniform(2, 8)
        img += 2.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
    img += (x > w * 0.6) * 0.8
    img = (img - img.min()) / (img.max() - img.min())
    return lo + (hi - lo) * img


def degrade(ref, sigma, noise, lo, hi):
    out = ndimage.gaussian_filter(ref, sigma) + RNG.normal(0, noise, ref.shape)
    return np.clip(out, lo, hi)


# --- tf.image.ssim_multiscale, re-implemented from its documented algorithm -------------
def tf_gauss_kernel(size=11, sigma=1.5):
    c = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(c[:, None] ** 2 + c[None, :] ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def tf_ssim_scale(a, b, max_val, k1=0.01, k2=0.03):
    """Mean SSIM and mean contrast-structure over the 'VALID' filtered region."""
    k = tf_gauss_kernel()
    f = lambda v: signal.correlate2d(v, k, mode='valid')
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu_a, mu_b = f(a), f(b)
    lum = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1)
    cs = (2 * (f(a * b) - mu_a * mu_b) + c2) / (f(a * a + b * b) - mu_a ** 2 - mu_b ** 2 + c2)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def tf_downsample(v):
    """Odd sizes: one more row/column repeated at the end ('SYMMETRIC' pad), then 2×2 mean."""
    h, w = v.shape
    v = np.pad(v, ((0, h % 2), (0, w % 2)), mode='symmetric')
    return 0.25 * (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2])


def tf_ms_ssim(a, b, max_val, weights=(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)):
    a, b = a.astype(np.float64), b.astype(np.float64)
    values = []
    for s in range(len(weights)):
        if s > 0:
            a, b = tf_downsample(a), tf_downsample(b)
        full, cs = tf_ssim_scale(a, b, max_val)
        values.append(max(cs, 0.0) if s < len(weights) - 1 else max(full, 0.0))
    return float(np.prod([v ** w for v, w in zip(values, weights)]))


# --- the metric cases ---------------------------------------------------------------------
def berhu(img, ref, c):
    d = np.abs(img - ref)
    return float(np.mean(np.where(d <= c, d, (d * d + c * c) / (2 * c))))


def case(name, img, ref, data_range=None, map_rows=(), msssim=False):
    fi, fr = img.astype(np.float64), ref.astype(np.float64)
    dr = float(fr.max() - fr.min()) if data_range is None else float(data_range)
    mssim, smap = structural_similarity(fi, fr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=dr, full=True)
    out = {
        'name': name, 'width': int(img.shape[1]), 'height': int(img.shape[0]), 'dtype': str(img.dtype),
        'image': b64(img), 'reference': b64(ref),
        'dataRange': None if data_range is None else dr, 'effectiveDataRange': dr,
        'psnr': float(peak_signal_noise_ratio(fr, fi, data_range=dr)),
        'ssim': float(mssim),
        'ssimMapRows': {str(r): [float(v) for v in smap[r]] for r in map_rows},
        'rmse': float(np.sqrt(mean_squared_error(fr, fi))),
        'mae': float(np.mean(np.abs(fi - fr))),
        'pearson': float(np.corrcoef(fi.ravel(), fr.ravel())[0, 1]),
        'berhuC': float(0.1 * fr.std()),
        'berhu': berhu(fi, fr, 0.1 * fr.std()),
    }
    # the same image pair with a 10 px border excluded (Deep-R's deconvolution comparison)
    ci, cr = fi[10:-10, 10:-10], fr[10:-10, 10:-10]
    dr10 = float(cr.max() - cr.min()) if data_range is None else dr
    out['border10'] = {
        'psnr': float(peak_signal_noise_ratio(cr, ci, data_range=dr10)),
        'ssim': float(structural_similarity(ci, cr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=dr10)),
        'rmse': float(np.sqrt(mean_squared_error(cr, ci))),
    }
    if msssim:
        out['msssim'] = tf_ms_ssim(fi, fr, dr)
        out['msssimSelf'] = tf_ms_ssim(fr, fr, dr)
    return out


def main():
    cases = []
    r = structured(64, 64, 200, 3800)
    cases.append(case('u16-64', np.round(degrade(r, 1.2, 60, 0, 65535)).astype(np.uint16), np.round(r).astype(np.uint16),
                      map_rows=(0, 1, 4, 5, 32, 62, 63)))
    r = structured(40, 48, -1.0, 1.0).astype(np.float32)
    cases.append(case('f32-48x40', degrade(r, 0.8, 0.08, -1.2, 1.2).astype(np.float32), r, data_range=2.0, map_rows=(0, 20, 39)))
    r = structured(200, 200, 10, 245)
    cases.append(case('u8-200', np.round(degrade(r, 1.5, 6, 0, 255)).astype(np.uint8), np.round(r).astype(np.uint8), msssim=True))
    r = structured(177, 193, 0, 255)
    cases.append(case('u8-193x177', np.round(degrade(r, 2.5, 3, 0, 255)).astype(np.uint8), np.round(r).astype(np.uint8), msssim=True))

    # sanity of the NumPy tf re-implementation: 1 for identical images, falls as the blur grows
    r = structured(200, 200, 0, 255)
    blurred = [tf_ms_ssim(ndimage.gaussian_filter(r, s), r, 255.0) for s in (0.5, 1, 2, 4)]
    assert abs(tf_ms_ssim(r, r, 255.0) - 1) < 1e-12 and all(a > b for a, b in zip(blurred, blurred[1:])), blurred
    # colour: skimage rgb2ycbcr (MATLAB rgb2ycbcr convention, Y in [16, 235], Cb/Cr in [16, 240])
    rgb_ref = RNG.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    rgb_img = np.clip(rgb_ref.astype(np.int32) + RNG.integers(-30, 31, rgb_ref.shape), 0, 255).astype(np.uint8)
    ycc_ref = rgb2ycbcr(rgb_ref)
    ycc_img = rgb2ycbcr(rgb_img)
    diff = np.mean(np.abs(ycc_img - ycc_ref), axis=(0, 1))
    colour = {
        'width': 16, 'height': 12,
        'image': b64(np.moveaxis(rgb_img, 2, 0)), 'reference': b64(np.moveaxis(rgb_ref, 2, 0)),  # planar R, G, B
        'referenceYCbCr': b64(np.moveaxis(ycc_ref, 2, 0).astype(np.float64)),
        'difference': {'y': float(diff[0]), 'cb': float(diff[1]), 'cr': float(diff[2])},
    }
    meta = {'generator': 'scripts/make-metrics-fixtures.py', 'skimage': skimage.__version__, 'numpy': np.__version__}
    os.makedirs(os.path.join(ROOT, 'plugins', 'metrics', 'fixtures'), exist_ok=True)
    with open(os.path.join(ROOT, 'plugins', 'metrics', 'fixtures', 'metrics.json'), 'w') as fh:
        json.dump({'meta': meta, 'cases': cases, 'colour': colour}, fh)

    # focus: Sobel sharpness map (scipy.ndimage.sobel, mode 'reflect') and Deep-R's row coefficients
    ref = structured(24, 32, 0, 1000)
    img = degrade(ref, 1.0, 5, -100, 1100)
    def smap(v):
        return np.hypot(ndimage.sobel(v, axis=1, mode='reflect'), ndimage.sobel(v, axis=0, mode='reflect'))
    sx, sy = smap(img), smap(ref)
    beta = np.sum(sx * sy, axis=1) / np.sum(sy * sy, axis=1)
    rss = np.sum((sx - beta[:, None] * sy) ** 2, axis=1)
    n = sx.shape[1]
    std = np.sqrt(rss / ((n - 1) * np.sum(sy * sy, axis=1)))
    sharp = {
        'meta': meta, 'width': 32, 'height': 24,
        'image': b64(img.astype(np.float64)), 'reference': b64(ref.astype(np.float64)),
        'sobelReferenceRow3': [float(v) for v in sy[3]], 'sobelReferenceRow0': [float(v) for v in sy[0]],
        'coefficients': [float(v) for v in beta], 'stdErrors': [float(v) for v in std],
    }
    os.makedirs(os.path.join(ROOT, 'plugins', 'focus', 'fixtures'), exist_ok=True)
    with open(os.path.join(ROOT, 'plugins', 'focus', 'fixtures', 'sharpness.json'), 'w') as fh:
        json.dump(sharp, fh)


if __name__ == '__main__':
    main()
