package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/rewards"
)

// DefaultRewardTimeout is a reward plugin part's timeout when none is given.
const DefaultRewardTimeout = "60s"

// kind = "plugin": a reward served by a plugin process.
func init() {
	rewards.Register("plugin", rewards.Kind{
		Keys: []string{"path", "args", "sha256", "timeout"},
		Path: "executable",
		Defaults: func(s *rewards.Spec, ex func(string) bool) {
			if s.Timeout == "" && !ex("timeout") {
				s.Timeout = DefaultRewardTimeout
			}
		},
		Check: func(s rewards.Spec, _ func(string) bool) []rewards.FieldError {
			var errs []rewards.FieldError
			if s.Path == "" {
				errs = append(errs, rewards.FieldError{Key: "path", Reason: "a plugin part needs the path of its executable"})
			}
			if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
				errs = append(errs, rewards.FieldError{Key: "timeout", Reason: fmt.Sprintf("%q: want a positive duration such as \"10s\"", s.Timeout)})
			}
			if s.SHA256 != "" {
				if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size {
					errs = append(errs, rewards.FieldError{Key: "sha256", Reason: fmt.Sprintf("want 64 hexadecimal digits, got %q", s.SHA256)})
				}
			}
			return errs
		},
		New: func(s rewards.Spec, _ rewards.Env) (core.Reward, func(), error) {
			if len(s.ArgsSHA256) > 0 {
				if err := checkArgDigests(s.Args, s.ArgsSHA256); err != nil {
					return nil, nil, fmt.Errorf("reward plugin %s: %w", s.Path, err)
				}
			}
			cfg := Config{Path: s.Path, Args: s.Args, SHA256: s.SHA256}
			if s.Timeout != "" {
				d, err := time.ParseDuration(s.Timeout)
				if err != nil {
					return nil, nil, fmt.Errorf("reward plugin %s: timeout: %v", s.Path, err)
				}
				cfg.Timeout = d
			}
			r, err := Open(cfg)
			if err != nil {
				return nil, nil, err
			}
			return r, func() { r.Close() }, nil
		},
	})
}

// checkArgDigests refuses a plugin whose argument files (its script)
// changed since the sweep was validated: the results would be filed under
// a trial ID that names the old content.
func checkArgDigests(args []string, want map[string]string) error {
	got, err := inputDigests("", args)
	if err != nil {
		return err
	}
	var stale []string
	for f, sum := range want {
		if got[f] != sum {
			stale = append(stale, f)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		return fmt.Errorf("changed since the sweep was validated: %s", strings.Join(stale, ", "))
	}
	return nil
}
