package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/grao-lab/grao/core"
	pb "github.com/grao-lab/grao/plugins/proto/rewardv1"
)

// Defaults applied by Open to zero Config fields.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultStartTimeout = 30 * time.Second
	DefaultMaxRestarts  = 3
	DefaultBackoff      = 200 * time.Millisecond
	DefaultMaxBackoff   = 10 * time.Second
)

// ErrClosed is returned by Score after Close.
var ErrClosed = errors.New("plugin closed")

// Config says how to run one reward plugin.
type Config struct {
	// Name identifies the plugin in errors and logs (e.g. the reward's name
	// in the sweep). Default: the base name of Path.
	Name string
	// Path is the plugin executable (looked up in PATH if it has no slash).
	// For an interpreted plugin, Path is the interpreter and the script goes
	// into Args.
	Path string
	// Args are the plugin's command-line arguments.
	Args []string
	// Env adds KEY=VALUE variables to the plugin's environment, which
	// otherwise is the host's (Env wins on conflicts).
	Env []string
	// SHA256 optionally pins the executable at Path (hex, 64 digits): a
	// mismatch refuses to start it (go-plugin's SecureConfig). It checks
	// Path only, so for an interpreter it pins the interpreter, not the
	// script.
	SHA256 string
	// Timeout bounds each Describe/Score call. 0: DefaultTimeout; < 0: no
	// timeout. A timed-out plugin is presumed hung: it is killed, the error
	// is returned (not retried) and the next call starts a fresh process.
	Timeout time.Duration
	// StartTimeout bounds the launch and handshake. 0: DefaultStartTimeout.
	StartTimeout time.Duration
	// MaxRestarts is how many times one Score call may restart a crashed
	// plugin and retry its batch. 0: DefaultMaxRestarts; < 0: never restart.
	MaxRestarts int
	// Backoff is the wait before the first restart of a call, doubled for
	// each further one up to MaxBackoff. 0: DefaultBackoff / DefaultMaxBackoff.
	Backoff, MaxBackoff time.Duration
	// DisableAutoMTLS turns off go-plugin's automatic mutual TLS for this
	// plugin, for plugins written in a language whose gRPC cannot do TLS with
	// the host's certificate. The connection is local (a Unix socket or
	// loopback), so this only matters against other local users.
	DisableAutoMTLS bool
	// Logger receives the plugin's stderr lines (hclog JSON and "[LEVEL] msg"
	// lines keep their level; plain lines are Info) and lifecycle events
	// (start, exit, restart). Nil: an hclog logger named "plugin.<Name>"
	// writing to LogOutput at Info.
	Logger hclog.Logger
	// LogOutput is where the default Logger writes. Nil: os.Stderr.
	LogOutput io.Writer
}

// proc is how to run one plugin executable, whatever it serves.
type proc struct {
	cfg  Config
	name string
	path string // resolved executable
	sum  []byte // pinned SHA-256, nil when not pinned
	log  hclog.Logger

	restarts atomic.Int64
	starts   atomic.Int64
}

// kind is what tells one sort of plugin from another: its handshake, the
// plugin set spoken at each protocol version, and the name its service is
// dispensed under.
type kind struct {
	handshake plugin.HandshakeConfig
	versions  func() map[int]plugin.PluginSet
	dispense  string
}

var rewardKind = kind{handshake: Handshake, versions: VersionedPlugins, dispense: PluginName}

// Reward is a reward served by a plugin process. It implements core.Reward
// and is safe for concurrent use.
type Reward struct {
	*proc
	info  core.RewardInfo
	reads readSet

	mu     sync.Mutex
	cur    *instance // nil when no process is running
	closed bool
}

var _ core.Reward = (*Reward)(nil)

// instance is one running plugin process.
type instance struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	rpc     *rpcClient
	version int
	sockDir string
	dog     *watchdog // nil when the plugin runs without one
	logs    []*lineLogger
	killed  sync.Once
}

// group is the plugin's process group: the watchdog's, else the one the
// plugin leads (0 before it started).
func (inst *instance) group() int {
	if inst.dog != nil {
		return inst.dog.pid()
	}
	if inst.cmd.Process != nil {
		return inst.cmd.Process.Pid
	}
	return 0
}

// Open validates cfg, starts the plugin, checks its health and reads its
// Describe answer. Start failures are not retried here: at Open they are
// almost always configuration errors (wrong path, not a plugin, wrong
// protocol version) and the error says which.
func Open(cfg Config) (*Reward, error) {
	r, err := newReward(cfg)
	if err != nil {
		return nil, err
	}
	inst, info, err := r.start()
	if err != nil {
		return nil, err
	}
	r.info, r.reads, r.cur = info, readsOf(info), inst
	return r, nil
}

