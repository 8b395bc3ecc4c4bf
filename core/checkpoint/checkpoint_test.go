package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestRoundTrip(t *testing.T) {
	for _, vh := range []bool{false, true} {
		t.Run(fmt.Sprintf("value_head=%v", vh), func(t *testing.T) {
			c := tinyConfig()
			c.ValueHead = vh
			p := perturbed(t, c, 3)
			dir := t.TempDir()
			meta := map[string]string{"step": "120", "trial": "abc"}
			if err := Save(dir, p, meta); err != nil {
				t.Fatal(err)
			}
			if got := dirFiles(t, dir); !slices.Equal(got, []string{ConfigFile, WeightsFile, TokenizerFile, TokenizerConfigFile}) {
				t.Fatalf("files in checkpoint dir = %v (temp files left behind?)", got)
			}
			// Both the directory and the .safetensors path are accepted.
			for _, path := range []string{dir, weightsPath(dir)} {
				q, err := Load(path)
				if err != nil {
					t.Fatal(err)
				}
				if q.Config != c {
					t.Fatalf("config %+v, want %+v", q.Config, c)
				}
				a, b := p.All(), q.All()
				if len(a) != len(b) {
					t.Fatalf("%d tensors, want %d", len(b), len(a))
				}
				for i := range a {
					if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) {
						t.Fatalf("tensor %d: %s%v, want %s%v", i, b[i].Name, b[i].Shape, a[i].Name, a[i].Shape)
					}
					for j := range a[i].Data { // bitwise: no value may change, not even -0 or NaN payloads
						if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
							t.Fatalf("%s[%d] = %v, want %v", a[i].Name, j, b[i].Data[j], a[i].Data[j])
						}
					}
				}
			}
			md, err := Metadata(dir)
			if err != nil {
				t.Fatal(err)
			}
			if md["step"] != "120" || md["trial"] != "abc" || md[MetaFormat] != "pt" || md[MetaTokenizer] == "" {
				t.Fatalf("metadata %v", md)
			}
			// Second save of the same params: byte-identical files.
			dir2 := t.TempDir()
			if err := Save(dir2, p, meta); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{WeightsFile, ConfigFile, TokenizerFile, TokenizerConfigFile} {
				if !bytes.Equal(readFile(t, filepath.Join(dir, f)), readFile(t, filepath.Join(dir2, f))) {
					t.Errorf("%s differs between two saves of the same params", f)
				}
			}
			// A different value must give different bytes (the test above can fail).
			p.WPE.Data[0] += 1
			if err := Save(dir2, p, meta); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(readFile(t, weightsPath(dir)), readFile(t, weightsPath(dir2))) {
				t.Error("changing a weight did not change the file")
			}
		})
	}
}

func TestSaveOverwrites(t *testing.T) {
	dir, p := saveTiny(t, nil)
	q := p.Clone()
	q.LNFB.Data[3] = 42
	if err := Save(dir, q, nil); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.LNFB.Data[3] != 42 {
		t.Fatalf("overwritten checkpoint has %v", r.LNFB.Data[3])
	}
	if got := dirFiles(t, dir); len(got) != 4 {
		t.Fatalf("files %v", got)
	}
}

// TestGolden pins the header (names, shapes, offsets, metadata, padding)
// and config.json of a tiny checkpoint. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	dir, _ := saveTiny(t, map[string]string{"step": "7"})
	b := readFile(t, weightsPath(dir))
	n := binary.LittleEndian.Uint64(b)
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+n)
	}
	files := map[string][]byte{
		"tiny_header.golden.json": append(bytes.TrimRight(b[8:8+n], " "), '\n'),
		"tiny_config.golden.json": readFile(t, filepath.Join(dir, ConfigFile)),
	}
	for name, got := range files {
		path := filepath.Join("testdata", name)
		if *update {
			writeFile(t, path, got)
			continue
		}
		want := readFile(t, path)
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed (run go test -update if intended):\ngot  %s\nwant %s", path, got, want)
		}
	}
}

