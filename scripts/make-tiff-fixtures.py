#!/usr/bin/python3
"""Generates the TIFF test fixtures in core/io/fixtures/ with writers independent of Focal:
python3-tifffile (plain, OME-TIFF, ImageJ-style, Micro-Manager-style series), libtiff's
tiffcp (compression, tiling, BigTIFF, big-endian) and ImageJ itself (hyperstacks).

Run from the repository root with Debian's python3 (which has tifffile and numpy):
    /usr/bin/python3 scripts/make-tiff-fixtures.py
Needs: python3-tifffile, python3-numpy, libtiff-tools, imagej, xvfb.

Pixel values follow formulas the tests recompute (see core/io/tiff/fixtures.test.ts):
    u16(c, z, t, y, x) = x + 3*y + 1000*c + 100*z + 10*t
    u8(c, z, t, y, x)  = (x + y + 40*c + 20*z + 7*t) % 256
    f32(c, z, t, y, x) = 0.5*x - y + 100*c + 10*z + 1.25*t
"""
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import numpy as np
import tifffile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'core', 'io', 'fixtures')


def grid(h, w):
    y, x = np.mgrid[0:h, 0:w]
    return y, x


def u16(c, z, t, h=24, w=32):
    y, x = grid(h, w)
    return (x + 3 * y + 1000 * c + 100 * z + 10 * t).astype(np.uint16)


def u8(c, z, t, h=24, w=32):
    y, x = grid(h, w)
    return ((x + y + 40 * c + 20 * z + 7 * t) % 256).astype(np.uint8)


def f32(c, z, t, h=24, w=32):
    y, x = grid(h, w)
    return (0.5 * x - y + 100 * c + 10 * z + 1.25 * t).astype(np.float32)


