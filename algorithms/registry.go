// Package algorithms is the registry of alignment algorithms, in the
// manner of database/sql: each algorithm package registers a factory from
// init, and algorithms/all blank-imports the standard set (sft, dpo, ppo,
// grpo, grao and GRAO's ablations).
//
// Parameters arrive as a TOML/JSON table and are decoded over the
// algorithm's defaults; unknown keys are errors naming the key.
package algorithms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/grao-lab/grao/core"
)

// Factory builds an algorithm from its parameter table (nil: defaults).
type Factory func(params map[string]any) (core.Algorithm, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes an algorithm available by name; it panics on duplicates
// or a nil factory, since both are programming errors.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if f == nil {
		panic("algorithms: Register of nil factory for " + name)
	}
	if _, dup := factories[name]; dup {
		panic("algorithms: Register called twice for " + name)
	}
	factories[name] = f
}

// New builds the named algorithm.
func New(name string, params map[string]any) (core.Algorithm, error) {
	mu.RLock()
	f, ok := factories[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return f(params)
}

// Names lists registered algorithms, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Decode fills dst (a pointer to a Params struct already holding the
// defaults) from params, rejecting unknown keys and wrong types.
func Decode(algorithm string, params map[string]any, dst any) error {
	if len(params) == 0 {
		return nil
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: parameters: %v", algorithm, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			msg = fmt.Sprintf("key %q: cannot use a %s as %s", te.Field, te.Value, te.Type)
		}
		return fmt.Errorf("%s: %s", algorithm, msg)
	}
	return nil
}