func TestSaveRejects(t *testing.T) {
	cases := []struct {
		name string
		mod  func(p *model.Params) map[string]string
		want string
	}{
		{"reserved metadata", func(p *model.Params) map[string]string { return map[string]string{"format": "tf"} }, `metadata key "format" is reserved`},
		{"short tensor", func(p *model.Params) map[string]string { p.WPE.Data = p.WPE.Data[:3]; return nil }, `"transformer.wpe.weight" [4, 8] with 3 values`},
		{"wrong shape", func(p *model.Params) map[string]string { p.Blocks[0].FCW.Shape = []int{32, 8}; return nil }, `"transformer.h.0.mlp.c_fc.weight" [32, 8]`},
		{"other vocab", func(p *model.Params) map[string]string { p.Config.VocabSize = 10; return nil }, "does not match the byte tokenizer"},
		{"bad config", func(p *model.Params) map[string]string { p.Config.NHead = 3; return nil }, "n_head must be positive and divide"},
		{"nil tensor", func(p *model.Params) map[string]string { p.LNFB = nil; return nil }, `"transformer.ln_f.bias" is nil`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := perturbed(t, tinyConfig(), 1)
			meta := tc.mod(p)
			dir := t.TempDir()
			err := Save(dir, p, meta)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Save error %v, want it to contain %q", err, tc.want)
			}
			if got := dirFiles(t, dir); len(got) != 0 {
				t.Fatalf("rejected Save left files %v", got)
			}
		})
	}
	if err := Save(t.TempDir(), nil, nil); err == nil {
		t.Fatal("Save(nil) succeeded")
	}
}

