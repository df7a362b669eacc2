#!/usr/bin/env bash
# Makes plugins/cellcount/fixtures/threshold/: the test images (scripts/make-threshold-images.py,
# numpy + tifffile from Debian) and ImageJ's own auto-threshold limits for them
# (imagej-thresholds.csv: every method, with and without "dark", from thresholds.ijm run by
# Debian's ImageJ 1.53t in one JVM); and plugins/cellcount/fixtures/preprocess/: inputs and
# ImageJ's outputs for RGB→8-bit, Enhance Contrast › Normalize and Subtract Background
# (preprocess.ijm, one more JVM), re-saved zlib-compressed to keep them small.
#
#   scripts/make-threshold-fixtures.sh [path/to/cells-zstack.tif]
#
# The nuclei images come from samples/cells-zstack.tif (npm run samples) unless a path is given.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/plugins/cellcount/fixtures/threshold"
sample="${1:-$root/samples/cells-zstack.tif}"
python="${PYTHON:-/usr/bin/python3}"
ij="${IMAGEJ_JAR:-/usr/share/java/ij.jar}"
[ -f "$sample" ] || { echo "missing $sample (run: npm run samples)" >&2; exit 1; }
pre="$root/plugins/cellcount/fixtures/preprocess"
"$python" "$root/scripts/make-threshold-images.py" "$sample" "$dir" "$pre"
out="$(mktemp)"
xvfb-run -a java -jar "$ij" -batch "$dir/thresholds.ijm" "$dir|$out" >/dev/null
[ -s "$out" ] || { echo "ImageJ wrote no thresholds" >&2; exit 1; }
mv "$out" "$dir/imagej-thresholds.csv"
echo "wrote $(($(wc -l < "$dir/imagej-thresholds.csv") - 1)) thresholds to $dir/imagej-thresholds.csv"
tmp="$(mktemp -d)"
xvfb-run -a java -jar "$ij" -batch "$pre/preprocess.ijm" "$pre/|$tmp/" >/dev/null
"$python" - "$tmp" "$pre" <<'PY'
import sys, glob, os, tifffile
src, dst = sys.argv[1], sys.argv[2]
for f in sorted(glob.glob(src + "/ij-*.tif")):
    a = tifffile.imread(f)
    rgb = a.ndim == 3 and a.shape[-1] == 3
    tifffile.imwrite(os.path.join(dst, os.path.basename(f)), a, compression="zlib", **({"photometric": "rgb"} if rgb else {"imagej": True}))
print("wrote", len(glob.glob(src + "/ij-*.tif")), "ImageJ pre-processing references to", dst)
PY
rm -rf "$tmp"
