package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/grao-lab/grao/core"
)

// The test binary doubles as every plugin (and helper host) the tests need:
// run with GRAO_PLUGINS_TEST_MODE set, TestMain plays that role instead of
// running tests. This keeps the subprocess tests free of `go build` steps.
const (
	envMode = "GRAO_PLUGINS_TEST_MODE"
	envDir  = "GRAO_PLUGINS_TEST_DIR" // scratch directory shared with the test
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		os.Exit(runMode(mode))
	}
	code := m.Run()
	CleanupClients()
	os.Exit(code)
}

// lenReward is the test reward: the completion's length in bytes plus an
// optional meta "bonus"; not applicable to empty completions.
type lenReward struct{}

func (lenReward) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "len", Version: "1.0", Reads: []string{FieldCompletion, FieldMeta},
		Deterministic: true, Min: 0, Max: 1e6}
}

func (lenReward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		if it.Completion == "" {
			continue
		}
		v := float64(len(it.Completion))
		if b, ok := it.Meta["bonus"].(float64); ok {
			v += b
		}
		out[i] = core.Score{Value: v, Applicable: true, Info: fmt.Sprintf("len=%d", len(it.Completion))}
	}
	return out, nil
}

// echoReward reports, in Info, exactly what it received, so tests can check
// what the host sends.
type echoReward struct{ reads []string }

func (e echoReward) Describe() core.RewardInfo {
	return core.RewardInfo{Name: "echo", Version: "0", Reads: e.reads}
}

func (echoReward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		meta, _ := json.Marshal(it.Meta)
		out[i] = core.Score{Applicable: true, Info: strings.Join([]string{it.Prompt, it.Completion, it.Reference, string(meta)}, "|")}
	}
	return out, nil
}

// funcReward adapts a function, for one-off behaviours.
type funcReward struct {
	info core.RewardInfo
	f    func(ctx context.Context, items []core.RewardItem) ([]core.Score, error)
}

func (f funcReward) Describe() core.RewardInfo { return f.info }
func (f funcReward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	return f.f(ctx, items)
}

// runMode plays one role and returns the exit code.
func runMode(mode string) int {
	dir := os.Getenv(envDir)
	if dir != "" {
		// Count starts, so tests can check restarts really launched processes.
		f, err := os.OpenFile(filepath.Join(dir, "starts"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, os.Getpid())
			f.Close()
		}
	}
	base := lenReward{}
	switch mode {
	case "ok":
		Serve(base)
	case "ok-all": // declares no reads: the host sends every field
		info := base.Describe()
		info.Reads = nil
		Serve(funcReward{info, base.Score})
	case "echo":
		var reads []string
		if v := os.Getenv("GRAO_PLUGINS_TEST_READS"); v != "" {
			reads = strings.Split(v, ",")
		}
		Serve(echoReward{reads: reads})
	case "crash-once", "crash-always":
		Serve(funcReward{base.Describe(), func(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
			marker := filepath.Join(dir, "crashed")
			if _, err := os.Stat(marker); mode == "crash-always" || err != nil {
				_ = os.WriteFile(marker, nil, 0o644)
				if mode == "crash-always" {
					Logger().Error("simulated crash in the middle of a batch")
					os.Exit(3)
				}
				panic("simulated crash in the middle of a batch")
			}
			return base.Score(ctx, items)
		}})
	case "hang":
		Serve(funcReward{base.Describe(), func(context.Context, []core.RewardItem) ([]core.Score, error) {
			time.Sleep(time.Hour) // ignores ctx on purpose: a truly stuck plugin
			return nil, nil
		}})
	case "error":
		Serve(funcReward{base.Describe(), func(context.Context, []core.RewardItem) ([]core.Score, error) {
			return nil, errors.New("model weights not loaded")
		}})
	case "nan":
		Serve(funcReward{base.Describe(), func(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
			out := make([]core.Score, len(items))
			out[len(out)-1] = core.Score{Value: math.NaN(), Applicable: true}
			return out, nil
		}})
	case "short":
		Serve(funcReward{base.Describe(), func(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
			return make([]core.Score, len(items)-1), nil
		}})
	case "badreads":
		Serve(funcReward{core.RewardInfo{Name: "x", Reads: []string{"completions"}}, base.Score})
	case "nondet":
		n := 0.0
		Serve(funcReward{base.Describe(), func(_ context.Context, items []core.RewardItem) ([]core.Score, error) {
			n++
			out := make([]core.Score, len(items))
			for i := range out {
				out[i] = core.Score{Value: n, Applicable: true}
			}
			return out, nil
		}})
	case "noisy":
		fmt.Fprintln(os.Stderr, "plain line before serving")
		Serve(funcReward{base.Describe(), func(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
			fmt.Fprintln(os.Stderr, "[WARN] scoring a batch")
			fmt.Println("stdout after the handshake is forwarded too")
			return base.Score(ctx, items)
		}})
	case "no-tls": // a plugin that ignores the host's AutoMTLS request
		os.Unsetenv("PLUGIN_CLIENT_CERT")
		Serve(base)
	case "grandchild": // a wrapper whose child holds stdout open, then garbage
		child := exec.Command("sleep", "300")
		child.Stdout = os.Stdout
		if err := child.Start(); err != nil {
			return 1
		}
		os.WriteFile(filepath.Join(dir, "grandchild"), []byte(strconv.Itoa(child.Process.Pid)), 0o644)
		fmt.Println("starting the real plugin…")
		time.Sleep(time.Hour)
	case "garbage":
		fmt.Println("Loading model weights... done")
		time.Sleep(200 * time.Millisecond)
		Serve(base)
	case "v2":
		cfg := serveConfig(base, nil)
		cfg.HandshakeConfig.ProtocolVersion = 2
		cfg.VersionedPlugins = map[int]plugin.PluginSet{2: cfg.VersionedPlugins[ProtocolVersion]}
		plugin.Serve(cfg)
	case "alg-rloo", "alg-shortgrad", "alg-crash-once":
		return serveTestAlgorithm(mode, dir)
	case "host", "host-nopdeathsig", "host-bare", "host-wrapped", "host-wrapped-nowatchdog":
		return runHelperHost(mode)
	default:
		fmt.Fprintln(os.Stderr, "unknown test mode", mode)
		return 2
	}
	return 0
}