// TestLoadRejectsWeights corrupts model.safetensors in the ways a crash, a
// foreign writer or a hostile file would, and checks the error names the
// file and the reason.
func TestLoadRejectsWeights(t *testing.T) {
	dir, _ := saveTiny(t, nil)
	good := readFile(t, weightsPath(dir))
	meta, ts := splitFile(t, good)
	edit := func(f func(ts []rawTensor) []rawTensor) []byte {
		return joinFile(meta, f(slices.Clone(ts)))
	}
	find := func(ts []rawTensor, name string) int {
		i := slices.IndexFunc(ts, func(x rawTensor) bool { return x.Name == name })
		if i < 0 {
			t.Fatalf("no tensor %s", name)
		}
		return i
	}
	withLen := func(n uint64) []byte {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "too short for the 8-byte header length"},
		{"absurd header length", withLen(1 << 62), "is absurd"},
		{"header length past end", withLen(uint64(len(good))), "exceeds the"},
		{"header length 0", withLen(0), "too small"},
		{"truncated data", good[:len(good)-10], "run past the"},
		{"trailing garbage", append(slices.Clone(good), 1, 2, 3, 4), "trailing garbage"},
		{"bad JSON", rawFile(`{"a": [1,}`, nil), "invalid JSON"},
		{"not an object", rawFile(`[1, 2]`, nil), "does not start with '{'"},
		{"junk after object", rawFile(`{} xx`, nil), "unexpected data after the JSON object"},
		{"duplicate key", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `duplicate key "a"`},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `unknown dtype "Q4"`},
		{"unknown field", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), `unknown field "x"`},
		{"field name case", rawFile(`{"a":{"dtYpe":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `unknown field "dtYpe"`},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "missing data_offsets"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "shape[0] = -1 out of range"},
		{"overflowing shape", rawFile(`{"a":{"dtype":"F64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,4]}}`, make([]byte, 4)), "overflows"},
		{"offsets vs shape", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), "hold 4 bytes, but F32[2] needs 8"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), "bad data_offsets [4, 0]"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `overlap tensor "a"`},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "leaving a gap"},
		{"metadata not strings", rawFile(`{"__metadata__":{"step":3}}`, nil), "must map strings to strings"},
		{"dtype F16", edit(func(ts []rawTensor) []rawTensor {
			i := find(ts, "transformer.h.0.attn.c_attn.weight")
			ts[i].DType, ts[i].Data = "F16", ts[i].Data[:len(ts[i].Data)/2]
			return ts
		}), `tensor "transformer.h.0.attn.c_attn.weight": dtype F16 not supported`},
		{"shape mismatch", edit(func(ts []rawTensor) []rawTensor {
			ts[find(ts, "transformer.h.0.mlp.c_fc.weight")].Shape = []int{32, 8} // same size, transposed
			return ts
		}), `tensor "transformer.h.0.mlp.c_fc.weight" has shape [32, 8], but ` + filepath.Join(dir, ConfigFile) + ` implies [8, 32]`},
		{"missing tensor", edit(func(ts []rawTensor) []rawTensor {
			return slices.Delete(ts, find(ts, "transformer.ln_f.bias"), find(ts, "transformer.ln_f.bias")+1)
		}), `missing tensor "transformer.ln_f.bias"`},
		{"extra tensor", edit(func(ts []rawTensor) []rawTensor {
			return append(ts, rawTensor{"lm_head.weight", "F32", []int{1}, make([]byte, 4)})
		}), `unexpected tensor "lm_head.weight"`},
		{"foreign tokenizer in metadata", joinFile(map[string]string{"tokenizer": `{"type":"bpe"}`}, ts), `metadata "tokenizer"`},
		{"NaN weight", edit(func(ts []rawTensor) []rawTensor {
			i := find(ts, "transformer.h.0.mlp.c_proj.weight")
			d := slices.Clone(ts[i].Data)
			binary.LittleEndian.PutUint32(d[12:], math.Float32bits(float32(math.NaN())))
			ts[i].Data = d
			return ts
		}), `tensor "transformer.h.0.mlp.c_proj.weight": element 3 is NaN`},
		{"infinite weight", edit(func(ts []rawTensor) []rawTensor {
			i := find(ts, "transformer.wte.weight")
			d := slices.Clone(ts[i].Data)
			binary.LittleEndian.PutUint32(d[:4], math.Float32bits(float32(math.Inf(-1))))
			ts[i].Data = d
			return ts
		}), `tensor "transformer.wte.weight": element 0 is -Inf`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, weightsPath(dir), tc.file)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load accepted a malformed file")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), weightsPath(dir)) {
				t.Fatalf("error %q\nwant it to contain %q and the file name", err, tc.want)
			}
		})
	}
	// Sanity: the unmodified split/join round trip is accepted, so each
	// case above fails for its own edit, not for the re-encoding.
	writeFile(t, weightsPath(dir), joinFile(meta, ts))
	if _, err := Load(dir); err != nil {
		t.Fatalf("re-encoded valid file rejected: %v", err)
	}
}

