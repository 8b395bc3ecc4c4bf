package tokenizer

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
)

// BPE is GPT-2's byte-level BPE tokenizer: the text is split into words
// by GPT-2's pattern (gpt2Split), each word's UTF-8 bytes start as one
// token each and the merges are applied by rank, as in GPT-2's
// encoder.py. It is loaded from GPT-2's own files (LoadBPE) or from a
// Hugging Face tokenizer.json of the same kind (LoadHFTokenizer). Its
// methods are safe for concurrent use.
type BPE struct {
	text    []string // id → the bytes the token stands for
	known   []bool   // id → whether the id is a token (ids may have holes)
	ids     map[string]int
	byteID  [256]int32
	merges  map[uint64]bpeMerge
	special []specialToken // longest first, for EncodeWithSpecial
	split   bool           // GPT-2's pattern; false: the whole text is one word

	mu    sync.Mutex
	cache map[string][]int32
}

type bpeMerge struct{ rank, id int32 }

type specialToken struct {
	text string
	id   int
}

// The cache keeps the words of recent text; clearing it when full bounds
// its memory without bookkeeping, and long words, which rarely repeat,
// stay out of it.
const (
	bpeCacheEntries = 1 << 16
	bpeCacheMaxWord = 128
)

// charByte inverts byteChars: the byte a character of the byte-level
// alphabet stands for, or -1.
var charByte = func() (m [0x144]int16) {
	for i := range m {
		m[i] = -1
	}
	for b, r := range byteChars {
		m[r] = int16(b)
	}
	return m
}()

// tokenBytes is what a vocabulary entry stands for: the bytes of its
// byte-level characters, or, for an entry outside that alphabet (an added
// token's name), the entry itself, as Hugging Face's ByteLevel decoder
// does.
func tokenBytes(tok string) string {
	b := make([]byte, 0, len(tok))
	for _, r := range tok {
		if r >= rune(len(charByte)) || charByte[r] < 0 {
			return tok
		}
		b = append(b, byte(charByte[r]))
	}
	return string(b)
}

// vocabEntry is one token of a vocabulary, with where it was read for
// errors.
type vocabEntry struct {
	tok string
	id  int
	at  string
}

// mergeEntry is one merge rule, in rank order.
type mergeEntry struct {
	a, b string
	at   string
}

// buildBPE checks a vocabulary and its merges and indexes them. added
// are the tokens EncodeWithSpecial recognises by their text; with
// added == nil they are the vocabulary's entries that neither stand for
// a single byte nor result from a merge (in GPT-2, "<|endoftext|>").
func buildBPE(file string, vocab []vocabEntry, merges []mergeEntry, added []specialToken, split bool) (*BPE, error) {
	t := &BPE{ids: make(map[string]int, len(vocab)), merges: make(map[uint64]bpeMerge, len(merges)), split: split}
	size := 0
	for _, e := range vocab {
		size = max(size, e.id+1)
	}
	for _, a := range added {
		size = max(size, a.id+1)
	}
	if size > math.MaxInt32 {
		return nil, fmt.Errorf("tokenizer: %s: ids up to %d do not fit in 32 bits", file, size-1)
	}
	t.text = make([]string, size)
	t.known = make([]bool, size)
	byID := make([]string, size)
	for _, e := range vocab {
		if t.known[e.id] {
			return nil, fmt.Errorf("tokenizer: %s: %s: id %d is also the id of %q", file, e.at, e.id, byID[e.id])
		}
		t.known[e.id] = true
		byID[e.id] = e.tok
		t.text[e.id] = tokenBytes(e.tok)
		t.ids[e.tok] = e.id
	}
	reached := make([]bool, size)
	for b, r := range byteChars {
		id, ok := t.ids[string(r)]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: the vocabulary has no token for byte %#02x (%q), which byte-level BPE needs", file, b, string(r))
		}
		t.byteID[b] = int32(id)
		reached[id] = true
	}
	for rank, m := range merges {
		a, okA := t.ids[m.a]
		b, okB := t.ids[m.b]
		ab, okAB := t.ids[m.a+m.b]
		switch {
		case !okA:
			return nil, fmt.Errorf("tokenizer: %s: %s: %q is not in the vocabulary", file, m.at, m.a)
		case !okB:
			return nil, fmt.Errorf("tokenizer: %s: %s: %q is not in the vocabulary", file, m.at, m.b)
		case !okAB:
			return nil, fmt.Errorf("tokenizer: %s: %s: the merged token %q is not in the vocabulary", file, m.at, m.a+m.b)
		}
		key := pairKey(int32(a), int32(b))
		if prev, dup := t.merges[key]; dup {
			return nil, fmt.Errorf("tokenizer: %s: %s: repeats the merge of rank %d (%q %q)", file, m.at, prev.rank, m.a, m.b)
		}
		t.merges[key] = bpeMerge{rank: int32(rank), id: int32(ab)}
		reached[ab] = true
	}
	if added == nil {
		for _, e := range vocab {
			if !reached[e.id] {
				added = append(added, specialToken{text: t.text[e.id], id: e.id})
			}
		}
	}
	for _, a := range added {
		if a.text == "" {
			return nil, fmt.Errorf("tokenizer: %s: added token %d has no text", file, a.id)
		}
		if t.known[a.id] && t.text[a.id] != a.text {
			return nil, fmt.Errorf("tokenizer: %s: added token %q has id %d, the id of %q", file, a.text, a.id, byID[a.id])
		}
		if id, ok := t.ids[a.text]; ok && id != a.id {
			return nil, fmt.Errorf("tokenizer: %s: added token %q has id %d, but the vocabulary gives it id %d", file, a.text, a.id, id)
		}
		t.known[a.id] = true
		t.text[a.id] = a.text
		t.ids[a.text] = a.id
		t.special = append(t.special, a)
	}
	// Longest first, so that a token that begins another loses to it at
	// the same position.
	sort.SliceStable(t.special, func(i, j int) bool { return len(t.special[i].text) > len(t.special[j].text) })
	return t, nil
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// LoadBPE reads GPT-2's vocabulary (vocab.json, called encoder.json in
// GPT-2's release: token → id) and merges (merges.txt, alias vocab.bpe:
// one "a b" pair a line in rank order, after an optional "#version"
// line). The added tokens are the vocabulary's entries that are neither a
// byte nor the result of a merge: "<|endoftext|>" for GPT-2.
func LoadBPE(vocabJSON, mergesTXT io.Reader) (*BPE, error) {
	vocab, err := readVocab(vocabJSON, "vocab.json", "")
	if err != nil {
		return nil, err
	}
	merges, err := readMergesTXT(mergesTXT)
	if err != nil {
		return nil, err
	}
	return buildBPE("vocab.json + merges.txt", vocab, merges, nil, true)
}

