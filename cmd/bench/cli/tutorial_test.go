package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tutorialFiles extracts the files of a Markdown tutorial: each fenced
// block right after a "<!-- file: PATH -->" line.
func tutorialFiles(t *testing.T, doc string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	marker := regexp.MustCompile(`^<!-- file: (\S+) -->$`)
	files := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var name string
	var body []string
	inBlock := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case inBlock && line == "```":
			files[name], name, inBlock = strings.Join(body, "\n")+"\n", "", false
		case inBlock:
			body = append(body, line)
		case name != "" && strings.HasPrefix(line, "```"):
			inBlock, body = true, nil
		default:
			if m := marker.FindStringSubmatch(line); m != nil {
				name = m[1]
			}
		}
	}
	return files
}

// TestTutorial follows docs/writing-an-algorithm.md as a user would: the
// algorithm, its test and a bench main in a module of their own (with a
// replace directive to this checkout), `go test`, `go build`, then the
// tutorial's sweep and report with that bench. It keeps the doc honest,
// including the line counts the doc's promise rests on.
func TestTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a module and runs a sweep")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	files := tutorialFiles(t, filepath.Join(root, "docs", "writing-an-algorithm.md"))
	for name, limit := range map[string]int{"reinforce.go": 80, "cmd/bench/main.go": 15, "sweep.toml": 0, "reinforce_test.go": 0,
		"rloo_plugin.py": 100, "plugin-sweep.toml": 0} {
		src, ok := files[name]
		if !ok {
			t.Fatalf("the tutorial has no file %s", name)
		}
		n := strings.Count(src, "\n")
		if limit > 0 && n > limit {
			t.Errorf("%s has %d lines, the tutorial promises ≤ %d", name, n, limit)
		}
		t.Logf("%s: %d lines", name, n)
	}
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The module a user gets from `go mod init` + a replace to the
	// checkout; grao's own requirements and go.sum make it build offline.
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllString(string(mod), "module example.com/reinforce") +
		"\nrequire github.com/grao-lab/grao v0.0.0\n\nreplace github.com/grao-lab/grao => " + root + "\n"
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644)
	sum, _ := os.ReadFile(filepath.Join(root, "go.sum"))
	os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)

	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GRAO_BASE_CACHE="+filepath.Join(dir, "base-cache"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(goBin, "test", "./...")
	run(goBin, "build", "-o", "bench", "./cmd/bench")
	run("./bench", "run", "sweep.toml", "--out", "runs/demo")
	f, err := os.Open(filepath.Join(dir, "runs", "demo", "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	algs := map[string]bool{}
	for _, r := range rows[1:] {
		algs[r[3]] = true
	}
	if !algs["reinforce"] || !algs["grpo"] {
		t.Errorf("results hold algorithms %v, want reinforce and grpo", algs)
	}
	if rep := run("./bench", "report", "runs/demo"); !strings.Contains(strings.ToLower(rep), "reinforce") {
		t.Errorf("the report does not show the new algorithm:\n%s", rep)
	}
	run("./bench", "plot", "runs/demo")
	if figs, _ := filepath.Glob(filepath.Join(dir, "runs", "demo", "figures", "*.svg")); len(figs) == 0 {
		t.Error("bench plot wrote no figure")
	}
	// The doc's claim about a misspelt key.
	bad := strings.Replace(files["sweep.toml"], "name = \"reinforce\"\ng = 4", "name = \"reinforce\"\ngg = 4", 1)
	os.WriteFile(filepath.Join(dir, "bad.toml"), []byte(bad), 0o644)
	cmd := exec.Command("./bench", "run", "bad.toml", "--out", "runs/bad")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "bad.toml:") || !strings.Contains(string(out), "gg") {
		t.Errorf("misspelt key: %v\n%s\nwant exit 2 naming bad.toml:LINE and gg", err, out)
	}
	t.Logf("misspelt key: %s", out)

	// Section 6: the Python plugin is the example the plugin tests check
	// against the built-in RLOO, used with the same bench.
	example := filepath.Join(root, "plugins", "examples", "python")
	if want, _ := os.ReadFile(filepath.Join(example, "rloo_plugin.py")); string(want) != files["rloo_plugin.py"] {
		t.Error("the tutorial's rloo_plugin.py differs from plugins/examples/python/rloo_plugin.py")
	}
	if exec.Command("/usr/bin/python3", "-c", "import grpc, google.protobuf, cryptography, numpy").Run() != nil {
		t.Skip("no /usr/bin/python3 with grpc, protobuf, cryptography and numpy: the plugin half is not run " +
			"(apt-get install -y python3-grpcio python3-protobuf python3-cryptography python3-numpy)")
	}
	for _, f := range []string{"graoplugin", "algorithm_pb2", "algorithm_pb2_grpc", "health_pb2", "health_pb2_grpc", "grpc_controller_pb2", "grpc_controller_pb2_grpc"} {
		data, err := os.ReadFile(filepath.Join(example, f+".py"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f+".py"), data, 0o644)
	}
	if out := run("./bench", "plugin", "check", "--algorithm", "--quiet", "--params", `{"g": 4}`, "/usr/bin/python3", "rloo_plugin.py"); !strings.Contains(out, "verdict: OK") {
		t.Errorf("plugin check:\n%s", out)
	}
	run("./bench", "run", "plugin-sweep.toml", "--out", "runs/plugin-demo")
	res, err := os.ReadFile(filepath.Join(dir, "runs", "plugin-demo", "results.csv"))
	if err != nil || !strings.Contains(string(res), ",rloo-numpy,") || !strings.Contains(string(res), ",rloo,") {
		t.Errorf("plugin sweep results lack rloo-numpy or rloo: %v", err)
	}
}
