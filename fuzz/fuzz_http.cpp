// libFuzzer target: the HTTP/1.1 head parsers of the API (request heads as the controller reads
// them, response heads as the CLI and agents read them), percent-decoding, and the request
// framing of the listener (RequestBuffer). Whatever a parser accepts must be consistent with the
// limits it was given, and however the stream is split, the same requests come out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <chrono>
#include <vector>

#include "api/http_parser.h"
#include "api/http_request_buffer.h"
#include "fuzz_common.h"

namespace {

// The requests (and how it ends) a RequestBuffer reads from `text` fed in pieces of `piece`.
std::vector<std::string> frame(std::string_view text, std::size_t piece,
                               const zs::http::Limits& limits) {
  using Status = zs::http::RequestBuffer::Status;
  zs::http::RequestBuffer in;
  const zs::http::RequestTimeouts t;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> out;
  Status st = Status::empty;
  for (std::size_t at = 0; at < text.size() && st != Status::failed; at += piece) {
    in.append(text.substr(at, piece));
    while ((st = in.check(limits, t, now)) == Status::ready) {
      bool keep = false;
      zs::http::Request q = in.take(keep);
      ZS_FUZZ_CHECK(q.body.size() <= limits.max_body_bytes);
      out.push_back(q.method + " " + q.path + " " + q.body + (keep ? " k" : " c"));
    }
  }
  out.push_back(st == Status::failed ? std::to_string(in.error().status) : "");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = zs::fuzz::as_text(data, size);
  zs::http::Limits limits;
  limits.max_body_bytes = 1000;
  limits.max_head_bytes = 4096;
  limits.max_target_bytes = 512;
  limits.max_headers = 8;
  const std::size_t end = zs::http::find_head_end(text);
  const std::string_view head = end == std::string_view::npos ? text : text.substr(0, end);
  zs::http::RequestParse r = zs::http::parse_request_head(head, limits);
  ZS_FUZZ_CHECK(r.head.has_value() != r.error.has_value());
  if (r.error) {
    ZS_FUZZ_CHECK(r.error->status >= 400 && r.error->status < 600 && !r.error->message.empty());
  } else {
    const zs::http::Request& q = r.head->request;
    ZS_FUZZ_CHECK(!q.method.empty() && !q.path.empty() && q.path.front() == '/');
    ZS_FUZZ_CHECK(q.path.find('\0') == std::string::npos);
    ZS_FUZZ_CHECK(r.head->content_length <= limits.max_body_bytes);
    ZS_FUZZ_CHECK(q.headers.size() <= limits.max_headers);
    ZS_FUZZ_CHECK(head.size() <= limits.max_head_bytes);
  }
  if (auto resp = zs::http::parse_response_head(head)) {
    ZS_FUZZ_CHECK(resp->status >= 100 && resp->status <= 999);
    if (!resp->content_length) ZS_FUZZ_CHECK(!resp->keep_alive);
  }
  for (bool plus : {false, true})
    if (auto d = zs::http::percent_decode(text, plus)) {
      ZS_FUZZ_CHECK(d->size() <= text.size());
      ZS_FUZZ_CHECK(d->find('\0') == std::string::npos);
    }
  const auto whole = frame(text, text.size() + 1, limits);
  ZS_FUZZ_CHECK(frame(text, 1, limits) == whole);
  ZS_FUZZ_CHECK(frame(text, 1 + (size ? data[0] % 64 : 0), limits) == whole);
  return 0;
}
