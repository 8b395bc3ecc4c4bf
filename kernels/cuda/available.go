//go:build !grao_cuda

package cuda

import "errors"

// ErrNotBuilt is what Available returns in a build without the GPU code.
var ErrNotBuilt = errors.New("grao was built without the grao_cuda tag; build with -tags grao_cuda on a machine with the CUDA driver")

// Available reports whether the CUDA engine can run: never, in this build.
func Available() error { return ErrNotBuilt }