func newReward(cfg Config) (*Reward, error) {
	p, err := newProc(cfg)
	if err != nil {
		return nil, err
	}
	return &Reward{proc: p}, nil
}

// newProc validates cfg and applies the defaults.
func newProc(cfg Config) (*proc, error) {
	if cfg.Path == "" {
		return nil, errors.New("plugin: config: path is empty")
	}
	name := cfg.Name
	if name == "" {
		name = filepath.Base(cfg.Path)
	}
	path, err := exec.LookPath(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: path %q: %w", name, cfg.Path, err)
	}
	r := &proc{cfg: cfg, name: name, path: path}
	if cfg.SHA256 != "" {
		sum, err := hex.DecodeString(strings.TrimSpace(cfg.SHA256))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("plugin %q: sha256: want 64 hex digits, got %q", name, cfg.SHA256)
		}
		r.sum = sum
	}
	for i, kv := range cfg.Env {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("plugin %q: env[%d]: %q is not KEY=VALUE", name, i, kv)
		}
	}
	if r.cfg.Timeout == 0 {
		r.cfg.Timeout = DefaultTimeout
	}
	if r.cfg.StartTimeout <= 0 {
		r.cfg.StartTimeout = DefaultStartTimeout
	}
	if r.cfg.MaxRestarts == 0 {
		r.cfg.MaxRestarts = DefaultMaxRestarts
	}
	if r.cfg.Backoff <= 0 {
		r.cfg.Backoff = DefaultBackoff
	}
	if r.cfg.MaxBackoff <= 0 {
		r.cfg.MaxBackoff = DefaultMaxBackoff
	}
	r.log = cfg.Logger
	if r.log == nil {
		out := cfg.LogOutput
		if out == nil {
			out = os.Stderr
		}
		r.log = hclog.New(&hclog.LoggerOptions{Name: "plugin." + name, Level: hclog.Info, Output: out})
	}
	return r, nil
}

// Name is the plugin's name as used in errors.
func (r *Reward) Name() string { return r.name }

// Describe returns the plugin's Describe answer read at Open.
func (r *Reward) Describe() core.RewardInfo {
	info := r.info
	info.Reads = append([]string(nil), r.info.Reads...)
	return info
}

// Restarts is how many plugin processes were started after the first one
// (after crashes, and after timeouts killed a hung plugin).
func (r *Reward) Restarts() int { return int(r.restarts.Load()) }

// Pid is the process id of the running plugin, 0 when none runs.
func (r *Reward) Pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil || r.cur.cmd.Process == nil {
		return 0
	}
	return r.cur.cmd.Process.Pid
}

// ProtocolVersion is the application protocol version negotiated with the
// running plugin (0 when none runs).
func (r *Reward) ProtocolVersion() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return 0
	}
	return r.cur.version
}

// Close stops the plugin (asking it to shut down, killing it after 2 s).
// It is idempotent; Score fails with ErrClosed afterwards.
func (r *Reward) Close() error {
	r.mu.Lock()
	inst := r.cur
	r.cur, r.closed = nil, true
	r.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
	return nil
}

// CleanupClients kills every plugin process started by this package (and
// any other go-plugin managed client) that is still running. Call it on
// every exit path of a host program: `defer plugins.CleanupClients()` in main
// and in signal handlers. Pdeathsig and the watchdog cover the paths where no
// code runs.
func CleanupClients() { plugin.CleanupClients() }

// Score scores a batch through the plugin. A crash (the process exits or the
// connection drops mid-call) restarts the plugin with exponential backoff and
// retries the whole batch, at most MaxRestarts times per call. A timeout, a
// cancelled ctx, or an error reported by the plugin fails the call at once.
// Every error names the plugin.
func (r *Reward) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	if len(items) == 0 {
		return []core.Score{}, nil
	}
	enc, err := itemsToProto(items, r.reads)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", r.name, err)
	}
	req := &pb.ScoreRequest{Items: enc}
	var scores []core.Score
	err = r.retry(ctx, r.instance, func(inst *instance) error {
		resp, err := r.call(ctx, inst, req)
		if err != nil {
			return err
		}
		if scores, err = scoresFromProto(resp.GetScores(), len(items), r.info); err != nil {
			return fmt.Errorf("plugin %q: score: %w", r.name, err)
		}
		return nil
	})
	return scores, err
}

