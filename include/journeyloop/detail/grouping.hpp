// journeyloop detail: grouping channels by name (teams, stages, user groups).
#ifndef JOURNEYLOOP_DETAIL_GROUPING_HPP
#define JOURNEYLOOP_DETAIL_GROUPING_HPP

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace journeyloop::detail {

/// Distinct group names in order of first appearance (then the extra groups
/// not seen), and the group index of every item.
struct grouping {
    std::vector<std::string> names;
    std::vector<std::size_t> group_of_item;
};

inline grouping make_grouping(const std::vector<std::string>& group_of_item,
                              const std::vector<std::string>& extra_groups) {
    grouping out;
    std::unordered_map<std::string, std::size_t> index;
    auto slot = [&](const std::string& g) {
        auto [it, inserted] = index.emplace(g, out.names.size());
        if (inserted) out.names.push_back(g);
        return it->second;
    };
    out.group_of_item.reserve(group_of_item.size());
    for (const auto& g : group_of_item) out.group_of_item.push_back(slot(g));
    for (const auto& g : extra_groups) slot(g);
    return out;
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_DETAIL_GROUPING_HPP
