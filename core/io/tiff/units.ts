/** Micrometres per unit for the length units found in ImageJ descriptions, OME-XML and TIFF tags. */
const LENGTH_UM: Record<string, number> = {
  micron: 1, microns: 1, micrometer: 1, micrometers: 1, micrometre: 1, micrometres: 1, um: 1, '\u00b5m': 1, '\u03bcm': 1,
  nm: 1e-3, nanometer: 1e-3, nanometers: 1e-3, nanometre: 1e-3, nanometres: 1e-3,
  pm: 1e-6, '\u00c5': 1e-4, '\u212b': 1e-4, angstrom: 1e-4,
  mm: 1e3, millimeter: 1e3, millimeters: 1e3, millimetre: 1e3, millimetres: 1e3,
  cm: 1e4, centimeter: 1e4, centimeters: 1e4, centimetre: 1e4, centimetres: 1e4,
  m: 1e6, meter: 1e6, meters: 1e6, metre: 1e6, metres: 1e6,
  inch: 25400, inches: 25400, in: 25400,
};

/** Seconds per unit for time units (ImageJ `tunit=`, OME `TimeIncrementUnit`). */
const TIME_S: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  ms: 1e-3, msec: 1e-3, millisecond: 1e-3, milliseconds: 1e-3,
  us: 1e-6, '\u00b5s': 1e-6, '\u03bcs': 1e-6, usec: 1e-6, microsecond: 1e-6, microseconds: 1e-6,
  ns: 1e-9, nanosecond: 1e-9, nanoseconds: 1e-9,
  min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
};

/** Micrometres per `unit`, or undefined for "pixel", an empty or an unknown unit (uncalibrated). */
export function lengthUnitToUm(unit: string | undefined): number | undefined {
  if (unit === undefined) return undefined;
  const u = unit.trim();
  return LENGTH_UM[u] ?? LENGTH_UM[u.toLowerCase()];
}

/** Seconds per `unit`, or undefined when unknown. */
export function timeUnitToS(unit: string | undefined): number | undefined {
  if (unit === undefined) return undefined;
  const u = unit.trim();
  return TIME_S[u] ?? TIME_S[u.toLowerCase()];
}

/** A positive finite number, else undefined. */
export function positive(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
}
