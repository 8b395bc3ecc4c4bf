package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Model is a checkpoint with its tokenizer: a grao checkpoint (byte
// tokenizer) or a Hugging Face GPT-2 directory (byte-level BPE).
type Model struct {
	Params    *model.Params
	Tokenizer tokenizer.Tokenizer
	// TokenizerFiles are a BPE tokenizer's files as read (name →
	// contents), written back unchanged by SaveModel; nil for the byte
	// tokenizer, whose files Save writes itself.
	TokenizerFiles map[string][]byte
}

// Files of a Hugging Face GPT-2 tokenizer that a directory may hold; at
// least tokenizer.json or vocab.json with merges.txt.
const (
	VocabFile         = "vocab.json"
	MergesFile        = "merges.txt"
	SpecialTokensFile = "special_tokens_map.json"
)

var bpeFiles = []string{TokenizerFile, VocabFile, MergesFile, TokenizerConfigFile, SpecialTokensFile}

// Open reads the checkpoint at path: a directory Save wrote (or its
// .safetensors file), read with Load's full checks, or a Hugging Face
// GPT-2 model directory of any size (config.json of model_type gpt2,
// model.safetensors with or without the "transformer." prefix, the
// tokenizer as tokenizer.json or vocab.json + merges.txt). Tensors
// transformers keeps but grao does not need are skipped: the causal-mask
// buffers (attn.bias, attn.masked_bias) and lm_head.weight, which must
// equal the tied wte.
func Open(path string) (*Model, error) {
	dir, weights, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if byteModel(dir) {
		p, err := Load(path)
		if err != nil {
			return nil, err
		}
		return &Model{Params: p, Tokenizer: tokenizer.Byte{}}, nil
	}
	c, err := OpenConfig(dir)
	if err != nil {
		return nil, err
	}
	tok, files, err := openBPE(dir, c)
	if err != nil {
		return nil, err
	}
	p, err := loadGPT2(weights, dir, c)
	if err != nil {
		return nil, err
	}
	return &Model{Params: p, Tokenizer: tok, TokenizerFiles: files}, nil
}

// byteModel reports whether config.json declares grao's byte vocabulary
// (or cannot be read: Load then reports why).
func byteModel(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return true
	}
	var v struct {
		VocabSize *int `json:"vocab_size"`
	}
	if json.Unmarshal(b, &v) != nil || v.VocabSize == nil {
		return true
	}
	return *v.VocabSize == tokenizer.VocabSize
}

// OpenConfig is LoadConfig for any checkpoint Open reads: a GPT-2
// directory's config gets its special ids as Config.Tokens.
func OpenConfig(path string) (model.Config, error) {
	dir, _, err := resolve(path)
	if err != nil {
		return model.Config{}, err
	}
	if byteModel(dir) {
		return LoadConfig(dir)
	}
	file := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return model.Config{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, key, err := parseConfigAs(b, false)
	if err != nil {
		if key != "" {
			return model.Config{}, fmt.Errorf("checkpoint: %s:%d: %s: %v", file, keyLine(b, key), key, err)
		}
		return model.Config{}, fmt.Errorf("checkpoint: %s: %v", file, err)
	}
	return c, nil
}

// specialIDs sets c.Tokens from config.json's ids: GPT-2 writes bos and
// eos (both <|endoftext|>) and no pad, which then is eos.
func specialIDs(c *model.Config, in hfConfigIn) (string, error) {
	for _, id := range []struct {
		key string
		v   *int
	}{{"bos_token_id", in.BOSTokenID}, {"eos_token_id", in.EOSTokenID}} {
		if id.v == nil {
			return id.key, errors.New("missing: a GPT-2 directory names its special token")
		}
		if *id.v < 0 || *id.v >= c.VocabSize {
			return id.key, fmt.Errorf("%d is outside the vocabulary of %d", *id.v, c.VocabSize)
		}
	}
	pad := *in.EOSTokenID
	if in.PADTokenID != nil {
		if pad = *in.PADTokenID; pad < 0 || pad >= c.VocabSize {
			return "pad_token_id", fmt.Errorf("%d is outside the vocabulary of %d", pad, c.VocabSize)
		}
	}
	c.Tokens = tokenizer.Specials{BOS: *in.BOSTokenID, EOS: *in.EOSTokenID, PAD: pad}
	return "", nil
}

// openBPE reads the directory's tokenizer: tokenizer.json when present,
// else vocab.json and merges.txt.
func openBPE(dir string, c model.Config) (*tokenizer.GPT2, map[string][]byte, error) {
	files := map[string][]byte{}
	for _, name := range bpeFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			files[name] = b
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	var bpe *tokenizer.BPE
	var err error
	var from string
	switch {
	case files[TokenizerFile] != nil:
		from = filepath.Join(dir, TokenizerFile)
		bpe, err = tokenizer.LoadHFTokenizer(bytes.NewReader(files[TokenizerFile]))
	case files[VocabFile] != nil && files[MergesFile] != nil:
		from = filepath.Join(dir, VocabFile) + " and " + MergesFile
		bpe, err = tokenizer.LoadBPE(bytes.NewReader(files[VocabFile]), bytes.NewReader(files[MergesFile]))
	default:
		return nil, nil, fmt.Errorf("checkpoint: %s: no tokenizer (want %s, or %s and %s)", dir, TokenizerFile, VocabFile, MergesFile)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", from, err)
	}
	if bpe.VocabSize() > c.VocabSize {
		return nil, nil, fmt.Errorf("checkpoint: %s: %d tokens, but config.json has vocab_size %d", from, bpe.VocabSize(), c.VocabSize)
	}
	tok, err := tokenizer.NewGPT2(bpe, c.Tokens)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", from, err)
	}
	return tok, files, nil
}

