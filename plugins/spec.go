package plugins

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Spec is how to run a plugin, as the keys of an algorithm plugin's
// [[algorithm]] table (name = "plugin"; every key not below is the
// plugin's own parameter). Durations are Go duration strings ("30s",
// "500ms"). Example:
//
//	[[algorithm]]
//	name = "plugin"
//	label = "rloo-numpy"
//	plugin = "/usr/bin/python3"       # looked up in PATH when it has no slash
//	args = ["plugins/examples/python/rloo_plugin.py"]
//	sha256 = "…64 hex digits…"        # optional pin of the executable
//	timeout = "30s"                   # per call (default 60s)
//	max_restarts = 3                  # per call; 0 disables restarts (default 3)
//	g = 16                            # the plugin's parameter
//
// A reward plugin is a [[reward.part]] with kind = "plugin" and the keys
// path, args, sha256 and timeout (docs/plugins.md).
type Spec struct {
	Name         string            `toml:"name" json:"name"`
	Plugin       string            `toml:"plugin" json:"plugin"`
	Args         []string          `toml:"args" json:"args,omitempty"`
	Env          map[string]string `toml:"env" json:"env,omitempty"`
	SHA256       string            `toml:"sha256" json:"sha256,omitempty"`
	Timeout      string            `toml:"timeout" json:"timeout,omitempty"`
	StartTimeout string            `toml:"start_timeout" json:"start_timeout,omitempty"`
	MaxRestarts  *int              `toml:"max_restarts" json:"max_restarts,omitempty"`
	Backoff      string            `toml:"backoff" json:"backoff,omitempty"`
	NoMTLS       bool              `toml:"no_mtls" json:"no_mtls,omitempty"`
}

// Config turns a Spec into a Config. baseDir resolves a relative plugin path
// that contains a slash (a bare name is looked up in PATH). Errors name the
// offending key; callers add the file and line.
func (s Spec) Config(baseDir string) (Config, error) {
	if s.Plugin == "" {
		return Config{}, fmt.Errorf(`key "plugin": missing (path of the plugin executable)`)
	}
	path := s.Plugin
	if strings.ContainsRune(path, '/') && !filepath.IsAbs(path) && baseDir != "" {
		path = filepath.Join(baseDir, path)
	}
	cfg := Config{Name: s.Name, Path: path, Args: slices.Clone(s.Args), SHA256: s.SHA256, DisableAutoMTLS: s.NoMTLS}
	if s.SHA256 != "" && (len(s.SHA256) != 64 || strings.Trim(strings.ToLower(s.SHA256), "0123456789abcdef") != "") {
		return Config{}, fmt.Errorf(`key "sha256": want 64 hex digits, got %q`, s.SHA256)
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return Config{}, fmt.Errorf(`key "env": bad variable name %q`, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // a deterministic environment for a deterministic trial
	for _, k := range keys {
		cfg.Env = append(cfg.Env, k+"="+s.Env[k])
	}
	for _, d := range []struct {
		key string
		val string
		dst *time.Duration
	}{
		{"timeout", s.Timeout, &cfg.Timeout},
		{"start_timeout", s.StartTimeout, &cfg.StartTimeout},
		{"backoff", s.Backoff, &cfg.Backoff},
	} {
		if d.val == "" {
			continue
		}
		v, err := time.ParseDuration(d.val)
		if err != nil || v <= 0 {
			return Config{}, fmt.Errorf(`key %q: %q is not a positive duration (e.g. "30s")`, d.key, d.val)
		}
		*d.dst = v
	}
	if s.MaxRestarts != nil {
		switch n := *s.MaxRestarts; {
		case n < 0:
			return Config{}, fmt.Errorf(`key "max_restarts": %d is negative`, n)
		case n == 0:
			cfg.MaxRestarts = -1 // Config's "never"; 0 there means the default
		default:
			cfg.MaxRestarts = n
		}
	}
	return cfg, nil
}