// retry runs do on a running instance (get starts one when none runs,
// reporting that it restarted), restarting a crashed plugin with
// exponential backoff, at most MaxRestarts times per call. Only a
// *crashError from get or do is retried.
func (p *proc) retry(ctx context.Context, get func() (*instance, bool, error), do func(*instance) error) error {
	maxRestarts := max(p.cfg.MaxRestarts, 0)
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > maxRestarts {
				return fmt.Errorf("plugin %q: gave up after %d restart(s): %w", p.name, maxRestarts, lastErr)
			}
			wait := p.backoff(attempt)
			p.log.Warn("plugin failed; restarting", "attempt", attempt, "of", maxRestarts, "backoff", wait, "error", lastErr)
			if err := sleepCtx(ctx, wait); err != nil {
				return fmt.Errorf("plugin %q: cancelled while waiting to restart: %w (after: %v)", p.name, err, lastErr)
			}
		}
		inst, restarted, err := get()
		if restarted {
			p.restarts.Add(1)
		}
		if err != nil {
			var ce *crashError
			if !errors.As(err, &ce) {
				return err
			}
			lastErr = err
			continue
		}
		err = do(inst)
		var ce *crashError
		if err == nil || !errors.As(err, &ce) {
			return err
		}
		lastErr = err
	}
}

// crashError marks a failure that a restart may cure.
type crashError struct{ err error }

func (e *crashError) Error() string { return e.err.Error() }
func (e *crashError) Unwrap() error { return e.err }

// call runs one Score RPC under the per-call timeout and classifies its
// failure: caller cancellation, timeout (the instance is killed), crash (the
// instance is dropped; returned as *crashError) or an error from the plugin
// itself.
func (r *Reward) call(ctx context.Context, inst *instance, req *pb.ScoreRequest) (*pb.ScoreResponse, error) {
	var resp *pb.ScoreResponse
	err := r.invoke(ctx, inst, r.drop, func(c context.Context) (err error) {
		resp, err = inst.rpc.score(c, req)
		return err
	})
	return resp, err
}

// invoke runs one RPC under the per-call timeout and classifies its
// failure: caller cancellation, timeout (drop kills the instance), crash
// (the instance is dropped; returned as *crashError) or an error from the
// plugin itself.
func (p *proc) invoke(ctx context.Context, inst *instance, drop func(*instance), rpc func(context.Context) error) error {
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if p.cfg.Timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
	}
	defer cancel()
	err := rpc(cctx)
	if err == nil {
		return nil
	}
	// Whose deadline was it? Decide by the clock, not only ctx.Err(): gRPC
	// reports DeadlineExceeded as soon as the deadline has passed (its own
	// check, or the plugin's server enforcing the grpc-timeout it was sent),
	// which on a loaded machine can be before the context's timer fires.
	now := time.Now()
	expired := func(c context.Context) bool {
		dl, ok := c.Deadline()
		return c.Err() != nil || ok && !now.Before(dl)
	}
	switch {
	case expired(ctx):
		cerr := ctx.Err()
		if cerr == nil {
			cerr = context.DeadlineExceeded
		}
		return fmt.Errorf("plugin %q: %w", p.name, cerr)
	case expired(cctx):
		drop(inst)
		p.log.Error("plugin timed out; killed it", "timeout", p.cfg.Timeout)
		return fmt.Errorf("plugin %q: call timed out after %v (plugin killed; the next call restarts it): %w",
			p.name, p.cfg.Timeout, context.DeadlineExceeded)
	case inst.client.Exited() || status.Code(err) == codes.Unavailable:
		drop(inst)
		return &crashError{fmt.Errorf("plugin %q crashed or dropped the connection: %s", p.name, statusText(err))}
	default:
		return fmt.Errorf("plugin %q: %s", p.name, statusText(err))
	}
}

// statusText renders a gRPC error as "CODE: message" without grpc's
// "rpc error: code = … desc = …" noise.
func statusText(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Code().String() + ": " + s.Message()
	}
	return err.Error()
}

func (r *proc) backoff(attempt int) time.Duration {
	d := r.cfg.Backoff
	for i := 1; i < attempt && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxBackoff)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// instance returns the running instance, starting one if none runs
