#!/usr/bin/env python3
"""Independent generator of the loss test vectors in vectors/.

Written from the formulas documented in vectors/README.md and in each
algorithm package's doc comment, NOT from the Go code: the losses are
evaluated with a tiny forward-mode automatic differentiation (sparse dual
numbers), so the expected gradients come from differentiating the formula,
not from the hand-derived gradients in Go. Standard library only. Rerun with:

    python3 algorithms/testdata/gen_vectors.py

Published or hand-computed check values are written as literal numbers (with
a tolerance matching their printed precision), and this script asserts that
its own computation agrees with them.
"""
import json
import math
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")
SOURCE = "algorithms/testdata/gen_vectors.py (Python stdlib, forward-mode autodiff)"


# ---------------------------------------------------------------- autodiff
class D:
    """A value with sparse partial derivatives {variable key: d value/d var}."""

    __slots__ = ("v", "d")

    def __init__(self, v, d=None):
        self.v = float(v)
        self.d = d or {}

    @staticmethod
    def lift(x):
        return x if isinstance(x, D) else D(x)

    def _comb(self, o, a, b, v):
        # result = v with derivative a*self.d + b*o.d
        d = {}
        for k, x in self.d.items():
            d[k] = d.get(k, 0.0) + a * x
        for k, x in o.d.items():
            d[k] = d.get(k, 0.0) + b * x
        return D(v, d)

    def __add__(self, o):
        o = D.lift(o)
        return self._comb(o, 1.0, 1.0, self.v + o.v)

    __radd__ = __add__

    def __sub__(self, o):
        o = D.lift(o)
        return self._comb(o, 1.0, -1.0, self.v - o.v)

    def __rsub__(self, o):
        return D.lift(o) - self

    def __mul__(self, o):
        o = D.lift(o)
        return self._comb(o, o.v, self.v, self.v * o.v)

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = D.lift(o)
        return self._comb(o, 1.0 / o.v, -self.v / (o.v * o.v), self.v / o.v)

    def __rtruediv__(self, o):
        return D.lift(o) / self

    def __neg__(self):
        return self * -1.0

    def unary(self, v, dv):
        return D(v, {k: dv * x for k, x in self.d.items()})


def var(key, v):
    return D(v, {key: 1.0})


def val(x):
    return x.v if isinstance(x, D) else float(x)


def exp(x):
    x = D.lift(x)
    e = math.exp(x.v)
    return x.unary(e, e)


def log(x):
    x = D.lift(x)
    return x.unary(math.log(x.v), 1.0 / x.v)


def square(x):
    return x * x


def log_sigmoid(x):
    # log σ(x) = −log(1 + e^{−x}); derivative 1 − σ(x)
    x = D.lift(x)
    s = 1.0 / (1.0 + math.exp(-x.v))
    return x.unary(-math.log1p(math.exp(-x.v)), 1.0 - s)


def dmin(a, b):
    return a if val(a) <= val(b) else b


def dmax(a, b):
    return a if val(a) >= val(b) else b


def clamp(x, lo, hi):
    # derivative 1 inside [lo, hi], 0 outside (torch.clamp)
    if val(x) < lo:
        return D(lo)
    if val(x) > hi:
        return D(hi)
    return D.lift(x)


def grad_of(loss, key_shape):
    """Nested lists of d loss/d var for keys built by key_shape."""
    return key_shape(lambda k: loss.d.get(k, 0.0))


def mean(xs):
    s = 0.0
    for x in xs:
        s = s + x
    return s / len(xs)


# ---------------------------------------------------------------- helpers
def rseqs(rng, n, lo_len, hi_len, lo=-4.0, hi=-0.05):
    return [[round(rng.uniform(lo, hi), 6) for _ in range(rng.randint(lo_len, hi_len))] for _ in range(n)]


def jitter(rng, seqs, amp):
    return [[round(x + rng.uniform(-amp, amp), 6) for x in s] for s in seqs]


def vars2(name, seqs):
    return [[var((name, i, t), x) for t, x in enumerate(s)] for i, s in enumerate(seqs)]


def shape2(name, seqs):
    return lambda f: [[f((name, i, t)) for t in range(len(s))] for i, s in enumerate(seqs)]


def dump(x, ind=0):
    """JSON with objects indented and flat number arrays on one line."""
    pad = " " * ind
    if isinstance(x, dict):
        if not x:
            return "{}"
        items = [pad + "  " + json.dumps(k) + ": " + dump(v, ind + 2) for k, v in x.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(x, list):
        if all(not isinstance(v, (dict, list)) for v in x):
            return json.dumps(x, ensure_ascii=False)
        return "[\n" + ",\n".join(pad + "  " + dump(v, ind + 2) for v in x) + "\n" + pad + "]"
    return json.dumps(x, ensure_ascii=False)


def write(fname, vectors):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, fname), "w") as f:
        f.write(dump(vectors if len(vectors) > 1 else vectors[0]))
        f.write("\n")


def vec(name, algorithm, params, inputs, expected, description="", tolerance=None):
    v = {"name": name, "description": description, "source": SOURCE,
         "algorithm": algorithm, "params": params, "inputs": inputs, "expected": expected}
    if tolerance:
        v["tolerance"] = tolerance
    return v


CHECK_TOL = {"abs": 1e-6, "rel": 0}


# ---------------------------------------------------------------- SFT
def sft(inputs, p):
    agg = p.get("aggregation", "seq_mean")
    L = vars2("logp", inputs["logp"])
    if agg == "seq_mean":
        loss = -mean([mean(s) for s in L])
    else:
        tot = 0.0
        n = 0
        for s in L:
            for x in s:
                tot = tot + x
                n += 1
        loss = -tot / n
    return {"loss": loss.v, "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"]))}}


def gen_sft():
    rng = random.Random(101)
    inputs = {"logp": rseqs(rng, 4, 1, 7)}
    out = []
    for agg in ["seq_mean", "token_mean"]:
        p = {"aggregation": agg}
        out.append(vec("sft_random_" + agg, "sft", p, inputs, sft(inputs, p),
                       "4 ragged answers; expected by autodiff of −mean log-likelihood"))
    write("sft_random.json", out)


# ---------------------------------------------------------------- DPO
def dpo(inputs, p):
    beta = p.get("beta", 0.1)
    kind = p.get("loss_type", "sigmoid")
    eps = p.get("label_smoothing", 0.0)
    pc = vars2("policy_chosen", inputs["policy_chosen"])
    pr = vars2("policy_rejected", inputs["policy_rejected"])
    losses = []
    for b in range(len(pc)):
        if kind == "ipo":
            hw = mean(pc[b]) - mean(inputs["ref_chosen"][b])
            hl = mean(pr[b]) - mean(inputs["ref_rejected"][b])
            losses.append(square((hw - hl) - 1.0 / (2 * beta)))
        else:
            hw = sum(pc[b], D(0)) - sum(inputs["ref_chosen"][b])
            hl = sum(pr[b], D(0)) - sum(inputs["ref_rejected"][b])
            z = beta * (hw - hl)
            losses.append(-(1 - eps) * log_sigmoid(z) - eps * log_sigmoid(-z))
    loss = mean(losses)
    return {"loss": loss.v, "grad": {
        "policy_chosen": grad_of(loss, shape2("policy_chosen", inputs["policy_chosen"])),
        "policy_rejected": grad_of(loss, shape2("policy_rejected", inputs["policy_rejected"]))}}


