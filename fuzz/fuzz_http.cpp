// libFuzzer target: the HTTP/1.1 head parsers of the API (request heads as the controller reads
// them, response heads as the CLI and agents read them) and percent-decoding. Whatever a parser
// accepts must be consistent with the limits it was given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http_parser.h"
#include "fuzz_common.h"

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
  return 0;
}
