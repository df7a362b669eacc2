import { describe, expect, it } from 'vitest';
import { besselJ0, besselJ1 } from './bessel.js';
import { gaussLegendre01 } from './quadrature.js';

// Reference values from SciPy 1.17 (python3 -c "from scipy.special import j0, j1; print(j0(x), j1(x))").
const REF: [number, number, number][] = [
  [0, 1.0, 0.0],
  [0.5, 0.938469807240813, 0.24226845767487387],
  [1, 0.7651976865579665, 0.44005058574493355],
  [2.404825557695773, -9.586882554916807e-17, 0.5191474972894666],
  [3.8317, -0.40275939569537517, 2.404559043086966e-6],
  [5, -0.1775967713143383, -0.3275791375914653],
  [8, 0.1716508071375539, 0.2346363468539146],
  [11.9, 0.02504944169958986, -0.22898324966192404],
  [12.9, 0.1988424371363311, -0.09124825224993953],
  [13, 0.2069261023770678, -0.07031805212177818],
  [13.1, 0.21288819752206045, -0.04885247333422397],
  [15, -0.014224472826780597, 0.20510403861352278],
  [20, 0.16702466434058322, 0.0668331241758502],
  [30, -0.08636798358104031, -0.11875106261662305],
  [50, 0.055812327669252086, -0.09751182812517509],
  [100, 0.01998585030422333, -0.0771453520141123],
  [150, -0.0007740903753941157, -0.06514516365772736],
  [400, -0.038825181530784195, -0.009222058428585565],
];

describe('besselJ0 / besselJ1', () => {
  it('match SciPy to 1e-11 on both sides of the series/asymptotic switch', () => {
    for (const [x, j0, j1] of REF) {
      expect(Math.abs(besselJ0(x) - j0)).toBeLessThan(1e-11);
      expect(Math.abs(besselJ1(x) - j1)).toBeLessThan(1e-11);
    }
  });
  it('have the right parity', () => {
    expect(besselJ0(-3.3)).toBe(besselJ0(3.3));
    expect(besselJ1(-3.3)).toBe(-besselJ1(3.3));
  });
});

describe('gaussLegendre01', () => {
  it('integrates polynomials of degree 2n − 1 exactly and oscillatory functions accurately', () => {
    const { nodes, weights } = gaussLegendre01(5);
    let s = 0;
    for (let i = 0; i < 5; i++) s += weights[i] * nodes[i] ** 9;
    expect(s).toBeCloseTo(1 / 10, 14);
    const r = gaussLegendre01(80);
    let c = 0;
    for (let i = 0; i < 80; i++) c += r.weights[i] * Math.cos(100 * r.nodes[i]);
    expect(Math.abs(c - Math.sin(100) / 100)).toBeLessThan(1e-13);
  });
});
