// One batch of removals: its solutions swept together over the components
// in topological order, each half converging (and extrapolating) on its own.
#ifndef JOURNEYLOOP_IMPL_CHAIN_BATCH_IPP
#define JOURNEYLOOP_IMPL_CHAIN_BATCH_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/batch.hpp>

#include <journeyloop/impl/chain/component.hpp>
#include <journeyloop/impl/chain/sweep.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_NAMESPACE(chain_batch_1) {

// The sweeps of one component so far: the changes of the last three
// sweeps (newest first) and each half's extrapolation.
//
// On large components, once the changes shrink steadily: the error of
// Gauss-Seidel shrinks by a nearly constant factor lambda per sweep (per
// solution: the ratio of two successive largest changes), so the rest of the
// geometric series, lambda / (1 - lambda) times the last change, is added at
// once. A jump of a half waits until each of its solutions not yet
// converged shrank by the same factor (within 10 %) in the last two sweeps,
// and its next jump at least three sweeps more; sweeps then go on until the
// tolerance is met. A half's extrapolation stops for the component after
// two jumps that were followed by a larger change than the one before them
// (this rule took fewer sweeps than a jump every eighth sweep stopped after
// one such failure: bench/HISTORY.md, the run that introduced the finishing order).
template <std::size_t Halves>
struct component_history {
    static constexpr std::size_t width = width_of<Halves>;
    struct half {
        bool extrapolate = false, jumped = false, jumped_last = false, rate_checked = false;
        int since_jump = 0, failed_jumps = 0;
        double before_jump = 0;
    } halves[Halves];
    double previous[width] = {}, previous2[width] = {}, previous3[width] = {};

    explicit component_history(std::size_t states) {
        for (auto& one : halves) one.extrapolate = states > 1000;
    }
    // Each solution of half h not yet converged shrank by the same factor
    // (within 10 %) in the last two sweeps.
    bool steady(std::size_t h, const double* tol) const {
        for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
            if (previous[j] <= tol[j]) continue;
            if (!(previous2[j] > 0) || !(previous3[j] > 0)) return false;
            const double r1 = previous[j] / previous2[j], r2 = previous2[j] / previous3[j];
            if (!(r1 < 0.95) || !(r2 < 0.95) || std::abs(r1 - r2) > 0.1 * r1) return false;
        }
        return true;
    }
    void push(std::size_t h, const double* change) {
        for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
            previous3[j] = previous2[j];
            previous2[j] = previous[j];
            previous[j] = change[j];
        }
    }
};

// Each half iterates as if alone: it stops, and stops changing, when it has
// converged, and keeps its own extrapolation; so a batch's solutions are the
// same whether its halves are solved together or apart (on one thread or on
// several). A half that converges too slowly is given up (failed: the
// caller solves it one removal at a time).
template <std::size_t Halves>
class batch_solver {
public:
    static constexpr std::size_t width = width_of<Halves>;

    batch_solver(const removal_job& job, const batch_request& request, batch_workspace& ws)
        : c_(job.c), job_(job), request_(request), ws_(ws) {
        if (request.first_half + Halves > 2) throw numerical_error("internal error: no such half");
        for (std::size_t k = 0; k < Halves; ++k)
            x0_[k] = request.first_half + k == 0 ? &c_.x : &c_.x_value;
        for (std::size_t j = 0; j < width; ++j) // solution j converges within tol[j]
            tol_[j] = gauss_seidel_tolerance * job.scale[request.first_half + j / many_batch];
    }

    unsigned solve() {
        start();
        sweep_components();
        const unsigned solved = collect();
        for (std::size_t g = 0; g < request_.count; ++g) mark(g, false);
        return solved;
    }

private:
    using history = component_history<Halves>;

    double* row(std::size_t u) { return ws_.y.data() + (u - c_.live_begin) * width; }

    // Sets (or clears) the bits of removal g of the batch; its live rows'
    // solutions start at 0.
    void mark(std::size_t g, bool on) {
        for (auto t : *job_.removed[request_.first + g]) {
            const auto u = c_.row_of[t];
            auto& b = u < c_.live_begin ? ws_.terminal_bits[u] : ws_.bits[u];
            b = on ? static_cast<std::uint16_t>(b | (1u << g)) : std::uint16_t{0};
            if (on && u >= c_.live_begin)
                for (std::size_t k = 0; k < Halves; ++k) row(u)[k * many_batch + g] = 0.0;
        }
    }

