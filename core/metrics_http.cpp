#include "core/metrics_http.hpp"

#include <httplib.h>

#include <sys/socket.h>

#include <stdexcept>

#include "core/prometheus.hpp"

namespace timepool::prometheus {

HttpServer::HttpServer(Render render, HttpOptions opts)
    : render_(std::move(render)), opts_(opts) {}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::start(const net::Endpoint& listen) {
  if (http_) throw std::logic_error("metrics: already started");
  auto http = std::make_unique<httplib::Server>();
  const std::size_t workers = opts_.workers ? opts_.workers : 1;
  http->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http->set_read_timeout(opts_.read_timeout);
  http->set_write_timeout(opts_.write_timeout);
  http->set_keep_alive_max_count(opts_.keep_alive_max);
  // A connection that never sends a request is held for the keep-alive wait, not the read
  // timeout: bound both.
  http->set_keep_alive_timeout(opts_.read_timeout.count());
  // SO_REUSEADDR for a quick restart, but not httplib's default SO_REUSEPORT: a second daemon
  // on the same port must fail to start, not share the scrapes at random.
  http->set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http->set_payload_max_length(0);
  http->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_(), kContentType);
  });
  const std::string host = listen.address().to_string();
  int port = listen.port();
  if (port == 0) {
    port = http->bind_to_any_port(host);
  } else if (!http->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) throw std::runtime_error("metrics: cannot listen on " + listen.to_string());
  http_ = std::move(http);
  port_ = static_cast<uint16_t>(port);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // stop() before the listener runs would be lost (httplib ignores it then): wait for it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!http_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port_;
}

void HttpServer::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace timepool::prometheus