def gen_dpo():
    # documented check: ℓθ(y)=−10, ℓθ(y⁻)=−12, ℓref(y)=−10.5, ℓref(y⁻)=−11.5, β=0.1
    # split over tokens so that sums (not means) are exercised.
    inputs = {"policy_chosen": [[-4.0, -6.0]], "policy_rejected": [[-5.0, -3.0, -4.0]],
              "ref_chosen": [[-5.25, -5.25]], "ref_rejected": [[-3.5, -4.0, -4.0]]}
    out = []
    for name, p, lit in [("dpo_check_sigmoid", {"beta": 0.1}, 0.644397),
                         ("dpo_check_cdpo", {"beta": 0.1, "label_smoothing": 0.1}, 0.654397)]:
        e = dpo(inputs, p)
        assert abs(e["loss"] - lit) < 1e-6, (name, e["loss"])
        e["loss"] = lit  # the document's number, checked at its precision
        out.append(vec(name, "dpo", p, inputs, e,
                       "hand-computed check value (Δ = 1); gradient by autodiff", CHECK_TOL))
    write("dpo_check.json", out)

    rng = random.Random(202)
    pc = rseqs(rng, 3, 1, 6)
    pr = rseqs(rng, 3, 1, 6)
    inputs = {"policy_chosen": pc, "policy_rejected": pr,
              "ref_chosen": jitter(rng, pc, 0.8), "ref_rejected": jitter(rng, pr, 0.8)}
    out = []
    for name, p in [("dpo_random_sigmoid", {"beta": 0.1}),
                    ("dpo_random_sigmoid_beta0.5", {"beta": 0.5}),
                    ("dpo_random_cdpo", {"beta": 0.2, "label_smoothing": 0.25}),
                    ("dpo_random_ipo", {"beta": 0.1, "loss_type": "ipo"}),
                    ("dpo_random_ipo_beta1", {"beta": 1.0, "loss_type": "ipo"})]:
        out.append(vec(name, "dpo", p, inputs, dpo(inputs, p), "3 ragged pairs; autodiff"))
    out.append(vec("dpo_error_ipo_smoothing", "dpo", {"loss_type": "ipo", "label_smoothing": 0.1}, inputs,
                   {"error": "label_smoothing"}, "IPO with label smoothing is refused"))
    write("dpo_random.json", out)


# ---------------------------------------------------------------- GRPO
def grpo_adv(rewards, p):
    G = p.get("g", 8)
    std = p.get("std", "bessel")
    eps = p.get("adv_eps", 1e-4)
    scale = p.get("scale", "group")
    floor = p.get("std_floor", 0.05)  # σ below the floor counts as the floor
    out = []

    def sd(xs):
        m = sum(xs) / len(xs)
        n = len(xs) - 1 if std == "bessel" else len(xs)
        return math.sqrt(sum((x - m) ** 2 for x in xs) / n)

    batch_sd = sd(rewards) if scale == "batch" else None
    for s in range(0, len(rewards), G):
        g = rewards[s:s + G]
        if all(x == g[0] for x in g):  # documented rule: all-equal group ⇒ exactly 0
            out += [0.0] * G
            continue
        m = sum(g) / G
        if scale == "none":
            out += [x - m for x in g]
        elif scale == "batch":
            out += [(x - m) / (max(batch_sd, floor) + eps) for x in g]
        else:
            out += [(x - m) / (max(sd(g), floor) + eps) for x in g]
    return out


def grpo(inputs, p):
    adv = grpo_adv(inputs["rewards"], p)
    lo, hi = 1 - p.get("clip_low", 0.2), 1 + p.get("clip_high", 0.2)
    beta = p.get("kl_beta", 0.0)  # TRL's default; DeepSeekMath used 0.04
    agg = p.get("aggregation", "seq_mean")
    L = vars2("logp", inputs["logp"])
    old = inputs.get("old_logp")
    per_seq = []
    for i, s in enumerate(L):
        toks = []
        for t, l in enumerate(s):
            # old = sg(current) when old_logp is absent
            o = old[i][t] if old is not None else l.v
            rho = exp(l - o)
            x = -dmin(rho * adv[i], clamp(rho, lo, hi) * adv[i])
            if beta:
                r = inputs["ref_logp"][i][t] - l
                x = x + beta * (exp(r) - r - 1)
            toks.append(x)
        per_seq.append(toks)
    if agg == "seq_mean":
        loss = mean([mean(t) for t in per_seq])
    else:
        tot = D(0)
        n = 0
        for t in per_seq:
            for x in t:
                tot = tot + x
                n += 1
        loss = tot / n if agg == "token_mean" else tot / (len(per_seq) * p["max_len"])
    return {"loss": loss.v, "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"]))},
            "advantages": adv}


def gen_grpo():
    rng = random.Random(303)
    lp = rseqs(rng, 4, 2, 5, -3.0, -0.1)
    base = {"logp": lp, "old_logp": jitter(rng, lp, 0.3), "ref_logp": jitter(rng, lp, 0.5),
            "rewards": [1.0, 0.0, 0.0, 1.0]}
    out = []
    for name, p, a in [("grpo_check_bessel_eps1e-4", {"g": 4, "std": "bessel", "adv_eps": 1e-4}, 0.865875),
                       ("grpo_check_bessel_eps1e-6", {"g": 4, "std": "bessel", "adv_eps": 1e-6}, 0.866024),
                       ("grpo_check_population_eps0", {"g": 4, "std": "population", "adv_eps": 0}, 1.0),
                       ("grpo_check_scale_none", {"g": 4, "scale": "none"}, 0.5)]:
        e = grpo(base, p)
        lit = [a, -a, -a, a]
        assert all(abs(x - y) < 1e-6 for x, y in zip(e["advantages"], lit)), (name, e["advantages"])
        e["advantages"] = lit
        out.append(vec(name, "grpo", p, base, e,
                       "hand-computed advantage check, rewards [1,0,0,1]; loss and gradient by autodiff",
                       CHECK_TOL))
    # k3 check inside the loss: zero advantages (equal rewards), ratio 1, β_KL = 1
    k3in = {"logp": [[-1.0], [-1.0]], "ref_logp": [[-1.5], [-1.5]], "rewards": [0.5, 0.5]}
    p = {"g": 2, "kl_beta": 1.0}
    e = grpo(k3in, p)
    assert abs(e["loss"] - 0.106531) < 1e-6
    e["loss"] = 0.106531
    out.append(vec("grpo_check_k3_in_loss", "grpo", p, k3in, e,
                   "ℓθ=−1, ℓref=−1.5 ⇒ k3 = 0.106531 is the whole loss", CHECK_TOL))
    write("grpo_check.json", out)

    kl = {"logp": [-1.0], "ref_logp": [-1.5]}
    write("kl_check.json", [vec("kl_check", "kl", {}, kl,
                                {"k1": [0.5], "k2": [0.125], "k3": [0.106531]},
                                "hand-computed KL estimator check", CHECK_TOL)])

    rng = random.Random(304)
    lp = rseqs(rng, 8, 1, 6, -3.0, -0.1)
    inputs = {"logp": lp, "old_logp": jitter(rng, lp, 0.45), "ref_logp": jitter(rng, lp, 0.6),
              "rewards": [1.0, -1.0, 0.0, 1.0, 0.25, 0.25, 0.25, 0.25]}
    out = []
    for name, p in [("grpo_random_seq_mean", {"g": 4}),
                    ("grpo_random_token_mean_asym", {"g": 4, "aggregation": "token_mean",
                                                     "clip_low": 0.2, "clip_high": 0.28}),
                    ("grpo_random_constant", {"g": 4, "aggregation": "constant", "max_len": 7,
                                              "kl_beta": 0.1}),
                    ("grpo_random_population_batch", {"g": 2, "std": "population", "scale": "batch",
                                                      "adv_eps": 1e-6}),
                    ("grpo_random_drgrpo", {"g": 4, "scale": "none", "aggregation": "constant",
                                            "max_len": 6, "kl_beta": 0})]:
        out.append(vec(name, "grpo", p, inputs, grpo(inputs, p),
                       "8 ragged completions, ratios away from 1 (some clipped); autodiff"))
    fresh = {"logp": lp, "ref_logp": inputs["ref_logp"], "rewards": inputs["rewards"]}
    out.append(vec("grpo_random_no_old_logp", "grpo", {"g": 4}, fresh, grpo(fresh, {"g": 4}),
                   "old_logp absent ⇒ ρ = 1 with gradient (μ = 1)"))
    tiny = dict(fresh, rewards=[0.001, 0.002, 0.0, 0.001, 0.3, 0.3000001, 0.3, 0.3])
    for name, p in [("grpo_std_floor_default", {"g": 4}),
                    ("grpo_std_floor_off", {"g": 4, "std_floor": 0}),
                    ("grpo_std_floor_batch", {"g": 4, "scale": "batch", "std_floor": 0.5})]:
        out.append(vec(name, "grpo", p, tiny, grpo(tiny, p),
                       "near-equal continuous rewards: σ is floored (0.05 by default), so fp noise in a group's "
                       "rewards is not blown up into unit advantages"))
    out.append(vec("grpo_error_bessel_g1", "grpo", {"g": 1}, fresh, {"error": "bessel"},
                   "Bessel std of a group of 1 is undefined"))
    out.append(vec("grpo_error_constant_no_max_len", "grpo", {"g": 4, "aggregation": "constant"},
                   fresh, {"error": "max_len"}, "constant aggregation needs max_len"))
    write("grpo_random.json", out)


