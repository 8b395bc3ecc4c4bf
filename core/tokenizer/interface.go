package tokenizer

import "fmt"

// Tokenizer is what the trainer, evaluation and the commands need of a
// model's tokenizer: text to ids and back, and the special ids that start
// a sequence, end a completion and pad a batch. Byte and GPT2 implement it.
type Tokenizer interface {
	// Encode returns the ids of text, adding no special token.
	Encode(text string) []int
	// Decode returns the text of ids up to the first EOS, skipping other
	// special tokens.
	Decode(ids []int) string
	Specials() Specials
	VocabSize() int
}

// Specials are a tokenizer's special ids. GPT-2 has one,
// <|endoftext|>, that serves as all three.
type Specials struct {
	BOS, EOS, PAD int
}

var (
	_ Tokenizer = Byte{}
	_ Tokenizer = (*GPT2)(nil)
)

// Specials implements Tokenizer.
func (Byte) Specials() Specials { return Specials{BOS: BOS, EOS: EOS, PAD: PAD} }

// VocabSize implements Tokenizer.
func (Byte) VocabSize() int { return VocabSize }

// GPT2 is a byte-level BPE vocabulary with GPT-2's convention for special
// tokens: <|endoftext|> begins every sequence and ends every completion.
type GPT2 struct {
	*BPE
	specials Specials
}

// NewGPT2 wraps bpe with its special ids; they must be added tokens of
// bpe (GPT-2's <|endoftext|> is 50256).
func NewGPT2(bpe *BPE, s Specials) (*GPT2, error) {
	for _, id := range []int{s.BOS, s.EOS, s.PAD} {
		if id < 0 || id >= bpe.VocabSize() {
			return nil, fmt.Errorf("tokenizer: special id %d outside the vocabulary of %d", id, bpe.VocabSize())
		}
	}
	return &GPT2{BPE: bpe, specials: s}, nil
}

// Specials implements Tokenizer.
func (t *GPT2) Specials() Specials { return t.specials }

// Decode implements Tokenizer: the text of ids before the first EOS,
// without other special tokens; an id outside the vocabulary (a model
// whose embedding rows outnumber the tokens) reads as U+FFFD.
func (t *GPT2) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		switch {
		case id == t.specials.EOS:
			return string(b)
		case id == t.specials.BOS || id == t.specials.PAD:
		default:
			s, err := t.BPE.Decode([]int{id})
			if err != nil {
				s = "\uFFFD"
			}
			b = append(b, s...)
		}
	}
	return string(b)
}

// OrByte is t, or grao's byte tokenizer when t is nil (the default of
// every configuration with an optional tokenizer).
func OrByte(t Tokenizer) Tokenizer {
	if t == nil {
		return Byte{}
	}
	return t
}

// PromptIDsWith is BOS followed by the prompt's ids, whatever its length.
func PromptIDsWith(tok Tokenizer, prompt string) []int {
	return append([]int{tok.Specials().BOS}, tok.Encode(prompt)...)
}

// FitPromptWith is FitPrompt for any tokenizer.
func FitPromptWith(tok Tokenizer, prompt string, context, maxNew int) ([]int, error) {
	ids := PromptIDsWith(tok, prompt)
	if room := context - maxNew; len(ids) > room {
		return nil, &TooLongError{Tokens: len(ids), Room: room, Context: context, MaxNew: maxNew}
	}
	return ids, nil
}

// TruncatePromptWith is TruncatePrompt for any tokenizer.
func TruncatePromptWith(tok Tokenizer, prompt string, context, maxNew int) ([]int, bool) {
	ids := PromptIDsWith(tok, prompt)
	room := max(context-maxNew, 2)
	if len(ids) <= room {
		return ids, false
	}
	return append([]int{ids[0]}, ids[len(ids)-room+1:]...), true
}
