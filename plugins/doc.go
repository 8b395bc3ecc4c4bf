// Package plugins runs grao rewards as separate processes over
// hashicorp/go-plugin's gRPC transport, so a reward can be written in any
// language, cannot corrupt the trainer's memory, and can crash without losing
// a sweep.
//
// Contract (see PROTOCOL.md for the language-neutral version): the plugin
// serves the grao.reward.v1.Reward gRPC service (proto/reward.proto) behind
// go-plugin's handshake with magic cookie [Handshake] and application protocol
// version [ProtocolVersion]; [VersionedPlugins] is the negotiation table
// (add a version there when the protocol changes incompatibly).
//
// Host side: [Open] starts a plugin and returns a [*Reward] that implements
// core.Reward with a per-call timeout, restart-on-crash with bounded retries
// and exponential backoff (the failed batch is retried), AutoMTLS, optional
// SHA-256 pinning of the executable, the plugin's stderr forwarded to a log,
// and a plugin process, with whatever it started, that dies with the host
// (on Linux: Pdeathsig, and a watchdog process, see watchdog_linux.go). Call
// [(*Reward).Close] when done and [CleanupClients] on every exit path.
//
// Author side: [Serve] turns any core.Reward into a plugin main function.
//
// Algorithms run out of process the same way (PROTOCOL.md, section 10):
// [OpenAlgorithm] returns an [*Algorithm] implementing core.Algorithm over
// the grao.algorithm.v1 service (proto/algorithm.proto), one process per
// plugin command shared by all its configurations; the package registers
// the "plugin" algorithm factory a sweep's [[algorithm]] name = "plugin"
// uses; [ServeAlgorithm] turns an algorithm factory into a plugin main.
package plugins
