// The UDP loop: one thread per socket (SO_REUSEPORT spreads the load across workers). It
// receives up to kBatch datagrams with recvmmsg, answers each with answer(), and sends the
// replies with one sendmmsg from the address each query arrived on (IP_PKTINFO). With
// Runtime::rrl set, each reply passes response rate limiting first (server/io/rrl.hpp).
#pragma once

#include "server/io/runtime.hpp"

namespace timepool::server::io {

// Runs until rt.stop; owns nothing (the caller closes fd).
void run_udp(int fd, Runtime& rt, WorkerCounters& counters);

}  // namespace timepool::server::io