def path(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def run(*cmd):
    subprocess.run(cmd, check=True)


def plain():
    tifffile.imwrite(path('tifffile_u8.tif'), u8(0, 0, 0), photometric='minisblack', metadata=None)
    tifffile.imwrite(path('tifffile_u16_z5.tif'), np.stack([u16(0, z, 0) for z in range(5)]), photometric='minisblack', metadata=None)
    tifffile.imwrite(path('tifffile_f32_z2.tif'), np.stack([f32(0, z, 0) for z in range(2)]), photometric='minisblack', metadata=None)
    y, x = grid(24, 32)
    tifffile.imwrite(path('tifffile_i8.tif'), (x - y - 10).astype(np.int8), photometric='minisblack', metadata=None)
    tifffile.imwrite(path('tifffile_i16.tif'), (x * 500 - y * 1300).astype(np.int16), photometric='minisblack', metadata=None)
    tifffile.imwrite(path('tifffile_i32.tif'), (x * 100000 - y * 70000).astype(np.int32), photometric='minisblack', metadata=None)
    # uint32 beyond 2^24: Focal converts to float32 and warns about rounding.
    tifffile.imwrite(path('tifffile_u32_big.tif'), (x.astype(np.uint64) * 1000003 + 16777216 + y).astype(np.uint32), photometric='minisblack', metadata=None)
    tifffile.imwrite(path('tifffile_f64.tif'), (x / 3.0 - y * 1e-3).astype(np.float64), photometric='minisblack', metadata=None)
    # Calibrated plain TIFF: 4000 pixels/cm = 2.5 µm per pixel.
    tifffile.imwrite(path('tifffile_res_cm.tif'), u16(0, 0, 0), photometric='minisblack', metadata=None, resolution=(4000, 4000), resolutionunit='CENTIMETER')
    # RGB, chunky (2 z planes) and planar.
    rgb = np.stack([np.stack([u8(c, z, 0) for c in range(3)], axis=-1) for z in range(2)])
    tifffile.imwrite(path('tifffile_rgb_z2.tif'), rgb, photometric='rgb', metadata=None)
    tifffile.imwrite(path('tifffile_rgb_planar.tif'), np.stack([u8(c, 0, 0) for c in range(3)]), photometric='rgb', planarconfig='separate', metadata=None)
    # A reduced-resolution page (NewSubfileType=1) and a page of another size between full pages.
    with tifffile.TiffWriter(path('tifffile_with_thumbnails.tif')) as tw:
        tw.write(u16(0, 0, 0), photometric='minisblack', metadata=None)
        tw.write(u16(0, 0, 0, 12, 16), photometric='minisblack', metadata=None, subfiletype=1)
        tw.write(u16(0, 1, 0, 12, 16), photometric='minisblack', metadata=None)
        tw.write(u16(0, 1, 0), photometric='minisblack', metadata=None)
    # Unsupported sample formats.
    tifffile.imwrite(path('unsupported_complex64.tif'), (x + 1j * y).astype(np.complex64), metadata=None)
    tifffile.imwrite(path('unsupported_int64.tif'), (x * y).astype(np.int64), metadata=None)
    tifffile.imwrite(path('unsupported_float16.tif'), (x / 4).astype(np.float16), metadata=None)


def tiffcp_variants():
    src = path('tifffile_u16_z5.tif')
    for name, args in [
        ('tiffcp_lzw.tif', ['-c', 'lzw']),
        ('tiffcp_lzw_pred.tif', ['-c', 'lzw:2']),
        ('tiffcp_zip.tif', ['-c', 'zip']),
        ('tiffcp_zip_pred.tif', ['-c', 'zip:2']),
        ('tiffcp_packbits.tif', ['-c', 'packbits']),
        ('tiffcp_strips5.tif', ['-r', '5']),
        ('tiffcp_tiled.tif', ['-t', '-w', '16', '-l', '16']),
        ('tiffcp_tiled_zip.tif', ['-c', 'zip', '-t', '-w', '16', '-l', '16']),
        ('tiffcp_bigtiff.tif', ['-8']),
        ('tiffcp_bigtiff_tiled_lzw.tif', ['-8', '-c', 'lzw', '-t', '-w', '16', '-l', '16']),
        ('tiffcp_bigendian.tif', ['-B']),
        ('tiffcp_bigendian_lzw_pred.tif', ['-B', '-c', 'lzw:2', '-r', '7']),
    ]:
        run('tiffcp', *args, src, path(name))
    run('tiffcp', '-c', 'zip:3', path('tifffile_f32_z2.tif'), path('tiffcp_f32_zip_fpred.tif'))
    # (Not '-B -c lzw:3': libtiff 4.5 writes big-endian floating-point-predictor data that it cannot read back.)
    run('tiffcp', '-B', '-c', 'zip', path('tifffile_f32_z2.tif'), path('tiffcp_f32_bigendian_zip.tif'))
    run('tiffcp', '-c', 'lzw', '-t', '-w', '16', '-l', '16', path('tifffile_rgb_z2.tif'), path('tiffcp_rgb_tiled_lzw.tif'))
    run('tiffcp', '-p', 'separate', '-c', 'packbits', path('tifffile_rgb_z2.tif'), path('tiffcp_rgb_planar_packbits.tif'))


def ome():
    # Data with axes given in the order below; tifffile writes DimensionOrder = XY + reversed(axes[:-2]).
    sizes = {'C': 3, 'Z': 4, 'T': 2}
    for axes in ['TZCYX', 'TCZYX', 'CTZYX', 'ZTCYX', 'ZCTYX', 'CZTYX']:
        order = 'XY' + axes[:3][::-1]
        shape = [sizes[a] for a in axes[:3]] + [12, 16]
        data = np.zeros(shape, np.uint16)
        for idx in np.ndindex(*shape[:3]):
            pos = dict(zip(axes[:3], idx))
            data[idx] = u16(pos['C'], pos['Z'], pos['T'], 12, 16)
        tifffile.imwrite(path(f'ome_{order}.ome.tif'), data, ome=True, photometric='minisblack', metadata={
            'axes': axes, 'PhysicalSizeX': 0.25, 'PhysicalSizeY': 0.3, 'PhysicalSizeZ': 1.5,
            'PhysicalSizeXUnit': 'µm', 'PhysicalSizeYUnit': 'µm', 'PhysicalSizeZUnit': 'µm',
            'TimeIncrement': 2.0, 'TimeIncrementUnit': 's', 'Channel': {'Name': ['DAPI', 'GFP', 'RFP']},
        })
    # Units other than µm: 250 nm pixels, 0.002 mm z step, 500 ms.
    data = np.stack([u16(0, z, 0, 12, 16) for z in range(2)])
    tifffile.imwrite(path('ome_units.ome.tif'), data, ome=True, photometric='minisblack', metadata={
        'axes': 'ZYX', 'PhysicalSizeX': 250, 'PhysicalSizeXUnit': 'nm', 'PhysicalSizeY': 250, 'PhysicalSizeYUnit': 'nm',
        'PhysicalSizeZ': 0.002, 'PhysicalSizeZUnit': 'mm', 'TimeIncrement': 500, 'TimeIncrementUnit': 'ms',
    })
    rgb = np.stack([np.stack([u8(c, z, 0, 12, 16) for c in range(3)], axis=-1) for z in range(2)])
    tifffile.imwrite(path('ome_rgb.ome.tif'), rgb, ome=True, photometric='rgb', metadata={'axes': 'ZYXS'})


def imagej_tifffile():
    # tifffile's own ImageJ hyperstack writer (TZCYX), 0.5 µm pixels, 2 µm z, 1.5 s frames.
    data = np.zeros((2, 3, 2, 24, 32), np.uint16)
    for t in range(2):
        for z in range(3):
            for c in range(2):
                data[t, z, c] = u16(c, z, t)
    tifffile.imwrite(path('tifffile_imagej_hyperstack.tif'), data, imagej=True, resolution=(2.0, 2.0),
                     metadata={'axes': 'TZCYX', 'unit': 'um', 'spacing': 2.0, 'finterval': 1.5})
    # ImageJ's large-file layout: one IFD, images=6, the other planes follow the first plane's data.
    planes = [u16(0, z, 0) for z in range(6)]
    p = path('imagej_single_ifd.tif')
    tifffile.imwrite(p, planes[0], photometric='minisblack', metadata=None,
                     description='ImageJ=1.53t\nimages=6\nslices=6\nunit=micron\nspacing=0.75\nloop=false\n',
                     resolution=(4.0, 4.0), resolutionunit='NONE')
    with tifffile.TiffFile(p) as tf:
        page = tf.pages[0]
        assert len(tf.pages) == 1
        assert page.dataoffsets[0] + page.databytecounts[0] == os.path.getsize(p), 'plane data must end the file'
    with open(p, 'ab') as f:
        for plane in planes[1:]:
            f.write(plane.astype('<u2').tobytes())
    # Same, but the data was cut off after 3.5 planes (interrupted write): 3 planes are readable.
    q = path('imagej_single_ifd_truncated.tif')
    shutil.copy(p, q)
    with open(q, 'r+b') as f:
        f.truncate(os.path.getsize(p) - int(2.5 * 32 * 24 * 2))


def mm_xml(name, sizes, planes_per_file, order='XYCZT'):
    """OME-XML like Micro-Manager's: one TiffData per plane with UUID FileName."""
    c, z, t = sizes
    uuids = [f'urn:uuid:{uuid.UUID(int=i + 1)}' for i in range(len(planes_per_file))]
    tds = []
    for fi, planes in enumerate(planes_per_file):
        for ifd, (pc, pz, pt) in enumerate(planes):
            fname = f'{name}_MMStack_Pos0.ome.tif' if fi == 0 else f'{name}_MMStack_Pos0_{fi}.ome.tif'
            tds.append(f'<TiffData FirstC="{pc}" FirstZ="{pz}" FirstT="{pt}" IFD="{ifd}" PlaneCount="1">'
                       f'<UUID FileName="{fname}">{uuids[fi]}</UUID></TiffData>')
    chans = ''.join(f'<Channel ID="Channel:0:{i}" Name="Ch{i}" SamplesPerPixel="1"/>' for i in range(c))
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'Creator="Micro-Manager 2.0 (fixture)" UUID="{uuids[0]}">'
            f'<Image ID="Image:0" Name="{name}_MMStack_Pos0"><AcquisitionDate>2024-05-01T10:00:00</AcquisitionDate>'
            f'<Pixels ID="Pixels:0" DimensionOrder="{order}" Type="uint16" BigEndian="false" '
            f'SizeX="16" SizeY="12" SizeC="{c}" SizeZ="{z}" SizeT="{t}" '
            'PhysicalSizeX="0.65" PhysicalSizeXUnit="µm" PhysicalSizeY="0.65" PhysicalSizeYUnit="µm" '
            'PhysicalSizeZ="0.5" PhysicalSizeZUnit="µm" TimeIncrement="3000" TimeIncrementUnit="ms">'
            f'{chans}{"".join(tds)}</Pixels></Image></OME>')


