package plugins

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/grao-lab/grao/core"
)

// serveLogger writes JSON lines, which keep levels and fields intact through
// the host's log forwarding, to the process's real stderr: it is created at
// init, before Serve points os.Stderr at go-plugin's stdio stream, which can
// lose the last lines of a crashing plugin. Info keeps go-plugin's own debug
// chatter out.
var serveLogger = hclog.New(&hclog.LoggerOptions{
	Name:       "plugin",
	Level:      hclog.Info,
	Output:     os.Stderr,
	JSONFormat: true,
})

// Logger is the logger for plugin authors: its lines reach the host's run
// log with their level and fields, even when the plugin dies right after
// (unlike writes to os.Stderr after Serve, which travel through go-plugin's
// stdio stream).
func Logger() hclog.Logger { return serveLogger }

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
		Logger:     serveLogger,
		Test:       test,
	}
}

// ServeAlgorithm serves an algorithm as an out-of-process algorithm plugin
// and returns when the host closes it. factory is the same function an
// in-process algorithm registers (it decodes and validates its
// parameters); the plugin builds the algorithm from the configuration
// each call carries, so it keeps no state between calls.
func ServeAlgorithm(factory func(params map[string]any) (core.Algorithm, error)) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: AlgorithmHandshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {AlgorithmPluginName: &GRPCAlgorithmPlugin{Factory: factory}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     serveLogger,
	})
}
