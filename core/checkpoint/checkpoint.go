package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

// File names inside a checkpoint directory.
const (
	WeightsFile   = "model.safetensors"
	ConfigFile    = "config.json"
	TokenizerFile = "tokenizer.json" // Hugging Face tokenizers format
	// TokenizerConfigFile is what transformers' AutoTokenizer reads beside
	// tokenizer.json (class, special tokens, model_max_length). grao does
	// not read it.
	TokenizerConfigFile = "tokenizer_config.json"
)

// Reserved safetensors metadata keys, written by Save itself.
const (
	// MetaFormat is required by transformers' from_pretrained, which
	// refuses a safetensors file whose metadata lacks format "pt".
	MetaFormat = "format"
	// MetaTokenizer holds the tokenizer.Spec as JSON, so a lone
	// .safetensors file still says how to tokenize.
	MetaTokenizer = "tokenizer"
)

// hfConfig is config.json as written: transformers.GPT2Config keys plus
// our value_head flag. Field order is the output order (deterministic).
type hfConfig struct {
	ModelType          string   `json:"model_type"`
	Architectures      []string `json:"architectures"`
	VocabSize          int      `json:"vocab_size"`
	NPositions         int      `json:"n_positions"`
	NCtx               int      `json:"n_ctx"`
	NEmbd              int      `json:"n_embd"`
	NLayer             int      `json:"n_layer"`
	NHead              int      `json:"n_head"`
	NInner             *int     `json:"n_inner"` // null: 4·n_embd, as GPT2Config
	ActivationFunction string   `json:"activation_function"`
	LayerNormEpsilon   float64  `json:"layer_norm_epsilon"`
	ResidPdrop         float64  `json:"resid_pdrop"`
	EmbdPdrop          float64  `json:"embd_pdrop"`
	AttnPdrop          float64  `json:"attn_pdrop"`
	ScaleAttnWeights   bool     `json:"scale_attn_weights"`
	BOSTokenID         int      `json:"bos_token_id"`
	EOSTokenID         int      `json:"eos_token_id"`
	PADTokenID         int      `json:"pad_token_id"`
	TieWordEmbeddings  bool     `json:"tie_word_embeddings"`
	TorchDtype         string   `json:"torch_dtype"`
	ValueHead          bool     `json:"value_head"`
	hfMoE
}

func toHF(c model.Config, tok tokenizer.Spec) hfConfig {
	h := hfConfig{
		ModelType:          "gpt2",
		Architectures:      []string{"GPT2LMHeadModel"},
		VocabSize:          c.VocabSize,
		NPositions:         c.Context,
		NCtx:               c.Context,
		NEmbd:              c.DModel,
		NLayer:             c.NLayer,
		NHead:              c.NHead,
		ActivationFunction: "gelu_new",
		LayerNormEpsilon:   c.LNEps,
		ScaleAttnWeights:   true,
		BOSTokenID:         tok.BOS,
		EOSTokenID:         tok.EOS,
		PADTokenID:         tok.PAD,
		TieWordEmbeddings:  true,
		TorchDtype:         "float32",
		ValueHead:          c.ValueHead,
	}
	setMoE(&h, c)
	return h
}

// Save writes the checkpoint p into dir (created if needed): model.safetensors
// (F32, Hugging Face GPT-2 tensor names, LM head tied to wte so no lm_head
// tensor), config.json (transformers.GPT2Config), and tokenizer.json and
// tokenizer_config.json (the byte tokenizer for Hugging Face's
// AutoTokenizer; see tokenizer.HFTokenizerJSON).
// meta is stored in the safetensors metadata; the keys "format" and
// "tokenizer" are reserved. Each file is replaced atomically; the same
// params and meta always give byte-identical files.
func Save(dir string, p *model.Params, meta map[string]string) error {
	if p == nil {
		return errors.New("checkpoint: Save of nil params")
	}
	tok := tokenizer.Byte{}.Spec()
	if p.Config.VocabSize != tok.VocabSize {
		return fmt.Errorf("checkpoint: vocab_size %d does not match the byte tokenizer's %d", p.Config.VocabSize, tok.VocabSize)
	}
	return save(dir, p, tok, map[string][]byte{
		TokenizerFile:       tokenizer.HFTokenizerJSON(),
		TokenizerConfigFile: tokenizer.HFTokenizerConfigJSON(p.Config.Context),
	}, meta)
}

