package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
)

// Names of the special tokens in the Hugging Face files. EOS is GPT-2's
// "<|endoftext|>"; BOS and PAD have no GPT-2 counterpart and get names of
// the same shape.
const (
	BOSToken = "<|bos|>"
	EOSToken = "<|endoftext|>"
	PADToken = "<|pad|>"
)

// byteChars[b] is the character GPT-2's bytes_to_unicode assigns to byte b
// (the alphabet of the ByteLevel pre-tokenizer): the printable Latin-1
// bytes '!'–'~', '¡'–'¬' and '®'–'ÿ' stand for themselves, the other 68
// bytes take U+0100, U+0101, … in byte order (space is 'Ġ', '\n' is 'Ċ').
var byteChars = func() (m [256]rune) {
	next := rune(256)
	for b := range 256 {
		if '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}()

// The tokenizer.json document (the serialization of the tokenizers
// library, version "1.0"). Field order is the output order, the one
// tokenizers itself writes.
type (
	hfTokenizer struct {
		Version       string         `json:"version"`
		Truncation    any            `json:"truncation"`
		Padding       any            `json:"padding"`
		AddedTokens   []hfAddedToken `json:"added_tokens"`
		Normalizer    any            `json:"normalizer"`
		PreTokenizer  hfByteLevel    `json:"pre_tokenizer"`
		PostProcessor any            `json:"post_processor"`
		Decoder       hfByteLevel    `json:"decoder"`
		Model         hfBPE          `json:"model"`
	}
	hfAddedToken struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	hfByteLevel struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		TrimOffsets    bool   `json:"trim_offsets"`
		UseRegex       bool   `json:"use_regex"`
	}
	hfBPE struct {
		Type                    string   `json:"type"`
		Dropout                 *float64 `json:"dropout"`
		UnkToken                *string  `json:"unk_token"`
		ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
		FuseUnk                 bool     `json:"fuse_unk"`
		ByteFallback            bool     `json:"byte_fallback"`
		IgnoreMerges            bool     `json:"ignore_merges"`
		Vocab                   hfVocab  `json:"vocab"`
		Merges                  []string `json:"merges"`
	}
	// hfVocab lists tokens by id; it marshals as the token → id object
	// in id order, as tokenizers writes it.
	hfVocab []string
)

func (v hfVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for id, tok := range v {
		if id > 0 {
			b.WriteByte(',')
		}
		b.Write(marshalString(tok))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalString is s as a JSON string, without the HTML escaping of
// json.Marshal (so "<|bos|>" stays readable).
func marshalString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

func specials() []hfAddedToken {
	tok := func(id int, content string) hfAddedToken {
		return hfAddedToken{ID: id, Content: content, Special: true}
	}
	return []hfAddedToken{tok(BOS, BOSToken), tok(EOS, EOSToken), tok(PAD, PADToken)}
}

func hfDoc() hfTokenizer {
	vocab := make(hfVocab, VocabSize)
	for b, r := range byteChars {
		vocab[b] = string(r)
	}
	for _, s := range specials() {
		vocab[s.ID] = s.Content
	}
	// No regex split and no prefix space: the whole text is one word,
	// every byte becomes its character, and with no merges each
	// character is one token whose id is the byte.
	byteLevel := hfByteLevel{Type: "ByteLevel", AddPrefixSpace: false, TrimOffsets: true, UseRegex: false}
	return hfTokenizer{
		Version:      "1.0",
		AddedTokens:  specials(),
		PreTokenizer: byteLevel,
		Decoder:      byteLevel,
		Model:        hfBPE{Type: "BPE", Vocab: vocab, Merges: []string{}},
	}
}

// marshalIndent is json.MarshalIndent without HTML escaping, with a final
// newline.
func marshalIndent(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("tokenizer: marshalling a fixed document: %v", err)) // unreachable: plain types only
	}
	return b.Bytes()
}

// HFTokenizerJSON returns the byte tokenizer as a Hugging Face tokenizers
// file (tokenizer.json, format version "1.0"): a BPE model with no merges
// whose vocabulary maps the ByteLevel character of byte b to id b and the
// three special tokens to 256–258; a ByteLevel pre-tokenizer with
// add_prefix_space and use_regex off (no splitting, no space added); a
// ByteLevel decoder; no normalizer and no post-processor, so encoding adds
// no special token (grao prepends BOS itself). tokenizers, transformers'
// PreTrainedTokenizerFast and tokenizers.js then encode any text to
// exactly Byte.Encode's ids. The one difference: text that contains a
// special token's name (e.g. "<|endoftext|>") encodes to that token's id
// there, to its bytes in Byte.Encode.
//
// The bytes are always the same (fixed key order, vocabulary in id order).
func HFTokenizerJSON() []byte { return marshalIndent(hfDoc()) }

// hfTokenizerConfig is tokenizer_config.json as written.
type hfTokenizerConfig struct {
	TokenizerClass            string                  `json:"tokenizer_class"`
	BOSToken                  string                  `json:"bos_token"`
	EOSToken                  string                  `json:"eos_token"`
	PADToken                  string                  `json:"pad_token"`
	AddBOSToken               bool                    `json:"add_bos_token"`
	AddEOSToken               bool                    `json:"add_eos_token"`
	CleanUpTokenizationSpaces bool                    `json:"clean_up_tokenization_spaces"`
	ModelMaxLength            int                     `json:"model_max_length"`
	AddedTokensDecoder        map[string]hfAddedEntry `json:"added_tokens_decoder"`
}

// hfAddedEntry is an added token as transformers lists it in
// tokenizer_config.json (keyed by id).
type hfAddedEntry struct {
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	Normalized bool   `json:"normalized"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Special    bool   `json:"special"`
}

// HFTokenizerConfigJSON returns tokenizer_config.json for a model with the
// given context length, which transformers' AutoTokenizer (and
// transformers.js) read beside tokenizer.json: the class
// PreTrainedTokenizerFast (load tokenizer.json as is; GPT-2's own classes
// would re-split the text with their regex), the special tokens, no BOS or
// EOS added on encoding, no clean-up of spaces on decoding (it would break
// the round trip, e.g. "a ." → "a."), and model_max_length = context.
// The bytes depend only on context.
func HFTokenizerConfigJSON(context int) []byte {
	added := map[string]hfAddedEntry{} // json sorts the keys: "256", "257", "258"
	for _, s := range specials() {
		added[strconv.Itoa(s.ID)] = hfAddedEntry{Content: s.Content, Normalized: s.Normalized, Special: s.Special}
	}
	return marshalIndent(hfTokenizerConfig{
		TokenizerClass:     "PreTrainedTokenizerFast",
		BOSToken:           BOSToken,
		EOSToken:           EOSToken,
		PADToken:           PADToken,
		ModelMaxLength:     context,
		AddedTokensDecoder: added,
	})
}

// CheckHFTokenizerJSON accepts b only if it is a tokenizer.json describing
// exactly the byte tokenizer: the same JSON value as HFTokenizerJSON (key
// order, spacing and string escapes may differ; no key may be missing,
// added or repeated, numbers are integers as written there). The error
// names the first key that differs.
func CheckHFTokenizerJSON(b []byte) error {
	if err := noDuplicateKeys(b); err != nil {
		return err
	}
	var got any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&got); err != nil {
		return err
	}
	if path, reason := diff(got, canonical(), ""); reason != "" {
		if path == "" {
			path = "(top level)"
		}
		return fmt.Errorf("tokenizer: %s: %s (only grao's byte tokenizer is supported)", path, reason)
	}
	return nil
}

// canonical is HFTokenizerJSON decoded as CheckHFTokenizerJSON decodes
// (numbers as json.Number). Read only.
var canonical = sync.OnceValue(func() any {
	var v any
	d := json.NewDecoder(bytes.NewReader(HFTokenizerJSON()))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(fmt.Sprintf("tokenizer: decoding HFTokenizerJSON: %v", err)) // unreachable: tested
	}
	return v
})

// noDuplicateKeys walks the JSON tokens of b, without recursion, and
// rejects an object with a repeated key (encoding/json would keep the last
// one silently) or data after the value.
func noDuplicateKeys(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []frame
	for {
		t, err := d.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if top.wantKey {
				if k, ok := t.(string); ok {
					if top.keys[k] {
						return fmt.Errorf("tokenizer: duplicate key %q", k)
					}
					top.keys[k] = true
					top.wantKey = false
					continue
				}
				// Otherwise t is the closing '}'.
			} else {
				top.wantKey = true // t is this key's value
			}
		}
		switch t {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 && d.More() {
			return errors.New("tokenizer: unexpected data after the JSON value")
		}
	}
}

// diff compares a decoded JSON value with the expected one and returns the
// path and reason of the first difference ("" when equal). It recurses
// only as deep as want, so hostile nesting in got costs nothing.
func diff(got, want any, path string) (string, string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, fmt.Sprintf("got %s, want an object", describe(got))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return keyPath(path, k), "missing"
			}
			if p, r := diff(gv, w[k], keyPath(path, k)); r != "" {
				return p, r
			}
		}
		extra := make([]string, 0, len(g))
		for k := range g {
			if _, ok := w[k]; !ok {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			return keyPath(path, extra[0]), "unexpected key"
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return path, fmt.Sprintf("got %s, want an array", describe(got))
		}
		if len(g) != len(w) {
			return path, fmt.Sprintf("has %d elements, want %d", len(g), len(w))
		}
		for i := range w {
			if p, r := diff(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); r != "" {
				return p, r
			}
		}
	case json.Number:
		// Spelled as tokenizers writes it: 256, not 256.0 or 2.56e2
		// (which its integer fields refuse).
		if g, ok := got.(json.Number); !ok || g != w {
			return path, fmt.Sprintf("got %s, want %s", describe(got), w)
		}
	default: // string, bool, nil
		if got != want {
			return path, fmt.Sprintf("got %s, want %s", describe(got), describe(want))
		}
	}
	return "", ""
}

// describe is a short rendering of a decoded JSON value for errors.
func describe(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	case string:
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "…"
		}
		return string(marshalString(v))
	default:
		return fmt.Sprint(v)
	}
}

// keyPath appends an object key to a path: .name for identifiers,
// ["…"] (JSON-quoted) otherwise.
func keyPath(path, k string) string {
	ident := k != ""
	for _, r := range k {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			ident = false
		}
	}
	if !ident {
		return path + "[" + string(marshalString(k)) + "]"
	}
	if path == "" {
		return k
	}
	return path + "." + k
}
