// A small JSON reader and writer (see json.hpp).
#ifndef JOURNEYLOOP_IMPL_JSON_IPP
#define JOURNEYLOOP_IMPL_JSON_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/json.hpp>

#include <journeyloop/errors.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace journeyloop::detail::json {

JOURNEYLOOP_IMPL_NAMESPACE(json_1) {

[[noreturn]] JOURNEYLOOP_IMPL_INLINE void fail(std::string_view where, const std::string& what) {
    throw invalid_input("invalid file: " + std::string(where) + ": " + what);
}

class parser {
public:
    explicit parser(std::string_view text) : s_(text) {}

    value parse_document() {
        value v = parse_value(0);
        skip_ws();
        if (pos_ != s_.size()) error("unexpected text after the end");
        return v;
    }

private:
    [[noreturn]] void error(const std::string& what) const {
        throw invalid_input("invalid file: JSON syntax error at byte " + std::to_string(pos_) +
                            ": " + what);
    }
    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
            ++pos_;
    }
    bool consume(char c) {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!consume(c)) error(std::string("expected '") + c + "'");
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    value parse_value(int depth) {
        if (depth > 64) error("nesting deeper than 64 levels");
        skip_ws();
        if (pos_ >= s_.size()) error("unexpected end of input");
        value v;
        const char c = s_[pos_];
        if (c == '{') {
            ++pos_;
            v.type = value::kind::object;
            if (consume('}')) return v;
            do {
                skip_ws();
                const auto at = pos_;
                std::string key = parse_string();
                expect(':');
                if (v.object.count(key) != 0)
                    throw invalid_input("invalid file: JSON key '" + key +
                                        "' twice in an object (byte " + std::to_string(at) + ")");
                v.object[std::move(key)] = parse_value(depth + 1);
            } while (consume(','));
            expect('}');
        } else if (c == '[') {
            ++pos_;
            v.type = value::kind::array;
            if (consume(']')) return v;
            do v.array.push_back(parse_value(depth + 1));
            while (consume(','));
            expect(']');
        } else if (c == '"') {
            v.type = value::kind::string;
            v.string = parse_string();
        } else if (literal("true")) {
            v.type = value::kind::boolean;
            v.boolean = true;
        } else if (literal("false")) {
            v.type = value::kind::boolean;
        } else if (literal("null")) {
            v.type = value::kind::null;
        } else {
            v.type = value::kind::number;
            v.number = parse_number();
        }
        return v;
    }

    double parse_number() {
        const auto start = pos_;
        while (pos_ < s_.size() &&
               std::string_view("+-0123456789.eE").find(s_[pos_]) != std::string_view::npos)
            ++pos_;
        if (start == pos_) error("expected a value");
        const std::string text(s_.substr(start, pos_ - start));
        char* end = nullptr;
        const double x = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() || !std::isfinite(x))
            error("bad number '" + text + "'");
        return x;
    }

    std::string parse_string() {
        if (pos_ >= s_.size() || s_[pos_] != '"') error("expected a string");
        ++pos_;
        std::string out;
        while (true) {
            if (pos_ >= s_.size()) error("unterminated string");
            const char c = s_[pos_++];
            if (c == '"') break;
            if (static_cast<unsigned char>(c) < 0x20) error("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) error("unterminated escape");
            const char e = s_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': append_utf8(out, parse_code_point()); break;
            default: error("bad escape");
            }
        }
        return out;
    }

    unsigned parse_hex4() {
        if (pos_ + 4 > s_.size()) error("bad \\u escape");
        unsigned cp = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = s_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= unsigned(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= unsigned(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= unsigned(h - 'A' + 10);
            else error("bad \\u escape");
        }
        return cp;
    }

    // A \u escape, or a pair of them for a character beyond U+FFFF (JSON
    // writes those as UTF-16 surrogates): encoding each half on its own would
    // give text that is not UTF-8, which the writer then refuses.
    unsigned parse_code_point() {
        const unsigned cp = parse_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired surrogate in a \\u escape");
        if (cp < 0xD800 || cp > 0xDBFF) return cp;
        if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u')
            error("unpaired surrogate in a \\u escape");
        pos_ += 2;
        const unsigned low = parse_hex4();
        if (low < 0xDC00 || low > 0xDFFF) error("unpaired surrogate in a \\u escape");
        return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

JOURNEYLOOP_IMPL_INLINE const char* kind_name(value::kind k) {
    switch (k) {
    case value::kind::null: return "null";
    case value::kind::boolean: return "a boolean";
    case value::kind::number: return "a number";
    case value::kind::string: return "a string";
    case value::kind::array: return "an array";
    case value::kind::object: return "an object";
    }
    return "?";
}

JOURNEYLOOP_IMPL_INLINE void require(const value& v, value::kind k, std::string_view where) {
    if (v.type != k)
        fail(where, std::string("expected ") + kind_name(k) + ", found " + kind_name(v.type));
}

} // JOURNEYLOOP_IMPL_NAMESPACE(json_1)

JOURNEYLOOP_IMPL_INLINE const value& value::at(const std::string& key,
                                               std::string_view where) const {
    require(*this, kind::object, where);
    auto it = object.find(key);
    if (it == object.end()) fail(where, "missing field '" + key + "'");
    return it->second;
}

JOURNEYLOOP_IMPL_INLINE double value::as_number(std::string_view where) const {
    require(*this, kind::number, where);
    return number;
}

JOURNEYLOOP_IMPL_INLINE std::int64_t value::as_integer(std::string_view where, std::int64_t lo,
                                                       std::int64_t hi) const {
    const double x = as_number(where);
    if (x != std::floor(x) || x < double(lo) || x > double(hi))
        fail(where, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "], found " + std::to_string(x));
    return static_cast<std::int64_t>(x);
}

JOURNEYLOOP_IMPL_INLINE const std::string& value::as_string(std::string_view where) const {
    require(*this, kind::string, where);
    return string;
}

JOURNEYLOOP_IMPL_INLINE bool value::as_bool(std::string_view where) const {
    require(*this, kind::boolean, where);
    return boolean;
}

JOURNEYLOOP_IMPL_INLINE const std::vector<value>& value::as_array(std::string_view where) const {
    require(*this, kind::array, where);
    return array;
}

JOURNEYLOOP_IMPL_INLINE value parse(std::string_view text) { return parser(text).parse_document(); }

// The offset of the first byte that is not part of well-formed UTF-8 (no
// overlong forms, no surrogates, nothing past U+10FFFF), or npos.
JOURNEYLOOP_IMPL_INLINE std::size_t invalid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (std::size_t j = 1; j < len; ++j) {
            const auto d = static_cast<unsigned char>(s[i + j]);
            if (j == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

JOURNEYLOOP_IMPL_INLINE void write_string(std::string& out, std::string_view s) {
    // Files are UTF-8 text (reading refuses anything else): a name that is not
    // is refused here, by the offset of its first bad byte (the message cannot
    // quote it).
    if (const auto bad = invalid_utf8(s); bad != std::string_view::npos)
        throw invalid_input("cannot write a name that is not UTF-8 text (byte " +
                            std::to_string(bad) + " of a " + std::to_string(s.size()) +
                            "-byte name): recode the names as UTF-8");
    out += '"';
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

JOURNEYLOOP_IMPL_INLINE void write_number(std::string& out, double x) {
    if (!std::isfinite(x))
        throw invalid_input("cannot write " +
                            std::string(std::isnan(x) ? "NaN" : "an infinite number") +
                            " to a file: sums of the counts or values overflowed a double; scale "
                            "them down");
    char buf[32];
    // %.17g round-trips every double; try shorter first for readability.
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, x);
        if (std::strtod(buf, nullptr) == x) break;
    }
    out += buf;
}

JOURNEYLOOP_IMPL_INLINE std::string fnv1a64(std::string_view bytes) {
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace journeyloop::detail::json

#endif // JOURNEYLOOP_IMPL_JSON_IPP
