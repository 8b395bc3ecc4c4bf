package plugins

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/core"
)

// pythonWithGRPC finds an interpreter that has Debian's python3-grpcio,
// python3-protobuf and python3-cryptography, or skips the test.
func pythonWithGRPC(t *testing.T) string {
	t.Helper()
	// /usr/bin first: a pyenv or venv python3 earlier in PATH usually lacks
	// the Debian packages.
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import grpc, google.protobuf, cryptography").Run() == nil {
			return path
		}
	}
	t.Skip("skipping the Python plugin test: no python3 with grpc, protobuf and cryptography " +
		"(apt-get install -y python3-grpcio python3-protobuf python3-cryptography)")
	return ""
}

// f1 is an independent Go implementation of the Python example's reward.
func f1(completion, reference string) float64 {
	re := regexp.MustCompile(`[a-z0-9_]+`)
	c := re.FindAllString(strings.ToLower(completion), -1)
	r := re.FindAllString(strings.ToLower(reference), -1)
	if len(c) == 0 || len(r) == 0 {
		return 0
	}
	counts := map[string]int{}
	for _, w := range r {
		counts[w]++
	}
	overlap := 0
	for _, w := range c {
		if counts[w] > 0 {
			counts[w]--
			overlap++
		}
	}
	if overlap == 0 {
		return 0
	}
	p, q := float64(overlap)/float64(len(c)), float64(overlap)/float64(len(r))
	return 2 * p * q / (p + q)
}

func TestPythonPlugin(t *testing.T) {
	py := pythonWithGRPC(t)
	script, err := filepath.Abs("examples/python/plugin.py")
	if err != nil {
		t.Fatal(err)
	}
	items := []core.RewardItem{
		{Completion: "Paris is the capital of France", Reference: "The capital of France is Paris"},
		{Completion: "the the the", Reference: "the cat"},
		{Completion: "no overlap here", Reference: "completely different words"},
		{Completion: "", Reference: "something"},
		{Completion: "anything", Reference: ""}, // not applicable
		{Prompt: "ignored", Completion: "A-B c_d 42!", Reference: "a b c_d 42", Meta: map[string]any{"x": 1}},
	}
	for _, mtls := range []bool{true, false} {
		t.Run(fmt.Sprintf("mtls=%v", mtls), func(t *testing.T) {
			logs := &syncBuffer{}
			r, err := Open(Config{
				Name: "py-f1", Path: py, Args: []string{script},
				DisableAutoMTLS: !mtls, Timeout: 20 * time.Second, LogOutput: logs,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			info := r.Describe()
			if info.Name != "f1" || !info.Deterministic || info.Max != 1 || strings.Join(info.Reads, ",") != "completion,reference" {
				t.Errorf("Describe = %+v", info)
			}
			got, err := r.Score(context.Background(), items)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range items {
				want := core.Score{Applicable: it.Reference != ""}
				if want.Applicable {
					want.Value = f1(it.Completion, it.Reference)
				}
				if got[i].Applicable != want.Applicable || math.Abs(got[i].Value-want.Value) > 1e-12 {
					t.Errorf("item %d: got %+v, want %+v", i, got[i], want)
				}
			}
			if !strings.Contains(logs.String(), fmt.Sprintf("mTLS %v", map[bool]string{true: "True", false: "False"}[mtls])) {
				t.Errorf("the plugin's stderr was not forwarded or mTLS state wrong:\n%s", logs)
			}
			// Shutdown is served: Close must not wait go-plugin's 2 s grace.
			start := time.Now()
			r.Close()
			if el := time.Since(start); el > 1500*time.Millisecond {
				t.Errorf("Close took %v: GRPCController.Shutdown not honoured", el)
			}
		})
	}
}

func TestPythonPluginCheck(t *testing.T) {
	py := pythonWithGRPC(t)
	var out bytes.Buffer
	rep := Check(context.Background(), Config{Name: "py-f1", Path: py, Args: []string{"examples/python/plugin.py"}, LogOutput: &out},
		CheckOptions{Batch: 64, Reps: 5, Out: &out})
	if !rep.OK() {
		t.Fatalf("problems %q\n%s", rep.Problems, out.String())
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

func TestPythonRefusesToRunByHand(t *testing.T) {
	py := pythonWithGRPC(t)
	cmd := exec.Command(py, "examples/python/plugin.py")
	cmd.Env = append(os.Environ(), Handshake.MagicCookieKey+"=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "started by a grao host") {
		t.Errorf("err %v, output %q", err, out)
	}
}
