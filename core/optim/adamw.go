package optim

import (
	"fmt"
	"math"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/kernels"
)

// Config holds AdamW's hyper-parameters.
type Config struct {
	LR          float64 `toml:"lr"`
	Beta1       float64 `toml:"beta1"`
	Beta2       float64 `toml:"beta2"`
	Eps         float64 `toml:"eps"`
	WeightDecay float64 `toml:"weight_decay"`
	// ClipNorm clips the global gradient L2 norm (0 disables clipping).
	ClipNorm float64 `toml:"clip_norm"`
	Schedule Schedule
}

// DefaultConfig is AdamW(lr 1e-3, β 0.9/0.999, ε 1e-8, wd 0.01), clip 1.0,
// no warm-up, constant LR. Weight decay 0.01 is the paper's value.
func DefaultConfig() Config {
	return Config{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, ClipNorm: 1.0,
		Schedule: Schedule{Kind: "constant"}}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case !(c.LR > 0):
		return fmt.Errorf("lr must be positive, got %g", c.LR)
	case c.Beta1 < 0 || c.Beta1 >= 1:
		return fmt.Errorf("beta1 must be in [0,1), got %g", c.Beta1)
	case c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("beta2 must be in [0,1), got %g", c.Beta2)
	case !(c.Eps > 0):
		return fmt.Errorf("eps must be positive, got %g", c.Eps)
	case c.WeightDecay < 0:
		return fmt.Errorf("weight_decay must be ≥ 0, got %g", c.WeightDecay)
	case c.ClipNorm < 0:
		return fmt.Errorf("clip_norm must be ≥ 0, got %g", c.ClipNorm)
	}
	return c.Schedule.Validate()
}

// Param is one tensor the optimiser updates. Decay says whether weight
// decay applies (by convention matrices yes, biases and norm gains no).
type Param struct {
	Name  string
	Data  []float32
	Decay bool
}

// AdamW keeps first and second moments per parameter.
type AdamW struct {
	cfg    Config
	params []Param
	m, v   [][]float32
	step   int
}

// NewAdamW prepares state for params (zero moments, step 0).
func NewAdamW(cfg Config, params []Param) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &AdamW{cfg: cfg, params: params}
	for _, p := range params {
		o.m = append(o.m, make([]float32, len(p.Data)))
		o.v = append(o.v, make([]float32, len(p.Data)))
	}
	return o, nil
}

// StepStats reports what one update did.
type StepStats = core.StepStats

// Steps is the number of updates done so far.
func (o *AdamW) Steps() int { return o.step }

// Moments returns the optimiser's state: the first and second moments of
// each parameter (in params order; the slices are the optimiser's own)
// and the number of updates done. With the weights it is everything a
// checkpoint needs to continue training exactly.
func (o *AdamW) Moments() (m, v [][]float32, steps int) { return o.m, o.v, o.step }

// Restore sets the state Moments returned, copying m and v.
func (o *AdamW) Restore(m, v [][]float32, steps int) error {
	if len(m) != len(o.params) || len(v) != len(o.params) {
		return fmt.Errorf("optim: restore %d/%d moments for %d parameters", len(m), len(v), len(o.params))
	}
	if steps < 0 {
		return fmt.Errorf("optim: restore at step %d", steps)
	}
	for i, p := range o.params {
		if len(m[i]) != len(p.Data) || len(v[i]) != len(p.Data) {
			return fmt.Errorf("optim: restore moments of %s with %d/%d elements, want %d", p.Name, len(m[i]), len(v[i]), len(p.Data))
		}
	}
	for i := range o.params {
		copy(o.m[i], m[i])
		copy(o.v[i], v[i])
	}
	o.step = steps
	return nil
}

// Step applies one update with grads (same order and sizes as params).
// Grads are read, not modified.
func (o *AdamW) Step(grads [][]float32) (StepStats, error) {
	if len(grads) != len(o.params) {
		return StepStats{}, fmt.Errorf("optim: %d gradients for %d parameters", len(grads), len(o.params))
	}
	var sq float64
	for i, g := range grads {
		if len(g) != len(o.params[i].Data) {
			return StepStats{}, fmt.Errorf("optim: gradient of %s has %d elements, want %d", o.params[i].Name, len(g), len(o.params[i].Data))
		}
		for _, x := range g {
			sq += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(sq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return StepStats{GradNorm: norm}, fmt.Errorf("optim: gradient norm is %v at step %d", norm, o.step+1)
	}
	scale := 1.0
	st := StepStats{GradNorm: norm}
	if o.cfg.ClipNorm > 0 && norm > o.cfg.ClipNorm {
		scale = o.cfg.ClipNorm / norm
		st.Clipped = true
	}
	o.step++
	lr := o.cfg.LR * o.cfg.Schedule.Factor(o.step)
	st.LR = lr
	b1, b2 := o.cfg.Beta1, o.cfg.Beta2
	c1 := 1 - math.Pow(b1, float64(o.step))
	c2 := 1 - math.Pow(b2, float64(o.step))
	stepSize := float32(lr / c1)
	rc2 := float32(1 / math.Sqrt(c2))
	eps := float32(o.cfg.Eps)
	fb1, fb2, fs := float32(b1), float32(b2), float32(scale)
	for i, p := range o.params {
		decay := float32(1)
		if p.Decay {
			decay = float32(1 - lr*o.cfg.WeightDecay)
		}
		m, v, g, w := o.m[i], o.v[i], grads[i], p.Data
		// Each element's update is independent of the others, so the
		// split over cores changes no bit.
		kernels.ParallelFor(len(w), len(w), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := g[j] * fs
				m[j] = fb1*m[j] + (1-fb1)*gj
				v[j] = fb2*v[j] + (1-fb2)*gj*gj
				denom := float32(math.Sqrt(float64(v[j])))*rc2 + eps
				w[j] = w[j]*decay - stepSize*m[j]/denom
			}
		})
	}
	return st, nil
}
