// Loading a cluster description: a YAML file (docs/cluster-format.md) or an inline spec such as
// "64x8xMLU590+32x8xA100-SXM4-80GB".
#pragma once
#include <string>
#include <string_view>

#include "core/cluster.h"

namespace zs {

// YAML text -> cluster. Errors name source:line:column. Never crashes on malformed YAML.
Cluster parse_cluster_yaml(std::string_view text, const std::string& source,
                           const Catalog& catalog);

// `spec` is an inline form or a path to a YAML file.
Cluster load_cluster(const std::string& spec, const Catalog& catalog);

}  // namespace zs