    // Every solution starts from the unperturbed chain's.
    void start() {
        ws_.y.resize((c_.n - c_.live_begin) * width);
        for (std::size_t u = c_.live_begin; u < c_.n; ++u) {
            double* yu = row(u);
            for (std::size_t k = 0; k < Halves; ++k)
                std::fill(yu + k * many_batch, yu + (k + 1) * many_batch, (*x0_[k])[u]);
        }
        for (std::size_t g = 0; g < request_.count; ++g) mark(g, true);
        st_ = sweep_state{ws_.y.data(),    job_.terminal_x.data(), ws_.terminal_bits.data(),
                          ws_.bits.data(), request_.first_half,    {}};
    }

    bool all_failed() const {
        return std::all_of(failed_, failed_ + Halves, [](bool f) { return f; });
    }

    // Only the live components up to START's: the others cannot be reached,
    // and the terminal rows' solutions are constants (each terminal row is a
    // component of its own, so component live_begin starts at row live_begin).
    void sweep_components() {
        const auto start_component = c_.start_component;
        const auto& component_end = c_.component_end;
        std::size_t begin = c_.live_begin;
        for (std::size_t k = c_.live_begin;
             k <= start_component && k < component_end.size() && !all_failed(); ++k) {
            auto end = component_end[k];
            for (std::size_t h = 0; h < Halves; ++h) st_.active[h] = !failed_[h];
            if (end - begin == 1) {
                // A run of single states (with or without a self-loop), each
                // depending only on rows before it: exact in one pass.
                while (k < start_component && component_end[k + 1] - component_end[k] == 1)
                    end = component_end[++k];
                double change[width] = {};
                sweep_range<Halves>(c_, st_, begin, end, change, nullptr);
            } else {
                iterate(begin, end);
            }
            begin = end;
        }
    }

