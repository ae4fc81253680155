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

}  // namespace timepool::web
