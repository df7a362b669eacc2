#!/usr/bin/env bash
# Makes plugins/cellcount/fixtures/particles: the test images (scripts/particle-fixture-images.py,
# seeded) and ImageJ 1.53t's Analyze Particles / Process › Binary results on them
# (scripts/analyze-particles.ijm, one JVM start). Needs Debian's imagej, xvfb, python3-numpy and
# python3-tifffile (scripts/install-system-deps.sh), and samples/cells-zstack.tif (npm run samples).
#
#   scripts/make-particle-fixtures.sh [OUT_DIR]   (default plugins/cellcount/fixtures/particles)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/plugins/cellcount/fixtures/particles}"
ij="${IMAGEJ_JAR:-/usr/share/java/ij.jar}"
mkdir -p "$out/imagej"
sample="${SAMPLE_TIF:-$root/samples/cells-zstack.tif}"
py=/usr/bin/python3; [ -x "$py" ] || py=python3   # Debian's python3 has numpy and tifffile
[ -f "$sample" ] || { echo "missing $sample: run 'npm run samples' first" >&2; exit 1; }
"$py" "$root/scripts/particle-fixture-images.py" "$out" "$sample"
xvfb-run -a java -jar "$ij" -batch "$root/scripts/analyze-particles.ijm" "$out|$out/imagej"
echo "ImageJ results in $out/imagej"
