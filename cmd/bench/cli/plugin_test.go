package cli

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestPluginCommandBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"no subcommand", []string{"plugin"}, 2, "missing subcommand"},
		{"help", []string{"plugin", "-h"}, 0, "usage: bench plugin check"},
		{"unknown subcommand", []string{"plugin", "frob"}, 2, `unknown subcommand "frob"`},
		{"missing path", []string{"plugin", "check"}, 2, "missing PATH"},
		{"bad flag", []string{"plugin", "check", "-nope", "x"}, 2, "flag provided but not defined"},
		{"bad batch", []string{"plugin", "check", "-batch", "0", "x"}, 2, "-batch and -reps must be positive"},
		{"no such file", []string{"plugin", "check", "/nonexistent/plugin"}, 2, `path "/nonexistent/plugin"`},
		{"bad sha", []string{"plugin", "check", "-sha256", "zz", "/bin/sh"}, 2, "sha256: want 64 hex digits"},
		{"garbage on stdout", []string{"plugin", "check", "-quiet", "/bin/sh", "-c", "echo hello world"}, 2,
			"Unrecognized remote plugin message: hello world"},
		{"exits at once", []string{"plugin", "check", "-quiet", "-start-timeout", "5s", "/bin/sh", "-c", "exit 3"}, 2, "verdict: FAIL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(tc.args, &out, &errb)
			all := out.String() + errb.String()
			if code != tc.code || !strings.Contains(all, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s", code, tc.code, tc.want, all)
			}
		})
	}
}

func TestPluginCheckPythonExample(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil || exec.Command(py, "-c", "import grpc, google.protobuf, cryptography").Run() != nil {
		t.Skip("skipping: /usr/bin/python3 lacks python3-grpcio, python3-protobuf or python3-cryptography")
	}
	var out, errb bytes.Buffer
	code := Run([]string{"plugin", "check", "-quiet", "-reps", "3", py, "../../../plugins/examples/python/plugin.py"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "verdict: OK (f1 1.0.0, protocol 1,") {
		t.Errorf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