# ---------------------------------------------------------------- GRAO
def grao_adv(rewards, group, eps, ref_reward=0.0, floor=0.05):
    s = list(rewards) + ([ref_reward] if group == "samples+reference" else [])
    if all(x == s[0] for x in s):  # documented rule: σ = 0 ⇒ all advantages 0 (Â_y too)
        return [0.0] * len(rewards), 0.0
    mu = sum(s) / len(s)
    sd = max(math.sqrt(sum((x - mu) ** 2 for x in s) / len(s)), floor)  # population, floored
    return [(r - mu) / (sd + eps) for r in rewards], (ref_reward - mu) / (sd + eps)


def grao(inputs, p):
    beta, lam = p.get("beta", 0.5), p.get("lambda", 0.6)
    group, eps = p.get("group", "samples+reference"), p.get("eps", 1e-6)
    Js = []
    advs = []
    comps = {"exploration": D(0), "imitation": D(0), "regulariser": D(0)}
    P = len(inputs["prompts"])
    for k, pr in enumerate(inputs["prompts"]):
        ao, ay = grao_adv(pr["rewards"], group, eps, p.get("ref_reward", 0.0), p.get("std_floor", 0.05))
        advs.append({"samples": ao, "reference": ay})
        y = [var(("ref", k, t), x) for t, x in enumerate(pr["reference"])]
        jy = mean(y)
        G = len(pr["samples"])
        J = D(0)
        for i, s in enumerate(pr["samples"]):
            ji = mean([var(("s", k, i, t), x) for t, x in enumerate(s)])
            # Eq. 3, term by term
            e_, m_, r_ = ao[i] * ji, beta * ay * jy, lam * ao[i] * (ji - jy)
            if p.get("no_exploration"):
                e_ = D(0)
            if p.get("no_imitation"):
                m_ = D(0)
            if p.get("no_regulariser"):
                r_ = D(0)
            J = J + (e_ + m_ + r_) / G
            comps["exploration"] = comps["exploration"] - e_ / G / P
            comps["imitation"] = comps["imitation"] - m_ / G / P
            comps["regulariser"] = comps["regulariser"] - r_ / G / P
        Js.append(J)
    loss = -mean(Js)
    grad = {"prompts": [{"samples": [[loss.d.get(("s", k, i, t), 0.0) for t in range(len(s))]
                                     for i, s in enumerate(pr["samples"])],
                         "reference": [loss.d.get(("ref", k, t), 0.0) for t in range(len(pr["reference"]))]}
                        for k, pr in enumerate(inputs["prompts"])]}
    return {"loss": loss.v, "grad": grad, "advantages": advs,
            "components": {k: val(v) for k, v in comps.items()}}


def gen_grao():
    rng = random.Random(505)
    pr = {"samples": rseqs(rng, 8, 1, 5), "reference": rseqs(rng, 1, 3, 3)[0], "rewards": [-1.0] * 8}
    inputs = {"prompts": [pr]}
    e = grao(inputs, {})
    doc = {"advantages": [{"samples": [-0.354] * 8, "reference": 2.83}]}
    assert abs(e["advantages"][0]["samples"][0] + 0.354) < 5e-3 and abs(e["advantages"][0]["reference"] - 2.83) < 5e-3
    out = [vec("grao_check_all_lose_doc", "grao", {}, inputs, dict(e, **doc),
               "hand computation: 8 samples at −1, y in the group ⇒ Â_o = −0.354, Â_y = +2.83 (3 digits)",
               {"abs": 5e-3, "rel": 0}),
           vec("grao_check_all_lose", "grao", {}, inputs, e,
               "same input, full precision: Â_o = −(1/9)/(√8/9 + 1e-6), Â_y = (8/9)/(√8/9 + 1e-6)")]
    write("grao_check.json", out)

    rng = random.Random(506)
    prompts = []
    for rewards in ([1.0, -1.0, 0.0, -1.0], [1.0, 1.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0], [0.5, -0.25, 1.0, 0.0]):
        prompts.append({"samples": rseqs(rng, 4, 1, 6), "reference": rseqs(rng, 1, 1, 6)[0], "rewards": rewards})
    inputs = {"prompts": prompts}
    out = []
    for name, p in [("grao_random_default", {}),
                    ("grao_random_samples", {"group": "samples"}),
                    ("grao_random_beta_lambda", {"beta": 0.3, "lambda": 1.2, "eps": 1e-3}),
                    ("grao_random_ref_reward", {"ref_reward": 0.5}),
                    ("grao_random_samples_ref_reward", {"ref_reward": -0.5, "group": "samples"}),
                    ("grao_random_no_imitation", {"no_imitation": True}),
                    ("grao_random_no_exploration", {"no_exploration": True}),
                    ("grao_random_no_regulariser", {"no_regulariser": True, "group": "samples"})]:
        out.append(vec(name, "grao", p, inputs, grao(inputs, p),
                       "4 prompts × 4 samples, incl. an all-equal group; Eq. 3 by autodiff"))
    tiny = {"prompts": [dict(prompts[0], rewards=[0.001, 0.002, 0.0, 0.001])]}
    for name, p in [("grao_std_floor_default", {}), ("grao_std_floor_off", {"std_floor": 0}),
                    ("grao_std_floor_samples", {"group": "samples", "std_floor": 0.2})]:
        out.append(vec(name, "grao", p, tiny, grao(tiny, p),
                       "near-equal continuous rewards: σ is floored (0.05 by default) before dividing"))
    bad = {"prompts": [{"samples": [[-1.0]], "reference": [-1.0], "rewards": [1.0, 0.0]}]}
    out.append(vec("grao_error_rewards_mismatch", "grao", {}, bad, {"error": "prompts[0].rewards"},
                   "rewards and samples differ in number"))
    write("grao_random.json", out)


