// Loads the tokenizer of a grao checkpoint directory with Hugging Face's
// own implementations and tokenizes texts with each:
//   - tokenizers, the Rust library behind Python's tokenizers and
//     transformers' fast tokenizers, through its Node bindings (npm package
//     "tokenizers", prebuilt binaries inside the package); reads
//     tokenizer.json, as tokenizers.Tokenizer.from_file does;
//   - tokenizers.js (@huggingface/tokenizers, the tokenizer of
//     transformers.js); reads tokenizer.json + tokenizer_config.json, as
//     AutoTokenizer.from_pretrained does.
//
//   node tokenize.mjs <checkpoint-dir> < {"texts": ["...", ...]}
//
// prints {"implementations": [{library, special: {bos, eos, pad}, results:
// [{text, ids, tokens, decoded, decoded_wrapped}], resaved}]}: ids from
// encode() with special tokens allowed (none may be added), decoded =
// decode(ids), decoded_wrapped = decode([bos, ...ids, eos, pad]) skipping
// special tokens, special = the ids of tokenizer_config.json's bos_token,
// eos_token and pad_token, resaved = tokenizer.json as the Rust library
// saves it again (Rust only). Run `npm ci` in this directory first.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as JSTokenizer } from "@huggingface/tokenizers";

const require = createRequire(import.meta.url);
const rust = require("tokenizers");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node tokenize.mjs <checkpoint-dir> < request.json");
  process.exit(2);
}
const readJSON = (path) => JSON.parse(readFileSync(path, "utf8"));
const version = (pkg) => {
  const p = readJSON(new URL(`./node_modules/${pkg}/package.json`, import.meta.url));
  return `${p.name} ${p.version}`;
};
const tokenizerFile = join(dir, "tokenizer.json");
const config = readJSON(join(dir, "tokenizer_config.json"));
const { texts } = JSON.parse(readFileSync(0, "utf8"));

// Each implementation as {encode(text) → {ids, tokens}, decode(ids, skip), id(token)}.
async function run(library, tok) {
  const id = (name) => {
    const v = tok.id(config[name]);
    if (v === undefined || v === null) {
      throw new Error(`${library}: tokenizer_config.json ${name} ${JSON.stringify(config[name])} is not a token`);
    }
    return v;
  };
  const special = { bos: id("bos_token"), eos: id("eos_token"), pad: id("pad_token") };
  const results = [];
  for (const text of texts) {
    const { ids, tokens } = await tok.encode(text);
    const decoded = await tok.decode(ids, false);
    const decoded_wrapped = await tok.decode([special.bos, ...ids, special.eos, special.pad], true);
    results.push({ text, ids, tokens, decoded, decoded_wrapped });
  }
  return { library, special, results };
}

const implementations = [];

const r = rust.Tokenizer.fromFile(tokenizerFile);
const rustOut = await run(version("tokenizers") + " (Rust)", {
  encode: async (text) => {
    const e = await r.encode(text, null, { addSpecialTokens: true });
    return { ids: e.getIds(), tokens: e.getTokens() };
  },
  decode: (ids, skip) => r.decode(ids, skip),
  id: (token) => r.tokenToId(token),
});
const tmp = mkdtempSync(join(tmpdir(), "grao-hfjs-"));
try {
  r.save(join(tmp, "tokenizer.json"), true);
  rustOut.resaved = readFileSync(join(tmp, "tokenizer.json"), "utf8");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
implementations.push(rustOut);

const js = new JSTokenizer(readJSON(tokenizerFile), config);
implementations.push(
  await run(version("@huggingface/tokenizers"), {
    encode: async (text) => js.encode(text, { add_special_tokens: true }),
    // decode() refuses an empty list.
    decode: async (ids, skip) => (ids.length > 0 ? js.decode(ids, { skip_special_tokens: skip }) : ""),
    id: (token) => js.token_to_id(token),
  }),
);

process.stdout.write(JSON.stringify({ implementations }) + "\n");
