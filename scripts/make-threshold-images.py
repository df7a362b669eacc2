#!/usr/bin/python3
"""Writes the test images for the cellcount threshold fixtures (deterministic, seeded).

    python3 scripts/make-threshold-images.py <cells-zstack.tif> <threshold-folder> <preprocess-folder>

Images: bimodal (8/16-bit), the nuclei (DAPI) channel of samples/cells-zstack.tif at z index 5
(16-bit, and its 8-bit min-max conversion), skewed and unimodal ones, and ones with few grey
levels. Kept small (128x128 except the nuclei plane) so the committed fixtures stay light.
Pre-processing inputs (RGB noise; blobs on a gradient, 8/16-bit, dark and light background)
go to the second folder, zlib-compressed.
"""
import sys
import numpy as np
import tifffile

src, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20261121)
W = H = 128


def save(name, a):
    tifffile.imwrite(f"{out}/{name}.tif", a, imagej=True, compression="zlib")


def bimodal(lo, hi, sd, frac):
    a = np.where(rng.random((H, W)) < frac, rng.normal(hi, sd, (H, W)), rng.normal(lo, sd, (H, W)))
    return a


save("bimodal-8bit", np.clip(np.rint(bimodal(60, 170, 18, 0.3)), 0, 255).astype(np.uint8))
save("bimodal-16bit", np.clip(np.rint(bimodal(900, 3200, 350, 0.35)), 0, 65535).astype(np.uint16))
save("skewed-8bit", np.clip(np.rint(8 + rng.exponential(25, (H, W))), 0, 255).astype(np.uint8))
save("skewed-16bit", np.clip(np.rint(100 + rng.exponential(400, (H, W))), 0, 65535).astype(np.uint16))
save("unimodal-8bit", np.clip(np.rint(rng.normal(120, 20, (H, W))), 0, 255).astype(np.uint8))
few = rng.choice(np.array([10, 60, 61, 200, 250], np.uint8), size=(H, W), p=[0.4, 0.2, 0.1, 0.2, 0.1])
save("few-levels-8bit", few.astype(np.uint8))
few16 = rng.choice(np.array([100, 300, 301, 2000, 4000], np.uint16), size=(H, W), p=[0.45, 0.15, 0.1, 0.2, 0.1])
save("few-levels-16bit", few16.astype(np.uint16))
stack = tifffile.imread(src)  # (z, c, y, x)
dapi = stack[5, 0].astype(np.uint16)
save("nuclei-16bit", dapi)
mn, mx = int(dapi.min()), int(dapi.max())
save("nuclei-8bit", np.clip(np.floor((dapi.astype(np.float64) - mn) * 256.0 / (mx - mn + 1)), 0, 255).astype(np.uint8))

# edge cases: a noise-free unimodal (triangular) histogram, where Intermodes/Minimum never find
# two peaks; a constant image; two grey levels only
tri = np.concatenate([np.full(k if v <= 100 else 200 - k, v, np.uint8) for k, v in zip(range(1, 201), range(1, 201)) if (k if v <= 100 else 200 - k) > 0])
tri_img = np.zeros(H * W, np.uint8) + 100
tri_img[: tri.size] = tri
save("triangle-hist-8bit", tri_img.reshape(H, W))
save("constant-8bit", np.full((32, 32), 77, np.uint8))
save("constant-16bit", np.full((32, 32), 1234, np.uint16))
two = np.full((32, 32), 40, np.uint8)
two[8:20, 8:20] = 180
save("two-levels-8bit", two)

# 32-bit: a bimodal float image, and the nuclei plane scaled to [0, 1] with a NaN block
save("bimodal-32bit", (bimodal(0.25, 0.7, 0.08, 0.3)).astype(np.float32))
nan = ((dapi.astype(np.float64) - mn) / (mx - mn)).astype(np.float32)
nan[:16, :16] = np.nan
save("nuclei-nan-32bit", nan)

# pre-processing inputs
pre = sys.argv[3]
prng = np.random.default_rng(5)
tifffile.imwrite(f"{pre}/rgb.tif", prng.integers(0, 256, (48, 64, 3), dtype=np.uint8), photometric="rgb", compression="zlib")
y, x = np.mgrid[0:120, 0:160]
img = 40 + 60 * (x / 160) + 30 * (y / 120)
for cx, cy, r in [(30, 30, 6), (80, 50, 9), (130, 95, 5), (40, 95, 8), (140, 25, 4)]:
    img = img + 90 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
img = img + prng.normal(0, 4, img.shape)
b8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
tifffile.imwrite(f"{pre}/blobs-8bit.tif", b8, imagej=True, compression="zlib")
tifffile.imwrite(f"{pre}/blobs-light-8bit.tif", (255 - b8).astype(np.uint8), imagej=True, compression="zlib")
tifffile.imwrite(f"{pre}/blobs-16bit.tif", np.clip(np.rint(img * 37 + 300), 0, 65535).astype(np.uint16), imagej=True, compression="zlib")
save("constant-32bit", np.full((32, 32), 0.25, np.float32))
