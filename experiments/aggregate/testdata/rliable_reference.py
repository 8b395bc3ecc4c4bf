#!/usr/bin/env python3
"""Reference values for the experiments/aggregate package.

An independent implementation with numpy and scipy of the aggregate
statistics of Agarwal et al., "Deep Reinforcement Learning at the Edge of
the Statistical Precipice" (NeurIPS 2021, arXiv:2108.13264), as their
rliable library defines them, and of the unbiased pass@k estimator of Chen
et al., "Evaluating Large Language Models Trained on Code" (2021,
arXiv:2107.03374). Nothing here is derived from the Go code's output.

Score matrices are [run][task]. Each statistic is computed on fixed
synthetic matrices, then over stratified bootstrap resamples whose indices
are drawn with numpy's own generator and stored, so the Go tests can replay
exactly the same resamples: indices[b][task][i] is the run used as run i of
task `task` in resample b. Intervals are numpy.percentile (default linear
method) of the resampled statistic at 100(1-c)/2 and 100(1+c)/2.

Where an independent second route exists the script asserts that both
agree: IQM against a sort-and-slice mean, P(X > Y) against the
Mann-Whitney U statistic of scipy, pass@k in Chen et al.'s numpy form
against exact rational arithmetic.

Run from the repository root (needs numpy and scipy; /usr/bin/python3 has
them):

    /usr/bin/python3 experiments/aggregate/testdata/rliable_reference.py [OUT]

It writes OUT, by default rliable_reference.json next to this script. The
output is deterministic (fixed seeds).
"""

import json
import math
import os
import sys
from fractions import Fraction

import numpy as np
import scipy
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "rliable_reference.json")

# Enough resamples to exercise the percentile interpolation, few enough to
# keep the JSON small.
RESAMPLES = 200


# ------------------------------------------------------------ statistics

def iqm(x):
    flat = np.asarray(x, dtype=float).ravel()
    v = float(stats.trim_mean(flat, proportiontocut=0.25, axis=None))
    s = np.sort(flat)
    cut = int(0.25 * s.size)
    assert abs(v - s[cut:s.size - cut].mean()) <= 1e-12 * (1 + abs(v)), (v, x)
    return v


def mean(x):
    return float(np.mean(x))


def median(x):
    return float(np.median(x))


def optimality_gap(x, gamma):
    # rliable's form: how far the (gamma-clipped) mean falls short of gamma.
    return float(gamma - np.mean(np.minimum(x, gamma)))


def prob_improvement(x, y):
    """P(X > Y): per task, the chance that a random run of x beats a random
    run of y (ties count one half), averaged over tasks."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    gt = x[:, None, :] > y[None, :, :]
    eq = x[:, None, :] == y[None, :, :]
    per_task = (gt + 0.5 * eq).mean(axis=(0, 1))
    for m in range(x.shape[1]):
        u = stats.mannwhitneyu(x[:, m], y[:, m], alternative="greater").statistic
        assert abs(per_task[m] - u / (x.shape[0] * y.shape[0])) <= 1e-12, (m, per_task, u)
    return float(per_task.mean())


def profile(x, taus):
    x = np.asarray(x, dtype=float)
    return [float(np.mean(x > t)) for t in taus]


# ------------------------------------------------------------ bootstrap

def draw_indices(rng, runs, tasks):
    return rng.integers(0, runs, size=(RESAMPLES, tasks, runs))


def resample(x, idx):
    """All resamples at once: out[b, i, m] = x[idx[b, m, i], m]."""
    x = np.asarray(x, dtype=float)
    return x[idx.transpose(0, 2, 1), np.arange(x.shape[1])]


def percentile_ci(reps, c):
    lo, hi = np.percentile(np.asarray(reps, dtype=float), [100 * (1 - c) / 2, 100 * (1 + c) / 2])
    return float(lo), float(hi)


def interval(point, reps, c):
    lo, hi = percentile_ci(reps, c)
    return {"point": point, "lo": lo, "hi": hi}


# ------------------------------------------------------------ cases

def matrices(rng):
    """Score matrices with ties, zeros and values above gamma = 1; entry
    counts 30, 27 and 7 so that int(0.25 n) trims 7, 6 and 1 entries."""
    tied = [
        [0.0, 0.5, 0.5, 1.0, 0.3, 0.0],
        [0.2, 0.5, 0.7, 1.2, 0.3, 0.0],
        [0.0, 0.4, 0.5, 0.9, 0.3, 0.1],
        [0.2, 0.6, 0.5, 1.0, 0.8, 0.0],
        [0.1, 0.5, 0.9, 1.1, 0.3, 0.0],
    ]
    continuous = rng.beta(2.0, 3.0, size=(9, 3)) * np.array([1.0, 1.3, 0.6])
    single = [[0.25], [0.75], [0.5], [0.0], [1.0], [0.5], [0.125]]
    taus = [round(0.1 * i, 10) for i in range(13)]
    return [
        ("tied_5x6", tied, 0.95, 1.0, taus),
        ("continuous_9x3", continuous.tolist(), 0.9, 1.0, taus),
        ("single_task_7x1", single, 0.95, 0.8, taus),
    ]


def pairs(rng):
    grid = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    x = grid[rng.integers(0, 5, size=(5, 4))]
    y = np.clip(grid[rng.integers(0, 5, size=(8, 4))] - 0.25 * (rng.uniform(size=(8, 4)) < 0.3), 0, 1)
    a = rng.normal(0.6, 0.1, size=(6, 3))
    b = rng.normal(0.5, 0.1, size=(3, 3))
    same = [[0.1, 0.2], [0.3, 0.2], [0.3, 0.0]]
    return [
        ("ties_5v8", x.tolist(), y.tolist(), 0.95),
        ("continuous_6v3", a.tolist(), b.tolist(), 0.9),
        ("identical_3v3", same, same, 0.95),
    ]


def matrix_case(rng, name, x, c, gamma, taus):
    xa = np.asarray(x, dtype=float)
    runs, tasks = xa.shape
    idx = draw_indices(rng, runs, tasks)
    r = resample(xa, idx)
    prof_point = profile(xa, taus)
    prof_reps = np.array([profile(rb, taus) for rb in r])
    prof_ci = [percentile_ci(prof_reps[:, j], c) for j in range(len(taus))]
    return {
        "name": name,
        "scores": x,
        "confidence": c,
        "gamma": gamma,
        "taus": taus,
        "indices": idx.tolist(),
        "iqm": interval(iqm(xa), [iqm(rb) for rb in r], c),
        "mean": interval(mean(xa), [mean(rb) for rb in r], c),
        "median": interval(median(xa), [median(rb) for rb in r], c),
        "optimality_gap": interval(optimality_gap(xa, gamma), [optimality_gap(rb, gamma) for rb in r], c),
        "profile": {
            "point": prof_point,
            "lo": [lo for lo, _ in prof_ci],
            "hi": [hi for _, hi in prof_ci],
        },
    }


def pair_case(rng, name, x, y, c):
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    # X and Y are resampled independently, each stratified by task.
    ix = draw_indices(rng, xa.shape[0], xa.shape[1])
    iy = draw_indices(rng, ya.shape[0], ya.shape[1])
    rx, ry = resample(xa, ix), resample(ya, iy)
    reps = [prob_improvement(a, b) for a, b in zip(rx, ry)]
    return {
        "name": name,
        "x": x,
        "y": y,
        "confidence": c,
        "indices_x": ix.tolist(),
        "indices_y": iy.tolist(),
        "prob_improvement": interval(prob_improvement(xa, ya), reps, c),
        "prob_improvement_yx": prob_improvement(ya, xa),
    }


# ------------------------------------------------------------ pass@k

def pass_at_k_numpy(n, c, k):
    """Chen et al. 2021, Figure 3."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_exact(n, c, k):
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


