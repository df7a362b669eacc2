#!/usr/bin/env bash
# Installs the Debian packages that Focal's tests and benchmarks use: ImageJ (to prove ImageJ
# opens what Focal writes and to compare thresholds and particle counts), Xvfb (ImageJ 1.x
# needs a display even in batch mode), libtiff-tools and python3-tifffile (independent TIFF
# writers/readers for fixtures and benchmarks), python3-zarr (zarr-python 2 reads Focal's Zarr v2 /
# OME-NGFF 0.4 output and writes blosc images Focal reads: core/io/ome-zarr.test.ts), python3-skimage (reference metrics and
# deconvolution), elastix (registration benchmark reference) and tmux (drives `focal tui`
# end to end in test/tui-tmux.test.ts) and redis-server (the job queue of focal worker/submit;
# test/scale-out.test.ts starts its own instance on a free port), chromium (opens every bundled
# pipeline's report.html headless: test/pipelines.test.ts) and libvips-tools (the reference
# of bench/large.ts, smoke-tested in test/bench-large.test.ts), openslide-tools and python3-openslide
# (OpenSlide opens Focal's pyramids: core/io/tiff/pyramid.test.ts, bench/slide-run.ts).
# Runs as root or through sudo; does nothing when everything is already there.
set -euo pipefail
pkgs=(imagej xvfb xauth libtiff-tools python3-tifffile python3-numpy python3-skimage python3-zarr elastix tmux redis-server chromium libvips-tools openslide-tools python3-openslide)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${pkgs[*]})"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
