#!/usr/bin/env python3
"""Independent generator of the loss test vectors in vectors/.

Written from ../../../shared/ALGORITHMS.md (the formulas), NOT from the Go
code: the losses are evaluated with a tiny forward-mode automatic
differentiation (sparse dual numbers), so the expected gradients come from
differentiating the formula, not from the hand-derived gradients in Go.
Standard library only. Rerun with:

    python3 algorithms/testdata/gen_vectors.py

Check values quoted by ALGORITHMS.md are written as the literal numbers
from that document (with a tolerance matching their printed precision), and
this script asserts that its own computation agrees with them.
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
    # ALGORITHMS.md check: ℓθ(y)=−10, ℓθ(y⁻)=−12, ℓref(y)=−10.5, ℓref(y⁻)=−11.5, β=0.1
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
                       "ALGORITHMS.md check value (Δ = 1); gradient by autodiff", CHECK_TOL))
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
                       "ALGORITHMS.md advantage check, rewards [1,0,0,1]; loss and gradient by autodiff",
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
                                "ALGORITHMS.md KL estimator check", CHECK_TOL)])

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
               "ALGORITHMS.md: 8 samples at −1, y in the group ⇒ Â_o = −0.354, Â_y = +2.83 (3 digits)",
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


if __name__ == "__main__":
    gen_sft()
    gen_dpo()
    gen_grpo()
    gen_grao()
    gen_ppo()
    print("wrote", sorted(os.listdir(OUT)))