// skippedTensor reports the tensors of a transformers GPT-2 file that grao
// does not load: buffers of the causal mask.
func skippedTensor(name string) bool {
	return strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias")
}

// loadGPT2 reads GPT-2 weights named as GPT2LMHeadModel
// ("transformer.h.0…") or GPT2Model ("h.0…") names them.
func loadGPT2(weights, dir string, c model.Config) (*model.Params, error) {
	f, h, err := openWeights(weights)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := model.NewParams(c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	byName := make(map[string]TensorInfo, len(h.Tensors))
	for _, t := range h.Tensors {
		if !skippedTensor(t.Name) {
			byName[t.Name] = t
		}
	}
	read := func(name string, shape []int) ([]float32, error) {
		info, ok := byName[name]
		if !ok {
			return nil, nil
		}
		delete(byName, name)
		if info.DType != "F32" {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q: dtype %s not supported (convert the model to float32)", weights, name, info.DType)
		}
		if !slices.Equal(info.Shape, shape) {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q has shape %s, but %s implies %s",
				weights, name, shapeString(info.Shape), filepath.Join(dir, ConfigFile), shapeString(shape))
		}
		data, err := ReadFloat32(f, h, info)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %w", weights, err)
		}
		if i := slices.IndexFunc(data, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }); i >= 0 {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q: element %d is %v: the weights must be finite", weights, name, i, data[i])
		}
		return data, nil
	}
	for _, t := range p.All() {
		short, _ := strings.CutPrefix(t.Name, "transformer.")
		var data []float32
		for _, name := range []string{t.Name, short} {
			if data, err = read(name, t.Shape); err != nil {
				return nil, err
			}
			if data != nil {
				break
			}
		}
		if data == nil {
			return nil, fmt.Errorf("checkpoint: %s: missing tensor %q%s", weights, t.Name, valueHeadHint(t.Name, c))
		}
		copy(t.Data, data)
	}
	head, err := read("lm_head.weight", p.WTE.Shape)
	if err != nil {
		return nil, err
	}
	if head != nil && !slices.Equal(head, p.WTE.Data) {
		return nil, fmt.Errorf("checkpoint: %s: lm_head.weight differs from transformer.wte.weight; grao ties them", weights)
	}
	if len(byName) > 0 {
		extra := make([]string, 0, len(byName))
		for n := range byName {
			extra = append(extra, n)
		}
		sort.Strings(extra)
		return nil, fmt.Errorf("checkpoint: %s: unexpected tensor %q (%d unexpected in all)", weights, extra[0], len(extra))
	}
	return p, nil
}

// SaveModel writes m as Save writes a checkpoint; a BPE model gets its
// tokenizer's files as they were read and a config.json with its special
// ids, a directory transformers' GPT2LMHeadModel and AutoTokenizer load.
func SaveModel(dir string, m *Model, meta map[string]string) error {
	if _, ok := m.Tokenizer.(tokenizer.Byte); ok || m.Tokenizer == nil {
		return Save(dir, m.Params, meta)
	}
	s := m.Tokenizer.Specials()
	spec := tokenizer.Spec{Type: "gpt2-bpe", VocabSize: m.Tokenizer.VocabSize(), BOS: s.BOS, EOS: s.EOS, PAD: s.PAD}
	if len(m.TokenizerFiles) == 0 {
		return errors.New("checkpoint: SaveModel of a BPE model without its tokenizer files")
	}
	return save(dir, m.Params, spec, m.TokenizerFiles, meta)
}
