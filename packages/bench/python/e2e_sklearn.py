"""scikit-learn's side of `pnpm bench --only commands`: the same whole commands
as gmmkit's CLI, from CSV file to output file, with pandas.read_csv.

  e2e_sklearn.py fit     DATA.csv K FAMILY OUT.json
  e2e_sklearn.py sweep   DATA.csv KMAX FAMILIES OUT.json   (k = 1..KMAX x families, lowest BIC kept)
  e2e_sklearn.py predict MODEL.json DATA.csv OUT.csv       (labels of the rows)

Defaults are scikit-learn's (k-means init, n_init 1, tol 1e-3, reg_covar 1e-6,
max_iter 100), with random_state 0, as gmmkit's defaults are.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.mixture import GaussianMixture


def read(path):
    return pd.read_csv(path).to_numpy(dtype=np.float64)


def save(gm, path):
    with open(path, "w") as f:
        json.dump({"weights": gm.weights_.tolist(), "means": gm.means_.tolist(),
                   "covariances": np.asarray(gm.covariances_).tolist(),
                   "covarianceType": gm.covariance_type, "bic": None}, f)


def main(argv):
    cmd = argv[0]
    if cmd == "fit":
        X = read(argv[1])
        gm = GaussianMixture(int(argv[2]), covariance_type=argv[3], random_state=0).fit(X)
        save(gm, argv[4])
    elif cmd == "sweep":
        X = read(argv[1])
        best, best_bic = None, np.inf
        for family in argv[3].split(","):
            for k in range(1, int(argv[2]) + 1):
                gm = GaussianMixture(k, covariance_type=family, random_state=0).fit(X)
                bic = gm.bic(X)
                print(f"{family} k={k} bic={bic:.2f}", file=sys.stderr)
                if bic < best_bic:
                    best, best_bic = gm, bic
        save(best, argv[4])
    elif cmd == "predict":
        with open(argv[1]) as f:
            m = json.load(f)
        k = len(m["weights"])
        gm = GaussianMixture(k, covariance_type=m["covarianceType"])
        gm.weights_ = np.array(m["weights"])
        gm.means_ = np.array(m["means"])
        gm.covariances_ = np.array(m["covariances"])
        from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
        gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, gm.covariance_type)
        X = read(argv[2])
        pd.DataFrame({"label": gm.predict(X)}).to_csv(argv[3], index=False)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
