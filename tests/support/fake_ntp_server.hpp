// A small in-process NTP server for the monitor's tests and benchmark. It answers client
// requests on its own thread according to a Behaviour, with recvmmsg/sendmmsg so the benchmark
// can push it to tens of thousands of packets per second.
//
// Threads: the constructor starts the answering thread, the destructor stops and joins it;
// set_behaviour() and requests() may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <thread>

#include "core/net.hpp"

namespace timepool::test {

class FakeNtpServer {
 public:
  enum class Behaviour {
    kGood,            // stratum 2, its clock + offset
    kSilent,          // reads and never answers
    kWrongOrigin,     // answers with origin != our transmit
    kOtherPort,       // answers correctly, but from another port
    kKiss,            // stratum 0 with refid = kiss (e.g. "RATE"), LI 3, echoes the transmit
    kUnsynchronized,  // LI 3, stratum 16
    kWrongVersion,    // answers with version 2 to a version 4 request (too old: not taken)
    kVersion3,        // answers with version 3, as an NTPv3 server does (taken)
  };

  // Binds `ip`:`port` (IPv4 or IPv6; port 0: any free port, see port()). Throws
  // std::runtime_error when the address cannot be bound.
  explicit FakeNtpServer(Behaviour b, const std::string& ip = "127.0.0.1", uint16_t port = 0,
                         double offset_s = 0, std::string kiss = "RATE", int stratum = 2);
  ~FakeNtpServer();
  FakeNtpServer(const FakeNtpServer&) = delete;
  FakeNtpServer& operator=(const FakeNtpServer&) = delete;

  uint16_t port() const { return endpoint_.port(); }
  const net::Endpoint& endpoint() const { return endpoint_; }
  uint64_t requests() const { return requests_.load(); }
  void set_behaviour(Behaviour b) { behaviour_.store(b); }

 private:
  uint64_t now_ntp() const;
  bool answer(std::span<uint8_t, 48> buf, Behaviour b) const;
  void loop();

  std::atomic<Behaviour> behaviour_;
  double offset_s_;
  std::string kiss_;
  int stratum_;
  net::UniqueFd fd_;
  net::UniqueFd other_fd_;
  net::Endpoint endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace timepool::test