// save writes p with the tokenizer described by tok, whose files
// (name → contents) go beside the weights.
func save(dir string, p *model.Params, tok tokenizer.Spec, tokFiles map[string][]byte, meta map[string]string) error {
	c := p.Config
	if err := c.Validate(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, k := range []string{MetaFormat, MetaTokenizer} {
		if _, ok := meta[k]; ok {
			return fmt.Errorf("checkpoint: metadata key %q is reserved", k)
		}
	}
	// Check p against its own config before writing anything, so Load can
	// never reject what Save accepted.
	ref, err := model.NewParams(c)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	want, have := ref.All(), p.All()
	if len(want) != len(have) {
		return fmt.Errorf("checkpoint: params have %d tensors, config implies %d", len(have), len(want))
	}
	tensors := make([]Named, len(have))
	for i, t := range have {
		if t == nil {
			return fmt.Errorf("checkpoint: tensor %q is nil", want[i].Name)
		}
		if t.Name != want[i].Name || !slices.Equal(t.Shape, want[i].Shape) || len(t.Data) != want[i].Size() {
			return fmt.Errorf("checkpoint: tensor %q %s with %d values, config implies %q %s",
				t.Name, shapeString(t.Shape), len(t.Data), want[i].Name, shapeString(want[i].Shape))
		}
		tensors[i] = Named{Name: t.Name, Shape: t.Shape, Data: t.Data}
	}
	tokJSON, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	md := map[string]string{MetaFormat: "pt", MetaTokenizer: string(tokJSON)}
	for k, v := range meta {
		md[k] = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// config.json goes last: a crash part-way leaves either the old
	// config (and Load then reports any shape change against it) or
	// a complete new set.
	if err := writeAtomic(filepath.Join(dir, WeightsFile), func(w io.Writer) error {
		return Write(w, tensors, md)
	}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	names := make([]string, 0, len(tokFiles))
	for name := range tokFiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeBytes(filepath.Join(dir, name), tokFiles[name]); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, ConfigFile), toHF(c, tok))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return writeBytes(path, append(b, '\n'))
}

func writeBytes(path string, b []byte) error {
	if err := writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// resolve maps a checkpoint path (its directory, or the .safetensors file
// itself) to the directory and the weights file.
func resolve(path string) (dir, weights string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("checkpoint: %w", err)
	}
	if st.IsDir() {
		return path, filepath.Join(path, WeightsFile), nil
	}
	return filepath.Dir(path), path, nil
}

// Load reads the checkpoint at path (a directory written by Save, or the
// path of its .safetensors file; config.json and tokenizer.json are read
// from the same directory) and validates it completely: config values,
// tokenizer, every header entry, and that the tensors are exactly those
// the config implies (none missing, none extra, F32, matching shapes).
func Load(path string) (*model.Params, error) {
	dir, weights, err := resolve(path)
	if err != nil {
		return nil, err
	}
	c, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if _, err := LoadTokenizer(dir); err != nil {
		return nil, err
	}
	f, h, err := openWeights(weights)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if s, ok := h.Metadata[MetaTokenizer]; ok {
		var spec tokenizer.Spec
		if err := decodeStrict([]byte(s), &spec); err != nil {
			return nil, fmt.Errorf("checkpoint: %s: metadata %q: %v", weights, MetaTokenizer, err)
		}
		if err := spec.Check(); err != nil {
			return nil, fmt.Errorf("checkpoint: %s: metadata %q: %w", weights, MetaTokenizer, err)
		}
	}
	p, err := model.NewParams(c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	byName := make(map[string]TensorInfo, len(h.Tensors))
	for _, t := range h.Tensors {
		byName[t.Name] = t
	}
	for _, t := range p.All() {
		info, ok := byName[t.Name]
		if !ok {
			return nil, fmt.Errorf("checkpoint: %s: missing tensor %q%s", weights, t.Name, valueHeadHint(t.Name, c))
		}
		delete(byName, t.Name)
		if info.DType != "F32" {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q: dtype %s not supported (grao stores F32)", weights, t.Name, info.DType)
		}
		if !slices.Equal(info.Shape, t.Shape) {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q has shape %s, but %s implies %s",
				weights, t.Name, shapeString(info.Shape), filepath.Join(dir, ConfigFile), shapeString(t.Shape))
		}
		data, err := ReadFloat32(f, h, info)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %w", weights, err)
		}
		// A diverged run saves NaN or ±Inf weights; everything downstream
		// (sampling, scoring, JSON output) would fail far from the cause.
		if i := slices.IndexFunc(data, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }); i >= 0 {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q: element %d is %v (a diverged run?): the weights must be finite", weights, t.Name, i, data[i])
		}
		copy(t.Data, data)
	}
	if len(byName) > 0 {
		extra := make([]string, 0, len(byName))
		for n := range byName {
			extra = append(extra, n)
		}
		sort.Strings(extra)
		return nil, fmt.Errorf("checkpoint: %s: unexpected tensor %q%s (%d unexpected in all)", weights, extra[0], valueHeadHint(extra[0], c), len(extra))
	}
	return p, nil
}

