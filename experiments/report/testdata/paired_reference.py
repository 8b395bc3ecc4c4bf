#!/usr/bin/env python3
"""Reference values for experiments/report/paired.go and power.go.

Independent of the Go code: McNemar p-values come from scipy.stats.binomtest
and are cross-checked against exact rational arithmetic (Python integers);
minimum detectable effects from scipy.stats.t / scipy.stats.norm quantiles
(and, for the paired-proportions case, a root finder on Connor's equation
rather than the closed form used in Go); Holm adjustments from a hand-written
numpy implementation checked against a brute-force definition; the
prompt-level bootstrap from numpy on a fixed synthetic dataset.

Run from the repository root (needs numpy and scipy; /usr/bin/python3 has
them):

    /usr/bin/python3 experiments/report/testdata/paired_reference.py

It rewrites experiments/report/testdata/paired_reference.json. The output
is deterministic (fixed seeds); NaN is written as null.
"""

import json
import math
import os
from fractions import Fraction

import numpy as np
import scipy
from scipy import optimize, stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "paired_reference.json")


def nan_to_none(x):
    if isinstance(x, (list, tuple)):
        return [nan_to_none(v) for v in x]
    x = float(x)
    return None if math.isnan(x) else x


# ---------------------------------------------------------------- McNemar

def mcnemar_exact(b, c):
    """min(1, 2 P[X <= min(b,c)]), X ~ Bin(b+c, 1/2), in exact rationals."""
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    s, coef = 0, 1
    for i in range(k + 1):
        s += coef
        coef = coef * (n - i) // (i + 1)
    return float(min(Fraction(1), Fraction(2 * s, 2 ** n)))


def mcnemar_scipy(b, c):
    if b + c == 0:
        return 1.0
    with np.errstate(divide="ignore", under="ignore"):  # pmf underflow at n > 1074
        return float(stats.binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)


MCNEMAR_CASES = [
    (0, 0), (1, 0), (0, 1), (1, 1), (2, 1), (0, 5), (5, 0), (3, 3), (1, 6),
    (12, 3), (3, 12), (10, 10), (10, 11), (7, 20), (0, 20), (40, 60),
    (100, 130), (130, 100), (250, 300), (1000, 1100), (1000, 1001),
    (2000, 2200), (10000, 10200), (10000, 10400), (20000, 19500),
    (49000, 51000), (49800, 50200), (50000, 50000), (49999, 50001),
    (49900, 50100), (48000, 52000), (45000, 55000), (0, 1000), (0, 1074),
    (0, 1075), (40000, 60000), (30, 99970),
]


def mcnemar_table():
    rows = []
    for b, c in MCNEMAR_CASES:
        exact = mcnemar_exact(b, c)
        sp = mcnemar_scipy(b, c)
        # scipy and exact arithmetic must agree before we trust either.
        if exact > 1e-300:
            assert abs(sp - exact) <= 1e-12 * exact, (b, c, sp, exact)
        else:
            assert sp <= 1e-290, (b, c, sp, exact)
        rows.append({"b": b, "c": c, "p": exact, "p_scipy": sp})
    return rows


# ---------------------------------------------------------------- MDE

MDE_T_CASES = [
    # sd, n, alpha, power
    (1.0, 2, 0.05, 0.8), (1.0, 3, 0.05, 0.8), (1.0, 5, 0.05, 0.8),
    (2.5, 10, 0.05, 0.8), (0.3, 30, 0.05, 0.9), (0.3, 30, 0.01, 0.8),
    (4.0, 100, 0.05, 0.8), (1.0, 1000, 0.05, 0.95), (1.0, 8, 0.10, 0.5),
    (0.0, 10, 0.05, 0.8), (1.0, 20, 0.05, 0.3),
]

MDE_SE_CASES = [
    # se, alpha, power
    (1.0, 0.05, 0.8), (0.02, 0.05, 0.8), (0.02, 0.05, 0.9),
    (0.5, 0.01, 0.8), (0.5, 0.10, 0.5), (0.0, 0.05, 0.8), (3.0, 0.05, 0.3),
]

MDE_PROP_CASES = [
    # psi, n, alpha, power
    (0.2, 500, 0.05, 0.8), (0.2, 100, 0.05, 0.8), (0.1, 1000, 0.05, 0.9),
    (0.5, 50, 0.05, 0.8), (1.0, 20, 0.05, 0.8), (0.05, 2000, 0.01, 0.8),
    (0.3, 200, 0.10, 0.5), (0.3, 400, 0.05, 0.3),
    # infeasible: no |delta| <= psi reaches the power
    (0.1, 3, 0.05, 0.8), (0.05, 20, 0.05, 0.8), (0.5, 3, 0.05, 0.8),
]


