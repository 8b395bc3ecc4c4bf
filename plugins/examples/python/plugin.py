#!/usr/bin/env python3
"""A grao reward plugin in Python: unigram F1 between completion and reference.

The protocol's plumbing (handshake, health, shutdown, AutoMTLS) is in
graoplugin.py; this file is the reward.

Run by a host, e.g.  bench plugin check /usr/bin/python3 plugins/examples/python/plugin.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graoplugin  # noqa: E402
import reward_pb2  # noqa: E402  (generated; see plugins/proto/generate.sh)
import reward_pb2_grpc  # noqa: E402

WORD = re.compile(r"[a-z0-9_]+")


def words(text):
    return WORD.findall(text.lower())


def unigram_f1(completion, reference):
    """Bag-of-words F1 (multiset overlap), as in SQuAD-style evaluation."""
    c, r = words(completion), words(reference)
    if not c or not r:
        return 0.0
    counts = {}
    for w in r:
        counts[w] = counts.get(w, 0) + 1
    overlap = 0
    for w in c:
        if counts.get(w, 0) > 0:
            counts[w] -= 1
            overlap += 1
    if overlap == 0:
        return 0.0
    p, q = overlap / len(c), overlap / len(r)
    return 2 * p * q / (p + q)


class Reward(reward_pb2_grpc.RewardServicer):
    def Describe(self, request, context):
        return reward_pb2.DescribeResponse(
            name="f1", version="1.0.0", reads=["completion", "reference"],
            deterministic=True, min=0.0, max=1.0)

    def Score(self, request, context):
        scores = []
        for item in request.items:
            if not item.reference:
                scores.append(reward_pb2.Score(applicable=False, info="no reference"))
                continue
            f1 = unigram_f1(item.completion, item.reference)
            scores.append(reward_pb2.Score(value=f1, applicable=True, info="f1=%.3f" % f1))
        return reward_pb2.ScoreResponse(scores=scores)


def main():
    return graoplugin.serve(graoplugin.REWARD_COOKIE,
                            lambda server: reward_pb2_grpc.add_RewardServicer_to_server(Reward(), server), "reward")


if __name__ == "__main__":
    sys.exit(main())
