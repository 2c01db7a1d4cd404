#include "cli/suggest.h"

#include <algorithm>

namespace streamctl::cli {

size_t typo_distance(std::string_view a, std::string_view b) {
  // d[i][j]: distance between a[0, i) and b[0, j); three rows suffice for the transposition step.
  const size_t w = b.size() + 1;
  std::vector<size_t> before(w), prev(w), cur(w);
  for (size_t j = 0; j < w; ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j < w; ++j) {
      size_t best = std::min(prev[j] + 1, cur[j - 1] + 1);
      best = std::min(best, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) best = std::min(best, before[j - 2] + 1);
      cur[j] = best;
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.empty()) return std::nullopt;
  const std::string* best = nullptr;
  size_t best_distance = std::string::npos;
  const std::string* prefix_of = nullptr;
  size_t prefix_matches = 0;
  for (const auto& c : candidates) {
    size_t d = typo_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
    if (c.size() > word.size() && c.compare(0, word.size(), word) == 0) {
      ++prefix_matches;
      prefix_of = &c;
    }
  }
  if (best != nullptr && best_distance <= std::max<size_t>(2, word.size() / 3)) return *best;
  if (prefix_matches == 1) return *prefix_of;
  return std::nullopt;
}

}  // namespace streamctl::cli