func valueHeadHint(name string, c model.Config) string {
	if strings.HasPrefix(name, "value_head.") {
		return fmt.Sprintf(" (config.json has value_head %v)", c.ValueHead)
	}
	return ""
}

// openWeights opens a safetensors file and reads its validated header;
// the caller closes the file.
func openWeights(weights string) (*os.File, *Header, error) {
	f, err := os.Open(weights)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		var h *Header
		if h, err = ReadHeader(f, st.Size()); err == nil {
			return f, h, nil
		}
		err = fmt.Errorf("%s: %w", weights, err)
	}
	f.Close()
	return nil, nil, fmt.Errorf("checkpoint: %w", err)
}

// Metadata returns the safetensors metadata of the checkpoint at path,
// including the reserved keys written by Save.
func Metadata(path string) (map[string]string, error) {
	_, weights, err := resolve(path)
	if err != nil {
		return nil, err
	}
	f, h, err := openWeights(weights)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return h.Metadata, nil
}

// LoadTokenizer reads and checks tokenizer.json of the checkpoint at path.
// Two forms are accepted, both only for the byte tokenizer: the Hugging
// Face tokenizers file that Save writes (it must be the same JSON value as
// tokenizer.HFTokenizerJSON; see tokenizer.CheckHFTokenizerJSON), and the
// tokenizer.Spec that checkpoints written before it hold. A JSON object
// with a "version" key is taken to be the former.
func LoadTokenizer(path string) (tokenizer.Spec, error) {
	dir, _, err := resolve(path)
	if err != nil {
		return tokenizer.Spec{}, err
	}
	file := filepath.Join(dir, TokenizerFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return tokenizer.Spec{}, fmt.Errorf("checkpoint: %w", err)
	}
	if isHFTokenizer(b) {
		if err := tokenizer.CheckHFTokenizerJSON(b); err != nil {
			return tokenizer.Spec{}, fmt.Errorf("checkpoint: %s: %s", file, jsonErr(b, err))
		}
		return tokenizer.Byte{}.Spec(), nil
	}
	var spec tokenizer.Spec
	if err := decodeStrict(b, &spec); err != nil {
		return tokenizer.Spec{}, fmt.Errorf("checkpoint: %s: %s", file, jsonErr(b, err))
	}
	if err := spec.Check(); err != nil {
		return tokenizer.Spec{}, fmt.Errorf("checkpoint: %s: %w", file, err)
	}
	return spec, nil
}

