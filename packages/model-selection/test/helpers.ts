import { readFileSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);

/** A numeric CSV from data/ (quoted header, RFC 4180), keeping the named columns. */
export function readCsv(name: string, columns: readonly string[]): number[][] {
  const lines = readFileSync(new URL(`data/${name}`, root), 'utf8')
    .trim()
    .split(/\r?\n/);
  const header = lines[0]!.split(',').map((h) => h.replace(/^"|"$/g, ''));
  const idx = columns.map((c) => {
    const i = header.indexOf(c);
    if (i < 0) throw new Error(`no column ${c} in ${name}`);
    return i;
  });
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return idx.map((i) => Number(cells[i]));
  });
}

export const iris = (): number[][] =>
  readCsv('iris.csv', ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width']);
export const faithful = (): number[][] => readCsv('faithful.csv', ['eruptions', 'waiting']);

export interface SklearnRow {
  covarianceType: string;
  k: number;
  score: number;
  nParameters: number;
  bic: number;
  aic: number;
  entropy: number;
  icl: number;
  converged: boolean;
}
export interface SklearnTable {
  dataset: string;
  n: number;
  d: number;
  ks: number[];
  rows: SklearnRow[];
  best: Record<
    'bic' | 'aic' | 'icl',
    { perCovarianceType: Record<string, number>; overall: { covarianceType: string; k: number } }
  >;
}

/** scikit-learn 1.2.1 reference tables (fixtures/generate.py): n_init=10, random_state=0. */
export function sklearnTable(dataset: string): SklearnTable {
  const all = JSON.parse(readFileSync(new URL('fixtures/sklearn/model-selection.json', root), 'utf8')) as {
    tables: SklearnTable[];
  };
  const t = all.tables.find((x) => x.dataset === dataset);
  if (!t) throw new Error(`no sklearn table for ${dataset}`);
  return t;
}

/** The rows of a synthetic fixture dataset (blobs2d, mix5d). */
export function fixtureData(dataset: string): { X: number[][]; k: number } {
  const f = JSON.parse(readFileSync(new URL(`fixtures/sklearn/${dataset}.json`, root), 'utf8')) as {
    X: number[][];
    k: number;
  };
  return { X: f.X, k: f.k };
}