// (restarted reports that). Starting holds the lock, so concurrent callers
// wait for one start instead of racing to launch several processes.
func (r *Reward) instance() (inst *instance, restarted bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false, fmt.Errorf("plugin %q: %w", r.name, ErrClosed)
	}
	if r.cur != nil {
		return r.cur, false, nil
	}
	inst, info, err := r.start()
	if err != nil {
		return nil, true, &crashError{err}
	}
	// A restart must bring back the same reward: a different one (binary
	// replaced mid-run) would silently mix scores in one trial.
	if info.Name != r.info.Name || info.Version != r.info.Version {
		inst.kill()
		return nil, true, fmt.Errorf("plugin %q: restarted plugin is %s %s, was %s %s",
			r.name, info.Name, info.Version, r.info.Name, r.info.Version)
	}
	r.cur = inst
	return inst, true, nil
}

// drop forgets inst (if it is still current) and kills it.
func (r *Reward) drop(inst *instance) {
	r.mu.Lock()
	if r.cur == inst {
		r.cur = nil
	}
	r.mu.Unlock()
	inst.kill()
}

// kill stops the plugin and everything in its process group. Concurrent
// callers (two calls timing out at once, Close during a drop) wait for the
// first: a second round of group kills after the watchdog was reaped could
// hit a new group that reused its id.
func (inst *instance) kill() { inst.killed.Do(inst.doKill) }

func (inst *instance) doKill() {
	// go-plugin's Kill asks for a graceful shutdown (2 s), kills the
	// process, then waits for its stdout and stderr to close. A process the
	// plugin started that holds them open (a shell wrapper without exec)
	// would make that wait last as long as it lives: past the grace
	// period, the whole process group is killed.
	done := make(chan struct{})
	go func() {
		inst.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
		killGroup(inst.group())
		<-done
	}
	killGroup(inst.group()) // anything the plugin left behind
	if inst.dog != nil {
		// Last: until the watchdog is reaped, the group id cannot be
		// reused, so the kills above cannot reach a stranger.
		inst.dog.stop()
	}
	os.RemoveAll(inst.sockDir)
	for _, l := range inst.logs {
		l.Flush()
	}
}

// sockDirPrefix names the host's private socket directories; the watchdog
// refuses to remove anything else.
const sockDirPrefix = "grao-plugin-"

// envWatchdog turns a process into a plugin's watchdog (Linux only); its
// value is the socket directory to remove.
const envWatchdog = "GRAO_PLUGIN_WATCHDOG"

// killGrace is how long kill waits for go-plugin's orderly shutdown
// before it kills the plugin's process group.
const killGrace = 3 * time.Second

// disablePdeathsig is a test hook: it lets a test show the orphan that
// Pdeathsig prevents, proving the kill test can fail.
var disablePdeathsig = false

// disableWatchdog is a test hook, like disablePdeathsig, for the orphans the
// watchdog prevents.
var disableWatchdog = false

// offLogger silences go-plugin's own logging: our lineLoggers forward the
// plugin's output and we log lifecycle events ourselves.
var offLogger = hclog.New(&hclog.LoggerOptions{Level: hclog.Off, Output: io.Discard})

// start launches one plugin process and reads Describe.
func (r *Reward) start() (*instance, core.RewardInfo, error) {
	inst, raw, err := r.launch(rewardKind)
	if err != nil {
		return nil, core.RewardInfo{}, err
	}
	fail := func(stage string, err error) (*instance, core.RewardInfo, error) {
		inst.kill()
		return nil, core.RewardInfo{}, fmt.Errorf("plugin %q (%s): %s: %s", r.name, r.path, stage, startHint(err))
	}
	inst.rpc = raw.(*rpcClient)
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.StartTimeout)
	defer cancel()
	d, err := inst.rpc.describe(ctx)
	if err != nil {
		return fail("describe", errors.New(statusText(err)))
	}
	info, err := infoFromProto(d)
	if err != nil {
		return fail("bad answer", err)
	}
	r.log.Info("plugin started", "pid", inst.cmd.Process.Pid, "reward", info.Name, "version", info.Version,
		"protocol", inst.version, "mtls", !r.cfg.DisableAutoMTLS)
	return inst, info, nil
}

