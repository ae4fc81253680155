#include "core/service.hpp"

#include <string>

#include <systemd/sd-daemon.h>

namespace timepool::service {

void notify_ready() { sd_notify(0, "READY=1"); }

void notify_reloading() { sd_notify(0, "RELOADING=1"); }

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_status(std::string_view status) {
  std::string msg = "STATUS=";
  msg.append(status);
  sd_notify(0, msg.c_str());
}

}  // namespace timepool::service
