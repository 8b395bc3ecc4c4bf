//go:build grao_cuda

package probe

import (
	"fmt"
	"os"
)

// init runs before gorgonia.org/cu's (Go initialises ready packages in
// import-path order, and this path sorts first), so a tagged binary on a
// machine without a usable GPU stops with the reason instead of cu's bare
// "Error in initialization". It ends the process only where cu would: when
// cuInit fails.
func init() {
	if r := Probe(); r.InitFailed {
		fmt.Fprintf(os.Stderr, "grao: this binary was built with -tags grao_cuda and needs an NVIDIA GPU: %v\n", r.Err)
		os.Exit(1)
	}
}
