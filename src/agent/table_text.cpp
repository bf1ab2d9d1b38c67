#include "agent/table_text.h"

#include "core/text.h"

namespace zs {

std::vector<std::string_view> table_cells(std::string_view line) {
  line = trim(line);
  std::vector<std::string_view> cells;
  if (line.size() < 2 || line.front() != '|' || line.back() != '|') return cells;
  for (auto cell : split(line.substr(1, line.size() - 2), '|')) cells.push_back(trim(cell));
  return cells;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace zs
