package rewards

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/grao-lab/grao/core"
)

// Spec is one reward table of a sweep — the [reward] table or one
// [[reward.part]] — as decoded. Each kind reads the keys it declares
// (Kind.Keys) and leaves the others unset; Params holds the parameters of
// a kind registered outside grao (params = { … } in the table).
type Spec struct {
	Kind   string  `toml:"kind"`   // a registered kind
	Weight float64 `toml:"weight"` // in a combination (default 1)
	// Path is a file the kind reads (Kind.Path says which sort): relative
	// to the sweep file, made absolute by validation.
	Path   string   `toml:"path"`
	Args   []string `toml:"args"`   // plugin: passed verbatim
	SHA256 string   `toml:"sha256"` // plugin: pins the executable (filled in when empty)
	// ArgsSHA256 holds the digest of every argument that names a file (an
	// interpreted plugin's script), filled in by validation: the script's
	// content is part of the trial's identity, and a plugin whose script
	// changed after validation is refused.
	ArgsSHA256 map[string]string `toml:"args_sha256,omitempty" sweep:"resolved"`
	// Timeout per plugin call, e.g. "10s" (default 60s).
	Timeout string `toml:"timeout"`
	// Length penalty −min(max, per_byte·(bytes − target)) beyond target.
	Target  int     `toml:"target"`   // length: target bytes (required)
	PerByte float64 `toml:"per_byte"` // length: default 0.01
	Max     float64 `toml:"max"`      // length: default 1
	// Params are a user-registered kind's own parameters.
	Params map[string]any `toml:"params,omitempty"`
}

// DefaultWeight is a part's weight when none is given.
const DefaultWeight = 1.0

// DefaultKind is the training reward when a sweep names none: the task's
// ternary judge (registered by experiments/tasks).
const DefaultKind = "judge"

// FieldError is one problem with a Spec: the key (relative to the table,
// e.g. "target") and why. The sweep turns it into file:line: key: reason.
type FieldError struct {
	Key, Reason string
}

// Env is what a reward may be built from besides its Spec.
type Env struct {
	Task core.Task // the trial's task (its judge, rubric, references)
	Seed uint64    // the trial's seed
}

// Kind is a reward kind: what a sweep's kind = "…" builds. A kind owns its
// keys, their defaults and their checks; the sweep only routes tables to it.
type Kind struct {
	// Keys are the table keys the kind reads besides kind and weight; a
	// kind without keys may also stand alone as [reward] kind = "…".
	Keys []string
	// Alone marks a kind that is never a part of a combination (the
	// random-reward control: mixed with a real reward it would no longer
	// be a control).
	Alone bool
	// Path says what the path key names, for validation to resolve and
	// check it: "executable", "dir", or "" when the kind has no path.
	Path string
	// Defaults fills the kind's unset keys; explicit reports whether a key
	// was written (so that an explicit 0 stays).
	Defaults func(s *Spec, explicit func(key string) bool)
	// Check reports the spec's problems, found at validation.
	Check func(s Spec, explicit func(key string) bool) []FieldError
	// New builds the reward; close (nil when there is nothing to stop)
	// releases what it holds, such as a plugin process.
	New func(s Spec, env Env) (r core.Reward, close func(), err error)
}

var (
	kindMu sync.RWMutex
	kinds  = map[string]Kind{}
)

// Register makes a reward kind available to sweeps, in the manner of
// database/sql; it panics on a duplicate name or a kind without New.
func Register(name string, k Kind) {
	kindMu.Lock()
	defer kindMu.Unlock()
	if k.New == nil {
		panic("rewards: Register of a kind without New: " + name)
	}
	if _, dup := kinds[name]; dup {
		panic("rewards: Register called twice for " + name)
	}
	kinds[name] = k
}

// Lookup returns the registered kind.
func Lookup(name string) (Kind, bool) {
	kindMu.RLock()
	defer kindMu.RUnlock()
	k, ok := kinds[name]
	return k, ok
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	kindMu.RLock()
	defer kindMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Readers lists the kinds that read key, sorted.
func Readers(key string) []string {
	var out []string
	for _, n := range Kinds() {
		k, _ := Lookup(n)
		if slices.Contains(k.Keys, key) {
			out = append(out, n)
		}
	}
	return out
}

// Build builds the reward a Spec names.
func Build(s Spec, env Env) (core.Reward, func(), error) {
	k, ok := Lookup(s.Kind)
	if !ok {
		return nil, nil, fmt.Errorf("unknown reward kind %q (have %v)", s.Kind, Kinds())
	}
	r, closer, err := k.New(s, env)
	if closer == nil {
		closer = func() {}
	}
	return r, closer, err
}

// Built-in kinds that need nothing but this package.
func init() {
	Register("random", Kind{Alone: true, New: func(_ Spec, env Env) (core.Reward, func(), error) {
		return NewRandom(env.Seed), nil, nil
	}})
	Register("length", Kind{
		Keys: []string{"target", "per_byte", "max"},
		Defaults: func(s *Spec, ex func(string) bool) {
			if s.PerByte == 0 && !ex("per_byte") {
				s.PerByte = DefaultPerByte
			}
			if s.Max == 0 && !ex("max") {
				s.Max = DefaultPenaltyMax
			}
		},
		Check: func(s Spec, ex func(string) bool) []FieldError {
			var errs []FieldError
			if !ex("target") {
				errs = append(errs, FieldError{"target", "a length part needs target (bytes)"})
			} else if s.Target < 0 {
				errs = append(errs, FieldError{"target", fmt.Sprintf("must be ≥ 0, got %d", s.Target)})
			}
			if s.PerByte < 0 {
				errs = append(errs, FieldError{"per_byte", fmt.Sprintf("must be ≥ 0, got %g", s.PerByte)})
			}
			if !(s.Max > 0) {
				errs = append(errs, FieldError{"max", fmt.Sprintf("must be > 0, got %g", s.Max)})
			}
			return errs
		},
		New: func(s Spec, _ Env) (core.Reward, func(), error) {
			r, err := LengthPenalty(s.Target, s.PerByte, s.Max)
			return r, nil, err
		},
	})
}

// Defaults of the length penalty.
const (
	DefaultPerByte    = 0.01
	DefaultPenaltyMax = 1.0
)