    // Gauss-Seidel sweeps of the component [begin, end) until every active
    // half has converged or failed.
    void iterate(std::size_t begin, std::size_t end) {
        history hs(end - begin);
        for (int sweep = 0;; ++sweep) {
            detail::stop_point();
            double change[width] = {};
            bool jump[Halves] = {}, any_jump = false;
            for (std::size_t h = 0; h < Halves; ++h) {
                if (!st_.active[h]) continue;
                auto& one = hs.halves[h];
                jump[h] =
                    one.extrapolate && one.since_jump >= 3 && sweep >= 3 && hs.steady(h, tol_);
                ++one.since_jump;
                any_jump = any_jump || jump[h];
            }
            // A jump sweep records its changes (in 16-bit block floating
            // point, see record_half: they only set the extrapolation step,
            // and the sweeps after it converge to the tolerance regardless).
            if (any_jump) ws_.delta.resize((end - begin) * record_stride<Halves>);
            sweep_range<Halves>(c_, st_, begin, end, change, any_jump ? ws_.delta.data() : nullptr);
            const swept done{begin, end, sweep, change};
            for (std::size_t h = 0; h < Halves; ++h)
                if (st_.active[h]) after_sweep(hs, h, done, jump[h]);
            if (std::none_of(st_.active, st_.active + Halves, [](bool a) { return a; })) break;
            if (sweep == gauss_seidel_max_sweeps)
                throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                      std::to_string(end - begin) + " states");
        }
    }

    // One Gauss-Seidel sweep of the component [begin, end): its number and
    // the change of every solution (the width of a row).
    struct swept {
        std::size_t begin, end;
        int sweep;
        const double* change;
    };

    // Half h after a sweep that changed its solutions by `s.change`: converged,
    // extrapolated (if the sweep was a jump), given up, or on to the next sweep.
    void after_sweep(history& hs, std::size_t h, const swept& s, bool jump) {
        const double* change = s.change;
        const int sweep = s.sweep;
        auto& one = hs.halves[h];
        bool converged = true;
        double largest = 0;
        for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
            // Converged when the change and, while the changes shrink by a
            // factor lambda a sweep, the rest of their series, lambda / (1 -
            // lambda) times the change, are within the tolerance: at lambda
            // near 1 a small change alone leaves the solution further off.
            const double lambda = hs.previous[j] > 0 ? change[j] / hs.previous[j] : 0.0;
            const double rest = lambda > 0 && lambda < 1 ? change[j] * lambda / (1 - lambda) : 0.0;
            converged = converged && change[j] <= tol_[j] && rest <= tol_[j];
            largest = std::max(largest, change[j]);
        }
        if (one.jumped) {
            one.jumped = false;
            if (largest > one.before_jump && ++one.failed_jumps == 2) one.extrapolate = false;
        }
        if (converged) {
            st_.active[h] = false; // done with this component
            return;
        }
        if (jump) {
            extrapolate(hs, h, s);
            one.before_jump = largest;
            one.jumped = true;
        }
        if (!one.rate_checked && sweep >= slow_block_sweeps && !jump && !one.jumped_last) {
            one.rate_checked = true; // as in solve_block
            bool slow = false;
            for (std::size_t j = h * many_batch; j < (h + 1) * many_batch && !slow; ++j)
                slow =
                    too_slow(change[j], hs.previous[j], tol_[j], gauss_seidel_max_sweeps - sweep);
            if (slow && s.end - s.begin <= slow_block_direct_limit) {
                failed_[h] = true;
                st_.active[h] = false;
                return;
            }
        }
        one.jumped_last = jump;
        hs.push(h, change);
    }

    // The jump of half h: each solution moves by its factor times the
    // change the last sweep recorded.
    void extrapolate(history& hs, std::size_t h, const swept& s) {
        const double* change = s.change;
        double factor[many_batch];
        for (std::size_t i = 0; i < many_batch; ++i) {
            const std::size_t j = h * many_batch + i;
            const double lambda = hs.previous[j] > 0 ? change[j] / hs.previous[j] : 0.0;
            const double before = hs.previous2[j] > 0 ? hs.previous[j] / hs.previous2[j] : 0.0;
            const bool same = std::abs(lambda - before) <= 0.1 * lambda;
            factor[i] = same && lambda > 0 && lambda < 0.9 ? lambda / (1.0 - lambda) : 0.0;
        }
        hs.halves[h].since_jump = 0;
        double* yb = row(s.begin);
        const std::size_t len = (s.end - s.begin) * width;
        const std::int16_t* d = ws_.delta.data();
        for (std::size_t i = 0; i < len; i += width, d += record_stride<Halves>) {
            const double unit = power_of_two(d[width + h] - record_bits);
            for (std::size_t q = 0; q < many_batch; ++q)
                yb[i + h * many_batch + q] += factor[q] * unit * d[h * many_batch + q];
        }
    }

    // The solutions from START of the halves solved.
    unsigned collect() {
        unsigned solved = 0;
        for (std::size_t h = 0; h < Halves; ++h) {
            if (failed_[h]) continue;
            solved |= 1u << h;
            for (std::size_t g = 0; g < request_.count; ++g) {
                if (c_.start < c_.live_begin) { // START itself terminal: nothing to solve
                    request_.out[h][g] =
                        (ws_.terminal_bits[c_.start] >> g) & 1u ? 0.0 : (*x0_[h])[c_.start];
                    continue;
                }
                request_.out[h][g] = row(c_.start)[h * many_batch + g];
            }
        }
        return solved;
    }

    const chain& c_;
    const removal_job& job_;
    const batch_request& request_;
    batch_workspace& ws_;
    const std::vector<double>* x0_[Halves] = {};
    double tol_[width] = {};
    bool failed_[Halves] = {};
    sweep_state st_{};
};

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_batch_1)

template <std::size_t Halves>
unsigned solve_batch(const removal_job& job, const batch_request& request, batch_workspace& ws) {
    return batch_solver<Halves>(job, request, ws).solve();
}

template unsigned solve_batch<1>(const removal_job&, const batch_request&, batch_workspace&);
template unsigned solve_batch<2>(const removal_job&, const batch_request&, batch_workspace&);

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_BATCH_IPP
