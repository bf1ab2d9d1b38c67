// Splitting the box-drawn tables that vendor tools print ("| a | b |") into cells and words.
#pragma once
#include <string_view>
#include <vector>

namespace zs {

// "| 0  /  MLU370-X8  v1.1.6 |  0000:39:00.0 | 0%  N/A |" -> the three cells, trimmed.
// A line that is not a table row ("+----+", text) gives no cells.
std::vector<std::string_view> table_cells(std::string_view line);

// Whitespace-separated words.
std::vector<std::string_view> words(std::string_view text);

}  // namespace zs