# ---------------------------------------------------------------- PPO
def ppo(inputs, p):
    beta, kl = p.get("beta", 0.05), p.get("kl", "k1")
    gamma, lam = p.get("gamma", 1.0), p.get("lambda", 0.95)
    eps, eps_v, c_v = p.get("clip_eps", 0.2), p.get("clip_value", 0.2), p.get("vf_coef", 0.1)
    whiten, weps = p.get("whiten", True), p.get("whiten_eps", 1e-8)
    L = vars2("logp", inputs["logp"])
    V = vars2("values", inputs["values"])
    old = inputs.get("old_logp") or inputs["logp"]
    oldv = inputs.get("old_values") or inputs["values"]
    ref = inputs["ref_logp"]
    advs, rets = [], []
    for i, s in enumerate(old):
        r = []
        for t in range(len(s)):
            d = s[t] - ref[i][t]
            k = d if kl == "k1" else math.exp(-d) + d - 1
            r.append(-beta * k)
        r[-1] += inputs["scores"][i]
        a = [0.0] * len(s)
        last = 0.0
        for t in reversed(range(len(s))):
            nv = oldv[i][t + 1] if t + 1 < len(s) else 0.0
            delta = r[t] + gamma * nv - oldv[i][t]
            last = delta + gamma * lam * last
            a[t] = last
        advs.append(a)
        rets.append([a[t] + oldv[i][t] for t in range(len(s))])
    if whiten:
        flat = [x for a in advs for x in a]
        m = sum(flat) / len(flat)
        var_ = sum((x - m) ** 2 for x in flat) / (len(flat) - 1)  # Bessel, as TRL masked_var
        advs = [[(x - m) / math.sqrt(var_ + weps) for x in a] for a in advs]
    pg, vf = D(0), D(0)
    n = 0
    for i in range(len(L)):
        for t in range(len(L[i])):
            a = advs[i][t]
            rho = exp(L[i][t] - old[i][t])
            pg = pg + dmax(-a * rho, -a * clamp(rho, 1 - eps, 1 + eps))
            vc = clamp(V[i][t], oldv[i][t] - eps_v, oldv[i][t] + eps_v)
            vf = vf + dmax(square(V[i][t] - rets[i][t]), square(vc - rets[i][t]))
            n += 1
    pg = pg / n
    vf = 0.5 * vf / n
    loss = pg + c_v * vf
    return {"loss": loss.v,
            "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"])),
                     "values": grad_of(loss, shape2("values", inputs["values"]))},
            "advantages": advs, "returns": rets,
            "components": {"policy": pg.v, "value": vf.v}}


def gen_ppo():
    rng = random.Random(707)
    lp = rseqs(rng, 3, 1, 6, -3.0, -0.1)
    vals = [[round(rng.uniform(-1, 1), 6) for _ in s] for s in lp]
    inputs = {"logp": lp, "old_logp": jitter(rng, lp, 0.4), "ref_logp": jitter(rng, lp, 0.5),
              "values": vals, "old_values": jitter(rng, vals, 0.45), "scores": [1.0, -0.5, 0.25]}
    out = []
    for name, p in [("ppo_random_default", {}),
                    ("ppo_random_k3", {"kl": "k3", "beta": 0.2}),
                    ("ppo_random_no_whiten", {"whiten": False, "vf_coef": 0.5}),
                    ("ppo_random_gamma_lambda", {"gamma": 0.9, "lambda": 0.7, "clip_eps": 0.1,
                                                 "clip_value": 0.1})]:
        out.append(vec(name, "ppo", p, inputs, ppo(inputs, p),
                       "3 ragged completions, some ratios and values clipped; autodiff"))
    fresh = {k: inputs[k] for k in ("logp", "ref_logp", "values", "scores")}
    out.append(vec("ppo_random_first_epoch", "ppo", {}, fresh, ppo(fresh, {}),
                   "old_logp/old_values absent ⇒ equal to current (constants)"))
    out.append(vec("ppo_error_no_ref", "ppo", {}, {"logp": lp, "values": vals, "scores": [0, 0, 0]},
                   {"error": "ref_logp"}, "the KL reward needs reference log-probs"))
    write("ppo_random.json", out)

    # tiny hand-checkable case: one 2-token sequence, β = 0, no whitening.
    # r = [0, 1]; V_old = [0.5, 0.25]; δ_1 = 1 − 0.25 = 0.75, Â_1 = 0.75;
    # δ_0 = 0 + 0.25 − 0.5 = −0.25, Â_0 = −0.25 + 0.95·0.75 = 0.4625;
    # returns [0.9625, 1.0]. ρ = 1, V = V_old ⇒ L_π = −mean Â = −0.60625,
    # L_V = ½·mean((0.5−0.9625)², (0.25−1)²) = ½·(0.21390625+0.5625)/2 = 0.1941015625,
    # L = −0.60625 + 0.1·0.1941015625 = −0.58683984375.
    tiny = {"logp": [[-1.0, -2.0]], "ref_logp": [[-1.0, -2.0]], "values": [[0.5, 0.25]], "scores": [1.0]}
    p = {"beta": 0.0, "whiten": False}
    e = ppo(tiny, p)
    assert abs(e["loss"] - -0.58683984375) < 1e-12, e["loss"]
    write("ppo_check.json", [vec("ppo_check_hand", "ppo", p, tiny,
                                 {"loss": -0.58683984375, "grad": e["grad"],
                                  "advantages": [[0.4625, 0.75]], "returns": [[0.9625, 1.0]]},
                                 "hand-computed GAE (see gen_vectors.py comment)")])


# ---------------------------------------------------------------- shared by RLOO / Dr. GRPO / DAPO
def groups(xs, G):
    return [xs[s:s + G] for s in range(0, len(xs), G)]


def away(rhos, bounds, margin=1e-3):
    """Inputs must stay clear of the clip kinks (see README, Ties and kinks)."""
    for r in rhos:
        for b in bounds:
            assert abs(r - b) > margin, ("ratio too close to a clip boundary", r, b)


def assert_close(got, want, tol=1e-9, what=""):
    if isinstance(want, list):
        assert len(got) == len(want), (what, got, want)
        for g_, w_ in zip(got, want):
            assert_close(g_, w_, tol, what)
        return
    assert abs(got - want) <= tol, (what, got, want)


def old_of(inputs):
    # old = old_logp when given, else the value of logp as a constant (stop-gradient)
    return inputs.get("old_logp") or inputs["logp"]


# ---------------------------------------------------------------- RLOO
def rloo_adv(shaped, G):
    out = []
    zero = 0
    for g in groups(shaped, G):
        if all(x == g[0] for x in g):  # all r' exactly equal ⇒ exactly 0
            out += [0.0] * len(g)
            zero += 1
            continue
        tot = sum(g)
        out += [x - (tot - x) / (G - 1) for x in g]  # r'_i − mean of the other g−1
    return out, zero


def rloo(inputs, p):
    G, beta, eps = p.get("g", 8), p.get("kl_beta", 0.05), p.get("clip_eps", 0.2)
    lo, hi = 1 - eps, 1 + eps
    L = vars2("logp", inputs["logp"])
    old = old_of(inputs)
    ref = inputs.get("ref_logp")
    kls = None
    if ref is not None:
        kls = [sum(o - r for o, r in zip(old[i], ref[i])) for i in range(len(old))]
    shaped = [r - beta * kls[i] if kls is not None else r for i, r in enumerate(inputs["rewards"])]
    adv, zero = rloo_adv(shaped, G)
    terms, rhos, clipped = [], [], 0
    for i, s in enumerate(L):
        S = D(0)
        for l in s:
            S = S + l
        rho = exp(S - sum(old[i]))  # one ratio per SEQUENCE
        rhos.append(rho.v)
        a, b = rho * adv[i], clamp(rho, lo, hi) * adv[i]
        if -b.v > -a.v:
            clipped += 1
        terms.append(-dmin(a, b))
    away(rhos, [lo, hi])
    loss = mean(terms)
    comps = {}
    if kls is not None:
        comps["kl"] = sum(kls) / len(kls)
    comps["clip_fraction"] = clipped / len(L)
    comps["zero_std_groups"] = zero
    return {"loss": loss.v, "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"]))},
            "advantages": adv, "components": comps}


