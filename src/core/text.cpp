#include "core/text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace zs {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string normalize_name(std::string_view s) {
  std::string out = to_lower(trim(s));
  for (char& c : out)
    if (c == ' ' || c == '_') c = '-';
  return out;
}

namespace {

// The length of the valid UTF-8 sequence at s[i] and its code point, or 0 when invalid
// (overlong forms, surrogates and values beyond U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  char32_t min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t n = c < 0x80 ? 0 : utf8_sequence(s, i, cp);
    if (n == 0) {  // C0 control, DEL, or a byte that is not valid UTF-8
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    } else if (invisible_control(cp)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

namespace {
// "[[HH:]MM:]SS" -> seconds (Slurm's clock forms).
constexpr std::int64_t kMaxDurationS = std::int64_t{1} << 40;  // ~35k years: no overflow in ms

std::optional<std::int64_t> parse_clock(std::string_view s) {
  auto parts = split(s, ':');
  if (parts.size() > 3) return std::nullopt;
  std::int64_t total = 0;
  for (auto p : parts) {
    auto v = parse_int(p);
    if (!v || *v < 0 || p.empty() || *v > kMaxDurationS) return std::nullopt;
    total = total * 60 + *v;
    if (total > kMaxDurationS) return std::nullopt;
  }
  return total;
}
}  // namespace

std::optional<std::int64_t> parse_duration_s(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  constexpr std::int64_t kMax = kMaxDurationS;
  // Slurm: "D-HH[:MM[:SS]]"
  if (auto dash = s.find('-'); dash != std::string_view::npos && dash > 0) {
    auto days = parse_int(s.substr(0, dash));
    auto rest = s.substr(dash + 1);
    if (!days || *days < 0 || *days > kMax / 86400) return std::nullopt;
    auto parts = split(rest, ':');
    if (parts.empty() || parts.size() > 3) return std::nullopt;
    std::int64_t mult[3] = {3600, 60, 1}, total = *days * 86400;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto v = parse_int(parts[i]);
      if (!v || *v < 0 || *v > kMax) return std::nullopt;
      total += *v * mult[i];
      if (total > kMax) return std::nullopt;
    }
    return total;
  }
  if (s.find(':') != std::string_view::npos) return parse_clock(s);
  std::int64_t unit = 1;
  switch (s.back()) {
    case 's':
      unit = 1;
      s.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      s.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      s.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      s.remove_suffix(1);
      break;
    default:
      break;
  }
  auto v = parse_double(s);
  if (!v || *v < 0 || *v * static_cast<double>(unit) > static_cast<double>(kMax))
    return std::nullopt;
  return static_cast<std::int64_t>(std::llround(*v * static_cast<double>(unit)));
}

}  // namespace zs
