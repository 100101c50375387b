// The hot-key sketch: estimates never undercount, hot keys of a Zipfian
// stream are found, and decay lets a cooled key drop out.
#include "node/cluster/hot_keys.h"

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace lattice::node {
namespace {

TEST(HotKeys, EstimatesNeverUndercount) {
  HotKeys h;
  std::map<std::string, uint32_t> truth;
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; i++) {
    std::string k = "k" + std::to_string(rng() % 20000);
    truth[k]++;
    h.Add(k);
  }
  // Count-min's guarantee: estimate <= true + e*N/width with probability
  // >= 1 - e^-depth (98%) per key.
  const double bound = std::exp(1.0) * 200000 / HotKeys::kWidth;
  int within = 0;
  for (auto& [k, n] : truth) {
    uint32_t est = h.Estimate(k);
    ASSERT_GE(est, n) << k;
    within += est - n <= bound;
  }
  EXPECT_GE(within, truth.size() * 0.98);
}

TEST(HotKeys, FindsTheHeadOfAZipfianStream) {
  // Zipf(0.99) over 100,000 keys: the ten most frequent keys must be in
  // the top list, in order.
  const int n = 100000;
  std::vector<double> cdf(n);
  double sum = 0;
  for (int i = 0; i < n; i++) cdf[i] = (sum += 1.0 / std::pow(i + 1, 0.99));
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(0, sum);
  HotKeys h(32);
  for (int i = 0; i < 300000; i++) {
    int k = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    h.Add("key:" + std::to_string(k));
  }
  auto top = h.Top();
  ASSERT_GE(top.size(), 10u);
  std::set<std::string> got;
  for (size_t i = 0; i < 12 && i < top.size(); i++) got.insert(top[i].first);
  for (int k = 0; k < 10; k++) EXPECT_TRUE(got.count("key:" + std::to_string(k))) << k;
  EXPECT_EQ(top[0].first, "key:0");
}

TEST(HotKeys, DecayLetsACooledKeyDropOut) {
  HotKeys h(4);
  for (int i = 0; i < 1000; i++) h.Add("was-hot");
  EXPECT_EQ(h.Top()[0].first, "was-hot");
  for (int round = 0; round < 12; round++) {
    h.Decay();
    for (int i = 0; i < 100; i++) h.Add("now-hot");
  }
  EXPECT_EQ(h.Top()[0].first, "now-hot");
  EXPECT_LT(h.Estimate("was-hot"), 5u);
}

}  // namespace
}  // namespace lattice::node