// readVocab reads a JSON object of token → id token by token, so that a
// repeated token is an error (encoding/json would keep the last) and
// errors can give the byte offset.
func readVocab(r io.Reader, file, key string) ([]vocabEntry, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	where := func() string {
		if key != "" {
			return fmt.Sprintf("%s %s, offset %d", file, key, d.InputOffset())
		}
		return fmt.Sprintf("%s offset %d", file, d.InputOffset())
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s", where(), fmt.Sprintf(format, args...))
	}
	if tok, err := d.Token(); err != nil {
		return nil, fail("%v", err)
	} else if tok != json.Delim('{') {
		return nil, fail("want an object of token → id, got %v", tok)
	}
	var vocab []vocabEntry
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, fail("%v", err)
		}
		s, ok := tok.(string)
		if !ok { // unreachable: encoding/json only yields strings as keys
			return nil, fail("want a token, got %v", tok)
		}
		if seen[s] {
			return nil, fail("token %q appears twice", s)
		}
		seen[s] = true
		at := where()
		val, err := d.Token()
		if err != nil {
			return nil, fail("%v", err)
		}
		num, ok := val.(json.Number)
		if !ok {
			return nil, fail("token %q: want an integer id, got %v", s, describeToken(val))
		}
		id, err := num.Int64()
		if err != nil || id < 0 || id >= math.MaxInt32 {
			return nil, fail("token %q: id %s is not an integer in [0, 2³¹-1)", s, num)
		}
		vocab = append(vocab, vocabEntry{tok: s, id: int(id), at: "token " + string(marshalString(s)) + " at " + at})
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return nil, fail("%v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fail("unexpected data after the vocabulary")
	}
	if len(vocab) == 0 {
		return nil, fail("empty vocabulary")
	}
	return vocab, nil
}