def gen_rloo():
    out = []
    # Check 1 (hand computation). rewards [1,0,0,1], g = 4, kl_beta = 0:
    #   Â_1 = 1 − (0+0+1)/3 = 2/3, Â_2 = 0 − (1+0+1)/3 = −2/3, Â_3 = −2/3, Â_4 = +2/3.
    # Per-sequence log-ratios S − S_old (dyadic inputs, exact): +0.5, +0.5, −0.5, −0.1; clip_eps 0.2.
    #   seq1 Â>0, ρ=e^0.5=1.648721 > 1.2 ⇒ clipped: −min(ρÂ, 1.2Â) = −0.8, gradient 0
    #   seq2 Â<0, ρ=e^0.5: min(−ρ·2/3, −1.2·2/3) = −ρ·2/3 ⇒ term +ρ·2/3 = 1.099148, unclipped,
    #        d/dℓ_t = ρ·(2/3)/4 = 0.274787 on each token
    #   seq3 Â<0, ρ=e^−0.5=0.606531 < 0.8: min(−0.404354, −0.533333) ⇒ term +0.533333, clipped, gradient 0
    #   seq4 Â>0, ρ=e^−0.1=0.904837 inside: term −ρ·2/3 = −0.603225, d/dℓ_t = −ρ·(2/3)/4 = −0.150806
    #   loss = (−0.8 + 1.099148 + 0.533333 − 0.603225)/4 = 0.0573139754; clip_fraction 2/4 = 0.5.
    c1 = {"logp": [[-1.0, -2.0], [-0.5, -1.5], [-2.0], [-1.0, -0.5, -0.25]],
          "old_logp": [[-1.25, -2.25], [-0.75, -1.75], [-1.5], [-0.9, -0.5, -0.25]],
          "rewards": [1.0, 0.0, 0.0, 1.0]}
    p = {"g": 4, "kl_beta": 0.0, "clip_eps": 0.2, "iterations": 1}
    e = rloo(c1, p)
    hand_adv = [0.6666666667, -0.6666666667, -0.6666666667, 0.6666666667]
    hand_loss = 0.0573139754
    hand_grad = [[0.0, 0.0], [0.2747868785, 0.2747868785], [0.0], [-0.1508062363] * 3]
    assert_close(e["advantages"], hand_adv, 1e-9, "rloo c1 adv")
    assert_close(e["loss"], hand_loss, 1e-9, "rloo c1 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "rloo c1 grad")
    assert e["components"] == {"clip_fraction": 0.5, "zero_std_groups": 0}, e["components"]
    out.append(vec("rloo_check_clip", "rloo", p, c1,
                   {"loss": hand_loss, "grad": {"logp": hand_grad}, "advantages": hand_adv,
                    "components": {"clip_fraction": 0.5, "zero_std_groups": 0}},
                   "hand computation: rewards [1,0,0,1], g=4 ⇒ Â = ±2/3; sequence log-ratios +0.5, +0.5, −0.5, "
                   "−0.1 ⇒ two sequences clipped (zero gradient), loss 0.0573139754 (see gen_vectors.py comment)",
                   CHECK_TOL))

    # Check 2 (hand computation): KL shaping, no old_logp (ρ = 1), g = 2, kl_beta = 0.5.
    #   group 1: rewards [1, 1] but Σ(ℓ−ref) = 0.25+0.15 = 0.4 and 0 ⇒ r' = [0.8, 1.0]
    #            ⇒ Â = [0.8 − 1.0, 1.0 − 0.8] = [−0.2, +0.2] (equal raw rewards, NOT a zero-std group)
    #   group 2: rewards [0, 0], identical sequences, Σ(ℓ−ref) = 0.3 each ⇒ r' = [−0.15, −0.15] equal ⇒ Â = 0
    #   ρ = 1 inside the clip range ⇒ loss = −mean Â = 0, d/dℓ_t = −Â_i/B = [+0.05, −0.05, 0, 0]
    #   kl = mean(0.4, 0, 0.3, 0.3) = 0.25; zero_std_groups = 1; clip_fraction 0.
    c2 = {"logp": [[-1.0, -2.0], [-0.5], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]],
          "ref_logp": [[-1.25, -2.15], [-0.5], [-1.1, -1.1, -1.1], [-1.1, -1.1, -1.1]],
          "rewards": [1.0, 1.0, 0.0, 0.0]}
    p = {"g": 2, "kl_beta": 0.5, "clip_eps": 0.2, "iterations": 1}
    e = rloo(c2, p)
    hand_adv = [-0.2, 0.2, 0.0, 0.0]
    hand_grad = [[0.05, 0.05], [-0.05], [0.0] * 3, [0.0] * 3]
    hand_comp = {"kl": 0.25, "clip_fraction": 0.0, "zero_std_groups": 1}
    assert_close(e["advantages"], hand_adv, 1e-9, "rloo c2 adv")
    assert e["advantages"][2:] == [0.0, 0.0]
    assert_close(e["loss"], 0.0, 1e-12, "rloo c2 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "rloo c2 grad")
    assert_close([e["components"][k] for k in hand_comp], list(hand_comp.values()), 1e-9, "rloo c2 comps")
    out.append(vec("rloo_check_kl_shaping", "rloo", p, c2,
                   {"loss": 0.0, "grad": {"logp": hand_grad}, "advantages": hand_adv, "components": hand_comp},
                   "hand computation: equal raw rewards [1,1] made unequal by the KL shaping "
                   "r' = r − 0.5·Σ(old−ref) = [0.8, 1.0] ⇒ Â = ∓0.2; second group's r' exactly equal ⇒ Â = 0; "
                   "old_logp absent ⇒ ρ = 1, loss 0, gradient −Â/B",
                   CHECK_TOL))
    out.append(vec("rloo_error_g1", "rloo", {"g": 1, "kl_beta": 0.0}, c1, {"error": "g"},
                   "leave-one-out needs g ≥ 2"))
    out.append(vec("rloo_error_no_ref", "rloo", {"g": 4, "kl_beta": 0.05}, c1, {"error": "ref_logp"},
                   "kl_beta > 0 needs ref_logp for the reward shaping"))
    write("rloo_check.json", out)

    rng = random.Random(1001)
    lp = rseqs(rng, 8, 1, 6, -3.0, -0.1)
    inputs = {"logp": lp, "old_logp": jitter(rng, lp, 0.3), "ref_logp": jitter(rng, lp, 0.5),
              "rewards": [1.0, 1.0, 0.0, -1.0, 0.5, 0.5, 0.5, 0.5]}
    out = []
    base = {"kl_beta": 0.05, "clip_eps": 0.2, "iterations": 1}
    for name, p in [("rloo_random_default", dict(base, g=4)),
                    ("rloo_random_kl0", dict(base, g=4, kl_beta=0.0)),
                    ("rloo_random_kl0.1_eps0.1", dict(base, g=4, kl_beta=0.1, clip_eps=0.1)),
                    ("rloo_random_g2", dict(base, g=2, kl_beta=0.0)),
                    ("rloo_random_g8", dict(base, g=8, kl_beta=0.1, clip_eps=0.3))]:
        out.append(vec(name, "rloo", p, inputs, rloo(inputs, p),
                       "8 ragged completions, per-sequence ratios away from 1 (some clipped), one group of "
                       "equal raw rewards; autodiff"))
    fresh = {k: inputs[k] for k in ("logp", "ref_logp", "rewards")}
    p = dict(base, g=4, kl_beta=0.1)
    out.append(vec("rloo_random_no_old_logp", "rloo", p, fresh, rloo(fresh, p),
                   "old_logp absent ⇒ old = stop-gradient(logp): ρ = 1 with gradient, shaping on logp's values"))
    bare = {k: inputs[k] for k in ("logp", "old_logp", "rewards")}
    p = dict(base, g=4, kl_beta=0.0)
    out.append(vec("rloo_random_kl0_no_ref", "rloo", p, bare, rloo(bare, p),
                   "kl_beta = 0 needs no ref_logp (no kl component)"))
    write("rloo_random.json", out)


# ---------------------------------------------------------------- Dr. GRPO
def drgrpo(inputs, p):
    G, beta, M = p.get("g", 8), p.get("kl_beta", 0.0), p["max_len"]
    lo, hi = 1 - p.get("clip_low", 0.2), 1 + p.get("clip_high", 0.2)
    adv, zero = [], 0
    for g in groups(inputs["rewards"], G):
        if all(x == g[0] for x in g):
            adv += [0.0] * len(g)
            zero += 1
            continue
        m = sum(g) / len(g)
        adv += [x - m for x in g]  # no division by σ
    L = vars2("logp", inputs["logp"])
    old = old_of(inputs)
    ref = inputs.get("ref_logp")
    B = len(L)
    assert all(len(s) <= M for s in L)
    sur, kl, rhos, clipped, n = D(0), D(0), [], 0, 0
    for i, s in enumerate(L):
        for t, l in enumerate(s):
            rho = exp(l - old[i][t])
            rhos.append(rho.v)
            a, b = rho * adv[i], clamp(rho, lo, hi) * adv[i]
            if -b.v > -a.v:
                clipped += 1
            sur = sur - dmin(a, b)
            if ref is not None:
                r = ref[i][t] - l
                kl = kl + (exp(r) - r - 1)
            n += 1
    away(rhos, [lo, hi])
    sur, kl = sur / (B * M), kl / (B * M)
    loss = sur + beta * kl if beta else sur
    comps = {"surrogate": sur.v}
    if ref is not None:
        comps["kl"] = kl.v
    comps["clip_fraction"] = clipped / n
    comps["zero_std_groups"] = zero
    return {"loss": loss.v, "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"]))},
            "advantages": adv, "components": comps}


