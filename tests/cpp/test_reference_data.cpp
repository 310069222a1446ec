// Agreement with the published and exact reference values of
// ../shared/data/channelattribution_pathdata/REFERENCE.md (sections 3.1, 3.2).
#include "fixtures.hpp"

#include <map>

using namespace journeyloop;

namespace {

journey_set load_data() {
    const auto file = fixtures::shared_data("channelattribution_pathdata/Data.csv");
    if (file.empty()) return {};
    csv_options o;
    o.delimiter = ';';
    o.columns.conversions_column = "total_conversions";
    o.columns.nulls_column = "total_null";
    o.columns.value_column = "total_conversion_value";
    return read_path_csv(file, o);
}

const std::vector<std::string> channels{"eta",   "iota", "alpha",   "beta",  "theta", "lambda",
                                        "kappa", "zeta", "epsilon", "gamma", "delta", "mi"};

// Compares a[name] with expected values given in `channels` order. The
// tolerance is half a unit of the last printed digit.
void require_close(const attribution& a, const std::vector<double>& expected, bool value,
                   double tol) {
    std::map<std::string, double> got;
    for (std::size_t i = 0; i < a.names().size(); ++i)
        got[a.names()[i]] = value ? a.value()[i] : a.conversions()[i];
    REQUIRE(got.size() == channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i) {
        CAPTURE(channels[i]);
        REQUIRE(got.at(channels[i]) == Approx(expected[i]).epsilon(1e-12).margin(tol));
    }
}

// Removal effects (conversions) against values printed to 6 decimals.
void require_effects(const markov_model& model, const std::vector<double>& expected) {
    const auto effects = removal_effects(model);
    REQUIRE(effects.size() == channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i) {
        CAPTURE(channels[i]);
        const auto id = model.counts().channels().at(channels[i]);
        REQUIRE(effects[id].conversions == Approx(expected[i]).epsilon(1e-12).margin(5e-7));
    }
}

} // namespace

TEST_CASE("reference Data: heuristics equal REFERENCE.md 3.1", "[reference]") {
    const auto js = load_data();
    if (js.empty()) return;
    REQUIRE(js.size() == 10000);
    REQUIRE(js.total_conversions() == 19785);
    REQUIRE(js.total_nulls() == 68602);
    const auto first = heuristic_attribution(js, heuristic::first_touch);
    const auto last = heuristic_attribution(js, heuristic::last_touch);
    const auto linear = heuristic_attribution(js, heuristic::linear);
    require_close(first, {3164, 4606, 6308, 2831, 1606, 902, 74, 27, 99, 165, 1, 2}, false, 0);
    require_close(last, {4167, 3355, 8447, 989, 653, 1207, 230, 107, 531, 92, 5, 2}, false, 0);
    require_close(linear,
                  {3539.951157, 3857.096221, 7574.718594, 2083.500145, 1022.801394, 1035.257572,
                   137.964078, 136.551540, 272.170438, 121.041639, 1.725000, 2.222222},
                  false, 5e-7);
    require_close(first,
                  {11909.476213, 19597.261277, 19121.272356, 12235.591744, 6652.349347, 3735.602165,
                   305.743250, 103.004000, 412.301243, 718.977992, 6.119000, 5.273000},
                  true, 5e-7);
    require_close(last,
                  {16754.203800, 13487.974271, 28414.214274, 3850.020987, 2799.091988, 5249.949985,
                   1069.384250, 453.260750, 2202.612289, 506.013992, 10.972000, 5.273000},
                  true, 5e-7);
    require_close(linear,
                  {13783.497051, 15988.988995, 24524.709569, 8954.266717, 4295.743619, 4430.316169,
                   599.747786, 539.528763, 1106.270065, 569.417358, 4.404050, 6.081444},
                  true, 5e-7);
}

TEST_CASE("reference Data: order-1 Markov equals REFERENCE.md 3.2", "[reference]") {
    const auto js = load_data();
    if (js.empty()) return;
    const auto model = fit_markov(count_transitions(js));
    REQUIRE(model.counts().num_states() == 12 + 3);
    REQUIRE(model.conversion_rate() == Approx(19785.0 / 88387.0).epsilon(1e-12).margin(1e-12));
    const std::vector<double> re{0.349026, 0.405835, 0.558399, 0.264039, 0.206010, 0.134022,
                                 0.028663, 0.039811, 0.062639, 0.017880, 0.000482, 0.000180};
    const std::vector<double> re_value{0.361425, 0.416694, 0.522986, 0.269511, 0.208954, 0.143068,
                                       0.031606, 0.040859, 0.065339, 0.020009, 0.000387, 0.000151};
    const auto effects = removal_effects(model);
    for (std::size_t i = 0; i < channels.size(); ++i) {
        CAPTURE(channels[i]);
        const auto id = model.counts().channels().at(channels[i]);
        REQUIRE(effects[id].conversions == Approx(re[i]).epsilon(1e-12).margin(5e-7));
        REQUIRE(effects[id].value == Approx(re_value[i]).epsilon(1e-12).margin(5e-7));
    }
    const auto a = markov_attribution(model);
    require_close(a,
                  {3340.8474, 3884.6147, 5344.9477, 2527.3522, 1971.9129, 1282.8472, 274.3633,
                   381.0626, 599.5707, 171.1454, 4.6136, 1.7224},
                  false, 5e-5);
    require_close(a,
                  {12991.7367, 14978.4373, 18799.1706, 9687.8092, 7511.0485, 5142.7203, 1136.0925,
                   1468.7030, 2348.6538, 719.2367, 13.9184, 5.4445},
                  true, 5e-5);
    REQUIRE(a.total_conversions() == Approx(19785).epsilon(1e-12));
    REQUIRE(a.total_value() == Approx(js.total_value()).epsilon(1e-12));
}

TEST_CASE("reference Data: orders 2 and 3 equal REFERENCE.md 3.2", "[reference]") {
    const auto js = load_data();
    if (js.empty()) return;
    SECTION("order 2") {
        const auto model = fit_markov(count_transitions(js, {2}));
        REQUIRE(model.counts().num_states() == 120 + 3);
        REQUIRE(model.conversion_rate() == Approx(19785.0 / 88387.0).epsilon(1e-12).margin(1e-12));
        require_close(markov_attribution(model),
                      {3391.8582, 3810.5110, 5617.4539, 2439.6490, 1902.4736, 1189.4720, 266.0271,
                       374.0313, 614.3735, 171.9182, 5.1591, 2.0732},
                      false, 5e-5);
        require_effects(model, {0.330767, 0.371594, 0.547803, 0.237910, 0.185526, 0.115995,
                                0.025942, 0.036475, 0.059913, 0.016765, 0.000503, 0.000202});
    }
    SECTION("order 3") {
        const auto model = fit_markov(count_transitions(js, {3}));
        REQUIRE(model.counts().num_states() == 933 + 3);
        REQUIRE(model.conversion_rate() == Approx(19785.0 / 88387.0).epsilon(1e-12).margin(1e-12));
        require_close(markov_attribution(model),
                      {3396.0706, 3791.0292, 5748.0986, 2405.5340, 1849.8126, 1150.7400, 264.2393,
                       370.3630, 623.4321, 178.4828, 5.0708, 2.1268},
                      false, 5e-5);
        require_effects(model, {0.322834, 0.360379, 0.546420, 0.228673, 0.175845, 0.109391,
                                0.025119, 0.035207, 0.059264, 0.016967, 0.000482, 0.000202});
    }
}
