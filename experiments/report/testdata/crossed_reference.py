#!/usr/bin/env python3
"""Reference values for CrossedT in experiments/report/paired.go.

Independent of the Go code: the two-way (seeds x prompts) standard error is
computed from a statsmodels-free numpy implementation of the same
definitions, the Welch-Satterthwaite degrees of freedom by their textbook
formula, and the p-value and interval from scipy.stats.t.

    /usr/bin/python3 experiments/report/testdata/crossed_reference.py [OUT]

writes experiments/report/testdata/crossed_reference.json (or OUT).
"""

import json
import os
import sys

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))


def crossed(a, b):
    d = np.asarray(a, float) - np.asarray(b, float)
    S, N = d.shape
    seed_means = d.mean(axis=1)
    prompt_means = d.mean(axis=0)
    diff = d.mean()
    v_seed = seed_means.var(ddof=1) / S if S > 1 else 0.0
    v_prompt = prompt_means.var(ddof=1) / N
    se2 = v_seed + v_prompt
    if se2 == 0:
        return dict(diff=diff, se=0.0, df=None, p=1.0 if abs(diff) < 1e-9 else 0.0, lo=diff, hi=diff)
    terms = [(v_prompt, N - 1)]
    if S > 1:
        terms.append((v_seed, S - 1))
    den = sum(v * v / k for v, k in terms if k > 0)
    df = se2 * se2 / den
    se = np.sqrt(se2)
    t = diff / se
    p = 2 * stats.t.sf(abs(t), df)
    q = stats.t.ppf(0.975, df)
    return dict(diff=diff, se=se, df=df, p=p, lo=diff - q * se, hi=diff + q * se)


def main():
    rng = np.random.default_rng(20261207)
    cases = []
    # Binary outcomes with a seed effect, 5 seeds x 40 prompts.
    base = rng.random(40)
    sa = rng.normal(0, 0.15, 5)
    sb = rng.normal(0, 0.15, 5)
    a = (rng.random((5, 40)) < np.clip(base + sa[:, None] + 0.1, 0, 1)).astype(float)
    b = (rng.random((5, 40)) < np.clip(base + sb[:, None], 0, 1)).astype(float)
    cases.append(("binary 5x40 with seed effects", a, b))
    # Continuous judge-like rewards, 3 seeds x 25 prompts.
    a = rng.choice([-1.0, 0.0, 1.0], size=(3, 25), p=[0.3, 0.2, 0.5])
    b = rng.choice([-1.0, 0.0, 1.0], size=(3, 25), p=[0.4, 0.2, 0.4])
    cases.append(("ternary 3x25", a, b))
    # One seed: only the prompt term.
    a = rng.normal(0.2, 1, (1, 30))
    b = rng.normal(0.0, 1, (1, 30))
    cases.append(("one seed 1x30", a, b))
    # Seeds dominate: 10 seeds x 8 prompts.
    a = rng.normal(0, 0.05, (10, 8)) + rng.normal(0, 1, (10, 1))
    b = rng.normal(0, 0.05, (10, 8)) + rng.normal(0, 1, (10, 1))
    cases.append(("seed-dominated 10x8", a, b))
    # Identical arms: no variance.
    a = np.ones((2, 5))
    cases.append(("identical", a, a.copy()))
    out = []
    for name, a, b in cases:
        r = crossed(a, b)
        out.append(dict(name=name, a=a.tolist(), b=b.tolist(),
                        **{k: (None if v is None else float(v)) for k, v in r.items()}))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "crossed_reference.json")
    with open(path, "w") as f:
        json.dump(dict(cases=out), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
