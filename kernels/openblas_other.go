//go:build !((darwin || freebsd || linux || netbsd) && !android && !faketime && (amd64 || arm64))

package kernels

import (
	"fmt"
	"runtime"
)

// On platforms purego cannot call C with float arguments on (or that we have
// not tested), OpenBLAS is simply unavailable and gonum is used.

func openBLASCandidates() []string { return nil }

func loadOpenBLAS([]string) (Backend, error) {
	return nil, fmt.Errorf("kernels: OpenBLAS loading is not supported on %s/%s", runtime.GOOS, runtime.GOARCH)
}
