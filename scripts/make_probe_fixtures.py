#!/usr/bin/python3
"""Generate the scikit-learn reference fixtures of the linear probe under test/fixtures/probe/.

Run with the Debian interpreter that has scikit-learn 1.2 (apt-get install python3-sklearn):

    /usr/bin/python3 scripts/make_probe_fixtures.py            # writes test/fixtures/probe/
    /usr/bin/python3 scripts/make_probe_fixtures.py OUTDIR     # writes somewhere else

Everything is seeded; a re-run reproduces every file. For each synthetic data set (float32
features, integer labels) it stores:

  <name>.{train,test}_{features,labels}.npy   the data
  manifest.json["datasets"][name]["fits"]     LogisticRegression(C, multi_class='multinomial',
        solver='lbfgs', max_iter=1000) at several fixed C: its coefficients and intercepts, its
        iterations, train/test accuracy, and the objective at its solution,
            loss = sum_i CE_i + ||W||^2 / (2C)        (lambda = 1/C)
        (scikit-learn 1.2 minimises exactly this; sklearn_scaled_loss = C * loss is the same
        objective written C * sum CE + ||W||^2 / 2), plus optimum_loss: the same objective
        minimised by SciPy's L-BFGS-B to gtol 1e-10 as a tighter reference
  manifest.json["datasets"][name]["sweep"]    CLIP's lambda sweep done with scikit-learn on the
        seeded stratified split the TypeScript code makes (mulberry32 twin below): the validation
        positions, every (lambda, val accuracy, val loss) in fitting order, the chosen lambda,
        and the test accuracy after the refit on train + validation

The sweep follows src/probe/sweep.ts: lambda = 10^(u/8) for grid units u in [-48, 48]; coarse
grid u = 48, 32, ..., -48 (each fit warm-started from the previous), then steps of 8, 4, 2, 1
units on both sides of the best (warm-started from the best); best = highest val accuracy, then
lowest val mean cross-entropy, then largest lambda; refit on train+val warm-started from the best.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.optimize
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "probe")

M32 = 0xFFFFFFFF


def mulberry32(seed: int):
    """Twin of src/probe/split.ts mulberry32: uniform floats in [0, 1)."""
    state = seed & M32

    def imul(a: int, b: int) -> int:
        return (a * b) & M32

    def next_float() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & M32
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    return next_float


def stratified_split(y: np.ndarray, classes: int, fraction: float, seed: int):
    """Twin of src/probe/split.ts stratifiedSplit (y: class indices)."""
    rand = mulberry32(seed)
    train, val = [], []
    for c in range(classes):
        members = [i for i in range(len(y)) if y[i] == c]
        for i in range(len(members) - 1, 0, -1):
            j = int(np.floor(rand() * (i + 1)))
            members[i], members[j] = members[j], members[i]
        n_val = min(int(np.floor(fraction * len(members) + 0.5)), len(members) - 1)  # JS Math.round
        val += members[:n_val]
        train += members[n_val:]
    return np.array(sorted(train), dtype=np.int64), np.array(sorted(val), dtype=np.int64)


def objective(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float):
    """sum_i CE + lam/2 ||W||^2 and its gradient; W [K, D], b [K], y class indices."""
    Z = X @ W.T + b
    Z -= Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z).sum(axis=1))
    loss = float(np.sum(lse - Z[np.arange(len(y)), y]) + 0.5 * lam * np.sum(W * W))
    P = np.exp(Z - lse[:, None])
    P[np.arange(len(y)), y] -= 1
    return loss, P.T @ X + lam * W, P.sum(axis=0)


def tight_optimum(X, y, K, lam, W0, b0):
    D = X.shape[1]

    def f(theta):
        W = theta[: K * D].reshape(K, D)
        b = theta[K * D:]
        loss, gW, gb = objective(W, b, X, y, lam)
        return loss, np.concatenate([gW.ravel(), gb])

    res = scipy.optimize.minimize(f, np.concatenate([W0.ravel(), b0]), jac=True, method="L-BFGS-B",
                                  options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 20000, "maxcor": 30})
    return float(res.fun)


def fit(X, y, C, warm=None):
    clf = LogisticRegression(C=C, multi_class="multinomial", solver="lbfgs", max_iter=1000,
                             warm_start=warm is not None)
    if warm is not None:
        clf.coef_ = warm[0].copy()
        clf.intercept_ = warm[1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf


def make_dataset(seed, K, D, n_train, n_test, spread, noise_scales, offset):
    rng = np.random.RandomState(seed)
    centers = rng.normal(0.0, spread, (K, D))
    scales = rng.uniform(*noise_scales, D)  # per-feature noise, like unequal feature scales

    def sample(n):
        y = np.arange(n) % K
        rng.shuffle(y)
        X = centers[y] + rng.normal(0.0, 1.0, (n, D)) * scales + offset
        return X.astype(np.float32), y

    return sample(n_train), sample(n_test)


DATASETS = [
    # name, seed, classes, dim, train, test, centre spread, noise scale range, offset, label values,
    # label dtype, fixed C values, sweep?
    dict(name="blobs10", seed=1, K=10, D=64, n_train=600, n_test=300, spread=0.45, noise=(0.8, 1.6),
         offset=0.5, label_values=None, label_dtype=np.int64, Cs=[0.001, 0.1, 10.0], sweep=True),
    dict(name="three", seed=2, K=3, D=32, n_train=300, n_test=150, spread=0.35, noise=(0.7, 1.3),
         offset=-0.2, label_values=[2, 5, 7], label_dtype=np.int32, Cs=[0.01, 1.0, 100.0], sweep=True),
    # few samples in many dimensions: train becomes separable as C grows and test accuracy falls
    dict(name="nearsep", seed=3, K=4, D=48, n_train=120, n_test=120, spread=0.15, noise=(0.3, 0.6),
         offset=1.0, label_values=None, label_dtype=np.int64, Cs=[0.01, 1.0, 30.0, 1000.0], sweep=True),
]


def accuracy(clf, X, y_labels):
    return float(np.mean(clf.predict(X) == y_labels))


def run_sweep(Xtr, ytr_idx, K, seed=0, fraction=0.2):
    """CLIP's sweep with scikit-learn, mirroring src/probe/sweep.ts. y as class indices."""
    tr, va = stratified_split(ytr_idx, K, fraction, seed)
    Xf, yf, Xv, yv = Xtr[tr], ytr_idx[tr], Xtr[va], ytr_idx[va]
    points = {}
    order = []

    def fit_at(u, warm):
        lam = float(f"1e{u // 8}") if u % 8 == 0 else 10.0 ** (u / 8)
        clf = fit(Xf.astype(np.float64), yf, 1.0 / lam, warm)
        proba = clf.predict_proba(Xv.astype(np.float64))
        logits = Xv.astype(np.float64) @ clf.coef_.T + clf.intercept_
        pred = np.argmax(logits, axis=1)
        acc = float(np.mean(pred == yv))
        vloss = float(np.mean(-np.log(proba[np.arange(len(yv)), yv])))
        p = dict(unit=u, log10_lambda=u / 8, **{"lambda": lam}, val_accuracy=acc, val_loss=vloss,
                 iterations=int(clf.n_iter_[0]))
        points[u] = p
        order.append(p)
        return p, (clf.coef_.copy(), clf.intercept_.copy())

    def better(a, b):
        if a["val_accuracy"] != b["val_accuracy"]:
            return a if a["val_accuracy"] > b["val_accuracy"] else b
        if a["val_loss"] != b["val_loss"]:
            return a if a["val_loss"] < b["val_loss"] else b
        return a if a["lambda"] >= b["lambda"] else b

    best = None
    prev = None
    for u in range(48, -49, -16):
        p, model = fit_at(u, prev)
        prev = model
        if best is None or better(best[0], p) is not best[0]:
            best = (p, model)
    step = 8
    while step >= 1:
        centre = best
        for u in (centre[0]["unit"] - step, centre[0]["unit"] + step):
            if u < -48 or u > 48 or u in points:
                continue
            p, model = fit_at(u, centre[1])
            if better(best[0], p) is not best[0]:
                best = (p, model)
        step //= 2
    return va, order, best


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    manifest = {
        "generator": "scripts/make_probe_fixtures.py",
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "objective": "loss = sum_i CE_i + ||W||^2 / (2C), lambda = 1/C; sklearn_scaled_loss = C * loss",
        "datasets": {},
    }
    for spec in DATASETS:
        name, K = spec["name"], spec["K"]
        (Xtr, ytr), (Xte, yte) = make_dataset(spec["seed"], K, spec["D"], spec["n_train"], spec["n_test"],
                                              spec["spread"], spec["noise"], spec["offset"])
        values = np.array(spec["label_values"] if spec["label_values"] else list(range(K)))
        ltr = values[ytr].astype(spec["label_dtype"])
        lte = values[yte].astype(spec["label_dtype"])
        files = {}
        for role, arr in [("train_features", Xtr), ("train_labels", ltr), ("test_features", Xte), ("test_labels", lte)]:
            fname = f"{name}.{role}.npy"
            np.save(os.path.join(out, fname), arr)
            files[role] = fname
        X64, Xte64 = Xtr.astype(np.float64), Xte.astype(np.float64)
        fits = []
        for C in spec["Cs"]:
            clf = fit(X64, ltr, C)
            W, b = clf.coef_, clf.intercept_
            loss, gW, gb = objective(W, b, X64, ytr, 1.0 / C)
            fits.append({
                "C": C,
                "lambda": 1.0 / C,
                "loss": loss,
                "sklearn_scaled_loss": C * loss,
                "optimum_loss": tight_optimum(X64, ytr, K, 1.0 / C, W, b),
                "grad_max_abs": float(max(np.abs(gW).max(), np.abs(gb).max())),
                "iterations": int(clf.n_iter_[0]),
                "train_accuracy": accuracy(clf, X64, ltr),
                "test_accuracy": accuracy(clf, Xte64, lte),
                "coef": W.tolist(),
                "intercept": b.tolist(),
            })
        entry = {
            "classes": K, "dim": spec["D"], "train_samples": len(ytr), "test_samples": len(yte),
            "label_values": values.tolist(), "label_dtype": np.dtype(spec["label_dtype"]).name,
            "files": files, "fits": fits,
        }
        if spec["sweep"]:
            va, order, best = run_sweep(Xtr, ytr, K)
            final = fit(X64, ytr, 1.0 / best[0]["lambda"], best[1])
            entry["sweep"] = {
                "val_split": 0.2, "seed": 0,
                "val_positions": va.tolist(),
                "points": order,
                "chosen_lambda": best[0]["lambda"],
                "best_val_accuracy": best[0]["val_accuracy"],
                "test_accuracy": float(np.mean(final.predict(Xte64) == yte)),
            }
        manifest["datasets"][name] = entry
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
