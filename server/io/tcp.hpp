// The TCP loop (RFC 7766): one thread per listening socket, epoll, non-blocking connections.
// Each message is length-prefixed; a client may send several queries on one connection and
// pipeline them (answers go out in order). A message the answer function drops (garbage)
// closes its connection.
//
// The doors (RFC 7766 section 6.2.2 lets a server protect its resources this way):
//   - at most Runtime::tcp_max_per_address connections from one client address, IPv6 counted
//     by /64 (a host normally holds a whole /64 and picks any source address in it, so a per
//     /128 limit would not hold); beyond it a new connection is closed at once;
//   - a message must arrive whole within Runtime::tcp_message_timeout_ms of its first byte (a
//     client trickling a byte every few seconds is closed, whatever the idle timeout);
//   - connections idle for longer than Runtime::tcp_idle_timeout_ms are closed;
//   - when Runtime::tcp_max_connections are open, the least recently active connection is
//     closed to admit the new one (as Knot does), so holding every slot locks no one out.
#pragma once

#include "server/io/runtime.hpp"

namespace timepool::server::io {

void run_tcp(int listen_fd, Runtime& rt, WorkerCounters& counters);

}  // namespace timepool::server::io
