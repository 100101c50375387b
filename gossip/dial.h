// File: gossip/dial.h
//
// Outgoing peer connections. A node dials its peers from its own bind
// address (not whatever source the kernel would pick), so a node's traffic is
// identified by its address on the wire: operators can firewall a link, and
// the multi-node tests cut links between nodes with nftables rules on
// source and destination addresses.
//
// Thread-safety: free functions, safe from any thread.
#ifndef LATTICE_GOSSIP_DIAL_H_
#define LATTICE_GOSSIP_DIAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace lattice::gossip {

// Connects to `addr` ("host:port"; an IPv4/[IPv6] address or a name, which
// is resolved) within `timeout_ms`,
// from `source_ip` when it is a specific address ("" or a wildcard: the
// kernel chooses), and wraps the socket in a gRPC channel. The channel does
// not reconnect: when it fails, dial again.
absl::StatusOr<std::shared_ptr<grpc::Channel>> DialPeer(const std::string& addr,
                                                        const std::string& source_ip,
                                                        int timeout_ms);

// Splits "host:port" / "[v6]:port". Returns false when malformed.
bool SplitHostPort(const std::string& addr, std::string* host, int* port);

}  // namespace lattice::gossip

#endif  // LATTICE_GOSSIP_DIAL_H_
