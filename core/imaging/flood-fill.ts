/**
 * Flood fill from the border of a plane: the one region-growing routine that binary
 * morphology (fill holes) and particle analysis (filling a particle's interior) share.
 */

/**
 * Marks every pixel of `labels` (width × height, row-major) that is still 0 and can be reached
 * from the image border through 4-connected 0-pixels, by setting it to `mark` (≠ 0). Other
 * values are walls. Works in place; `stack` (at least width·height entries) may be passed to
 * reuse a buffer.
 * @returns the number of pixels marked.
 */
export function floodFillFromBorder(labels: Uint8Array, width: number, height: number, mark: number, stack: Int32Array = new Int32Array(width * height)): number {
  const n = width * height;
  let top = 0;
  let marked = 0;
  const seed = (i: number): void => {
    if (labels[i] === 0) {
      labels[i] = mark;
      stack[top++] = i;
      marked++;
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (top > 0) {
    const i = stack[--top];
    const x = i % width;
    if (x > 0) seed(i - 1);
    if (x < width - 1) seed(i + 1);
    if (i >= width) seed(i - width);
    if (i < n - width) seed(i + width);
  }
  return marked;
}
