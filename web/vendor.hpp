// What an approved vendor ships: the DNS names of their zone and ready configuration snippets.
// Pure functions (tested without a database).
#pragma once

#include <string>
#include <vector>

namespace timepool::web {

// ntp -> 0-3.<name>.<domain>; sntp -> <name>.<domain>; both -> all five.
std::vector<std::string> vendor_names(const std::string& name, const std::string& client_type,
                                      const std::string& pool_domain);

struct Snippet {
  std::string title;   // "chrony (/etc/chrony/chrony.conf)"
  std::string text;    // plain text, escaped when shown
};
std::vector<Snippet> vendor_snippets(const std::string& name, const std::string& client_type,
                                     const std::string& pool_domain);

// The concrete change that removes a finding, for the vendor's client type and the finding's
// period: a random delay for one-shot clients run from cron or a timer, an NTP daemon with
// `pool ... iburst` instead of one-shot queries, and respect for Kiss-o'-Death (always last).
struct Fix {
  std::string title;  // "Add a random delay before each query"
  std::string text;   // plain text, escaped when shown
  std::string code;   // an example to copy, "" for none
};
std::vector<Fix> finding_fixes(const std::string& name, const std::string& client_type,
                               const std::string& period, const std::string& pool_domain);

}  // namespace timepool::web
