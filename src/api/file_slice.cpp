#include "api/file_slice.h"

#include <fstream>

namespace zs {

bool read_file_slice(const std::string& path, std::uint64_t offset, std::size_t max,
                     std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (offset >= size) return true;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, max));
  const std::size_t old = out.size();
  out.resize(old + n);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(out.data() + old, static_cast<std::streamsize>(n));
  out.resize(old + static_cast<std::size_t>(in.gcount()));
  return true;
}

}  // namespace zs