def write_planes(p, planes, description=None):
    data = np.stack([u16(c, z, t, 12, 16) for (c, z, t) in planes])
    if isinstance(description, str):
        description = description.encode("utf-8")  # Micro-Manager writes UTF-8 (µm)
    tifffile.imwrite(p, data, photometric="minisblack", metadata=None, description=description)


def micromanager():
    # 2 channels × 3 z × 4 t = 24 planes in XYCZT; t 0–1 in the first file, t 2–3 in the second.
    order = [(c, z, t) for t in range(4) for z in range(3) for c in range(2)]
    files = [order[:12], order[12:]]
    xml = mm_xml('Exp', (2, 3, 4), files)
    write_planes(path('mmstack', 'Exp_MMStack_Pos0.ome.tif'), files[0], xml)
    write_planes(path('mmstack', 'Exp_MMStack_Pos0_1.ome.tif'), files[1])
    # The same series with the second file missing.
    write_planes(path('mmstack_missing', 'Exp_MMStack_Pos0.ome.tif'), files[0], xml)
    # Interrupted: the XML promises 2 c × 3 z × 5 t = 30 planes, the file holds 22 (3 full time points + 4 planes).
    order5 = [(c, z, t) for t in range(5) for z in range(3) for c in range(2)]
    xml5 = mm_xml('Int', (2, 3, 5), [order5])
    write_planes(path('mm_interrupted', 'Int_MMStack_Pos0.ome.tif'), order5[:22], xml5)