def gen_drgrpo():
    out = []
    # Check 1 (hand computation): rewards [1,0,0,1], g = 4 ⇒ mean 0.5, Â = [+0.5, −0.5, −0.5, +0.5].
    # old_logp absent ⇒ ρ = 1 on every token; lengths [3, 1, 2, 2], max_len 4, B = 4:
    #   loss = Σ_i −Â_i·|o_i| / (B·max_len) = (−1.5 + 0.5 + 1.0 − 1.0)/16 = −1/16 = −0.0625
    #   (a length-normalised loss would be −mean Â = 0); d/dℓ_t = −Â_i/16 = ∓0.03125.
    c1 = {"logp": [[-1.0, -2.0, -0.5], [-0.25], [-1.5, -0.75], [-3.0, -0.125]],
          "rewards": [1.0, 0.0, 0.0, 1.0]}
    p = {"g": 4, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.0, "max_len": 4, "iterations": 1}
    e = drgrpo(c1, p)
    hand_adv = [0.5, -0.5, -0.5, 0.5]
    hand_grad = [[-0.03125] * 3, [0.03125], [0.03125] * 2, [-0.03125] * 2]
    hand_comp = {"surrogate": -0.0625, "clip_fraction": 0.0, "zero_std_groups": 0}
    assert_close(e["advantages"], hand_adv, 1e-12, "drgrpo c1 adv")
    assert_close(e["loss"], -0.0625, 1e-12, "drgrpo c1 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-12, "drgrpo c1 grad")
    assert e["components"] == hand_comp, e["components"]
    out.append(vec("drgrpo_check_no_length_norm", "drgrpo", p, c1,
                   {"loss": -0.0625, "grad": {"logp": hand_grad}, "advantages": hand_adv,
                    "components": hand_comp},
                   "hand computation: rewards [1,0,0,1] ⇒ Â = ±0.5 (no σ); ρ = 1, lengths [3,1,2,2], "
                   "max_len 4 ⇒ loss = Σ −Â·|o| / (4·4) = −0.0625", CHECK_TOL))

    # Check 2 (hand computation): asymmetric clip 0.2/0.28, rewards [1, 0], g = 2 ⇒ Â = ±0.5,
    # max_len 3, B = 2 ⇒ denominator 6. Token log-ratios ℓ − old (dyadic where it matters):
    #   seq1 (Â=+0.5): +0.5 ⇒ ρ=1.648721 > 1.28 clipped, term −0.64, grad 0;
    #                  −0.1 ⇒ ρ=0.904837, term −0.452419, grad −ρ·0.5/6 = −0.0754031182
    #   seq2 (Â=−0.5): −0.5 ⇒ ρ=0.606531 < 0.8 clipped, term +0.4, grad 0;
    #                  +0.3 ⇒ ρ=1.349859, term +0.674929, grad +ρ·0.5/6 = 0.1124882340
    #   loss = (−0.64 − 0.452419 + 0.4 + 0.674929)/6 = −0.0029148842; clip_fraction 2/4 = 0.5.
    c2 = {"logp": [[-1.0, -1.1], [-2.0, -0.7]], "old_logp": [[-1.5, -1.0], [-1.5, -1.0]],
          "rewards": [1.0, 0.0]}
    p = {"g": 2, "clip_low": 0.2, "clip_high": 0.28, "kl_beta": 0.0, "max_len": 3, "iterations": 1}
    e = drgrpo(c2, p)
    hand_loss = -0.0029148842
    hand_grad = [[0.0, -0.0754031182], [0.0, 0.1124882340]]
    hand_comp = {"surrogate": hand_loss, "clip_fraction": 0.5, "zero_std_groups": 0}
    assert_close(e["advantages"], [0.5, -0.5], 1e-12, "drgrpo c2 adv")
    assert_close(e["loss"], hand_loss, 1e-9, "drgrpo c2 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "drgrpo c2 grad")
    assert_close([e["components"][k] for k in hand_comp], list(hand_comp.values()), 1e-9, "drgrpo c2 comps")
    out.append(vec("drgrpo_check_clip_asym", "drgrpo", p, c2,
                   {"loss": hand_loss, "grad": {"logp": hand_grad}, "advantages": [0.5, -0.5],
                    "components": hand_comp},
                   "hand computation: Â = ±0.5, token ratios e^{±0.5} clipped (clip 0.2/0.28), e^{−0.1}, e^{0.3} "
                   "not; loss = −0.0029148842 (see gen_vectors.py comment)", CHECK_TOL))

    # Check 3 (hand computation): k3 in the loss. rewards [1, 1] (one all-equal group ⇒ Â = 0),
    # ℓ = −1, ref = −1.5 on 3 tokens in all ⇒ k3 = e^{−0.5} + 0.5 − 1 = 0.1065306597 each;
    # max_len 2, B = 2: kl = 3·k3/4 = 0.0798979948; kl_beta 0.5 ⇒ loss = 0.0399489974, surrogate 0.
    # d/dℓ of k3(ref − ℓ) = 1 − e^{ref−ℓ} = 1 − e^{−0.5} = 0.3934693403 ⇒ grad = 0.5·0.393469/4 = 0.0491836675.
    c3 = {"logp": [[-1.0], [-1.0, -1.0]], "ref_logp": [[-1.5], [-1.5, -1.5]], "rewards": [1.0, 1.0]}
    p = {"g": 2, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.5, "max_len": 2, "iterations": 1}
    e = drgrpo(c3, p)
    hand_grad = [[0.0491836675], [0.0491836675, 0.0491836675]]
    hand_comp = {"surrogate": 0.0, "kl": 0.0798979948, "clip_fraction": 0.0, "zero_std_groups": 1}
    assert e["advantages"] == [0.0, 0.0]
    assert_close(e["loss"], 0.0399489974, 1e-9, "drgrpo c3 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "drgrpo c3 grad")
    assert_close([e["components"][k] for k in hand_comp], list(hand_comp.values()), 1e-9, "drgrpo c3 comps")
    out.append(vec("drgrpo_check_k3", "drgrpo", p, c3,
                   {"loss": 0.0399489974, "grad": {"logp": hand_grad}, "advantages": [0.0, 0.0],
                    "components": hand_comp},
                   "hand computation: equal rewards ⇒ Â = 0; ℓ=−1, ref=−1.5 ⇒ k3 = 0.1065306597 on 3 tokens, "
                   "kl = 3·k3/(2·2), loss = 0.5·kl", CHECK_TOL))
    ok = {"g": 4, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.0, "max_len": 4, "iterations": 1}
    out.append(vec("drgrpo_error_g1", "drgrpo", dict(ok, g=1), c1, {"error": "g"},
                   "a group of 1 has no baseline"))
    out.append(vec("drgrpo_error_max_len_unset", "drgrpo", dict(ok, max_len=0), c1, {"error": "max_len"},
                   "max_len = 0 means unset: the constant normaliser B·max_len is required"))
    out.append(vec("drgrpo_error_too_long", "drgrpo", dict(ok, max_len=2), c1, {"error": "max_len"},
                   "a completion of 3 tokens with max_len 2"))
    write("drgrpo_check.json", out)

    rng = random.Random(1002)
    lp = rseqs(rng, 8, 1, 6, -3.0, -0.1)
    inputs = {"logp": lp, "old_logp": jitter(rng, lp, 0.45), "ref_logp": jitter(rng, lp, 0.6),
              "rewards": [1.0, -1.0, 0.0, 1.0, 0.25, 0.25, 0.25, 0.25]}
    longest = max(len(s) for s in lp)
    out = []
    base = {"g": 4, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.0, "max_len": longest, "iterations": 1}
    for name, p in [("drgrpo_random_default", base),
                    ("drgrpo_random_kl0.04", dict(base, kl_beta=0.04, max_len=8)),
                    ("drgrpo_random_asym_clip", dict(base, clip_low=0.2, clip_high=0.28, max_len=10)),
                    ("drgrpo_random_g2_kl0.1", dict(base, g=2, kl_beta=0.1, max_len=16))]:
        out.append(vec(name, "drgrpo", p, inputs, drgrpo(inputs, p),
                       "8 ragged completions, token ratios away from 1 (some clipped), one all-equal group; "
                       "loss = Σ/(B·max_len); autodiff"))
    fresh = {k: inputs[k] for k in ("logp", "ref_logp", "rewards")}
    p = dict(base, kl_beta=0.04)
    out.append(vec("drgrpo_random_no_old_logp", "drgrpo", p, fresh, drgrpo(fresh, p),
                   "old_logp absent ⇒ ρ = 1 with gradient (μ = 1)"))
    bare = {k: inputs[k] for k in ("logp", "old_logp", "rewards")}
    out.append(vec("drgrpo_random_no_ref", "drgrpo", base, bare, drgrpo(bare, base),
                   "kl_beta = 0 without ref_logp (no kl component)"))
    out.append(vec("drgrpo_error_too_long_random", "drgrpo", dict(base, max_len=longest - 1), inputs,
                   {"error": "max_len"}, "the longest completion exceeds max_len"))
    write("drgrpo_random.json", out)


# ---------------------------------------------------------------- DAPO
def dapo_cache(p):
    return math.floor(p.get("overlong_fraction", 0.2) * p["max_len"] + 0.5)


def dapo_rlen(n, M, Lc):
    if n > M:
        return -1.0
    if n <= M - Lc:  # also the whole range when L_cache = 0
        return 0.0
    return ((M - Lc) - n) / Lc


def dapo(inputs, p):
    G, M = p.get("g", 8), p["max_len"]
    lo, hi = 1 - p.get("clip_low", 0.2), 1 + p.get("clip_high", 0.28)
    eps, floor = p.get("adv_eps", 1e-6), p.get("std_floor", 0.05)
    Lc = dapo_cache(p)
    pen = [dapo_rlen(len(s), M, Lc) for s in inputs["logp"]]
    shaped = [r + pen[i] for i, r in enumerate(inputs["rewards"])]
    adv, zero = [], 0
    for g in groups(shaped, G):
        if all(x == g[0] for x in g):
            adv += [0.0] * len(g)
            zero += 1
            continue
        m = sum(g) / len(g)
        sd = math.sqrt(sum((x - m) ** 2 for x in g) / (len(g) - 1))  # Bessel
        adv += [(x - m) / (max(sd, floor) + eps) for x in g]
    L = vars2("logp", inputs["logp"])
    old = old_of(inputs)
    tot, rhos, clipped, n = D(0), [], 0, 0
    for i, s in enumerate(L):
        for t, l in enumerate(s):
            rho = exp(l - old[i][t])
            rhos.append(rho.v)
            a, b = rho * adv[i], clamp(rho, lo, hi) * adv[i]
            if -b.v > -a.v:
                clipped += 1
            tot = tot - dmin(a, b)
            n += 1
    away(rhos, [lo, hi])
    loss = tot / n  # token-level mean over the whole batch
    return {"loss": loss.v, "grad": {"logp": grad_of(loss, shape2("logp", inputs["logp"]))},
            "advantages": adv,
            "components": {"overlong_penalty_mean": sum(pen) / len(pen), "clip_fraction": clipped / n,
                           "zero_std_groups": zero}}


def gen_dapo():
    out = []
    # Check 1 (hand computation): overlong shaping. max_len 4, overlong_fraction 0.5 ⇒
    # L_cache = floor(0.5·4 + 0.5) = 2, soft zone 2 < |o| ≤ 4. lengths [1, 3, 2, 5]:
    #   R_len = [0, (2−3)/2 = −0.5, 0, −1 (longer than max_len)]; overlong_penalty_mean = −1.5/4 = −0.375.
    #   rewards [1,0,0,1] ⇒ r' = [1, −0.5, 0, 0], μ = 0.125, deviations [0.875, −0.625, −0.125, −0.125],
    #   Σ dev² = 1.1875, Bessel σ = √(1.1875/3) = √(19/48) = 0.6291528696 (> floor 0.05),
    #   Â = dev/(σ + 1e-6) = [1.3907567644, −0.9933976889, −0.1986795378, −0.1986795378].
    #   old_logp absent ⇒ ρ = 1: loss = −Σ Â_i·|o_i| / Σ|o| = −(0.875·1 − 0.625·3 − 0.125·2 − 0.125·5)
    #   /(11·(σ+1e-6)) = 1.875/(11·0.6291538696) = 0.2709266424; d/dℓ_t = −Â_i/11.
    c1 = {"logp": [[-1.0], [-0.5, -1.5, -2.0], [-0.25, -1.0], [-1.0, -0.5, -2.0, -0.75, -1.25]],
          "rewards": [1.0, 0.0, 0.0, 1.0]}
    p = {"g": 4, "clip_low": 0.2, "clip_high": 0.28, "adv_eps": 1e-6, "std_floor": 0.05, "max_len": 4,
         "overlong_fraction": 0.5, "dynamic_sampling": True, "max_rounds": 3, "iterations": 1}
    e = dapo(c1, p)
    hand_adv = [1.3907567644, -0.9933976889, -0.1986795378, -0.1986795378]
    hand_loss = 0.2709266424
    hand_grad = [[-x / 11] * n for x, n in zip(hand_adv, [1, 3, 2, 5])]
    hand_comp = {"overlong_penalty_mean": -0.375, "clip_fraction": 0.0, "zero_std_groups": 0}
    assert_close(e["advantages"], hand_adv, 1e-9, "dapo c1 adv")
    assert_close(e["loss"], hand_loss, 1e-9, "dapo c1 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "dapo c1 grad")
    assert e["components"] == hand_comp, e["components"]
    out.append(vec("dapo_check_overlong", "dapo", p, c1,
                   {"loss": hand_loss, "grad": {"logp": hand_grad}, "advantages": hand_adv,
                    "components": hand_comp},
                   "hand computation: max_len 4, L_cache 2, lengths [1,3,2,5] ⇒ R_len [0,−0.5,0,−1]; "
                   "r' = [1,−0.5,0,0], σ = √(19/48); ρ = 1 ⇒ loss = 1.875/(11·(σ+1e-6))", CHECK_TOL))

    # Check 2 (hand computation): asymmetric clip 0.2/0.28, overlong_fraction 0 (L_cache = 0: only
    # |o| > max_len = 3 is penalised, by −1), g = 2.
    #   group 1: rewards [1, 1], lengths [2, 4] ⇒ r' = [1, 0], σ = √0.5 ⇒ Â = ±0.5/(√0.5 + 1e-6) = ±0.7071057812
    #   group 2: rewards [0, 0], lengths [1, 3] ⇒ r' equal ⇒ Â = 0 (zero_std_groups 1)
    #   overlong_penalty_mean = −1/4 = −0.25; 10 tokens in all.
    #   seq1 (Â=+a): ℓ−old = +0.5 ⇒ ρ=1.648721 > 1.28 clipped, term −1.28a, grad 0;
    #                +0.2 ⇒ ρ=1.221403 < 1.28, term −1.221403a, grad −ρa/10 = −0.0863660951
    #   seq2 (Â=−a): −0.5 ⇒ ρ=0.606531 < 0.8 clipped, term +0.8a, grad 0;
    #                +0.1 ⇒ term +1.105171a, grad 0.0781472745; 0 ⇒ +a, grad 0.0707105781;
    #                −0.1 ⇒ +0.904837a, grad 0.0639815769
    #   loss = a·(−1.28 − 1.221403 + 0.8 + 1.105171 + 1 + 0.904837)/10 = 0.0925322569; clip_fraction 2/10.
    c2 = {"logp": [[-1.0, -1.3], [-2.0, -1.4, -0.5, -0.6], [-0.7], [-1.0, -2.0, -3.0]],
          "old_logp": [[-1.5, -1.5], [-1.5, -1.5, -0.5, -0.5], [-1.2], [-0.5, -2.5, -2.5]],
          "rewards": [1.0, 1.0, 0.0, 0.0]}
    p = {"g": 2, "clip_low": 0.2, "clip_high": 0.28, "adv_eps": 1e-6, "std_floor": 0.05, "max_len": 3,
         "overlong_fraction": 0.0, "dynamic_sampling": True, "max_rounds": 3, "iterations": 1}
    e = dapo(c2, p)
    a = 0.7071057812
    hand_adv = [a, -a, 0.0, 0.0]
    hand_loss = 0.0925322569
    hand_grad = [[0.0, -0.0863660951], [0.0, 0.0781472745, 0.0707105781, 0.0639815769], [0.0], [0.0] * 3]
    hand_comp = {"overlong_penalty_mean": -0.25, "clip_fraction": 0.2, "zero_std_groups": 1}
    assert_close(e["advantages"], hand_adv, 1e-9, "dapo c2 adv")
    assert e["advantages"][2:] == [0.0, 0.0]
    assert_close(e["loss"], hand_loss, 1e-9, "dapo c2 loss")
    assert_close(e["grad"]["logp"], hand_grad, 1e-9, "dapo c2 grad")
    assert_close([e["components"][k] for k in hand_comp], list(hand_comp.values()), 1e-12, "dapo c2 comps")
    out.append(vec("dapo_check_clip_hard_overlong", "dapo", p, c2,
                   {"loss": hand_loss, "grad": {"logp": hand_grad}, "advantages": hand_adv,
                    "components": hand_comp},
                   "hand computation: overlong_fraction 0 ⇒ only |o| > max_len penalised (−1), turning equal "
                   "rewards [1,1] into Â = ±0.7071057812; asymmetric clip 0.2/0.28, 2 of 10 tokens clipped; "
                   "loss 0.0925322569 (see gen_vectors.py comment)", CHECK_TOL))
    ok = dict(p, g=2, max_len=4)
    out.append(vec("dapo_error_g1", "dapo", dict(ok, g=1), c2, {"error": "g"},
                   "a group of 1 has no standard deviation"))
    out.append(vec("dapo_error_max_len_unset", "dapo", dict(ok, max_len=0), c2, {"error": "max_len"},
                   "max_len = 0 means unset: the overlong shaping needs L_max"))
    write("dapo_check.json", out)

    rng = random.Random(1003)
    lp = rseqs(rng, 8, 1, 6, -3.0, -0.1)
    inputs = {"logp": lp, "old_logp": jitter(rng, lp, 0.45),
              "rewards": [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]}
    out = []
    base = {"g": 4, "clip_low": 0.2, "clip_high": 0.28, "adv_eps": 1e-6, "std_floor": 0.05, "max_len": 10,
            "overlong_fraction": 0.2, "dynamic_sampling": True, "max_rounds": 3, "iterations": 1}
    for name, p, what in [
            ("dapo_random_no_penalty", base, "max_len 10, L_cache 2: nothing in the soft zone, "
                                             "second group stays all-equal"),
            ("dapo_random_default_fraction", dict(base, max_len=6),
             "max_len 6, L_cache = floor(1.2+0.5) = 1, soft zone 5<|o|≤6: the 6-token completion (|o| = L_max) "
             "gets (5−6)/1 = −1"),
            ("dapo_random_of0", dict(base, max_len=3, overlong_fraction=0.0),
             "overlong_fraction 0: completions longer than max_len 3 get −1, nothing else"),
            ("dapo_random_of0.5", dict(base, max_len=5, overlong_fraction=0.5),
             "overlong_fraction 0.5, max_len 5 ⇒ L_cache = floor(2.5+0.5) = 3 (half rounds up), soft zone "
             "2<|o|≤5, a 6-token completion exceeds max_len"),
            ("dapo_random_sym_clip_g2", dict(base, g=2, clip_high=0.2, max_len=5), "g = 2, symmetric clip 0.2")]:
        out.append(vec(name, "dapo", p, inputs, dapo(inputs, p),
                       "8 ragged completions, token ratios away from 1 (some clipped); " + what + "; autodiff"))
    fresh = {k: inputs[k] for k in ("logp", "rewards")}
    p = dict(base, max_len=5, overlong_fraction=0.5)
    out.append(vec("dapo_random_no_old_logp", "dapo", p, fresh, dapo(fresh, p),
                   "old_logp absent ⇒ ρ = 1 with gradient (μ = 1)"))
    tiny = dict(inputs, rewards=[0.001, 0.002, 0.0, 0.001, 0.3, 0.3000001, 0.3, 0.3])
    for name, p in [("dapo_std_floor_default", base), ("dapo_std_floor_off", dict(base, std_floor=0))]:
        out.append(vec(name, "dapo", p, tiny, dapo(tiny, p),
                       "near-equal continuous rewards, no overlong penalty (max_len 10): σ is floored "
                       "(0.05 by default) before dividing"))
    write("dapo_random.json", out)


if __name__ == "__main__":
    gen_sft()
    gen_dpo()
    gen_grpo()
    gen_grao()
    gen_ppo()
    gen_rloo()
    gen_drgrpo()
    gen_dapo()
    print("wrote", sorted(os.listdir(OUT)))