// envHostDir is a helper host's scratch directory (not envDir: the helper
// would record its own pid there).
const envHostDir = "GRAO_PLUGINS_TEST_HOSTDIR"

// wrapperScript runs the plugin as the shell's child, as a wrapper written
// without exec does: the command is not the script's last, so no shell
// turns it into an exec.
const wrapperScript = `#!/bin/sh
"$GRAO_PLUGINS_TEST_BIN" "$@"
exit $?
`

// runHelperHost opens an "ok" plugin (through wrapperScript for the
// host-wrapped modes; without Pdeathsig or the watchdog as the mode says),
// prints one line "PID p DOG d SOCK dir PLUGIN q" (p: the process the host
// started; d: its watchdog, 0 if none; q: the process serving the plugin,
// the wrapper's child or p itself) and waits to be killed.
func runHelperHost(mode string) int {
	disablePdeathsig = mode == "host-nopdeathsig" || mode == "host-bare"
	disableWatchdog = mode == "host-bare" || mode == "host-wrapped-nowatchdog"
	dir := os.Getenv(envHostDir)
	cfg := Config{Name: "victim", Path: os.Args[0], LogOutput: io.Discard,
		Env: []string{envMode + "=ok", envDir + "=" + dir, "GRAO_PLUGINS_TEST_BIN=" + os.Args[0]}}
	if strings.HasPrefix(mode, "host-wrapped") {
		cfg.Path = filepath.Join(dir, "wrapper.sh")
		if err := os.WriteFile(cfg.Path, []byte(wrapperScript), 0o755); err != nil {
			fmt.Println("ERR", err)
			return 1
		}
	}
	r, err := Open(cfg)
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	inst := r.cur
	dog := 0
	if inst.dog != nil {
		dog = inst.dog.pid()
	}
	b, err := os.ReadFile(filepath.Join(dir, "starts"))
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	fmt.Printf("PID %d DOG %d SOCK %s PLUGIN %s\n", r.Pid(), dog, inst.sockDir, strings.TrimSpace(string(b)))
	time.Sleep(time.Minute)
	return 0
}
