package kernels_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/kernels/kernelstest"
)

// testBackend is a backend under test with a label for subtest names.
type testBackend struct {
	label string
	kernels.Backend
}

// testBackends lists every backend available in this process. OpenBLAS is
// loaded through OpenBLAS() whatever GRAO_BLAS says, so one `go test` covers
// both, and its cblas_* path is tested separately from the default
// Fortran-interface path. When the library is absent only gonum is tested
// and the reason is logged (TestOpenBLASPresent in openblas_test.go skips
// visibly).
func testBackends(t testing.TB) []testBackend {
	t.Helper()
	bs := []testBackend{{"gonum", kernels.Gonum{}}}
	if nb, err := kernels.NativeBackend(); err == nil {
		bs = append(bs, testBackend{"native", nb})
	} else {
		t.Logf("native sgemm not tested: %v", err)
	}
	if ob, err := kernels.OpenBLAS(); err == nil {
		bs = append(bs, testBackend{"openblas", ob})
		if v, ok := kernels.CblasVariant(ob); ok {
			bs = append(bs, testBackend{"openblas-cblas", v})
		}
	} else {
		t.Logf("OpenBLAS not tested: %v", err)
	}
	return bs
}

func TestGemmConformance(t *testing.T) {
	for _, be := range testBackends(t) {
		t.Run(be.label, func(t *testing.T) { kernelstest.Backend(t, be.Backend) })
	}
}

// TestOpenBLASGemmPanicMessages: OpenBLAS's refusals must say what is
// wrong, since the alternative it prevents (C reading past the slice) would
// give no clue at all.
func TestOpenBLASGemmPanicMessages(t *testing.T) {
	msgs := map[string]string{
		"short a":            "len(a)=5, need 6",
		"short b":            "len(b)=11, need 12",
		"short c":            "len(c)=7, need 8",
		"short a transposed": "len(a)=5, need 6",
		"short b transposed": "len(b)=11, need 12",
		"lda too small":      "lda=2",
		"ldb too small":      "ldb=3",
		"ldc too small":      "ldc=3",
		"negative m":         "negative dimension",
	}
	calls := kernelstest.BadGemmCalls()
	if len(calls) != len(msgs) {
		t.Errorf("%d malformed calls but %d expected messages: keep them in step", len(calls), len(msgs))
	}
	tested := false
	for _, be := range testBackends(t) {
		if !strings.HasPrefix(be.label, "openblas") {
			continue
		}
		tested = true
		for _, c := range calls {
			t.Run(be.label+"/"+c.Name, func(t *testing.T) {
				want, ok := msgs[c.Name]
				if !ok {
					t.Fatal("no expected message for this call")
				}
				got, panicked := c.Call(be.Backend)
				if !panicked {
					t.Fatal("accepted a malformed call")
				}
				if msg := fmt.Sprint(got); !strings.Contains(msg, want) {
					t.Errorf("panic %q does not mention %q", msg, want)
				}
			})
		}
	}
	if !tested {
		t.Skip("OpenBLAS not available")
	}
}
