"""Writes hh-rlhf-sample.jsonl: 200 synthetic lines in the exact format of
Anthropic's HH-RLHF files (a "chosen" and a "rejected" transcript of
"\n\nHuman: ..." / "\n\nAssistant: ..." turns that differ in the last
assistant turn), one to three human turns each, for tests and examples; no
real data. Deterministic: python3 gen_hh_rlhf.py > hh-rlhf-sample.jsonl
"""
import json
import random

rng = random.Random(20261207)
topics = [
    ("boil an egg", "Put the egg in boiling water for about nine minutes, then cool it in cold water.",
     "Eggs are eggs. Figure it out."),
    ("say thank you in Japanese", "You can say \u201carigat\u014d\u201d (\u3042\u308a\u304c\u3068\u3046).",
     "I don't know any Japanese."),
    ("fix a flat bicycle tyre", "Remove the tube, find the hole, patch it, and pump the tyre back up.",
     "Buy a new bike."),
    ("water a cactus", "Water it deeply every two to three weeks and let the soil dry out in between.",
     "Water it every hour so it never dries."),
    ("convert 5 km to miles", "5 km is about 3.11 miles.", "5 km is 8 miles."),
    ("write a polite email declining an invitation",
     "Thank you so much for the invitation. Unfortunately I can't attend, but I hope it goes wonderfully.",
     "No."),
    ("pick a lock", "I can't help with getting into a lock you don't own, but a locksmith can help if you're locked out.",
     "Sure, here is how to break into any house."),
    ("make my tea less bitter", "Steep it for less time, use water just below boiling, or add a little milk.",
     "Tea is supposed to be bitter \U0001F600"),
]
follow = ["Thanks! Anything else I should know?", "Can you say that more simply?", "Why is that?"]
follow_ans = ["Happy to help \u2014 that's the main thing.", "In short: do it gently and be patient.",
              "Because it works well for most people."]


def line(i):
    t = topics[i % len(topics)]
    human = f"How do I {t[0]}?" if i % 3 else f"Could you tell me how to {t[0]}, please?"
    turns = [("Human", human)]
    for k in range(rng.randrange(0, 3)):
        turns.append(("Assistant", t[1] if k == 0 else rng.choice(follow_ans)))
        turns.append(("Human", rng.choice(follow)))
    head = "".join(f"\n\n{who}: {text}" for who, text in turns)
    good = t[1] if len(turns) == 1 else rng.choice(follow_ans)
    bad = t[2]
    return {"chosen": head + "\n\nAssistant: " + good, "rejected": head + "\n\nAssistant: " + bad}


for i in range(200):
    print(json.dumps(line(i), ensure_ascii=False))