// isHFTokenizer reports whether tokenizer.json is a JSON object with a
// "version" key, as every tokenizers file has and tokenizer.Spec has not.
// It only routes: the contents are checked after.
func isHFTokenizer(b []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	_, ok := top["version"]
	return ok
}

// hfConfigIn is config.json as read. Pointers tell "absent" from zero.
// Keys not listed here (transformers adds many generic ones when it
// re-saves a config) are ignored; keys that would change the computation
// in a way grao does not implement are checked.
type hfConfigIn struct {
	ModelType                  *string  `json:"model_type"`
	VocabSize                  *int     `json:"vocab_size"`
	NPositions                 *int     `json:"n_positions"`
	NCtx                       *int     `json:"n_ctx"`
	NEmbd                      *int     `json:"n_embd"`
	NLayer                     *int     `json:"n_layer"`
	NHead                      *int     `json:"n_head"`
	NInner                     *int     `json:"n_inner"`
	ActivationFunction         *string  `json:"activation_function"`
	LayerNormEpsilon           *float64 `json:"layer_norm_epsilon"`
	ScaleAttnWeights           *bool    `json:"scale_attn_weights"`
	ScaleAttnByInverseLayerIdx *bool    `json:"scale_attn_by_inverse_layer_idx"`
	TieWordEmbeddings          *bool    `json:"tie_word_embeddings"`
	AddCrossAttention          *bool    `json:"add_cross_attention"`
	BOSTokenID                 *int     `json:"bos_token_id"`
	EOSTokenID                 *int     `json:"eos_token_id"`
	PADTokenID                 *int     `json:"pad_token_id"`
	ValueHead                  *bool    `json:"value_head"`
	hfMoE
}