def mde_t(sd, n, alpha, power):
    df = n - 1
    return (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * sd / math.sqrt(n)


def mde_se(se, alpha, power):
    return (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se


def mde_prop(psi, n, alpha, power):
    """Root of f(d) = d sqrt(n) - za sqrt(psi) - zb sqrt(psi - d^2) on [0, psi]."""
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)

    def f(d):
        return d * math.sqrt(n) - za * math.sqrt(psi) - zb * math.sqrt(max(psi - d * d, 0.0))

    if f(0.0) > 0 or f(psi) < 0:
        return float("nan")
    d = optimize.brentq(f, 0.0, psi, xtol=1e-15, rtol=1e-14, maxiter=500)
    # Round trip through Connor's sample-size formula.
    n_back = (za * math.sqrt(psi) + zb * math.sqrt(psi - d * d)) ** 2 / d ** 2
    assert abs(n_back - n) <= 1e-8 * n, (psi, n, alpha, power, n_back)
    return d


# ---------------------------------------------------------------- Holm

def holm(ps):
    p = np.asarray(ps, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    mult = m - np.arange(m)
    adj = np.minimum(1.0, np.maximum.accumulate(mult * p[order]))
    out[order] = adj
    return out


def holm_brute(ps):
    """adj_i = min(1, max over j with p_j <= p_i of (m - rank_j) p_j)."""
    p = [x for x in ps if not math.isnan(x)]
    m = len(p)
    s = sorted(p)
    out = []
    for x in ps:
        if math.isnan(x):
            out.append(float("nan"))
            continue
        best = 0.0
        for r, y in enumerate(s):
            if y <= x:
                best = max(best, (m - r) * y)
        out.append(min(1.0, best))
    return out


def holm_cases():
    nan = float("nan")
    rng = np.random.default_rng(7)
    cases = [
        [0.01, 0.04, 0.03],
        [0.01, 0.02, 0.03, 0.04],
        [0.04, 0.01, 0.03, 0.02],
        [0.5],
        [0.0],
        [],
        [nan],
        [nan, nan],
        [0.01, nan, 0.04, 0.03],
        [nan, 0.2, nan, 0.01],
        [0.02, 0.02, 0.02],
        [0.03, 0.01, 0.03, 0.01, 0.2],
        [0.3, 0.4, 0.5],
        [1.0, 1.0],
        [0.001, 0.9, 0.011, 0.04, 0.012, 0.3],
        list(rng.uniform(0, 0.2, size=20)),
        list(rng.beta(0.3, 2.0, size=12)),
    ]
    rows = []
    for ps in cases:
        a = holm(ps)
        bb = holm_brute(ps)
        for x, y in zip(a, bb):
            assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-15, (ps, a, bb)
        rows.append({"p": nan_to_none(ps), "adj": nan_to_none(list(a))})
    return rows


# ---------------------------------------------------------------- bootstrap

def bootstrap_case():
    rng = np.random.default_rng(20240611)
    seeds, n = 3, 200
    q = rng.beta(2.0, 2.0, size=n)  # per-prompt difficulty shared by A and B
    a = (rng.uniform(size=(seeds, n)) < np.clip(q + 0.08, 0, 1)).astype(int)
    b = (rng.uniform(size=(seeds, n)) < q).astype(int)
    d = (a - b).astype(float)
    diff = d.mean()
    dp = d.mean(axis=0)  # per-prompt mean over seeds

    B = 20000
    idx = rng.integers(0, n, size=(B, n))
    # Same prompt draw for every seed: mean over seeds and drawn prompts.
    reps = d[:, idx].mean(axis=(0, 2))
    assert np.allclose(reps, dp[idx].mean(axis=1), rtol=0, atol=1e-12)
    se = reps.std(ddof=1)
    lo, hi = np.percentile(reps, [2.5, 97.5])  # linear = type 7
    tol = 1e-9 * (1 + abs(diff))
    p = (1 + np.sum(np.abs(reps - diff) >= abs(diff) - tol)) / (B + 1)
    se_plugin = dp.std(ddof=0) / math.sqrt(n)  # exact bootstrap SE as B -> inf
    return {
        "a": a.tolist(),
        "b": b.tolist(),
        "resamples": B,
        "diff": float(diff),
        "se": float(se),
        "se_plugin": float(se_plugin),
        "lo": float(lo),
        "hi": float(hi),
        "p": float(p),
    }


def main():
    ref = {
        "generator": "experiments/report/testdata/paired_reference.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "mcnemar": mcnemar_table(),
        "mde_paired_t": [
            {"sd": sd, "n": n, "alpha": al, "power": pw, "mde": nan_to_none(mde_t(sd, n, al, pw))}
            for sd, n, al, pw in MDE_T_CASES
        ],
        "mde_from_se": [
            {"se": se, "alpha": al, "power": pw, "mde": nan_to_none(mde_se(se, al, pw))}
            for se, al, pw in MDE_SE_CASES
        ],
        "mde_proportions_paired": [
            {"psi": psi, "n": n, "alpha": al, "power": pw, "mde": nan_to_none(mde_prop(psi, n, al, pw))}
            for psi, n, al, pw in MDE_PROP_CASES
        ],
        "holm": holm_cases(),
        "bootstrap": bootstrap_case(),
    }
    with open(OUT, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
