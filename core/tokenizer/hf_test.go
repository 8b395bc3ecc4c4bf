package tokenizer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestByteChars checks the table against the definition of GPT-2's
// bytes_to_unicode and a few well-known values.
func TestByteChars(t *testing.T) {
	seen := map[rune]int{}
	for b, r := range byteChars {
		if prev, ok := seen[r]; ok {
			t.Fatalf("bytes %d and %d share the character %q", prev, b, r)
		}
		seen[r] = b
		printable := '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF
		if printable != (r == rune(b)) {
			t.Errorf("byte %#x → %q", b, r)
		}
		if !printable && (r < 0x100 || r > 0x143) {
			t.Errorf("byte %#x → %U, want U+0100–U+0143", b, r)
		}
	}
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 0: 'Ā', 0x7F: 'ġ', 0xAD: 'Ń', 'a': 'a', 0xE9: 'é'} {
		if byteChars[b] != want {
			t.Errorf("byte %#x → %q, want %q", b, byteChars[b], want)
		}
	}
}

// TestHFGolden pins the bytes of both files (checkpoints must stay
// byte-identical for the same weights). Run with -update to rewrite.
func TestHFGolden(t *testing.T) {
	files := map[string][]byte{
		"hf_tokenizer.golden.json":        HFTokenizerJSON(),
		"hf_tokenizer_config.golden.json": HFTokenizerConfigJSON(256),
	}
	for name, got := range files {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed (run go test -update if intended):\n%s", path, got)
		}
	}
	if !bytes.Equal(HFTokenizerJSON(), HFTokenizerJSON()) {
		t.Error("HFTokenizerJSON is not deterministic")
	}
}

