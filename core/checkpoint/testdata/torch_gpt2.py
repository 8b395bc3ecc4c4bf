#!/usr/bin/python3
"""Independent GPT-2 forward in PyTorch over a grao checkpoint.

Reads model.safetensors with only the standard library and numpy (the
header is parsed here, not by the safetensors package), builds the Hugging
Face GPT-2 computation by hand — Conv1D layers (y = x·W + b, W stored
[in, out]), pre-LN blocks, causal multi-head attention scaled by
1/sqrt(head_dim), gelu_new, final layer norm, LM head tied to wte — and
prints the logits as JSON. It shares no code with grao: it is the
acceptance check that a grao checkpoint means what HF GPT-2 means.

Usage:
  torch_gpt2.py CHECKPOINT [--dtype float64|float32] < request.json
      request: {"sequences": [[id, ...], ...]}
      reply:   {"torch": "1.13...", "dtype": ..., "threads": 1,
                "logits": [[[v, ...] per position] per sequence]}
  torch_gpt2.py --self-test [CHECKPOINT ...]
      checks the building blocks against torch's own layers and a slow
      float64 numpy forward; prints "self-test ok" (to stderr when a
      checkpoint is also given, so one process does both) or fails.

CHECKPOINT is a checkpoint directory or its model.safetensors file, grao's
or one in transformers' layout (names with or without "transformer.");
config.json is read from the same directory (only for n_head and
layer_norm_epsilon: everything else follows from the tensor shapes).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}


def read_safetensors(path):
    """Parses the file by hand: u64 LE header length, JSON header, data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds file size")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]])
        tensors[name] = arr.reshape(e["shape"]).copy()
    return tensors, header.get("__metadata__", {})


def load(ckpt, dtype):
    d = ckpt if os.path.isdir(ckpt) else os.path.dirname(ckpt)
    st = os.path.join(ckpt, "model.safetensors") if os.path.isdir(ckpt) else ckpt
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    raw, _ = read_safetensors(st)
    w = {}
    for k, v in raw.items():
        # transformers' files: GPT2Model names lack the "transformer."
        # prefix, and the causal-mask buffers and the tied lm_head are not
        # weights of the computation.
        if k.endswith(".attn.bias") or k.endswith(".attn.masked_bias") or k == "lm_head.weight":
            continue
        if not k.startswith("transformer.") and not k.startswith("value_head."):
            k = "transformer." + k
        w[k] = torch.from_numpy(v).to(dtype)
    return w, cfg


def gelu_new(x):
    # HF NewGELUActivation (the OpenAI GPT-2 tanh approximation).
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def layer_norm(x, g, b, eps):
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)  # biased, as torch.nn.LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * g + b


def conv1d(x, w, b):
    # transformers.pytorch_utils.Conv1D: weight is [in, out].
    return x @ w + b


def attention(q, k, v, n_head):
    t, d = q.shape
    hd = d // n_head
    # [T, d] -> [H, T, hd]: head h owns columns h*hd:(h+1)*hd.
    q, k, v = (z.view(t, n_head, hd).transpose(0, 1) for z in (q, k, v))
    s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
    mask = torch.ones(t, t, dtype=torch.bool).tril()
    s = s.masked_fill(~mask, float("-inf"))
    a = torch.softmax(s, dim=-1)
    return (a @ v).transpose(0, 1).reshape(t, d)


