package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/core/tokenizer"
)

// The Hugging Face tokenizer check: the tokenizer.json and
// tokenizer_config.json of a checkpoint written by Save, loaded by Hugging
// Face's own implementations (testdata/hfjs/tokenize.mjs: the Rust
// tokenizers library behind Python's tokenizers and transformers' fast
// tokenizers, through its Node bindings, and tokenizers.js, the tokenizer
// of transformers.js), must encode text to exactly tokenizer.Byte's ids and
// decode them back.
//
// It needs node (tested with v20) on PATH and `npm ci --prefix core/checkpoint/testdata/hfjs`.
// Without them, or with -short, the test skips, unless
// GRAO_REQUIRE_HF_JS=1 (CI sets it after the npm ci) turns the skip into a
// failure.

const hfjsDir = "testdata/hfjs"

func needHFJS(t *testing.T) string {
	t.Helper()
	skip := t.Skip
	if os.Getenv("GRAO_REQUIRE_HF_JS") == "1" {
		skip = t.Fatal
	}
	if testing.Short() {
		skip("tokenizers.js check skipped in -short mode")
		return ""
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not found on PATH; install Node.js (tested with v20), then: npm ci --prefix core/checkpoint/" + hfjsDir)
		return ""
	}
	if _, err := os.Stat(filepath.Join(hfjsDir, "node_modules", "@huggingface", "tokenizers", "package.json")); err != nil {
		skip("@huggingface/tokenizers is not installed; run: npm ci --prefix core/checkpoint/" + hfjsDir)
	}
	if _, err := os.Stat(filepath.Join(hfjsDir, "node_modules", "tokenizers", "package.json")); err != nil {
		skip("tokenizers is not installed; run: npm ci --prefix core/checkpoint/" + hfjsDir)
	}
	return node
}

type hfjsImpl struct {
	Library string         `json:"library"`
	Special map[string]int `json:"special"`
	Results []struct {
		Text           string `json:"text"`
		IDs            []int  `json:"ids"`
		Decoded        string `json:"decoded"`
		DecodedWrapped string `json:"decoded_wrapped"`
	} `json:"results"`
	Resaved string `json:"resaved"`
}

// hfjsTokenize runs tokenize.mjs on the checkpoint dir: one result per
// implementation (Rust tokenizers, then tokenizers.js).
func hfjsTokenize(t *testing.T, node, dir string, texts []string) []hfjsImpl {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := json.Marshal(map[string]any{"texts": texts})
	cmd := exec.CommandContext(ctx, node, filepath.Join(hfjsDir, "tokenize.mjs"), dir)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node tokenize.mjs: %v\n%s", err, stderr.Bytes())
	}
	var resp struct {
		Implementations []hfjsImpl `json:"implementations"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("tokenize.mjs output: %v\n%s", err, out)
	}
	if len(resp.Implementations) != 2 {
		t.Fatalf("tokenize.mjs ran %d implementations, want 2", len(resp.Implementations))
	}
	for _, impl := range resp.Implementations {
		if len(impl.Results) != len(texts) {
			t.Fatalf("%s: %d results for %d texts", impl.Library, len(impl.Results), len(texts))
		}
	}
	return resp.Implementations
}

// TestHFTokenizerJS is the acceptance check: Save → Hugging Face ids =
// tokenizer.Byte ids, and decode round-trips.
func TestHFTokenizerJS(t *testing.T) {
	node := needHFJS(t)
	dir, _ := saveTiny(t, nil)
	ascii := make([]byte, 128)
	for i := range ascii {
		ascii[i] = byte(i)
	}
	texts := []string{
		"Hello, grao!",
		"héllo wörld ✓",
		"  leading and trailing spaces  ",
		" ",
		"line one\nline two\n\n",
		"Human: 2+2=?\nAssistant:",
		"Human: 37*12=?\n\nAssistant: 444",
		"tab\there, CRLF\r\n, NUL \x00 end",
		"Hello , world . It 's n't ( x )", // transformers' space clean-up would change this
		"日本語 👋🌍 e\u0301 \u00ad \u2028",
		string(ascii),
		"",
	}
	wantSpecial := map[string]int{"bos": tokenizer.BOS, "eos": tokenizer.EOS, "pad": tokenizer.PAD}
	for _, impl := range hfjsTokenize(t, node, dir, texts) {
		t.Logf("%s", impl.Library)
		if !maps.Equal(impl.Special, wantSpecial) {
			t.Errorf("%s: tokenizer_config.json's special tokens are ids %v, want %v", impl.Library, impl.Special, wantSpecial)
		}
		for i, r := range impl.Results {
			s := texts[i]
			want := tokenizer.Byte{}.Encode(s)
			if !slices.Equal(r.IDs, want) {
				t.Errorf("%s: %q: ids %v, tokenizer.Byte %v", impl.Library, s, r.IDs, want)
			}
			if r.Decoded != s || r.DecodedWrapped != s {
				t.Errorf("%s: %q: decoded %q, with BOS/EOS/PAD skipped %q", impl.Library, s, r.Decoded, r.DecodedWrapped)
			}
			t.Logf("  %q → %v", s, r.IDs)
		}
		// What tokenizers writes when it saves the file again is still
		// accepted: the strict check is not stricter than HF's format.
		if impl.Resaved != "" {
			if err := tokenizer.CheckHFTokenizerJSON([]byte(impl.Resaved)); err != nil {
				t.Errorf("%s: its re-save of tokenizer.json is refused: %v", impl.Library, err)
			}
		}
	}

	// The documented difference: a special token's name in the text is
	// that token for Hugging Face, its bytes for tokenizer.Byte.
	for _, impl := range hfjsTokenize(t, node, dir, []string{tokenizer.EOSToken, "a" + tokenizer.BOSToken}) {
		if got := impl.Results[0].IDs; !slices.Equal(got, []int{tokenizer.EOS}) {
			t.Errorf("%s: %q: ids %v, want [%d]", impl.Library, tokenizer.EOSToken, got, tokenizer.EOS)
		}
		if got := impl.Results[1].IDs; !slices.Equal(got, []int{'a', tokenizer.BOS}) {
			t.Errorf("%s: %q: ids %v, want [%d %d]", impl.Library, "a"+tokenizer.BOSToken, got, 'a', tokenizer.BOS)
		}
	}

	// The check can fail: both read the settings (with add_prefix_space
	// on, "Hi" gains a leading space), and LoadTokenizer refuses that file.
	writeFile(t, filepath.Join(dir, TokenizerFile),
		[]byte(strings.Replace(string(tokenizer.HFTokenizerJSON()), `"add_prefix_space": false`, `"add_prefix_space": true`, 1)))
	if _, err := LoadTokenizer(dir); err == nil {
		t.Fatal("LoadTokenizer accepted add_prefix_space true")
	}
	for _, impl := range hfjsTokenize(t, node, dir, []string{"Hi"}) {
		if got := impl.Results[0].IDs; slices.Equal(got, tokenizer.Byte{}.Encode("Hi")) {
			t.Errorf("%s: with add_prefix_space the ids %v did not change: the check would not notice", impl.Library, got)
		}
	}
}