func describeToken(v json.Token) string {
	switch v := v.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return string(marshalString(v))
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

func readMergesTXT(r io.Reader) ([]mergeEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var merges []mergeEntry
	blank := 0 // the first blank line, an error unless only blank lines follow
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 && strings.HasPrefix(s, "#version") {
			continue
		}
		if s == "" {
			blank = cmp.Or(blank, line)
			continue
		}
		if blank > 0 {
			return nil, fmt.Errorf("tokenizer: merges.txt line %d: blank line before the last merge", blank)
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: merges.txt line %d: want two tokens separated by one space, got %q", line, s)
		}
		merges = append(merges, mergeEntry{a: a, b: b, at: fmt.Sprintf("merges.txt line %d", line)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: merges.txt: %w", err)
	}
	return merges, nil
}

// LoadHFTokenizer reads a Hugging Face tokenizer.json whose model is BPE
// over GPT-2's byte-level alphabet: no normalizer, a ByteLevel
// pre-tokenizer without add_prefix_space (with use_regex, GPT-2's split;
// without, the whole text is one word), merges as "a b" strings or
// ["a", "b"] pairs. Its added_tokens are what EncodeWithSpecial
// recognises; its post_processor is not applied (Encode adds no token
// the text does not hold). Anything else is refused, with the key that is not
// supported, rather than encoded differently from Hugging Face.
func LoadHFTokenizer(tokenizerJSON io.Reader) (*BPE, error) {
	var doc struct {
		AddedTokens []struct {
			ID         *int    `json:"id"`
			Content    *string `json:"content"`
			SingleWord bool    `json:"single_word"`
			LStrip     bool    `json:"lstrip"`
			RStrip     bool    `json:"rstrip"`
		} `json:"added_tokens"`
		Normalizer   json.RawMessage `json:"normalizer"`
		PreTokenizer json.RawMessage `json:"pre_tokenizer"`
		Model        *struct {
			Type                    string          `json:"type"`
			Dropout                 *float64        `json:"dropout"`
			ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
			EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
			IgnoreMerges            bool            `json:"ignore_merges"`
			Vocab                   json.RawMessage `json:"vocab"`
			Merges                  json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	const file = "tokenizer.json"
	if err := json.NewDecoder(tokenizerJSON).Decode(&doc); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", file, err)
	}
	fail := func(key, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s: %s", file, key, fmt.Sprintf(format, args...))
	}
	m := doc.Model
	switch {
	case m == nil:
		return nil, fail("model", "missing")
	case m.Type != "BPE":
		return nil, fail("model.type", "%q is not supported (want \"BPE\")", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fail("model.dropout", "%v is not supported (dropout makes encoding random)", *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, fail("model.continuing_subword_prefix", "%q is not supported", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, fail("model.end_of_word_suffix", "%q is not supported", *m.EndOfWordSuffix)
	case m.IgnoreMerges:
		return nil, fail("model.ignore_merges", "true is not supported")
	case len(m.Vocab) == 0:
		return nil, fail("model.vocab", "missing")
	}
	if n := bytes.TrimSpace(doc.Normalizer); len(n) > 0 && !bytes.Equal(n, []byte("null")) {
		return nil, fail("normalizer", "%s is not supported (want null)", clip(n))
	}
	var pre struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       *bool  `json:"use_regex"`
	}
	if err := json.Unmarshal(doc.PreTokenizer, &pre); err != nil || len(doc.PreTokenizer) == 0 {
		return nil, fail("pre_tokenizer", "want a ByteLevel pre-tokenizer, got %s", clip(doc.PreTokenizer))
	}
	if pre.Type != "ByteLevel" {
		return nil, fail("pre_tokenizer.type", "%q is not supported (want \"ByteLevel\")", pre.Type)
	}
	if pre.AddPrefixSpace {
		return nil, fail("pre_tokenizer.add_prefix_space", "true is not supported")
	}
	split := pre.UseRegex == nil || *pre.UseRegex // the tokenizers default

	vocab, err := readVocab(bytes.NewReader(m.Vocab), file, "model.vocab")
	if err != nil {
		return nil, err
	}
	var rawMerges []json.RawMessage
	if len(m.Merges) > 0 {
		if err := json.Unmarshal(m.Merges, &rawMerges); err != nil {
			return nil, fail("model.merges", "want an array: %v", err)
		}
	}
	merges := make([]mergeEntry, len(rawMerges))
	for i, raw := range rawMerges {
		key := fmt.Sprintf("model.merges[%d]", i)
		var s string
		var pair []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, fail(key, "want two tokens separated by one space, got %q", s)
			}
			pair = []string{a, b}
		case json.Unmarshal(raw, &pair) == nil:
			if len(pair) != 2 {
				return nil, fail(key, "want a pair of tokens, got %d", len(pair))
			}
		default:
			return nil, fail(key, "want \"a b\" or [\"a\", \"b\"], got %s", clip(raw))
		}
		merges[i] = mergeEntry{a: pair[0], b: pair[1], at: key}
	}
	added := []specialToken{}
	for i, a := range doc.AddedTokens {
		key := fmt.Sprintf("added_tokens[%d]", i)
		switch {
		case a.ID == nil || *a.ID < 0 || *a.ID >= math.MaxInt32:
			return nil, fail(key+".id", "want an id in [0, 2³¹-1)")
		case a.Content == nil || *a.Content == "":
			return nil, fail(key+".content", "want a non-empty string")
		case a.SingleWord || a.LStrip || a.RStrip:
			return nil, fail(key, "single_word, lstrip and rstrip are not supported")
		}
		added = append(added, specialToken{text: *a.Content, id: *a.ID})
	}
	return buildBPE(file, vocab, merges, added, split)
}

// clip shortens raw JSON for an error message.
func clip(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	if r := []rune(string(raw)); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return string(raw)
}

// VocabSize is one more than the largest id.
func (t *BPE) VocabSize() int { return len(t.text) }

// TokenID is the id of a token given as the vocabulary spells it (in
// GPT-2's byte-level alphabet: "Ġthe" for " the") or an added token's
// text ("<|endoftext|>").
func (t *BPE) TokenID(s string) (int, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// Encode is the ids of text, with added tokens such as "<|endoftext|>"
// encoded as the plain text they are (what GPT-2's encoder.py and
// tiktoken's encode_ordinary do): text from users cannot inject them.
func (t *BPE) Encode(text string) []int {
	return t.appendText(make([]int, 0, len(text)/3+1), text)
}

// EncodeWithSpecial is Encode, except that the added tokens found in text
// become their ids (the leftmost first; the longest where two start at
// the same place).
func (t *BPE) EncodeWithSpecial(text string) []int {
	ids := make([]int, 0, len(text)/3+1)
	if len(t.special) == 0 {
		return t.appendText(ids, text)
	}
	// next[i] is where special[i] occurs next at or after pos (-1: never
	// again), so each token's occurrences are searched for once.
	next := make([]int, len(t.special))
	for i := range next {
		next[i] = -2
	}
	pos := 0
	for pos < len(text) {
		best := -1
		for i, s := range t.special {
			if next[i] == -2 || next[i] >= 0 && next[i] < pos {
				next[i] = -1
				if j := strings.Index(text[pos:], s.text); j >= 0 {
					next[i] = pos + j
				}
			}
			if next[i] >= 0 && (best < 0 || next[i] < next[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		ids = t.appendText(ids, text[pos:next[best]])
		ids = append(ids, t.special[best].id)
		pos = next[best] + len(t.special[best].text)
	}
	return t.appendText(ids, text[pos:])
}

func (t *BPE) appendText(ids []int, text string) []int {
	if !t.split {
		if text == "" {
			return ids
		}
		return t.appendWord(ids, text)
	}
	gpt2Split(text, func(w string) { ids = t.appendWord(ids, w) })
	return ids
}

func (t *BPE) appendWord(ids []int, w string) []int {
	if len(w) == 1 {
		return append(ids, int(t.byteID[w[0]]))
	}
	cacheable := len(w) <= bpeCacheMaxWord
	if cacheable {
		t.mu.Lock()
		got, ok := t.cache[w]
		t.mu.Unlock()
		if ok {
			for _, id := range got {
				ids = append(ids, int(id))
			}
			return ids
		}
	}
	syms := t.merge(w)
	if cacheable {
		t.mu.Lock()
		if len(t.cache) >= bpeCacheEntries || t.cache == nil {
			t.cache = make(map[string][]int32, 1024)
		}
		t.cache[strings.Clone(w)] = syms
		t.mu.Unlock()
	}
	for _, id := range syms {
		ids = append(ids, int(id))
	}
	return ids
}

// merge is GPT-2's bpe(): starting from one token a byte, merge every
// occurrence (left to right) of the adjacent pair of lowest rank, until no
// adjacent pair has a rank. Quadratic in the word's length, like the
// original; the cache makes up for it on text.
func (t *BPE) merge(w string) []int32 {
	syms := make([]int32, len(w))
	for i := 0; i < len(w); i++ {
		syms[i] = t.byteID[w[i]]
	}
	for len(syms) > 1 {
		best := bpeMerge{rank: -1}
		var a, b int32
		for i := 0; i+1 < len(syms); i++ {
			if m, ok := t.merges[pairKey(syms[i], syms[i+1])]; ok && (best.rank < 0 || m.rank < best.rank) {
				best, a, b = m, syms[i], syms[i+1]
			}
		}
		if best.rank < 0 {
			break
		}
		j := 0
		for i := 0; i < len(syms); j++ {
			if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
				syms[j] = best.id
				i += 2
			} else {
				syms[j] = syms[i]
				i++
			}
		}
		syms = syms[:j]
	}
	return syms
}

// Decode is the text of ids: the bytes each token stands for, an added
// token's text for an added token. An id that is no token is an error.
// The bytes of a single token need not be valid UTF-8 (GPT-2 splits
// characters across tokens), so a slice of an encoding may decode to
// invalid UTF-8; the whole encoding decodes to the text.
func (t *BPE) Decode(ids []int) (string, error) {
	var b strings.Builder
	for i, id := range ids {
		if id < 0 || id >= len(t.text) || !t.known[id] {
			return "", fmt.Errorf("tokenizer: id %d (at %d) is not in the vocabulary of %d", id, i, len(t.text))
		}
		b.WriteString(t.text[id])
	}
	return b.String(), nil
}
