/**
 * TIFF LZW decoder (TIFF 6.0 section 13: MSB-first codes of 9–12 bits, Clear = 256,
 * EndOfInformation = 257, code width grows one code early). Written for Focal instead of
 * using geotiff's LZW decoder, which can loop without end (and exhaust memory) on
 * corrupt data once its code table is full. The output never exceeds `maxBytes`;
 * corrupt input ends decoding early or throws an Error.
 */
export function decodeLzw(input: Uint8Array, maxBytes: number): Uint8Array {
  const prefix = new Uint16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  const out = new Uint8Array(maxBytes);
  const totalBits = input.length * 8;
  let op = 0;
  let bitPos = 0;
  let width = 9;
  let next = 258;
  let old = -1;
  while (op < maxBytes) {
    if (bitPos + width > totalBits) break; // ran out of data without EOI: keep what was decoded
    const p = bitPos >>> 3;
    const word = (input[p] << 16) | ((p + 1 < input.length ? input[p + 1] : 0) << 8) | (p + 2 < input.length ? input[p + 2] : 0);
    const code = (word >>> (24 - (bitPos & 7) - width)) & ((1 << width) - 1);
    bitPos += width;
    if (code === 257) break;
    if (code === 256) {
      width = 9;
      next = 258;
      old = -1;
      continue;
    }
    let emit: number;
    if (old < 0) {
      if (code > 255) throw new Error(`LZW code ${code} follows a clear code`);
      emit = code;
    } else if (code < next) {
      emit = code;
      if (next < 4096) {
        prefix[next] = old;
        suffix[next] = first[code];
        first[next] = first[old];
        length[next] = length[old] + 1;
        next++;
      }
    } else if (code === next && next < 4096) {
      prefix[next] = old;
      suffix[next] = first[old];
      first[next] = first[old];
      length[next] = length[old] + 1;
      next++;
      emit = code;
    } else {
      throw new Error(`LZW code ${code} is not in the table (next free code ${next})`);
    }
    // Write the string of `emit` backwards from its last byte.
    const n = length[emit];
    let c = emit;
    for (let i = n - 1; i >= 0; i--) {
      if (op + i < maxBytes) out[op + i] = suffix[c];
      c = prefix[c];
    }
    op = Math.min(op + n, maxBytes);
    old = emit;
    if (next >= (1 << width) - 1 && width < 12) width++;
  }
  return out.subarray(0, op);
}
