//go:build grao_cuda

package cuda

import (
	"errors"
	"fmt"
	"os"

	"github.com/ebitengine/purego"
)

// cuBLAS operation codes (cublasOperation_t).
const (
	opN int32 = 0
	opT int32 = 1
)

// cublas holds the few cuBLAS entry points grao uses, bound at run time so
// the binary does not depend on one toolkit's soname.
type cublas struct {
	path    string
	create  func(handle *uintptr) int32
	destroy func(handle uintptr) int32
	sgemm   func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32
	dgemm   func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, b uintptr, ldb int32, beta *float64, c uintptr, ldc int32) int32
	// sgemmStridedFn is cublasSgemmStridedBatched's address (see
	// sgemmStrided for why it is not a purego function).
	sgemmStridedFn uintptr
}

// EnvCuBLASLib names an optional environment variable with the cuBLAS
// library to load instead of searching libcublas.so.13, .12 and .11.
const EnvCuBLASLib = "GRAO_CUBLAS_LIB"

func loadCuBLAS() (*cublas, error) {
	candidates := []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}
	if p := os.Getenv(EnvCuBLASLib); p != "" {
		candidates = []string{p}
	}
	var errs []error
	for _, name := range candidates {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lib := &cublas{path: name}
		for sym, fn := range map[string]any{
			"cublasCreate_v2": &lib.create, "cublasDestroy_v2": &lib.destroy,
			"cublasSgemm_v2": &lib.sgemm, "cublasDgemm_v2": &lib.dgemm,
		} {
			if _, err := purego.Dlsym(h, sym); err != nil {
				return nil, fmt.Errorf("cuda: %s has no %s: %w", name, sym, err)
			}
			purego.RegisterLibFunc(fn, h, sym)
		}
		const strided = "cublasSgemmStridedBatched"
		addr, err := purego.Dlsym(h, strided)
		if err != nil {
			return nil, fmt.Errorf("cuda: %s has no %s: %w", name, strided, err)
		}
		lib.sgemmStridedFn = addr
		return lib, nil
	}
	return nil, fmt.Errorf("cuda: cuBLAS not found (set %s): %w", EnvCuBLASLib, errors.Join(errs...))
}

// status turns a cublasStatus_t into an error naming the call.
func (*cublas) status(call string, st int32) error {
	if st == 0 {
		return nil
	}
	names := map[int32]string{1: "NOT_INITIALIZED", 3: "ALLOC_FAILED", 7: "INVALID_VALUE", 8: "ARCH_MISMATCH",
		11: "MAPPING_ERROR", 13: "EXECUTION_FAILED", 14: "INTERNAL_ERROR", 15: "NOT_SUPPORTED", 16: "LICENSE_ERROR"}
	return fmt.Errorf("cuda: %s: CUBLAS_STATUS_%s (%d)", call, names[st], st)
}
