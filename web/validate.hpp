// Pure checks of what people type into the forms. Each returns an empty string when the value
// is acceptable, else a message for the person (plain text, escaped when shown).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace timepool::web {

// The netspeeds a volunteer may choose, kbit/s; 0 means "monitoring only" (never in DNS).
inline constexpr std::array<int, 15> kNetspeeds = {0,      512,     1500,    3000,    6000,
                                                   12000,  25000,   50000,   100000,  250000,
                                                   500000, 1000000, 1500000, 2000000, 3000000};
std::string netspeed_label(int kbits);  // "1.5 Mbit/s", "0 (monitoring only)"
// The netspeed in the form field, if it is exactly one of kNetspeeds.
std::optional<int> parse_netspeed(std::string_view text);

// Lower-cased, trimmed e-mail if it looks like one (something@something, no spaces, <= 254).
std::optional<std::string> normalize_email(std::string_view text);
std::string check_password(std::string_view password);  // 10..200 bytes

// Vendor zone names: 4..40 of [a-z0-9-], starting and ending with a letter or digit, not a
// continent name, not a reserved word. (Country codes have two letters, so they are already
// too short; the database also refuses any name of a pool zone.)
std::string check_vendor_name(std::string_view name);
bool is_reserved_vendor_name(std::string_view name);

inline constexpr int64_t kMinDevices = 500;
inline constexpr int64_t kMaxDevices = 100'000'000;
std::optional<int64_t> parse_int(std::string_view text);  // optional sign, digits only
// "3..22" days until a scheduled deletion.
inline constexpr int kMinDeletionDays = 3;
inline constexpr int kMaxDeletionDays = 22;

// Seconds a client must wait after its latest failed login before the next one is checked:
// none before the first failure nor for the first `free` failures, then `base` seconds,
// doubling with each further failure, at most `cap`. base 0: never.
int64_t login_delay_seconds(int64_t failures, int64_t free, int64_t base, int64_t cap);

// Removes leading and trailing ASCII whitespace.
std::string trim(std::string_view s);

}  // namespace timepool::web
