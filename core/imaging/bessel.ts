/**
 * Bessel functions of the first kind, orders 0 and 1, for real arguments.
 *
 * Power series for |x| < 13 and Hankel's asymptotic expansion (summed up to its
 * smallest term) for |x| ≥ 13. Both branches are accurate to about 1e-12 absolute
 * (checked against SciPy's `j0`/`j1` in bessel.test.ts), far below the 1e-7 the PSF
 * model needs. npm alternatives measured (docs/optics.md): `bessel` (2.8e-9 error) and
 * @stdlib's besselj0/j1 (2.6e-16, but 157 packages installed).
 */

const SWITCH = 13;

function series(x: number, order: 0 | 1): number {
  const q = (x * x) / 4;
  // J0 = Σ (−q)^k / (k!)²;  J1 = (x/2) Σ (−q)^k / (k! (k+1)!)
  let term = order === 0 ? 1 : x / 2;
  let sum = term;
  for (let k = 1; k < 200; k++) {
    term *= -q / (k * (k + order));
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.max(1, Math.abs(sum))) break;
  }
  return sum;
}

function asymptotic(x: number, order: 0 | 1): number {
  // J_ν(x) ≈ sqrt(2/(πx)) (P cos χ − Q sin χ), χ = x − (ν/2 + 1/4)π,
  // c_k = c_{k−1} (μ − (2k−1)²) / (8 k x), μ = 4ν², P = Σ (−1)^j c_{2j}, Q = Σ (−1)^j c_{2j+1}.
  const mu = 4 * order * order;
  let c = 1;
  let p = 1;
  let q = 0;
  let prev = Infinity;
  for (let k = 1; k < 100; k++) {
    const next = (c * (mu - (2 * k - 1) * (2 * k - 1))) / (8 * k * x);
    if (Math.abs(next) >= prev) break; // the series is asymptotic: stop at the smallest term
    c = next;
    prev = Math.abs(c);
    const j = k >> 1;
    const sign = j % 2 === 0 ? 1 : -1;
    if (k % 2 === 0) p += sign * c;
    else q += sign * c;
    if (prev < 1e-17) break;
  }
  const chi = x - (order / 2 + 0.25) * Math.PI;
  return Math.sqrt(2 / (Math.PI * x)) * (p * Math.cos(chi) - q * Math.sin(chi));
}

/** J0(x), Bessel function of the first kind of order 0 (even in x). Absolute error ≈ 1e-12. */
export function besselJ0(x: number): number {
  const ax = Math.abs(x);
  return ax < SWITCH ? series(ax, 0) : asymptotic(ax, 0);
}

/** J1(x), Bessel function of the first kind of order 1 (odd in x). Absolute error ≈ 1e-12. */
export function besselJ1(x: number): number {
  const ax = Math.abs(x);
  const v = ax < SWITCH ? series(ax, 1) : asymptotic(ax, 1);
  return x < 0 ? -v : v;
}
