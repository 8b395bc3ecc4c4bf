package plugins

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/grao-lab/grao/core"
)

// Serve serves r as a reward plugin and returns when the host closes it. Call
// it from a plugin's main function; it never writes to stdout except the
// handshake line (anything else there would break the handshake). Log to
// stderr (or through hclog): the host forwards those lines to its run log.
//
// Run by hand instead of by a host, the binary prints a hint and exits 1.
func Serve(r core.Reward) {
	plugin.Serve(serveConfig(r, nil))
}

// serveConfig is Serve's configuration; the test argument lets tests serve
// in-process.
func serveConfig(r core.Reward, test *plugin.ServeTestConfig) *plugin.ServeConfig {
	return &plugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &GRPCRewardPlugin{Impl: r}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		// JSON lines keep levels and fields intact through the host's log
		// forwarding; Info keeps go-plugin's own debug chatter out.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin",
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
		Test: test,
	}
}
