// Package rewardv1 is the generated Go code of reward.proto (package
// grao.reward.v1), the wire contract between the grao host and reward
// plugins. Do not edit the *.pb.go files: change ../reward.proto and run
// ../generate.sh. Within v1 messages only gain fields; see ../../PROTOCOL.md.
package rewardv1
