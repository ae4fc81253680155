// The TCP loop (RFC 7766): one thread per listening socket, epoll, non-blocking connections.
// Each message is length-prefixed; a client may send several queries on one connection and
// pipeline them (answers go out in order). Connections idle for longer than the configured
// timeout are closed, and beyond the configured number of connections new ones are closed at
// once (RFC 7766 section 6.2.2 lets a server protect itself that way). A message the answer
// function drops (garbage) closes its connection.
#pragma once

#include "server/io/runtime.hpp"

namespace timepool::server::io {

void run_tcp(int listen_fd, Runtime& rt, WorkerCounters& counters);

}  // namespace timepool::server::io
