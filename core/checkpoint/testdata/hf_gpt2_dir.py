#!/usr/bin/python3
"""Writes a GPT-2 model directory the way transformers lays it out.

  hf_gpt2_dir.py OUT VOCAB_JSON MERGES_TXT [--d 32 --layers 2 --heads 4 --ctx 64 --seed 1]

model.safetensors holds random float32 weights under GPT2Model's names
("wte.weight", "h.0.attn.c_attn.weight", ... without "transformer."), with
the causal-mask buffers "h.{i}.attn.bias" [1, 1, ctx, ctx] that older
transformers versions save, as the published gpt2 checkpoint has them.
config.json has the keys of the published gpt2 config.json (bos and eos
50256, no pad, dropouts, summary_* keys); vocab.json and merges.txt are
copied. Weights are written with the standard library and numpy only: no
grao code, no safetensors package.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(argv):
    args = argv[1:]
    opts = {"--d": 32, "--layers": 2, "--heads": 4, "--ctx": 64, "--seed": 1}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = int(args[i + 1])
            del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    out, vocab_json, merges_txt = args
    d, L, H, ctx = opts["--d"], opts["--layers"], opts["--heads"], opts["--ctx"]
    with open(vocab_json) as f:
        vocab = len(json.load(f))
    rng = np.random.default_rng(opts["--seed"])
    r = lambda *s, scale=0.02: (rng.standard_normal(s) * scale).astype(np.float32)
    t = {"wte.weight": r(vocab, d), "wpe.weight": r(ctx, d, scale=0.01)}
    for i in range(L):
        p = f"h.{i}."
        t.update({p + "ln_1.weight": 1 + r(d, scale=0.1), p + "ln_1.bias": r(d, scale=0.1),
                  p + "attn.bias": np.tril(np.ones((ctx, ctx), dtype=np.float32)).reshape(1, 1, ctx, ctx),
                  p + "attn.c_attn.weight": r(d, 3 * d, scale=0.2), p + "attn.c_attn.bias": r(3 * d, scale=0.1),
                  p + "attn.c_proj.weight": r(d, d, scale=0.2), p + "attn.c_proj.bias": r(d, scale=0.1),
                  p + "ln_2.weight": 1 + r(d, scale=0.1), p + "ln_2.bias": r(d, scale=0.1),
                  p + "mlp.c_fc.weight": r(d, 4 * d, scale=0.2), p + "mlp.c_fc.bias": r(4 * d, scale=0.1),
                  p + "mlp.c_proj.weight": r(4 * d, d, scale=0.2), p + "mlp.c_proj.bias": r(d, scale=0.1)})
    t.update({"ln_f.weight": 1 + r(d, scale=0.1), "ln_f.bias": r(d, scale=0.1)})
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), t, {"format": "pt"})
    config = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
        "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": ctx, "n_embd": d, "n_head": H,
        "n_layer": L, "n_positions": ctx, "resid_pdrop": 0.1, "summary_activation": None,
        "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
        "summary_use_proj": True, "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
        "vocab_size": vocab,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copyfile(vocab_json, os.path.join(out, "vocab.json"))
    shutil.copyfile(merges_txt, os.path.join(out, "merges.txt"))


if __name__ == "__main__":
    main(sys.argv)