PASS_CASES = (
    [(1, 0, 1), (1, 1, 1), (5, 0, 1), (5, 5, 1), (5, 2, 1), (5, 2, 3), (5, 2, 4),
     (10, 3, 5), (10, 7, 5), (10, 5, 5), (100, 50, 50), (200, 13, 10), (200, 1, 100),
     (1000, 3, 1000), (1000, 0, 1000), (1000, 999, 1), (1000, 1, 999)]
    + [(64, c, k) for c in (0, 1, 5, 32, 60, 63, 64) for k in (1, 4, 16, 64)]
)


def pass_cases():
    rows = []
    for n, c, k in PASS_CASES:
        npv, ex = pass_at_k_numpy(n, c, k), pass_at_k_exact(n, c, k)
        assert abs(npv - float(ex)) <= 1e-12, (n, c, k, npv, ex)
        rows.append({"n": n, "c": c, "k": k, "numpy": npv, "exact": float(ex)})
    return rows


def mean_pass_cases(rng):
    rows = []
    for n, k in ((16, 1), (16, 4), (16, 16), (64, 8)):
        correct = rng.integers(0, n + 1, size=12).tolist()
        exact = sum((pass_at_k_exact(n, c, k) for c in correct), Fraction(0)) / len(correct)
        rows.append({"n": n, "k": k, "correct": correct, "exact": float(exact)})
    return rows


# ------------------------------------------------------------ output

def dumps(v, indent=0):
    """JSON with one line per list of numbers (and per resample of the index
    arrays), so the file stays small and diffs stay readable."""
    pad = " " * indent
    if isinstance(v, dict):
        items = [f'{pad} {json.dumps(k)}: {dumps(x, indent + 1).lstrip()}' for k, x in v.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and v and all(compact(x) for x in v) and depth(v) <= 2:
        return pad + json.dumps(v, separators=(",", ":"))
    if isinstance(v, list) and v:
        return pad + "[\n" + ",\n".join(dumps(x, indent + 1) for x in v) + "\n" + pad + "]"
    return pad + json.dumps(v)


def compact(x):
    return not isinstance(x, dict)


def depth(v):
    return 1 + max((depth(x) for x in v), default=0) if isinstance(v, list) else 0


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    rng = np.random.default_rng(2108_13264)
    ref = {
        "generator": "experiments/aggregate/testdata/rliable_reference.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "resamples": RESAMPLES,
        "matrices": [matrix_case(rng, *m) for m in matrices(rng)],
        "pairs": [pair_case(rng, *p) for p in pairs(rng)],
        "pass_at_k": pass_cases(),
        "mean_pass_at_k": mean_pass_cases(rng),
    }
    with open(out, "w") as f:
        f.write(dumps(ref))
        f.write("\n")


if __name__ == "__main__":
    main()
