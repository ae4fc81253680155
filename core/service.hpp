// Service-manager integration for the daemons: readiness and status for systemd
// (Type=notify, sd_notify(3)). Every call is a no-op when not started by systemd
// (NOTIFY_SOCKET unset), so the daemons behave the same under a shell or a test.
#pragma once

#include <string_view>

namespace timepool::service {

// The daemon has bound its sockets and can serve: systemd may start what depends on it.
void notify_ready();
// The daemon is reloading its configuration (SIGHUP); call notify_ready() when done.
void notify_reloading();
// The daemon is shutting down.
void notify_stopping();
// A one-line status shown by `systemctl status`.
void notify_status(std::string_view status);

}  // namespace timepool::service
