// The solvers the Markov engine could use for every channel's removal effect,
// timed side by side on one path table, at several orders:
//
//   engine      removal_effects(model): one dense inverse at order 1 (small
//               chains), otherwise components in topological order, batched
//               Gauss-Seidel sweeps on the large ones;
//   groups      group_removal_effects(model, {{0}, {1}, ...}): every channel as
//               a group of one, solved as groups are (one at a time on chains
//               of at most 256 states, in batches of eight above): at order 1,
//               what the engine would do without the dense inverse;
//   single      group_removal_effect(model, {c}) for each channel: the same
//               solvers, one removal at a time;
//   sparse LU   Eigen's SparseLU of the whole reduced system I - Q (the states
//               without c), factorized for each channel;
//   dense LU    Eigen's PartialPivLU of the same system, for each channel
//               (chains of at most 5,000 states).
//
// Every method's removal effects are compared with the engine's. The LU
// methods stop after the channel that takes them past LIMIT seconds (default
// 120) and report how many channels they solved.
//
// Usage: journeyloop_solver_choice FILE.csv ORDER... [--limit SECONDS] (a path table with
// columns path, total_conversions, total_null, total_conversion_value,
// separated by ';', as ChannelAttribution's Data.csv). Built on request:
// cmake --build build/cpp --target journeyloop_solver_choice
#include <journeyloop/journeyloop.hpp>

#include <Eigen/Dense>
#include <Eigen/SparseLU>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace journeyloop;

namespace {

double seconds(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The reduced system of the removal of channel c: transient states without c.
struct reduced {
    std::vector<long> index;
    long n = 0;
    Eigen::SparseMatrix<double> A;
    Eigen::VectorXd r;
};

reduced reduce(const markov_model& model, channel_id c) {
    const auto& counts = model.counts();
    const auto& P = model.transitions();
    reduced out;
    out.index.assign(counts.num_states(), -1);
    for (state_id s = 0; s < counts.num_states(); ++s)
        if (s == transition_counts::start ||
            (s >= transition_counts::first_channel_state && !counts.state_contains(s, c)))
            out.index[s] = out.n++;
    std::vector<Eigen::Triplet<double>> t;
    out.r = Eigen::VectorXd::Zero(out.n);
    for (state_id s = 0; s < counts.num_states(); ++s) {
        if (out.index[s] < 0) continue;
        t.emplace_back(out.index[s], out.index[s], 1.0);
        for (transition_matrix::InnerIterator it(P, s); it; ++it) {
            if (it.col() == transition_counts::conversion) out.r[out.index[s]] += it.value();
            else if (out.index[it.col()] >= 0)
                t.emplace_back(out.index[s], out.index[it.col()], -it.value());
        }
    }
    out.A.resize(out.n, out.n);
    out.A.setFromTriplets(t.begin(), t.end());
    return out;
}

} // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<int> orders;
    double limit = 120;
    for (int a = 2; a < argc; ++a) {
        if (std::string(argv[a]) == "--limit" && a + 1 < argc) limit = std::atof(argv[++a]);
        else orders.push_back(std::atoi(argv[a]));
    }
    if (argc < 3 || orders.empty()) {
        std::fprintf(stderr, "usage: %s FILE.csv ORDER... [--limit SECONDS]\n", argv[0]);
        return 2;
    }
    csv_options o;
    o.delimiter = ';';
    o.columns.conversions_column = "total_conversions";
    o.columns.nulls_column = "total_null";
    o.columns.value_column = "total_conversion_value";
    const auto journeys = read_path_csv(argv[1], o);
    std::printf("%zu paths, %zu channels\n", journeys.size(), journeys.channels().size());
    std::printf("%-6s %8s %-10s %10s %9s %14s\n", "order", "states", "method", "seconds",
                "channels", "max |RE diff|");
    for (const int order : orders) {
        counting_options co;
        co.order = static_cast<std::size_t>(order);
        const auto model = fit_markov(count_transitions(journeys, co));
        const auto channels = model.counts().channels().size();
        const auto states = model.counts().num_states();
        const double p = model.conversion_rate();
        std::vector<removal_effect> engine;
        auto row = [&](const char* name, double s, const std::vector<double>& re,
                       std::size_t done) {
            double diff = 0;
            for (std::size_t c = 0; c < done; ++c)
                diff = std::max(diff, std::abs(re[c] - engine[c].conversions));
            std::printf("%-6zu %8zu %-10s %10.4f %4zu of %-3zu %14.1e\n", co.order, states, name, s,
                        done, channels, diff);
        };
        // Channel by channel until past the limit: the number solved.
        auto each = [&](const std::function<double(channel_id)>& solve, std::vector<double>& re) {
            const auto t0 = std::chrono::steady_clock::now();
            std::size_t done = 0;
            while (done < channels) {
                re[done] = solve(static_cast<channel_id>(done));
                ++done;
                if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
                    limit)
                    break;
            }
            return done;
        };
        model.transitions(); // built once, before any timing
        const double t_engine = seconds([&] { engine = removal_effects(model); });
        std::vector<double> re(channels);
        for (std::size_t c = 0; c < channels; ++c) re[c] = engine[c].conversions;
        row("engine", t_engine, re, channels);
        std::vector<std::vector<channel_id>> singletons(channels);
        for (std::size_t c = 0; c < channels; ++c) singletons[c] = {static_cast<channel_id>(c)};
        std::vector<removal_effect> batched;
        const double t_batched =
            seconds([&] { batched = group_removal_effects(model, singletons); });
        for (std::size_t c = 0; c < channels; ++c) re[c] = batched[c].conversions;
        row("groups", t_batched, re, channels);
        std::size_t done = 0;
        const double t_single = seconds([&] {
            done = each([&](channel_id c) { return group_removal_effect(model, {c}).conversions; },
                        re);
        });
        row("single", t_single, re, done);
        const double t_sparse = seconds([&] {
            done = each(
                [&](channel_id c) {
                    const auto sys = reduce(model, c);
                    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(sys.A);
                    const Eigen::VectorXd x = lu.solve(sys.r);
                    return 1.0 - x[0] / p;
                },
                re);
        });
        row("sparse LU", t_sparse, re, done);
        if (states <= 5000) {
            const double t_dense = seconds([&] {
                done = each(
                    [&](channel_id c) {
                        const auto sys = reduce(model, c);
                        const Eigen::MatrixXd A(sys.A);
                        const Eigen::VectorXd x = A.partialPivLu().solve(sys.r);
                        return 1.0 - x[0] / p;
                    },
                    re);
            });
            row("dense LU", t_dense, re, done);
        }
    }
    return 0;
}
