package rm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sync"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
)

// Name is the reward's RewardInfo.Name.
const Name = "rm"

// ctxCheckEvery is how many items are scored between context checks; one
// item is a full forward pass (tens of µs to ms), so this is cheap.
const ctxCheckEvery = 16

// Reward is a trained reward model used as a core.Reward: the value of
// (prompt, completion) is the value head at the EOS of Tokens(prompt,
// completion, context). It is safe for concurrent use (scratch buffers
// are pooled; the weights are only read) and must not see its Params
// modified while in use.
type Reward struct {
	p    *model.Params
	hash string
	pool sync.Pool // *scorer
}

// New wraps params that have a value head. It keeps p (no copy).
func New(p *model.Params) (*Reward, error) {
	if _, err := newScorer(p); err != nil {
		return nil, err
	}
	r := &Reward{p: p, hash: Fingerprint(p)}
	r.pool.New = func() any { sc, _ := newScorer(p); return sc } // p checked above
	return r, nil
}

// Load reads a reward-model checkpoint (a directory written by `bench
// train-rm`, or its model.safetensors). A checkpoint without a value head
// is a language model, not a reward model, and is refused.
func Load(path string) (*Reward, error) {
	p, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	r, err := New(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Params returns the weights the reward reads (not a copy).
func (r *Reward) Params() *model.Params { return r.p }

// Fingerprint is a short hash of a model's weights: SHA-256 over every
// tensor's name, shape and float32 bits in Params.All() order, 16 hex
// digits. Equal weights ⇒ equal fingerprint, whatever file they came from.
func Fingerprint(p *model.Params) string {
	h := sha256.New()
	var buf [8]byte
	for _, t := range p.All() {
		h.Write([]byte(t.Name))
		h.Write([]byte{0})
		for _, s := range t.Shape {
			binary.LittleEndian.PutUint64(buf[:], uint64(s))
			h.Write(buf[:])
		}
		b := make([]byte, 4*len(t.Data))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Describe implements core.Reward. Version is "rm:<fingerprint>", naming
// the exact weights.
func (r *Reward) Describe() core.RewardInfo {
	return core.RewardInfo{
		Name:          Name,
		Version:       Name + ":" + r.hash,
		Reads:         []string{"prompt", "completion"},
		Deterministic: true,
	}
}

// Score implements core.Reward. Every item is applicable.
func (r *Reward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	sc := r.pool.Get().(*scorer)
	defer r.pool.Put(sc)
	out := make([]core.Score, len(items))
	for i := range items {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", Name, err)
			}
		}
		ids, cut := Tokens(items[i].Prompt, items[i].Completion, r.p.Config.Context)
		v, err := sc.reward(ids)
		if err != nil {
			return nil, fmt.Errorf("%s: item %d: %w", Name, i, err)
		}
		out[i] = core.Score{Value: v, Applicable: true}
		if cut {
			out[i].Info = "prompt truncated to fit the context"
		}
	}
	return out, nil
}

var _ core.Reward = (*Reward)(nil)
