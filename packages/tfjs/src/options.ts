/**
 * Checks on GaussianMixture's options shared by the library and the CLI: the
 * option names (a typo is an error that suggests the closest name), the rules
 * for the numeric options (one table, so `seed: -1` and `--seed -1` fail the
 * same way) and the shapes of the *Init arrays.
 */
import { InvalidArgumentError } from '@gmmkit/core';

/** A numeric option's rule: an integer or any finite number, with bounds. */
export interface NumberRule {
  integer: boolean;
  min: number;
  /** `min` itself is not allowed (> min rather than >= min). */
  exclusiveMin?: boolean;
  max?: number;
}

/**
 * The numeric options of GaussianMixture and BayesianGaussianMixture and their
 * rules. Seeds are 32-bit (the RNG reduces a seed modulo 2^32, so a larger one
 * would silently alias another), as numpy's random_state. degreesOfFreedomPrior
 * must also be > d - 1, checked once the data is known.
 */
export const NUMBER_OPTIONS = {
  nComponents: { integer: true, min: 1 },
  tol: { integer: false, min: 0 },
  regCovar: { integer: false, min: 0 },
  maxIter: { integer: true, min: 0 },
  nInit: { integer: true, min: 1 },
  reseeds: { integer: true, min: 0 },
  seed: { integer: true, min: 0, max: 2 ** 32 - 1 },
  chunkSize: { integer: true, min: 1 },
  weightConcentrationPrior: { integer: false, min: 0, exclusiveMin: true },
  meanPrecisionPrior: { integer: false, min: 0, exclusiveMin: true },
  degreesOfFreedomPrior: { integer: false, min: 0, exclusiveMin: true },
} as const satisfies Record<string, NumberRule>;

export type NumberOption = keyof typeof NUMBER_OPTIONS;

/** Whether `value` satisfies `rule`. */
export function meetsRule(rule: NumberRule, value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.exclusiveMin === true ? value > rule.min : value >= rule.min) &&
    (rule.max === undefined || value <= rule.max)
  );
}

/** The rule in words, for "<name> must be ...": "an integer >= 0", "an integer in [0, 4294967295]". */
export function ruleText(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a finite number';
  if (rule.max !== undefined) return `${kind} in ${rule.exclusiveMin === true ? '(' : '['}${rule.min}, ${rule.max}]`;
  return `${kind} ${rule.exclusiveMin === true ? '>' : '>='} ${rule.min}`;
}

/** The option's value under its rule, or `fallback` when undefined; InvalidArgumentError otherwise. */
export function numberOption(name: NumberOption, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const rule = NUMBER_OPTIONS[name];
  if (!meetsRule(rule, value)) {
    throw new InvalidArgumentError(`${name} must be ${ruleText(rule)}, got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`);
  }
  return value;
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let row = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const next = [i];
    for (let j = 1; j <= t.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[t.length]!;
}

/** The known name closest to `name`, when it is close enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Throws on the first own key of `options` that is not in `known`, suggesting the closest known name. */
export function rejectUnknownOptions(options: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    throw new InvalidArgumentError(
      near === undefined
        ? `unknown ${what} option '${key}' (options: ${known.join(', ')})`
        : `unknown ${what} option '${key}': did you mean '${near}'?`,
    );
  }
}

/**
 * The shape of a nested number array ([2, 3] for two rows of three numbers),
 * checking it is rectangular and every leaf is a finite number.
 */
export function arrayShape(name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${name} must be an array, got ${JSON.stringify(value) ?? String(value)}`);
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const walk = (v: unknown, depth: number, where: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InvalidArgumentError(`${name}${where} must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
      }
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new InvalidArgumentError(`${name} is not rectangular: ${name}${where} is not an array of ${shape[depth]} entries`);
    }
    v.forEach((e, i) => walk(e, depth + 1, `${where}[${i}]`));
  };
  walk(value, 0, '');
  return shape;
}

/** Checks `value` is a nested number array of exactly `expected` shape and returns it flattened. */
export function shapedArray(name: string, value: unknown, expected: readonly number[], hint: string): Float64Array {
  const shape = arrayShape(name, value);
  if (shape.length !== expected.length || shape.some((s, i) => s !== expected[i])) {
    throw new InvalidArgumentError(`${name} must have shape [${expected.join(', ')}] (${hint}), got shape [${shape.join(', ')}]`);
  }
  return Float64Array.from((value as unknown[]).flat(expected.length) as number[]);
}
