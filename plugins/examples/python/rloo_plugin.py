#!/usr/bin/env python3
"""A grao algorithm plugin in Python: RLOO (Ahmadian et al. 2024) with numpy.

The trainer rolls out, scores and back-propagates; this process returns the
loss of each batch and d loss / d log-prob of every token. Same formula and
defaults as grao's built-in rloo (tested to agree to 1e-9):

  r'_i = r_i - kl_beta * sum_t (old_logp - ref_logp)        (KL in the reward)
  A_i  = r'_i - mean of the other g-1 rewards of its group  (leave-one-out)
  L    = mean_i -min(rho_i A_i, clip(rho_i, 1-eps, 1+eps) A_i),
         rho_i = exp(sum_t logp - sum_t old_logp)           (sequence ratio)

Run by a host, e.g.  bench plugin check --algorithm /usr/bin/python3 plugins/examples/python/rloo_plugin.py
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import algorithm_pb2  # noqa: E402  (generated; see plugins/proto/generate.sh)
import algorithm_pb2_grpc  # noqa: E402
import graoplugin  # noqa: E402

DEFAULTS = {"g": 8, "kl_beta": 0.05, "clip_eps": 0.2, "iterations": 1}


def resolve(raw):
    """Parameters over the defaults; returns (config, errors as (key, reason))."""
    cfg = dict(DEFAULTS)
    errors = [(k, "unknown parameter") for k in raw if k not in DEFAULTS]
    cfg.update({k: v for k, v in raw.items() if k in DEFAULTS})
    if not isinstance(cfg["g"], int) or cfg["g"] < 2:
        errors.append(("g", "want an integer >= 2, got %r" % cfg["g"]))
    if not 0 <= cfg["clip_eps"] < 1:
        errors.append(("clip_eps", "want in [0, 1), got %r" % cfg["clip_eps"]))
    if not cfg["kl_beta"] >= 0:
        errors.append(("kl_beta", "want >= 0, got %r" % cfg["kl_beta"]))
    return cfg, errors


class RLOO(algorithm_pb2_grpc.AlgorithmServicer):
    def Configure(self, request, context):
        cfg, errors = resolve(json.loads(request.params_json or b"{}"))
        if errors:
            return algorithm_pb2.ConfigureResponse(
                errors=[algorithm_pb2.FieldError(key=k, reason=r) for k, r in errors])
        needs = algorithm_pb2.Needs(samples=cfg["g"], old_logp=True, ref_model=cfg["kl_beta"] != 0,
                                    epochs=cfg["iterations"])
        return algorithm_pb2.ConfigureResponse(name="rloo-numpy", version="1.0.0", needs=needs,
                                               config_json=json.dumps(cfg).encode())

    def Loss(self, request, context):
        cfg = json.loads(request.config_json)
        g, beta, eps = cfg["g"], cfg["kl_beta"], cfg["clip_eps"]
        seqs = [s for grp in request.groups for s in grp.samples]
        rewards = np.array([r for grp in request.groups for r in grp.rewards])
        lp = np.array([sum(s.logp) for s in seqs])
        old = np.array([sum(s.old_logp) for s in seqs])
        kl = np.array([sum(s.old_logp) - sum(s.ref_logp) for s in seqs]) if beta else np.zeros(len(seqs))
        shaped = (rewards - beta * kl).reshape(-1, g)
        adv = shaped - (shaped.sum(axis=1, keepdims=True) - shaped) / (g - 1)
        adv[(shaped == shaped[:, :1]).all(axis=1)] = 0.0  # all-equal group: exactly 0
        adv = adv.ravel()
        rho = np.exp(lp - old)
        unclipped, clipped = -adv * rho, -adv * np.clip(rho, 1 - eps, 1 + eps)
        use = unclipped >= clipped
        B = len(seqs)
        loss = np.where(use, unclipped, clipped).sum() / B
        dseq = np.where(use, -adv * rho, 0.0) / B  # d loss / d (sum_t logp_t), for every token
        grads, k = [], 0
        for grp in request.groups:
            gg = algorithm_pb2.GroupGrad()
            for s in grp.samples:
                gg.samples.add(logp=[dseq[k]] * len(s.logp))
                k += 1
            grads.append(gg)
        comps = {"policy": loss, "clip_fraction": float((~use).mean()), "advantage_mean": float(adv.mean())}
        return algorithm_pb2.LossResponse(loss=loss, components=comps, groups=grads)


def main():
    return graoplugin.serve(graoplugin.ALGORITHM_COOKIE,
                            lambda server: algorithm_pb2_grpc.add_AlgorithmServicer_to_server(RLOO(), server),
                            "algorithm")


if __name__ == "__main__":
    sys.exit(main())