// LoadConfig reads and validates config.json of the checkpoint at path (a
// directory or its .safetensors file). Errors name the file, the line and
// the key.
func LoadConfig(path string) (model.Config, error) {
	dir, _, err := resolve(path)
	if err != nil {
		return model.Config{}, err
	}
	file := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return model.Config{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, key, err := parseConfig(b)
	if err != nil {
		if key != "" {
			msg := err.Error()
			if !strings.HasPrefix(msg, key+" ") {
				msg = key + ": " + msg
			}
			return model.Config{}, fmt.Errorf("checkpoint: %s:%d: %s", file, keyLine(b, key), msg)
		}
		return model.Config{}, fmt.Errorf("checkpoint: %s: %v", file, err)
	}
	return c, nil
}

// parseConfig returns the config of a byte-tokenizer checkpoint, or an
// error and the key it concerns.
func parseConfig(b []byte) (model.Config, string, error) { return parseConfigAs(b, true) }

// parseConfigAs parses config.json; byteTok requires grao's byte
// tokenizer's vocabulary and ids, otherwise the special ids become the
// config's Tokens (GPT-2: <|endoftext|> for all three).
func parseConfigAs(b []byte, byteTok bool) (model.Config, string, error) {
	var in hfConfigIn
	if err := json.Unmarshal(b, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return model.Config{}, te.Field, fmt.Errorf("expected %s, got JSON %s", te.Type, te.Value)
		}
		return model.Config{}, "", errors.New(jsonErr(b, err))
	}
	tok := tokenizer.Byte{}.Spec()
	required := []struct {
		key string
		v   *int
	}{{"vocab_size", in.VocabSize}, {"n_embd", in.NEmbd}, {"n_layer", in.NLayer}, {"n_head", in.NHead}, {"n_positions", in.NPositions}}
	for _, r := range required {
		if r.v == nil {
			return model.Config{}, "", fmt.Errorf("missing key %q", r.key)
		}
	}
	if in.LayerNormEpsilon == nil {
		return model.Config{}, "", errors.New(`missing key "layer_norm_epsilon"`)
	}
	c := model.Config{
		VocabSize: *in.VocabSize,
		DModel:    *in.NEmbd,
		NLayer:    *in.NLayer,
		NHead:     *in.NHead,
		Context:   *in.NPositions,
		LNEps:     *in.LayerNormEpsilon,
	}
	if in.ValueHead != nil {
		c.ValueHead = *in.ValueHead
	}
	getMoE(&c, in.hfMoE)
	if err := c.Validate(); err != nil {
		// Validate's messages start with the key they concern.
		key, _, _ := strings.Cut(err.Error(), " ")
		return model.Config{}, key, err
	}
	switch {
	case in.ModelType != nil && *in.ModelType != "gpt2":
		return c, "model_type", fmt.Errorf("must be \"gpt2\", got %q", *in.ModelType)
	case in.ActivationFunction != nil && *in.ActivationFunction != "gelu_new":
		return c, "activation_function", fmt.Errorf("must be \"gelu_new\", got %q", *in.ActivationFunction)
	case in.NInner != nil && *in.NInner != 4*c.DModel:
		return c, "n_inner", fmt.Errorf("must be null or 4·n_embd = %d, got %d", 4*c.DModel, *in.NInner)
	case in.NCtx != nil && *in.NCtx != c.Context:
		return c, "n_ctx", fmt.Errorf("must equal n_positions = %d, got %d", c.Context, *in.NCtx)
	case in.ScaleAttnWeights != nil && !*in.ScaleAttnWeights:
		return c, "scale_attn_weights", errors.New("must be true (grao scales attention by 1/√head_dim)")
	case in.ScaleAttnByInverseLayerIdx != nil && *in.ScaleAttnByInverseLayerIdx:
		return c, "scale_attn_by_inverse_layer_idx", errors.New("must be false (not implemented in grao)")
	case in.TieWordEmbeddings != nil && !*in.TieWordEmbeddings:
		return c, "tie_word_embeddings", errors.New("must be true (grao ties the LM head to wte)")
	case in.AddCrossAttention != nil && *in.AddCrossAttention:
		return c, "add_cross_attention", errors.New("must be false")
	case byteTok && c.VocabSize != tok.VocabSize:
		return c, "vocab_size", fmt.Errorf("must be %d, the byte tokenizer's size, got %d", tok.VocabSize, c.VocabSize)
	}
	if !byteTok {
		key, err := specialIDs(&c, in)
		return c, key, err
	}
	ids := []struct {
		key       string
		got, want *int
	}{{"bos_token_id", in.BOSTokenID, &tok.BOS}, {"eos_token_id", in.EOSTokenID, &tok.EOS}, {"pad_token_id", in.PADTokenID, &tok.PAD}}
	for _, id := range ids {
		if id.got != nil && *id.got != *id.want {
			return c, id.key, fmt.Errorf("must be %d for the byte tokenizer, got %d", *id.want, *id.got)
		}
	}
	return c, "", nil
}

// jsonErr formats a JSON decoding error with the line and column it
// occurred at.
func jsonErr(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, se.Offset)
		return fmt.Sprintf("line %d, column %d: invalid JSON: %v", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(b, te.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "invalid JSON: unexpected end of file"
	}
	return err.Error()
}

func lineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	pre := b[:off]
	line = bytes.Count(pre, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1)
	return line, col
}

// keyLine is the 1-based line where "key" first appears as an object key,
// or 1 when it does not appear (a missing key has no line).
func keyLine(b []byte, key string) int {
	q, _ := json.Marshal(key)
	for i := 0; ; {
		j := bytes.Index(b[i:], q)
		if j < 0 {
			return 1
		}
		at := i + j
		rest := bytes.TrimLeft(b[at+len(q):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			line, _ := lineCol(b, int64(at))
			return line
		}
		i = at + len(q)
	}
}
