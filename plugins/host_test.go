package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/grao-lab/grao/core"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig runs the test binary as a plugin in the given mode, with a
// scratch directory and a captured log.
func testConfig(t testing.TB, mode string) (Config, string, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	logs := &syncBuffer{}
	return Config{
		Name:       "test-" + mode,
		Path:       os.Args[0],
		Env:        []string{envMode + "=" + mode, envDir + "=" + dir},
		Timeout:    10 * time.Second,
		Backoff:    10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		Logger:     hclog.New(&hclog.LoggerOptions{Name: "test-" + mode, Level: hclog.Trace, Output: logs}),
	}, dir, logs
}

func openT(t testing.TB, cfg Config) *Reward {
	t.Helper()
	r, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// starts reads the pids the plugin processes recorded in dir.
func starts(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "starts"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func sampleItems(n int) []core.RewardItem {
	items := make([]core.RewardItem, n)
	for i := range items {
		items[i] = core.RewardItem{
			Prompt:     fmt.Sprintf("\n\nHuman: question %d?\n\nAssistant:", i),
			Completion: strings.Repeat("ab", i%5),
			Reference:  "a reference answer",
			Meta:       map[string]any{"bonus": float64(i % 3)},
		}
	}
	return items
}

func TestSubprocessScore(t *testing.T) {
	cfg, _, _ := testConfig(t, "ok")
	r := openT(t, cfg)
	if got, want := r.Describe(), (lenReward{}).Describe(); !reflect.DeepEqual(got, want) {
		t.Errorf("Describe = %+v, want %+v", got, want)
	}
	if v := r.ProtocolVersion(); v != ProtocolVersion {
		t.Errorf("negotiated version %d, want %d", v, ProtocolVersion)
	}
	if r.Pid() <= 0 || r.Pid() == os.Getpid() {
		t.Errorf("Pid = %d: not a separate process", r.Pid())
	}
	tests := []struct {
		name  string
		items []core.RewardItem
		want  []core.Score
	}{
		{"empty batch", nil, []core.Score{}},
		{"one item", []core.RewardItem{{Completion: "hello"}}, []core.Score{{Value: 5, Applicable: true, Info: "len=5"}}},
		{"meta bonus", []core.RewardItem{{Completion: "hi", Meta: map[string]any{"bonus": 1.5}}},
			[]core.Score{{Value: 3.5, Applicable: true, Info: "len=2"}}},
		{"not applicable", []core.RewardItem{{Completion: ""}, {Completion: "x"}},
			[]core.Score{{}, {Value: 1, Applicable: true, Info: "len=1"}}},
		{"unicode bytes", []core.RewardItem{{Completion: "héllo"}}, []core.Score{{Value: 6, Applicable: true, Info: "len=6"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Score(context.Background(), tc.items)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Score = %+v, want %+v", got, tc.want)
			}
		})
	}
	// A bigger batch must match the reward run in-process exactly.
	items := sampleItems(64)
	want, _ := lenReward{}.Score(context.Background(), items)
	got, err := r.Score(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("64-item batch differs from in-process scores")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Score(context.Background(), items); !errors.Is(err, ErrClosed) {
		t.Errorf("Score after Close: %v, want ErrClosed", err)
	}
}

func TestHostSendsOnlyReadFields(t *testing.T) {
	item := core.RewardItem{Prompt: "P", Completion: "C", Reference: "R", Meta: map[string]any{"k": "v"}}
	tests := []struct{ reads, want string }{
		{"", `P|C|R|{"k":"v"}`}, // undeclared: everything
		{"completion,meta", `|C||{"k":"v"}`},
		{"prompt,reference", `P||R|null`},
	}
	for _, tc := range tests {
		t.Run(tc.reads, func(t *testing.T) {
			cfg, _, _ := testConfig(t, "echo")
			cfg.Env = append(cfg.Env, "GRAO_PLUGINS_TEST_READS="+tc.reads)
			r := openT(t, cfg)
			got, err := r.Score(context.Background(), []core.RewardItem{item})
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Info != tc.want {
				t.Errorf("plugin received %q, want %q", got[0].Info, tc.want)
			}
		})
	}
}

func TestCrashMidBatchRestartsAndRetries(t *testing.T) {
	cfg, dir, logs := testConfig(t, "crash-once")
	r := openT(t, cfg)
	items := sampleItems(16)
	want, _ := lenReward{}.Score(context.Background(), items)
	got, err := r.Score(context.Background(), items)
	if err != nil {
		t.Fatalf("Score after one crash: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retried batch gave %+v, want %+v", got, want)
	}
	if r.Restarts() != 1 {
		t.Errorf("Restarts = %d, want 1", r.Restarts())
	}
	if pids := starts(t, dir); len(pids) != 2 || pids[0] == pids[1] {
		t.Errorf("plugin processes started: %v, want 2 distinct", pids)
	}
	if !strings.Contains(logs.String(), "[ERROR] test-crash-once: panic: simulated crash in the middle of a batch") {
		t.Errorf("the plugin's dying words were not forwarded; log:\n%s", logs)
	}
}

func TestCrashAlwaysGivesUp(t *testing.T) {
	cfg, dir, _ := testConfig(t, "crash-always")
	cfg.MaxRestarts = 2
	r := openT(t, cfg)
	_, err := r.Score(context.Background(), sampleItems(4))
	if err == nil || !strings.Contains(err.Error(), `plugin "test-crash-always"`) ||
		!strings.Contains(err.Error(), "gave up after 2 restart(s)") {
		t.Fatalf("err = %v, want a give-up error naming the plugin", err)
	}
	if n := len(starts(t, dir)); n != 3 {
		t.Errorf("%d processes started, want 3 (1 + 2 restarts)", n)
	}
}

func TestNoRestartWhenDisabled(t *testing.T) {
	cfg, dir, _ := testConfig(t, "crash-once")
	cfg.MaxRestarts = -1
	r := openT(t, cfg)
	if _, err := r.Score(context.Background(), sampleItems(4)); err == nil || !strings.Contains(err.Error(), "crashed") {
		t.Fatalf("err = %v, want a crash error", err)
	}
	if n := len(starts(t, dir)); n != 1 {
		t.Errorf("%d processes started, want 1", n)
	}
}

func TestHangTimesOut(t *testing.T) {
	cfg, dir, _ := testConfig(t, "hang")
	cfg.Timeout = 300 * time.Millisecond
	r := openT(t, cfg)
	start := time.Now()
	_, err := r.Score(context.Background(), sampleItems(4))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `plugin "test-hang"`) {
		t.Fatalf("err = %v, want a timeout naming the plugin", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("timeout took %v", el)
	}
	if r.Pid() != 0 {
		t.Errorf("hung plugin still current (pid %d)", r.Pid())
	}
	// The next call starts a fresh process (which hangs again here).
	if _, err := r.Score(context.Background(), sampleItems(1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second call: %v", err)
	}
	if n := len(starts(t, dir)); n != 2 {
		t.Errorf("%d processes started, want 2", n)
	}
}

func TestCallerCancelIsNotACrash(t *testing.T) {
	cfg, dir, _ := testConfig(t, "hang")
	r := openT(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.Score(ctx, sampleItems(2))
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timed out after") {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if r.Pid() == 0 || len(starts(t, dir)) != 1 || r.Restarts() != 0 {
		t.Errorf("caller cancellation killed or restarted the plugin")
	}
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		mode string
		want []string
	}{
		{"garbage", []string{`plugin "test-garbage"`, "handshake failed", "Loading model weights", "print nothing else to stdout"}},
		{"v2", []string{`plugin "test-v2"`, "Plugin version: 2", "protocol version(s) [1]"}},
		{"badreads", []string{`unknown field "completions"`}},
		{"no-tls", []string{`plugin "test-no-tls"`, "TLS handshake failed", "disable AutoMTLS"}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			cfg, _, _ := testConfig(t, tc.mode)
			r, err := Open(cfg)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBadAnswersFailTheBatch(t *testing.T) {
	tests := []struct{ mode, want string }{
		{"error", "model weights not loaded"},
		{"nan", "item 3: non-finite score NaN"},
		{"short", "returned 3 scores for 4 items"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			cfg, dir, _ := testConfig(t, tc.mode)
			r := openT(t, cfg)
			_, err := r.Score(context.Background(), sampleItems(4))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `plugin "test-`+tc.mode+`"`) {
				t.Fatalf("err = %v, want %q naming the plugin", err, tc.want)
			}
			if r.Restarts() != 0 || len(starts(t, dir)) != 1 {
				t.Errorf("a plugin-reported error caused a restart")
			}
		})
	}
}

func TestLogForwarding(t *testing.T) {
	cfg, _, logs := testConfig(t, "noisy")
	r := openT(t, cfg)
	if _, err := r.Score(context.Background(), sampleItems(2)); err != nil {
		t.Fatal(err)
	}
	want := []string{"plain line before serving", "[WARN]  test-noisy: scoring a batch", "stdout after the handshake is forwarded too", "plugin started"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		missing := ""
		for _, w := range want {
			if !strings.Contains(logs.String(), w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", missing, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSHA256Pinning(t *testing.T) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, f)
	f.Close()
	good := hex.EncodeToString(h.Sum(nil))
	bad := strings.Repeat("0", 64)

	cfg, _, _ := testConfig(t, "ok")
	cfg.SHA256 = good
	openT(t, cfg)

	cfg.SHA256 = bad
	if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "does not match the pinned checksum") {
		t.Errorf("wrong checksum: err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no path", Config{}, "path is empty"},
		{"missing binary", Config{Name: "nope", Path: "/nonexistent/plugin"}, `plugin "nope": path "/nonexistent/plugin"`},
		{"bad sha", Config{Path: os.Args[0], SHA256: "xyz"}, "sha256: want 64 hex digits"},
		{"short sha", Config{Path: os.Args[0], SHA256: "abcd"}, "sha256: want 64 hex digits"},
		{"bad env", Config{Path: os.Args[0], Env: []string{"NOEQUALS"}}, `env[0]: "NOEQUALS" is not KEY=VALUE`},
		{"not a plugin", Config{Name: "true", Path: "true"}, `plugin "true"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.StartTimeout = 5 * time.Second
			r, err := Open(tc.cfg)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConcurrentScore(t *testing.T) {
	cfg, _, _ := testConfig(t, "ok")
	r := openT(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := sampleItems(8 + g)
			want, _ := lenReward{}.Score(context.Background(), items)
			got, err := r.Score(context.Background(), items)
			if err == nil && !reflect.DeepEqual(got, want) {
				err = fmt.Errorf("goroutine %d: wrong scores", g)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// processGone reports whether pid no longer runs (absent or a zombie, which
// a container without an init may leave unreaped).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

func waitGone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if processGone(pid) {
			return true
		}
	}
	return processGone(pid)
}

// A plugin whose child holds its stdout open (a shell wrapper without
// exec) and never shakes hands: the failed start returns within the
// start timeout plus the kill grace, not when the child exits, and the
// child dies with the plugin's process group.
func TestStartFailureKillsTheProcessGroup(t *testing.T) {
	if !pdeathsigSupported {
		t.Skip("process groups are killed on Linux only")
	}
	cfg, dir, _ := testConfig(t, "grandchild")
	cfg.StartTimeout = 2 * time.Second
	t0 := time.Now()
	if _, err := Open(cfg); err == nil {
		t.Fatal("a plugin that never shakes hands was accepted")
	}
	if d := time.Since(t0); d > cfg.StartTimeout+killGrace+5*time.Second {
		t.Errorf("Open returned after %v", d)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "grandchild"))
	if err != nil {
		t.Fatalf("the wrapper never started its child: %v", err)
	}
	pid, _ := strconv.Atoi(string(raw))
	if !waitGone(pid, 5*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the plugin's child %d outlived it", pid)
	}
}