// TestHFContent reads the file back generically and checks what makes HF
// tooling reproduce Byte.Encode: one vocabulary entry per byte character
// with the byte as id, the specials at 256–258, no merges, no splitting,
// no prefix space, nothing added on encoding.
func TestHFContent(t *testing.T) {
	var doc struct {
		Version     string
		AddedTokens []struct {
			ID      int
			Content string
			Special bool
		} `json:"added_tokens"`
		Normalizer    any
		PreTokenizer  map[string]any `json:"pre_tokenizer"`
		PostProcessor any            `json:"post_processor"`
		Decoder       map[string]any
		Model         struct {
			Type   string
			Vocab  map[string]int
			Merges []any
		}
	}
	if err := json.Unmarshal(HFTokenizerJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "1.0" || doc.Model.Type != "BPE" || len(doc.Model.Merges) != 0 || doc.Model.Merges == nil {
		t.Fatalf("version %q, model %q, merges %v", doc.Version, doc.Model.Type, doc.Model.Merges)
	}
	if doc.Normalizer != nil || doc.PostProcessor != nil {
		t.Fatalf("normalizer %v, post_processor %v: want null", doc.Normalizer, doc.PostProcessor)
	}
	want := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
	if !reflect.DeepEqual(doc.PreTokenizer, want) || !reflect.DeepEqual(doc.Decoder, want) {
		t.Fatalf("pre_tokenizer %v, decoder %v", doc.PreTokenizer, doc.Decoder)
	}
	if len(doc.Model.Vocab) != VocabSize {
		t.Fatalf("vocab has %d entries, want %d", len(doc.Model.Vocab), VocabSize)
	}
	for b := range 256 {
		if id, ok := doc.Model.Vocab[string(byteChars[b])]; !ok || id != b {
			t.Errorf("vocab[%q] = %d, %v; want byte %d", byteChars[b], id, ok, b)
		}
	}
	specials := map[string]int{BOSToken: BOS, EOSToken: EOS, PADToken: PAD}
	if len(doc.AddedTokens) != len(specials) {
		t.Fatalf("added_tokens %+v", doc.AddedTokens)
	}
	for _, a := range doc.AddedTokens {
		if specials[a.Content] != a.ID || !a.Special || doc.Model.Vocab[a.Content] != a.ID {
			t.Errorf("added token %+v", a)
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal(HFTokenizerConfigJSON(64), &cfg); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOSToken, "eos_token": EOSToken,
		"pad_token": PADToken, "add_bos_token": false, "add_eos_token": false, "clean_up_tokenization_spaces": false, "model_max_length": 64.0} {
		if cfg[k] != v {
			t.Errorf("tokenizer_config %s = %v, want %v", k, cfg[k], v)
		}
	}
}

func TestCheckHFTokenizerJSON(t *testing.T) {
	good := HFTokenizerJSON()
	var compact bytes.Buffer
	if err := json.Compact(&compact, good); err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(good, &generic); err != nil {
		t.Fatal(err)
	}
	// Sorted keys and HTML-escaped strings ("\u003c|bos|\u003e").
	resorted, _ := json.Marshal(generic)
	escaped := bytes.Replace(good, []byte(`"Ġ"`), []byte(`"\u0120"`), 1)
	for name, b := range map[string][]byte{"canonical": good, "compact": compact.Bytes(), "re-sorted": resorted, "escaped": escaped} {
		if err := CheckHFTokenizerJSON(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("no %q in tokenizer.json", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"regex on", edit(`"use_regex": false`, `"use_regex": true`), `pre_tokenizer.use_regex: got true, want false`},
		{"prefix space", edit(`"add_prefix_space": false`, `"add_prefix_space": true`), `pre_tokenizer.add_prefix_space: got true, want false`},
		{"vocab id", edit(`"Ā": 0,`, `"Ā": 7,`), `model.vocab["Ā"]: got 7, want 0`},
		{"vocab float id", edit(`"Ā": 0,`, `"Ā": 0.0,`), `model.vocab["Ā"]: got 0.0, want 0`},
		{"vocab key", edit(`"Ā": 0,`, `"ĀĀ": 0,`), `model.vocab["Ā"]: missing`},
		{"extra vocab", edit(`"<|pad|>": 258`, `"<|pad|>": 258, "zz": 259`), `model.vocab.zz: unexpected key`},
		{"merges", edit(`"merges": []`, `"merges": ["a b"]`), `model.merges: has 1 elements, want 0`},
		{"model type", edit(`"type": "BPE"`, `"type": "WordPiece"`), `model.type: got "WordPiece", want "BPE"`},
		{"post processor", edit(`"post_processor": null`, `"post_processor": {"type": "TemplateProcessing"}`), `post_processor: got an object, want null`},
		{"special renamed", edit(`"content": "<|bos|>"`, `"content": "<s>"`), `added_tokens[0].content: got "<s>", want "<|bos|>"`},
		{"not special", edit(`"special": true`, `"special": false`), `added_tokens[0].special: got false, want true`},
		{"extra top key", edit(`"version": "1.0",`, `"version": "1.0", "extra": 1,`), `extra: unexpected key`},
		{"missing key", edit(`"truncation": null,`, ``), `truncation: missing`},
		{"version", edit(`"version": "1.0"`, `"version": "2.0"`), `version: got "2.0", want "1.0"`},
		{"duplicate key", edit(`"ignore_merges": false,`, `"ignore_merges": true, "ignore_merges": false,`), `duplicate key "ignore_merges"`},
		{"deep nesting", edit(`"dropout": null`, `"dropout": `+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)), `model.dropout: got an array, want null`},
		{"trailing data", append(bytes.Clone(good), "{}"...), "unexpected data after the JSON value"},
		{"array", []byte(`[1, 2]`), "(top level): got an array, want an object"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHFTokenizerJSON(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// FuzzCheckHFTokenizerJSON: never a panic, and whatever is accepted is
// the canonical document.
func FuzzCheckHFTokenizerJSON(f *testing.F) {
	good := HFTokenizerJSON()
	f.Add(good)
	f.Add(good[:100])
	f.Add([]byte(`{"version":"1.0","version":"1.0"}`))
	f.Add([]byte(`{"a":[{"b":{}}]} x`))
	f.Add([]byte(`[[[[`))
	var want any
	if err := json.Unmarshal(good, &want); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckHFTokenizerJSON(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		var got any
		if err := json.Unmarshal(b, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("accepted a different document (%v): %q", err, b)
		}
	})
}
