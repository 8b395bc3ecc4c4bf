//go:build !grao_cuda

package cuda

import (
	"errors"
	"strings"
	"testing"
)

func TestAvailableWithoutTag(t *testing.T) {
	err := Available()
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "-tags grao_cuda") {
		t.Fatalf("Available() = %v, want the built-without-grao_cuda error", err)
	}
}
