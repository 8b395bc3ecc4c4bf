package model

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/optim"
)

// EngineFactory builds an engine that trains p (a copy where the engine
// keeps its weights elsewhere) with the optimiser oc.
type EngineFactory func(p *Params, oc optim.Config) (core.Engine, error)

var (
	enginesMu sync.RWMutex
	engines   = map[string]EngineFactory{
		"cpu": func(p *Params, oc optim.Config) (core.Engine, error) {
			return NewCPU(p, CPUOptions{Optim: oc})
		},
	}
)

// RegisterEngine makes an engine available by name (a sweep's
// train.device, bench's --device). It panics on a duplicate name, as
// database/sql does: two packages claiming one name is a build error.
func RegisterEngine(name string, f EngineFactory) {
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if _, dup := engines[name]; dup || name == "" || f == nil {
		panic(fmt.Sprintf("model: RegisterEngine(%q) twice, unnamed or nil", name))
	}
	engines[name] = f
}

// Engines lists the registered engine names.
func Engines() []string {
	enginesMu.RLock()
	defer enginesMu.RUnlock()
	names := make([]string, 0, len(engines))
	for n := range engines {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckEngine reports whether name is a registered engine ("" is "cpu"),
// explaining the one that is missing from this build.
func CheckEngine(name string) error {
	if name == "" || slices.Contains(Engines(), name) {
		return nil
	}
	msg := fmt.Sprintf("engine %q is not in this build (have %s)", name, strings.Join(Engines(), ", "))
	if name == "cuda" {
		msg += "; the CUDA engine needs a bench built with -tags grao_cuda, for a machine with an NVIDIA driver (see docs/gpu.md)"
	}
	return errors.New(msg)
}

// NewEngine builds the named engine ("" is "cpu").
func NewEngine(name string, p *Params, oc optim.Config) (core.Engine, error) {
	if name == "" {
		name = "cpu"
	}
	if err := CheckEngine(name); err != nil {
		return nil, err
	}
	enginesMu.RLock()
	f := engines[name]
	enginesMu.RUnlock()
	return f(p, oc)
}