IJ_MACRO = r'''
dir = getArgument();
function fill(title, type, c, z, t) {
  newImage(title, type + " black", 32, 24, c, z, t);
  for (ti = 1; ti <= t; ti++) for (zi = 1; zi <= z; zi++) for (ci = 1; ci <= c; ci++) {
    Stack.setPosition(ci, zi, ti);
    for (y = 0; y < 24; y++) for (x = 0; x < 32; x++) {
      C = ci - 1; Z = zi - 1; T = ti - 1;
      if (type == "16-bit") v = x + 3*y + 1000*C + 100*Z + 10*T;
      else if (type == "8-bit") v = (x + y + 40*C + 20*Z + 7*T) % 256;
      else if (type == "32-bit") v = 0.5*x - y + 100*C + 10*Z + 1.25*T;
      else v = (((x + y + 20*Z + 7*T) % 256) << 16) | (((x + y + 40 + 20*Z + 7*T) % 256) << 8) | ((x + y + 80 + 20*Z + 7*T) % 256);
      setPixel(x, y, v);
    }
  }
}
fill("h16", "16-bit", 2, 3, 4);
run("Properties...", "channels=2 slices=3 frames=4 unit=micron pixel_width=0.5 pixel_height=0.5 voxel_depth=2 frame=[1.5 sec]");
saveAs("Tiff", dir + "/imagej_16bit_c2z3t4.tif"); close();
fill("h8", "8-bit", 1, 5, 1);
run("Properties...", "channels=1 slices=5 frames=1 unit=nm pixel_width=120 pixel_height=120 voxel_depth=300");
saveAs("Tiff", dir + "/imagej_8bit_z5.tif"); close();
fill("h32", "32-bit", 1, 1, 3);
run("Properties...", "channels=1 slices=1 frames=3 unit=pixel pixel_width=1 pixel_height=1 voxel_depth=1 frame=[250 msec]");
saveAs("Tiff", dir + "/imagej_32bit_t3.tif"); close();
fill("rgb", "RGB", 1, 2, 1);
run("Properties...", "channels=1 slices=2 frames=1 unit=mm pixel_width=0.01 pixel_height=0.01 voxel_depth=0.05");
saveAs("Tiff", dir + "/imagej_rgb_z2.tif"); close();
print("done");
'''


def imagej():
    tmp = tempfile.mkdtemp(prefix='focal-fixtures-')
    macro = os.path.join(tmp, 'make-fixtures.ijm')
    with open(macro, 'w') as f:
        f.write(IJ_MACRO)
    out = subprocess.run(['xvfb-run', '-a', 'java', '-jar', '/usr/share/java/ij.jar', '-batch', macro, OUT],
                         check=True, capture_output=True, text=True)
    if 'done' not in out.stdout:
        sys.exit('ImageJ macro failed:\n' + out.stdout + out.stderr)
    shutil.rmtree(tmp)


def main():
    os.makedirs(OUT, exist_ok=True)
    plain()
    tiffcp_variants()
    ome()
    imagej_tifffile()
    micromanager()
    imagej()
    total = 0
    for dirpath, _, names in os.walk(OUT):
        for n in names:
            total += os.path.getsize(os.path.join(dirpath, n))
    print(f'fixtures written to {OUT}: {total} bytes')


if __name__ == '__main__':
    main()