def forward(w, cfg, ids, act=gelu_new, ln=layer_norm, attn=attention):
    n_head, eps = cfg["n_head"], cfg["layer_norm_epsilon"]
    n_layer = sum(1 for k in w if k.endswith(".ln_1.weight"))
    ids_t = torch.tensor(ids, dtype=torch.long)
    if len(ids) > w["transformer.wpe.weight"].shape[0]:
        raise ValueError(f"{len(ids)} tokens exceed n_positions")
    h = w["transformer.wte.weight"][ids_t] + w["transformer.wpe.weight"][: len(ids)]
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        a = ln(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = conv1d(a, w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"])
        q, k, v = qkv.split(h.shape[1], dim=-1)
        h = h + conv1d(attn(q, k, v, n_head), w[p + "attn.c_proj.weight"], w[p + "attn.c_proj.bias"])
        m = ln(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = act(conv1d(m, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"]))
        h = h + conv1d(m, w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])
    h = ln(h, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return h @ w["transformer.wte.weight"].T  # tied LM head


def numpy_forward(w, cfg, ids):
    """Slow float64 loops: a second, differently written reading of GPT-2."""
    W = {k: v.detach().numpy().astype(np.float64) for k, v in w.items()}
    n_head, eps = cfg["n_head"], cfg["layer_norm_epsilon"]
    n_layer = sum(1 for k in W if k.endswith(".ln_1.weight"))
    d = W["transformer.wte.weight"].shape[1]
    hd = d // n_head

    def lnorm(x, g, b):
        out = np.empty_like(x)
        for r in range(x.shape[0]):
            mu = sum(x[r]) / d
            var = sum((x[r] - mu) ** 2) / d
            out[r] = (x[r] - mu) / math.sqrt(var + eps) * g + b
        return out

    T = len(ids)
    h = np.stack([W["transformer.wte.weight"][t] + W["transformer.wpe.weight"][i] for i, t in enumerate(ids)])
    for l in range(n_layer):
        p = f"transformer.h.{l}."
        a = lnorm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"])
        qkv = a @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
        out = np.zeros((T, d))
        for hh in range(n_head):
            c = slice(hh * hd, (hh + 1) * hd)
            q, k, v = qkv[:, c], qkv[:, d:][:, c], qkv[:, 2 * d:][:, c]
            for i in range(T):
                sc = [float(q[i] @ k[j]) / math.sqrt(hd) for j in range(i + 1)]
                mx = max(sc)
                e = [math.exp(s - mx) for s in sc]
                z = sum(e)
                out[i, c] = sum(e[j] / z * v[j] for j in range(i + 1))
        h = h + out @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        m = lnorm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"])
        u = m @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]
        u = 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))
        h = h + u @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    h = lnorm(h, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"])
    return h @ W["transformer.wte.weight"].T


def random_weights(seed, vocab=11, d=8, n_layer=2, ctx=7, scale=0.5):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64) * scale
    w = {"transformer.wte.weight": r(vocab, d), "transformer.wpe.weight": r(ctx, d),
         "transformer.ln_f.weight": 1 + r(d), "transformer.ln_f.bias": r(d)}
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        w.update({p + "ln_1.weight": 1 + r(d), p + "ln_1.bias": r(d),
                  p + "attn.c_attn.weight": r(d, 3 * d), p + "attn.c_attn.bias": r(3 * d),
                  p + "attn.c_proj.weight": r(d, d), p + "attn.c_proj.bias": r(d),
                  p + "ln_2.weight": 1 + r(d), p + "ln_2.bias": r(d),
                  p + "mlp.c_fc.weight": r(d, 4 * d), p + "mlp.c_fc.bias": r(4 * d),
                  p + "mlp.c_proj.weight": r(4 * d, d), p + "mlp.c_proj.bias": r(d)})
    return w, {"n_head": 2, "layer_norm_epsilon": 1e-5}


def self_test(out=sys.stdout):
    torch.manual_seed(0)
    x = torch.randn(5, 8, dtype=torch.float64) * 3
    g, b = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    F = torch.nn.functional
    checks = {
        "gelu_new vs F.gelu(tanh)": (gelu_new(x), F.gelu(x, approximate="tanh")),
        "layer_norm vs F.layer_norm": (layer_norm(x, g, b, 1e-5), F.layer_norm(x, (8,), g, b, 1e-5)),
    }
    # Attention against torch.nn.MultiheadAttention with identity projections.
    q, k, v = (torch.randn(6, 8, dtype=torch.float64) for _ in range(3))
    mha = torch.nn.MultiheadAttention(8, 2, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([torch.eye(8)] * 3).double())
        mha.out_proj.weight.copy_(torch.eye(8).double())
    causal = torch.ones(6, 6, dtype=torch.bool).triu(1)  # True = masked
    ref, _ = mha(q[None], k[None], v[None], attn_mask=causal, need_weights=False)
    checks["attention vs nn.MultiheadAttention"] = (attention(q, k, v, 2), ref[0])
    # Whole model against the loop-based numpy reading, with every tensor
    # non-trivial (random biases and gains) so a layout slip cannot cancel.
    w, cfg = random_weights(1)
    ids = [3, 1, 4, 1, 5, 9, 2]
    checks["forward vs numpy loops"] = (forward(w, cfg, ids), torch.from_numpy(numpy_forward(w, cfg, ids)))
    ok = True
    for name, (a, e) in checks.items():
        err = (a - e).abs().max().item()
        print(f"{name}: max abs diff {err:.3g}", file=out)
        ok &= err < 1e-9
    # Causality: changing a later token must not change earlier logits.
    full = forward(w, cfg, ids)
    ids2 = ids[:4] + [0, 0, 0]
    part = forward(w, cfg, ids2)
    causal_err = (full[:4] - part[:4]).abs().max().item()
    changed = (full[4:] - part[4:]).abs().max().item()
    print(f"causality: prefix diff {causal_err:.3g}, suffix diff {changed:.3g}", file=out)
    ok &= causal_err == 0 and changed > 1e-3
    if not ok:
        sys.exit("self-test FAILED")
    print("self-test ok", file=out)


def main(argv):
    torch.set_num_threads(1)  # deterministic and fair on a shared 2-core box
    args = argv[1:]
    if "--self-test" in args:
        args.remove("--self-test")
        self_test(sys.stderr if args else sys.stdout)
        if not args:
            return
    dtype = torch.float64
    if "--dtype" in args:
        i = args.index("--dtype")
        dtype = {"float64": torch.float64, "float32": torch.float32}[args[i + 1]]
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    w, cfg = load(args[0], dtype)
    req = json.load(sys.stdin)
    with torch.no_grad():
        out = [forward(w, cfg, ids).to(torch.float64).tolist() for ids in req["sequences"]]
    json.dump({"torch": torch.__version__, "dtype": str(dtype), "threads": torch.get_num_threads(),
               "logits": out}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
