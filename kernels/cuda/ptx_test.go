package cuda

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var entryRE = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`)

// The committed PTX defines every kernel the engine launches, and nothing
// the engine does not know about (a kernel added to grao.cu but not to
// kernelNames would never load).
func TestPTXDefinesKernels(t *testing.T) {
	var entries []string
	for _, m := range entryRE.FindAllStringSubmatch(ptxSource, -1) {
		entries = append(entries, m[1])
	}
	for _, name := range kernelNames {
		if !slices.Contains(entries, name) {
			t.Errorf("kernel %s is launched but ptx/grao_sm80.ptx has no such entry (run go generate ./kernels/cuda)", name)
		}
	}
	for _, name := range entries {
		if !slices.Contains(kernelNames, name) {
			t.Errorf("ptx/grao_sm80.ptx defines %s, which kernelNames does not list", name)
		}
	}
	if !strings.Contains(ptxSource, ".target sm_80") {
		t.Error("the PTX is not built for sm_80")
	}
}

// ptxToolRE is the compiler line nvcc writes into the PTX header.
var ptxToolRE = regexp.MustCompile(`Cuda compilation tools, release [0-9.]+, V[0-9.]+`)

// The committed PTX is what kernels/build.sh makes of grao.cu today. The
// output depends on the nvcc release, so the check runs only with the
// release that wrote the committed file.
func TestPTXUpToDate(t *testing.T) {
	nvcc := os.Getenv("NVCC")
	if nvcc == "" {
		nvcc = "nvcc"
	}
	if _, err := exec.LookPath(nvcc); err != nil {
		t.Skipf("no %s on PATH: cannot rebuild the PTX to compare (Debian: nvidia-cuda-toolkit)", nvcc)
	}
	ver, err := exec.Command(nvcc, "--version").Output()
	if err != nil {
		t.Skipf("%s --version: %v", nvcc, err)
	}
	want := ptxToolRE.FindString(ptxSource)
	if have := ptxToolRE.FindString(string(ver)); have == "" || have != want {
		t.Skipf("local nvcc is %q, the committed PTX was built by %q: outputs differ between releases", have, want)
	}
	if _, err := os.Stat("kernels/build.sh"); err != nil {
		t.Skip("kernels/build.sh is not here: the test binary runs away from its source (the device check)")
	}
	out := filepath.Join(t.TempDir(), "grao.ptx")
	cmd := exec.Command("sh", "kernels/build.sh", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kernels/build.sh: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(ptxSource)) {
		t.Fatal("ptx/grao_sm80.ptx is stale: run go generate ./kernels/cuda and commit the result")
	}
}
