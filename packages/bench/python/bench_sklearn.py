"""scikit-learn side of the gmmkit benchmark (run by packages/bench/src/run.ts).

Usage:
  python3 bench_sklearn.py --probe          print versions / BLAS as JSON
  python3 bench_sklearn.py CONFIG.json      run the tasks of CONFIG, print JSON results

Every task names a raw little-endian float64 file of n*d values (row-major)
written by the JS harness, so scikit-learn sees exactly the rows gmmkit sees.

Task kinds:
  per-iter  one EM iteration (E-step + M-step, as in BaseMixture.fit_predict)
            timed directly, from fixed initial parameters: fit() runs the
            first iteration, then `iters` - 1 more are timed one by one, the
            first of those skipped (warm-up); median, `repeats` runs.
            lowerBound: the mean log-likelihood of the last E-step, which is
            lower_bound_ after `iters` iterations of fit(tol=0).
  sweep     for each covariance type and k: GaussianMixture(k, type,
            n_init=1, random_state=seed).fit(X) and .bic(X) (default tol,
            max_iter, kmeans init); total wall time; `repeats` runs.
  memory    fit(max_iter=iters, tol=0) from fixed init; peak RSS of this
            process (ru_maxrss) afterwards.
"""
import json
import resource
import statistics
import sys
import time
import warnings


def blas_info():
    try:
        from threadpoolctl import threadpool_info

        out = []
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                out.append(
                    {
                        "library": lib.get("internal_api"),
                        "version": lib.get("version"),
                        "kernel": lib.get("architecture", "unknown"),
                        "threads": lib.get("num_threads"),
                    }
                )
        return out or [{"library": "unknown", "kernel": "unknown"}]
    except Exception as exc:  # threadpoolctl missing or broken
        return [{"library": "unknown", "kernel": "unknown", "note": str(exc)}]


def env_info():
    import numpy
    import sklearn

    return {
        "python": sys.version.split()[0],
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "blas": blas_info(),
    }


def load(task):
    import numpy as np

    x = np.fromfile(task["dataPath"], dtype="<f8")
    return x.reshape(task["n"], task["d"])


def model(task, max_iter):
    import numpy as np
    from sklearn.mixture import GaussianMixture

    init = task["init"]
    return GaussianMixture(
        n_components=task["k"],
        covariance_type=task["covarianceType"],
        tol=0.0,
        max_iter=max_iter,
        n_init=1,
        # 'random' keeps the (overridden) default initialization cheap:
        # weights/means/precisions below replace what it computes.
        init_params="random",
        weights_init=np.asarray(init["weights"], dtype=float),
        means_init=np.asarray(init["means"], dtype=float),
        precisions_init=np.asarray(init["precisions"], dtype=float),
        random_state=0,
    )


def per_iter(task):
    x = load(task)
    iters = int(task["iters"])
    runs = []
    lower_bound = None
    for _ in range(int(task["repeats"])):
        gm = model(task, 1)
        # Iteration 1 through fit() sets every attribute from the fixed init.
        gm.fit(x)
        lower_bound = float(gm.lower_bound_)
        times = []
        for _ in range(max(2, iters - 1)):
            t0 = time.perf_counter()
            log_prob_norm, log_resp = gm._e_step(x)
            gm._m_step(x, log_resp)
            times.append((time.perf_counter() - t0) * 1000.0)
            lower_bound = float(log_prob_norm)
        runs.append(statistics.median(times[1:]))
    return {"msPerIter": statistics.median(runs), "runs": runs, "iters": max(3, iters), "lowerBound": lower_bound}


def sweep(task):
    from sklearn.mixture import GaussianMixture

    x = load(task)
    runs = []
    best = None
    for _ in range(int(task["repeats"])):
        t0 = time.perf_counter()
        scores = []
        for ct in task["covarianceTypes"]:
            for k in task["ks"]:
                gm = GaussianMixture(n_components=k, covariance_type=ct, n_init=1, random_state=task["seed"])
                gm.fit(x)
                scores.append({"covarianceType": ct, "k": k, "bic": float(gm.bic(x)), "nIter": int(gm.n_iter_)})
        runs.append((time.perf_counter() - t0) * 1000.0)
        best = min(scores, key=lambda s: s["bic"])
    return {"ms": statistics.median(runs), "runs": runs, "best": best, "cells": len(task["ks"]) * len(task["covarianceTypes"])}


def memory(task):
    x = load(task)
    gm = model(task, int(task["iters"]))
    t0 = time.perf_counter()
    gm.fit(x)
    ms = (time.perf_counter() - t0) * 1000.0
    # ru_maxrss is KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peakRssBytes": peak, "ms": ms, "nIter": int(gm.n_iter_)}


KINDS = {"per-iter": per_iter, "sweep": sweep, "memory": memory}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        try:
            print(json.dumps({"available": True, **env_info()}))
        except Exception as exc:
            print(json.dumps({"available": False, "reason": str(exc)}))
        return
    with open(sys.argv[1]) as fh:
        config = json.load(fh)
    warnings.filterwarnings("ignore")  # ConvergenceWarning for max_iter=1 / tol=0
    results = []
    for task in config["tasks"]:
        res = KINDS[task["kind"]](task)
        res["id"] = task["id"]
        results.append(res)
        print(json.dumps({"progress": task["id"]}), file=sys.stderr, flush=True)
    print(json.dumps({"env": env_info(), "results": results}))


if __name__ == "__main__":
    main()
