// Package checkpoint reads and writes grao checkpoints in the Hugging Face
// GPT-2 layout, so they load unchanged in transformers.GPT2LMHeadModel.
//
// A checkpoint is a directory holding model.safetensors (F32 tensors named
// exactly as model.Params names them; no lm_head tensor because the head is
// tied to transformer.wte.weight; the value head under value_head.*),
// config.json (transformers.GPT2Config keys plus "value_head"),
// tokenizer.json (the byte tokenizer as a Hugging Face tokenizers file,
// tokenizer.HFTokenizerJSON) and tokenizer_config.json (what transformers'
// AutoTokenizer reads beside it), so AutoTokenizer.from_pretrained(dir)
// encodes text to grao's ids. Load accepts only that exact tokenizer.json,
// or the tokenizer.Spec JSON that checkpoints written before it hold there.
//
// Contract: Save writes every file atomically (temp file, fsync, rename)
// and deterministically (same params and metadata ⇒ same bytes). Load
// validates everything before trusting it — header length against the
// file size, JSON, dtypes, offsets tiling the data exactly, every tensor
// present with the shape config.json implies and nothing extra — and
// returns errors naming the file, key and reason; it never panics and never
// allocates more than the file's real size.
//
// The safetensors code is hand-written rather than taken from a library:
// the format is a length, a JSON header and raw bytes, and what matters
// here — strict validation of untrusted headers and byte-exact,
// deterministic output — would have to be written on top of any library.
package checkpoint
