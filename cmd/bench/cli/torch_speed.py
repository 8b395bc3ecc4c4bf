"""PyTorch reference for `bench speed --torch PYTHON`.

Builds the same GPT-2 shape as grao's model (random weights), written as a
PyTorch user writes it (nn.Linear, nn.LayerNorm, fused F.gelu(approximate=
"tanh"), F.scaled_dot_product_attention where torch has it (2.0 on),
F.cross_entropy, torch.optim.AdamW, clip_grad_norm_), then times
  * training steps: forward over batch x ctx tokens, next-token cross-entropy,
    backward, global-norm clipping and AdamW, as grao's `pretrain.Run`;
  * KV-cache sampling at the given batches: prompt of 3 tokens, temperature 1,
    multinomial draw, up to new_tokens tokens per row, as grao's Sampler.
Each is measured with every thread count in cfg["threads"] and, on a GPU,
with AdamW's default (foreach) and fused implementations, keeping the best.
Every tensor lives on cfg["device"]; a test runs this on the "meta" device,
which rejects a tensor left behind on the CPU as a GPU would.
Prints one JSON object {"results": [...]} with rows shaped like bench speed's.
Only the standard library and torch are needed (Debian's python3-torch).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def attention(q, k, v):
    """Causal attention of t queries over the last t of n keys."""
    t, n = q.shape[2], k.shape[2]
    if hasattr(F, "scaled_dot_product_attention") and (t == 1 or t == n):
        # The fused kernels (flash, memory-efficient) a PyTorch user gets.
        return F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if t > 1:
        mask = torch.ones(t, n, dtype=torch.bool, device=q.device).tril(n - t)
        s = s.masked_fill(~mask, float("-inf"))
    return s.softmax(-1) @ v


class Block(torch.nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.attn = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.fc = torch.nn.Linear(d, 4 * d)
        self.fc2 = torch.nn.Linear(4 * d, d)

    def forward(self, x, past=None):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = self.attn(self.ln1(x)).split(d, dim=2)
        q = q.view(b, t, self.n_head, hd).transpose(1, 2)
        k = k.view(b, t, self.n_head, hd).transpose(1, 2)
        v = v.view(b, t, self.n_head, hd).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        a = attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(a)
        h = F.gelu(self.fc(self.ln2(x)), approximate="tanh")
        return x + self.fc2(h), (k, v)


class GPT(torch.nn.Module):
    def __init__(self, vocab, d, n_layer, n_head, ctx):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab, d)
        self.wpe = torch.nn.Embedding(ctx, d)
        self.blocks = torch.nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln_f = torch.nn.LayerNorm(d, eps=1e-5)
        for p in self.parameters():
            torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids, past=None, pos0=0):
        t = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(pos0, pos0 + t, device=ids.device))
        presents = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, None if past is None else past[i])
            presents.append(kv)
        return self.ln_f(x) @ self.wte.weight.t(), presents


def generate(model, prompt, n):
    logits, past = model(prompt)
    pos = prompt.shape[1]
    made = 0
    for i in range(n):
        probs = logits[:, -1, :].softmax(-1)
        tok = torch.multinomial(probs, 1)
        made += tok.shape[0]
        if i + 1 < n:  # the last token needs no forward pass
            logits, past = model(tok, past, pos)
            pos += 1
    return made


def sync(dev):
    # CUDA runs asynchronously: a time is only taken once the GPU is done.
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def measure(cfg, dev, threads, fused, sample):
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    vocab, ctx = cfg["vocab"], cfg["ctx"]
    model = GPT(vocab, cfg["d"], cfg["layers"], cfg["heads"], ctx).to(dev)
    rows = []

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    extra = {"fused": True} if fused else {}
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01, **extra)
    b = cfg["batch"]
    ids = torch.randint(32, 127, (b, ctx), device=dev)
    times = []
    for step in range(cfg["train_steps"] + 1):
        sync(dev)
        t0 = time.perf_counter()
        logits, _ = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sync(dev)
        if step > 0:  # the first step allocates
            times.append(time.perf_counter() - t0)
    per = sum(times) / len(times)
    row = {"kind": "train", "batch": b, "seq": ctx, "tokens_per_s": b * ctx / per,
           "ms_per_step": per * 1e3, "repetitions": len(times), "threads": threads,
           "optimizer": "AdamW(fused=True)" if fused else "AdamW"}
    if dev.type == "cuda":
        row["gpu_mem_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    rows.append(row)

    with torch.no_grad():
        for sb in cfg["sample_batches"] if sample else []:
            prompt = torch.tensor([[256, ord("H"), ord("i")]] * sb, device=dev)
            n = min(cfg["new_tokens"], ctx - prompt.shape[1])
            generate(model, prompt, n)  # warm-up
            # At least three generations and a second of them, as grao's side.
            made, reps = 0, 0
            sync(dev)
            t0 = time.perf_counter()
            while reps < 3 or time.perf_counter() - t0 < 1.0:
                made += generate(model, prompt, n)
                reps += 1
            sync(dev)
            el = time.perf_counter() - t0
            rows.append({"kind": "sample", "batch": sb, "tokens_per_s": made / el,
                         "new_tokens": n, "repetitions": reps, "threads": threads})
    del model, opt
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return rows


def main():
    cfg = json.loads(sys.argv[1])
    dev = torch.device(cfg.get("device") or "cpu")
    # Each row keeps PyTorch's best setting: on a small shared machine one
    # thread often beats several (OpenMP synchronisation on small ops); on a
    # GPU, where threads hardly matter, the fused AdamW (torch 2.0 on) may
    # beat the default multi-tensor one.
    # Sampling does not use the optimiser, so the fused setting only trains.
    settings = [(t, False, True) for t in cfg["threads"]]
    if dev.type == "cuda":
        settings = [(max(cfg["threads"]), False, True)]
        if tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 0):
            settings.append((max(cfg["threads"]), True, False))
    best = {}
    for threads, fused, sample in settings:
        for r in measure(cfg, dev, threads, fused, sample):
            key = (r["kind"], r["batch"])
            if key not in best or r["tokens_per_s"] > best[key]["tokens_per_s"]:
                best[key] = r
    json.dump({"torch": torch.__version__, "results": list(best.values())}, sys.stdout)


if __name__ == "__main__":
    main()
