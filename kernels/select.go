package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// EnvBLAS names the environment variable read once at init to choose the
// backend: "" or "auto" (the native sgemm where the CPU has AVX2 and FMA,
// else OpenBLAS when it loads, else gonum), "native" or "openblas" (that
// one required: a failure is reported by LoadError), "gonum" (never load
// OpenBLAS).
const EnvBLAS = "GRAO_BLAS"

// EnvOpenBLASLib names an optional environment variable holding the path (or
// soname) of the OpenBLAS library to load instead of the built-in list.
const EnvOpenBLASLib = "GRAO_OPENBLAS_LIB"

var (
	loadOnce   sync.Once
	loadedBLAS Backend
	loadedErr  error

	// selectErr is set at init when the GRAO_BLAS request cannot be met.
	selectErr error
)

// OpenBLAS returns the OpenBLAS backend, loading the library on first use,
// whatever GRAO_BLAS says; it lets tests and `bench speed` compare both
// backends in one process. Every call returns the same value (or error).
func OpenBLAS() (Backend, error) {
	loadOnce.Do(func() {
		candidates := openBLASCandidates()
		if p := os.Getenv(EnvOpenBLASLib); p != "" {
			candidates = []string{p}
		}
		loadedBLAS, loadedErr = loadOpenBLAS(candidates)
		if loadedErr == nil {
			// One BLAS thread: Gemm splits large products over the cores
			// itself, and attention heads and sampler rows already run in
			// parallel goroutines; OpenBLAS's own pool on top
			// oversubscribes the cores (measured: ~100 ms more CPU per
			// small training step with 2 threads).
			loadedBLAS.SetThreads(1)
		}
	})
	return loadedBLAS, loadedErr
}

// LoadError reports why the backend requested through GRAO_BLAS is not the
// one in use: an unknown GRAO_BLAS value, or GRAO_BLAS=openblas with a
// library that failed to load. It is nil in the default (auto) mode even when
// OpenBLAS is absent, since falling back to gonum is then the intended
// behaviour (Current().Info() still says why). Commands that run experiments
// should refuse to start when it is non-nil.
func LoadError() error { return selectErr }

// fallback is gonum with the reason OpenBLAS is not used in its Info, so that
// `bench version` and run manifests say why a run was slow.
type fallback struct {
	Gonum
	why string
}

func (f fallback) Info() string { return f.Gonum.Info() + " (" + f.why + ")" }

// selectBackend is the pure decision behind init: env is GRAO_BLAS's value,
// native opens the native sgemm and load OpenBLAS (both injected so that
// the table test need not depend on the machine). auto prefers native,
// whose results are the same bits on every AVX2/AVX-512 CPU and core
// count, then OpenBLAS, then gonum. It always returns a usable backend; err
// is LoadError's value.
func selectBackend(env string, native, load func() (Backend, error)) (Backend, error) {
	switch mode := strings.ToLower(strings.TrimSpace(env)); mode {
	case "gonum":
		return fallback{why: EnvBLAS + "=gonum"}, nil
	case "native":
		b, err := native()
		if err == nil {
			return b, nil
		}
		err = fmt.Errorf("%s=native: %w", EnvBLAS, err)
		return fallback{why: "native sgemm requested but unavailable: " + err.Error()}, err
	case "", "auto", "openblas":
		if mode != "openblas" {
			if b, err := native(); err == nil {
				return b, nil
			}
		}
		b, err := load()
		if err == nil {
			return b, nil
		}
		if mode == "openblas" {
			err = fmt.Errorf("%s=openblas: %w", EnvBLAS, err)
			return fallback{why: "OpenBLAS requested but not loaded: " + err.Error()}, err
		}
		return fallback{why: "no native sgemm on this CPU and OpenBLAS not loaded: " + err.Error()}, nil
	default:
		err := fmt.Errorf("%s=%q: unknown value (want auto, native, openblas or gonum; cuda needs a binary built with -tags grao_cuda)", EnvBLAS, env)
		return fallback{why: err.Error()}, err
	}
}

var (
	providedMu sync.Mutex
	provided   = map[string]bool{}
)

// Provide makes an optional backend package, compiled in only with its
// build tag (kernels/cuda with -tags grao_cuda), selectable as GRAO_BLAS=name.
// The package calls it from its init, which runs after this package's:
// when GRAO_BLAS names it, open runs then and its backend becomes the
// current one, or LoadError reports why it could not. Provide panics when
// two packages claim the same name, or a built-in one.
func Provide(name string, open func() (Backend, error)) {
	name = strings.ToLower(name)
	providedMu.Lock()
	defer providedMu.Unlock()
	switch {
	case name == "" || name == "auto" || name == "native" || name == "openblas" || name == "gonum":
		panic("kernels.Provide: " + name + " is a built-in GRAO_BLAS value")
	case provided[name]:
		panic("kernels.Provide: backend " + name + " provided twice")
	}
	provided[name] = true
	if strings.ToLower(strings.TrimSpace(os.Getenv(EnvBLAS))) != name {
		return
	}
	b, err := open()
	if err != nil {
		selectErr = fmt.Errorf("%s=%s: %w", EnvBLAS, name, err)
		Use(fallback{why: selectErr.Error()})
		return
	}
	selectErr = nil
	Use(b)
}

func init() {
	// gonum.go's init (same package, earlier file order) installs plain
	// Gonum first; this replaces it. Nothing here may panic: a broken BLAS
	// set-up must be reportable by the CLI, not crash every binary.
	var b Backend
	b, selectErr = selectBackend(os.Getenv(EnvBLAS), NativeBackend, OpenBLAS)
	Use(b)
}
