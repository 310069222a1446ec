// Internal: small text helpers shared by the builders.
#ifndef JOURNEYLOOP_SRC_TEXT_HPP
#define JOURNEYLOOP_SRC_TEXT_HPP

#include <sstream>
#include <string>
#include <string_view>

namespace journeyloop::detail {

/// A number as the messages show it (shortest of `operator<<`).
inline std::string number_text(double x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

inline bool blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// `s` without leading and trailing blanks.
inline std::string_view trim(std::string_view s) noexcept {
    std::size_t b = 0, e = s.size();
    while (b < e && blank(s[b])) ++b;
    while (e > b && blank(s[e - 1])) --e;
    return s.substr(b, e - b);
}

} // namespace journeyloop::detail

#endif
