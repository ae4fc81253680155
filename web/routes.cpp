// The only file that knows cpp-httplib: converts its requests to web::Request, calls
// dispatch(), and writes the web::Response back.
#include "web/routes.hpp"

#include <sys/socket.h>

#include <httplib.h>

#include "core/address.hpp"
#include "core/log.hpp"
#include "web/deadline_server.hpp"
#include "web/form.hpp"

namespace timepool::web {

namespace {

// The site's own limit on a request body: its largest form (a vendor request, four fields of up
// to 2000 bytes, percent-encoded) is under 15 KB. A bigger body is answered with a page that
// says so (413).
constexpr size_t kMaxBody = 64 * 1024;
// cpp-httplib's limit, above the site's, so that the site's own page answers first; beyond it
// the library answers a bare 413 without reading the body. (Its separate 8 KB limit on
// urlencoded bodies does not apply: POST bodies are read here, through a ContentReader.)
constexpr size_t kLibraryMaxBody = 1024 * 1024;

// The client's address: the TCP peer, or behind a configured proxy the last X-Forwarded-For
// entry that is not a configured proxy (entries to its left may be forged by the client).
std::string client_address(const WebConfig& cfg, const httplib::Request& in) {
  auto peer = address::parse(in.remote_addr);
  if (!peer || !is_trusted_proxy(cfg, *peer) || !in.has_header("X-Forwarded-For")) {
    return in.remote_addr;
  }
  std::string xff;
  for (size_t i = 0, n = in.get_header_value_count("X-Forwarded-For"); i < n; ++i) {
    if (!xff.empty()) xff += ',';
    xff += in.get_header_value("X-Forwarded-For", i);
  }
  std::string client = in.remote_addr;
  size_t end = xff.size();
  while (true) {
    size_t comma = end == 0 ? std::string::npos : xff.rfind(',', end - 1);
    size_t begin = comma == std::string::npos ? 0 : comma + 1;
    std::string_view entry = std::string_view(xff).substr(begin, end - begin);
    size_t b = entry.find_first_not_of(" \t"), e = entry.find_last_not_of(" \t");
    if (b == std::string_view::npos) break;
    auto a = address::parse(entry.substr(b, e - b + 1));
    if (!a) break;  // garbage: keep the last hop we could trust
    client = a->to_string();
    if (!is_trusted_proxy(cfg, *a) || comma == std::string::npos) break;
    end = comma;
  }
  return client;
}

Request convert(const httplib::Request& in, const WebConfig& cfg, const std::string& body) {
  Request r;
  r.method = in.method;
  r.path = in.path;
  size_t q = in.target.find('?');
  if (q != std::string::npos) r.query = parse_urlencoded(std::string_view(in.target).substr(q + 1));
  if (in.method == "POST" &&
      in.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    r.form = parse_urlencoded(body);
  }
  r.origin = in.get_header_value("Origin");
  auto cookies = parse_cookies(in.get_header_value("Cookie"));
  if (cfg.secure_cookies) {
    // Only __Host- cookies count: a cookie without the prefix may have been set over plain
    // http or by a sibling domain.
    for (auto& [name, value] : cookies) {
      if (name.rfind(kSecureCookiePrefix, 0) == 0) {
        r.cookies.emplace(name.substr(kSecureCookiePrefix.size()), std::move(value));
      }
    }
  } else {
    r.cookies = std::move(cookies);
  }
  r.remote_addr = client_address(cfg, in);
  r.authorization = in.get_header_value("Authorization");
  return r;
}

void write(const Response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [k, v] : from.headers) to.headers.emplace(k, v);
  if (!from.body.empty() || from.status != 303) to.set_content(from.body, from.content_type.c_str());
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(const WebConfig& cfg)
      : server(std::chrono::seconds(cfg.request_deadline_seconds), cfg.max_connections_per_address,
               [&cfg](const std::string& peer) {
                 auto a = address::parse(peer);
                 return a && is_trusted_proxy(cfg, *a);
               }) {}
  DeadlineServer server;
};

HttpServer::HttpServer(const App& app, DbPool& pool) : impl_(new Impl(app.cfg)) {
  auto& s = impl_->server;
  int threads = app.cfg.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(kLibraryMaxBody);
  // cpp-httplib writes the headers and the body separately: without TCP_NODELAY, Nagle holds
  // the body until the client's delayed ACK (40 ms on Linux) on a keep-alive connection.
  // (DeadlineServer sets it on every connection too.)
  s.set_tcp_nodelay(true);
  auto handle = [&app, &pool](const httplib::Request& req, httplib::Response& res,
                              const std::string& body) {
    auto start = std::chrono::steady_clock::now();
    auto elapsed = [&start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    Request in = convert(req, app.cfg, body);
    Response r;
    try {
      r = dispatch(app, pool, in);
    } catch (...) {
      // The exception handler below answers 500; counted here, where the route is known.
      if (app.metrics) app.metrics->request(route_label(route_of(in)), req.method, 500, elapsed());
      throw;
    }
    write(r, res);
    double seconds = elapsed();
    if (app.metrics) app.metrics->request(route_label(r.route), req.method, r.status, seconds);
    log::get("web")->debug("{} {} {} {:.1f}ms", req.method, req.path, r.status, seconds * 1000);
  };
  s.Get(".*", [handle](const httplib::Request& req, httplib::Response& res) {
    handle(req, res, req.body);
  });
  s.Post(".*", [handle, &app](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader) {
    std::string body;
    bool too_big = false;
    const bool read = reader([&](const char* data, size_t n) {
      if (body.size() + n > kMaxBody) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (too_big) {
      // The rest of the body stays unread: the connection closes after the answer.
      res.status = 413;
      res.set_header("Connection", "close");
      res.set_content(
          "<!DOCTYPE html><title>Form too large</title><h1>Form too large</h1><p>This form "
          "is larger than the site takes (64 KB in all; each field says its own limit). "
          "Shorten the text and send it again.</p>",
          "text/html; charset=utf-8");
      if (app.metrics) {
        app.metrics->request(route_label(route_of(convert(req, app.cfg, ""))), req.method, 413, 0);
      }
      return;
    }
    if (!read) {  // the client went away or sent a malformed body
      res.status = 400;
      res.set_header("Connection", "close");
      return;
    }
    handle(req, res, body);
  });
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
  auto& s = impl_->server;
  int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (bound >= 0 && !s.set_backlog(SOMAXCONN)) return -1;
  return bound;
}

bool HttpServer::serve() { return impl_->server.listen_after_bind(); }

void HttpServer::stop() { impl_->server.stop(); }

}  // namespace timepool::web