// launch starts one plugin process of kind k, performs the handshake,
// checks health and dispenses the service (the raw client stub).
func (r *proc) launch(k kind) (*instance, any, error) {
	r.starts.Add(1)
	// A private socket directory, removed after the process ends: a plugin
	// that crashes or is killed cannot remove its own socket file.
	sockDir, err := os.MkdirTemp("", sockDirPrefix)
	if err == nil {
		// Absolute, so that the watchdog can check what it removes.
		sockDir, err = filepath.Abs(sockDir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %q: %w", r.name, err)
	}
	// Started before the plugin, which joins its process group: no moment
	// where the plugin runs unwatched.
	var dog *watchdog
	if !disableWatchdog {
		if dog, err = startWatchdog(sockDir, r.cfg.StartTimeout); err != nil {
			r.log.Warn("plugin runs without a watchdog: if the host is killed with SIGKILL, "+
				"the plugin's own child processes and its socket directory outlive it", "error", err)
		}
	}
	pgid := 0
	if dog != nil {
		pgid = dog.pid()
	}
	cmd := exec.Command(r.path, r.cfg.Args...)
	cmd.Env = append(os.Environ(), r.cfg.Env...)
	cmd.Env = append(cmd.Env, plugin.EnvUnixSocketDir+"="+sockDir)
	if !disablePdeathsig {
		setPdeathsig(cmd)
	}
	setGroup(cmd, pgid)
	var sc *plugin.SecureConfig
	if r.sum != nil {
		// A fresh hash each start: SecureConfig.Check writes into it.
		sc = &plugin.SecureConfig{Checksum: r.sum, Hash: sha256.New()}
	}
	stderr := newLineLogger(r.log, "stderr")
	syncOut := newLineLogger(r.log, "stdout")
	syncErr := newLineLogger(r.log, "stderr")
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  k.handshake,
		VersionedPlugins: k.versions(),
		Cmd:              cmd,
		SecureConfig:     sc,
		Managed:          true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         !r.cfg.DisableAutoMTLS,
		StartTimeout:     r.cfg.StartTimeout,
		SkipHostEnv:      true, // cmd.Env already holds it, with Env taking precedence
		Logger:           offLogger,
		Stderr:           stderr,
		SyncStdout:       syncOut,
		SyncStderr:       syncErr,
	})
	inst := &instance{client: client, cmd: cmd, sockDir: sockDir, dog: dog, logs: []*lineLogger{stderr, syncOut, syncErr}}
	fail := func(stage string, err error) (*instance, any, error) {
		inst.kill()
		return nil, nil, fmt.Errorf("plugin %q (%s): %s: %s", r.name, r.path, stage, startHint(err))
	}
	cp, err := client.Client()
	if err != nil {
		return fail("handshake failed", err)
	}
	inst.version = client.NegotiatedVersion()
	gc, ok := cp.(*plugin.GRPCClient)
	if !ok {
		return fail("handshake", fmt.Errorf("plugin speaks %T, want gRPC", cp))
	}
	// go-plugin's own Ping has no deadline; a plugin that accepts the
	// connection but never answers must not hang the host.
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.StartTimeout)
	defer cancel()
	hc, err := healthpb.NewHealthClient(gc.Conn).Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		if msg := err.Error(); !r.cfg.DisableAutoMTLS && (strings.Contains(msg, "authentication handshake failed") || strings.Contains(msg, "tls:")) {
			return fail("TLS handshake failed: the plugin does not answer the host's AutoMTLS "+
				"(PLUGIN_CLIENT_CERT; see PROTOCOL.md, TLS); fix the plugin or disable AutoMTLS for it", errors.New(statusText(err)))
		}
		return fail(`health check failed (a plugin must serve grpc.health.v1.Health with service "plugin" SERVING)`, errors.New(statusText(err)))
	}
	if hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fail("health check", fmt.Errorf(`service "plugin" is %v, want SERVING`, hc.GetStatus()))
	}
	raw, err := cp.Dispense(k.dispense)
	if err != nil {
		return fail("dispense", err)
	}
	return inst, raw, nil
}

// startHint turns go-plugin's start errors into messages that say what the
// plugin author has to fix.
func startHint(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return "sha256 of the executable does not match the pinned checksum"
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		return fmt.Sprintf("%s (this host speaks protocol version(s) %v; see PROTOCOL.md, versioning)", msg, hostVersions())
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Sprintf("%s (the first stdout line must be the handshake "+
			"\"1|<version>|<unix|tcp>|<address>|grpc[|<cert>]\"; a plugin must print nothing else to stdout "+
			"before it, and should log to stderr)", strings.TrimSpace(msg))
	case strings.Contains(msg, "plugin exited before we could connect"):
		return msg + " (see the plugin's stderr in the log above)"
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return msg + " (no handshake line on stdout within the start timeout)"
	}
	return msg
}

func hostVersions() []int {
	var vs []int
	for v := range VersionedPlugins() {
		vs = append(vs, v)
	}
	return vs
}