func TestLoadRejectsConfig(t *testing.T) {
	dir, _ := saveTiny(t, nil)
	cfgPath := filepath.Join(dir, ConfigFile)
	good := string(readFile(t, cfgPath))
	set := func(key, val string) string {
		// Replace one "key": value line of the indented file.
		var out []string
		found := false
		for _, l := range strings.Split(good, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), `"`+key+`":`) {
				found = true
				if val == "" {
					continue
				}
				comma := ""
				if strings.HasSuffix(l, ",") {
					comma = ","
				}
				l = fmt.Sprintf(`  "%s": %s%s`, key, val, comma)
			}
			out = append(out, l)
		}
		if !found {
			t.Fatalf("no key %s in config.json", key)
		}
		return strings.Join(out, "\n")
	}
	lineNo := func(key string) int {
		for i, l := range strings.Split(good, "\n") {
			if strings.Contains(l, `"`+key+`"`) {
				return i + 1
			}
		}
		t.Fatalf("no key %s", key)
		return 0
	}
	lineOf := func(key string) string { return fmt.Sprintf("%s:%d: ", cfgPath, lineNo(key)) }
	cases := []struct {
		name, config, tok, want string
	}{
		{"n_head does not divide", set("n_head", "3"), "", lineOf("n_head") + "n_head must be positive and divide n_embd=8, got 3"},
		{"zero layers", set("n_layer", "0"), "", lineOf("n_layer") + "n_layer must be positive"},
		{"negative eps", set("layer_norm_epsilon", "-1"), "", lineOf("layer_norm_epsilon") + "layer_norm_epsilon must be positive"},
		{"missing n_embd", set("n_embd", ""), "", `missing key "n_embd"`},
		{"string n_embd", set("n_embd", `"8"`), "", lineOf("n_embd") + "n_embd: expected int, got JSON string"},
		{"relu", set("activation_function", `"relu"`), "", lineOf("activation_function") + `activation_function: must be "gelu_new", got "relu"`},
		{"model type", set("model_type", `"llama"`), "", `model_type: must be "gpt2"`},
		{"n_inner", set("n_inner", "16"), "", "n_inner: must be null or 4·n_embd = 32, got 16"},
		{"untied", set("tie_word_embeddings", "false"), "", "tie_word_embeddings: must be true"},
		{"n_ctx", set("n_ctx", "8"), "", "n_ctx: must equal n_positions = 4, got 8"},
		{"vocab", set("vocab_size", "300"), "", "vocab_size: must be 259"},
		{"eos", set("eos_token_id", "0"), "", "eos_token_id: must be 257 for the byte tokenizer, got 0"},
		{"syntax", strings.Replace(good, `"n_layer": 1,`, `"n_layer": 1,,`, 1), "", fmt.Sprintf("config.json: line %d, column 16: invalid JSON", lineNo("n_layer"))},
		{"truncated", good[:40], "", "line 3, column 14: invalid JSON: unexpected end of JSON input"},
		{"more layers than file", set("n_layer", "2"), "", `missing tensor "transformer.h.1.ln_1.weight"`},
		{"no value head in config", set("value_head", "false"), "", `unexpected tensor "value_head.bias" (config.json has value_head false)`},
		{"bad tokenizer", good, `{"type":"bpe","vocab_size":259,"bos_token_id":256,"eos_token_id":257,"pad_token_id":258}`, "tokenizer: unsupported spec"},
		{"tokenizer unknown key", good, `{"kind":"byte"}`, `tokenizer.json: json: unknown field "kind"`},
		{"HF tokenizer with regex", good, strings.Replace(string(tokenizer.HFTokenizerJSON()), `"use_regex": false`, `"use_regex": true`, 1),
			`tokenizer.json: tokenizer: pre_tokenizer.use_regex: got true, want false`},
		{"HF tokenizer, other vocab", good, strings.Replace(string(tokenizer.HFTokenizerJSON()), `"a": 97,`, `"a": 98,`, 1),
			`tokenizer.json: tokenizer: model.vocab.a: got 98, want 97`},
		{"HF tokenizer, duplicate key", good, strings.Replace(string(tokenizer.HFTokenizerJSON()), `"padding": null,`, `"padding": null, "padding": null,`, 1),
			`tokenizer.json: tokenizer: duplicate key "padding"`},
	}
	tokPath := filepath.Join(dir, TokenizerFile)
	goodTok := readFile(t, tokPath)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, cfgPath, []byte(tc.config))
			tok := goodTok
			if tc.tok != "" {
				tok = []byte(tc.tok)
			}
			writeFile(t, tokPath, tok)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load accepted a bad config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
	os.Remove(cfgPath)
	if _, err := Load(dir); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), cfgPath) {
		t.Fatalf("missing config.json: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing checkpoint: %v", err)
	}
}

