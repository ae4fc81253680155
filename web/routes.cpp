// The only file that knows cpp-httplib: converts its requests to web::Request, calls
// dispatch(), and writes the web::Response back.
#include "web/routes.hpp"

#include <httplib.h>

#include "core/log.hpp"
#include "web/form.hpp"

namespace timepool::web {

namespace {

constexpr size_t kMaxBody = 64 * 1024;  // forms are small; refuse anything bigger

Request convert(const httplib::Request& in, bool trust_forwarded_for) {
  Request r;
  r.method = in.method;
  r.path = in.path;
  size_t q = in.target.find('?');
  if (q != std::string::npos) r.query = parse_urlencoded(std::string_view(in.target).substr(q + 1));
  if (in.method == "POST" &&
      in.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    r.form = parse_urlencoded(in.body);
  }
  r.cookies = parse_cookies(in.get_header_value("Cookie"));
  r.remote_addr = in.remote_addr;
  r.authorization = in.get_header_value("Authorization");
  if (trust_forwarded_for && in.has_header("X-Forwarded-For")) {
    // The proxy appends the peer it saw: the last entry is the one we can trust.
    std::string xff = in.get_header_value("X-Forwarded-For");
    size_t comma = xff.rfind(',');
    std::string last = comma == std::string::npos ? xff : xff.substr(comma + 1);
    size_t b = last.find_first_not_of(' '), e = last.find_last_not_of(' ');
    if (b != std::string::npos) r.remote_addr = last.substr(b, e - b + 1);
  }
  return r;
}

void write(const Response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [k, v] : from.headers) to.headers.emplace(k, v);
  if (!from.body.empty() || from.status != 303) to.set_content(from.body, from.content_type.c_str());
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
};

HttpServer::HttpServer(const App& app, DbPool& pool) : impl_(new Impl) {
  auto& s = impl_->server;
  int threads = app.cfg.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(kMaxBody);
  // cpp-httplib writes the headers and the body separately: without TCP_NODELAY, Nagle holds
  // the body until the client's delayed ACK (40 ms on Linux) on a keep-alive connection.
  s.set_tcp_nodelay(true);
  auto handle = [&app, &pool](const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    Response r = dispatch(app, pool, convert(req, app.cfg.trust_x_forwarded_for));
    write(r, res);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log::get("web")->debug("{} {} {} {:.1f}ms", req.method, req.path, r.status, ms);
  };
  s.Get(".*", handle);
  s.Post(".*", handle);
  // The boundary for anything the handlers did not expect: log it, answer 500.
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::get("web")->error("{} {}: {}", req.method, req.path, what);
    res.status = 500;
    res.set_content("Internal error\n", "text/plain; charset=utf-8");
  });
}

HttpServer::~HttpServer() { delete impl_; }

int HttpServer::bind(const std::string& host, int port) {
  if (port == 0) return impl_->server.bind_to_any_port(host);
  return impl_->server.bind_to_port(host, port) ? port : -1;
}

bool HttpServer::serve() { return impl_->server.listen_after_bind(); }

void HttpServer::stop() { impl_->server.stop(); }

}  // namespace timepool::web
