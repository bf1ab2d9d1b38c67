#include "core/output_pattern.h"

namespace zs {

std::string expand_job_pattern(const std::string& pattern, const JobRecord& job) {
  std::string p = pattern;
  if (p.empty()) p = job.array_task_id >= 0 ? "zs-%A_%a.out" : "zs-%j.out";
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%' || i + 1 == p.size()) {
      out += p[i];
      continue;
    }
    const char c = p[++i];
    switch (c) {
      case 'j':
        out += std::to_string(job.id);
        break;
      case 'A':
        out += std::to_string(job.array_job_id ? job.array_job_id : job.id);
        break;
      case 'a':
        out += job.array_task_id >= 0 ? std::to_string(job.array_task_id) : "0";
        break;
      case 'x':
        out += job.spec.name;
        break;
      case 'u':
        out += job.spec.user;
        break;
      default:  // %N %n %t %% and unknown ones: the second pass decides
        out += '%';
        out += c;
    }
  }
  return out;
}

std::string expand_task_pattern(const std::string& pattern, const std::string& node, int node_rank,
                                int task_rank) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    const char c = pattern[++i];
    switch (c) {
      case 'N':
        out += node;
        break;
      case 'n':
        out += std::to_string(node_rank);
        break;
      case 't':
        out += std::to_string(task_rank);
        break;
      case '%':
        out += '%';
        break;
      default:  // unknown: kept as written, like sbatch
        out += '%';
        out += c;
    }
  }
  return out;
}

}  // namespace zs