// TestTokenizerFiles: Save writes the Hugging Face tokenizer files, and
// Load also accepts checkpoints written before them, whose tokenizer.json
// is grao's Spec and which have no tokenizer_config.json (cached base
// models).
func TestTokenizerFiles(t *testing.T) {
	dir, p := saveTiny(t, nil)
	if got := readFile(t, filepath.Join(dir, TokenizerFile)); !bytes.Equal(got, tokenizer.HFTokenizerJSON()) {
		t.Errorf("%s is not tokenizer.HFTokenizerJSON()", TokenizerFile)
	}
	if got := readFile(t, filepath.Join(dir, TokenizerConfigFile)); !bytes.Equal(got, tokenizer.HFTokenizerConfigJSON(p.Config.Context)) {
		t.Errorf("%s is not tokenizer.HFTokenizerConfigJSON(%d)", TokenizerConfigFile, p.Config.Context)
	}
	if spec, err := LoadTokenizer(dir); err != nil || spec != (tokenizer.Byte{}).Spec() {
		t.Fatalf("LoadTokenizer: %+v, %v", spec, err)
	}

	// As the previous Save wrote it.
	legacy := `{
  "type": "byte",
  "vocab_size": 259,
  "bos_token_id": 256,
  "eos_token_id": 257,
  "pad_token_id": 258
}
`
	writeFile(t, filepath.Join(dir, TokenizerFile), []byte(legacy))
	if err := os.Remove(filepath.Join(dir, TokenizerConfigFile)); err != nil {
		t.Fatal(err)
	}
	if spec, err := LoadTokenizer(dir); err != nil || spec != (tokenizer.Byte{}).Spec() {
		t.Fatalf("LoadTokenizer of a legacy tokenizer.json: %+v, %v", spec, err)
	}
	q, err := Load(dir)
	if err != nil {
		t.Fatalf("Load of a checkpoint with a legacy tokenizer.json: %v", err)
	}
	if !slices.Equal(q.WTE.Data, p.WTE.Data) {
		t.Fatal("legacy checkpoint loaded different weights")
	}
	// Saving over it (as the experiments runner does when it copies a
	// cached base model) brings it up to date.
	if err := Save(dir, q, nil); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, TokenizerFile)); !bytes.Equal(got, tokenizer.HFTokenizerJSON()) {
		t.Errorf("re-saved %s is not the HF file", TokenizerFile)
	}
	if got := dirFiles(t, dir); !slices.Equal(got, []string{ConfigFile, WeightsFile, TokenizerFile, TokenizerConfigFile}) {
		t.Fatalf("files after re-save: %v", got)
	}
}

func TestLoadConfigAcceptsHFExtras(t *testing.T) {
	// transformers' save_pretrained adds generic keys; they must not break
	// loading, while the ones that change the computation are checked above.
	dir, p := saveTiny(t, nil)
	cfgPath := filepath.Join(dir, ConfigFile)
	s := strings.Replace(string(readFile(t, cfgPath)), "{", `{
  "transformers_version": "4.44.0",
  "initializer_range": 0.02,
  "use_cache": true,
  "summary_type": "cls_index",`, 1)
	writeFile(t, cfgPath, []byte(s))
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c != p.Config {
		t.Fatalf("config %+v, want %+v", c, p.Config)
	}
}

// TestAtomicWrite simulates a crash in the middle of writing: the final
// name keeps its old content and no temporary file is left behind.
func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.bin")
	if err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("old")); return err }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	crash := errors.New("simulated crash")
	err = writeAtomic(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("new"), 1<<20)) // more than the buffer: reaches the temp file
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("error %v", err)
	}
	if got := string(readFile(t, path)); got != "old" {
		t.Fatalf("file holds %d bytes after a failed write, want the old content", len(got))
	}
	if got := dirFiles(t, dir); !slices.Equal(got, []string{"x.bin"}) {
		t.Fatalf("left behind %v", got)
	}
	if err := writeAtomic(filepath.Join(dir, "no", "such", "dir"), func(io.Writer) error { return nil }); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func ExampleSave() {
	c, _ := model.Preset("tiny")
	p, _ := model.Init(c, 1)
	dir, _ := os.MkdirTemp("", "ckpt")
	defer os.RemoveAll(dir)
	if err := Save(dir, p, map[string]string{"step": "100"}); err != nil {
		fmt.Println(err)
		return
	}
	q, err := Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Config.DModel, q.Config.NLayer, len(q.All()), q.WTE.Data[5] == p.WTE.Data[5])
	// Output: 64 2 28 true
}
