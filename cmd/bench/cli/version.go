package cli

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/grao-lab/grao/kernels"
)

// version is set at link time (-ldflags "-X main.version=…"); otherwise
// the module version or VCS revision from the build info is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

func init() {
	register(command{name: "version", summary: "print version, Go version and the BLAS in use", run: runVersion})
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	b := kernels.Current()
	fmt.Fprintf(stdout, "grao %s\ngo %s %s/%s\nblas %s (%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH, b.Name(), b.Info())
	if err := kernels.LoadError(); err != nil {
		fmt.Fprintf(stdout, "openblas not used: %v\n", err)
	}
	return nil
}
