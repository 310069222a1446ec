// Batched removals: the removals ordered by weight, cut into batches, and
// the batches (or their halves) shared out between threads.
#ifndef JOURNEYLOOP_IMPL_CHAIN_BATCHED_IPP
#define JOURNEYLOOP_IMPL_CHAIN_BATCHED_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/batch.hpp>
#include <journeyloop/limits.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_NAMESPACE(chain_batched_1) {

// Removals in batches of similar weight (the conversions that pass through
// the removed states, an upper bound of what the removal changes): the
// sweeps of a batch stop when its largest change has converged, and batches
// of small removals converge in fewer sweeps. Returns the removals by
// decreasing weight.
JOURNEYLOOP_IMPL_INLINE std::vector<std::size_t> by_weight(
    const chain& c, const std::vector<std::vector<std::uint32_t>>& removed) {
    std::vector<std::size_t> order(removed.size());
    std::vector<double> weight(removed.size(), 0.0);
    for (std::size_t g = 0; g < removed.size(); ++g) {
        order[g] = g;
        for (auto t : removed[g]) weight[g] += c.visits[c.row_of[t]] * c.x[c.row_of[t]];
    }
    std::stable_sort(order.begin(), order.end(),
                     [&weight](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
    return order;
}

// What every batch shares: the removals in `order`, the terminal rows'
// solutions and the scale of the solutions.
JOURNEYLOOP_IMPL_INLINE removal_job make_job(const chain& c,
                                             const std::vector<std::vector<std::uint32_t>>& removed,
                                             const std::vector<std::size_t>& order) {
    removal_job job{c, {}, mapped_vector<double>(2 * c.live_begin), {0, 0}};
    for (std::size_t u = 0; u < c.n; ++u) {
        job.scale[0] = std::max(job.scale[0], std::abs(c.x[u]));
        job.scale[1] = std::max(job.scale[1], std::abs(c.x_value[u]));
    }
    job.removed.resize(removed.size());
    for (std::size_t i = 0; i < removed.size(); ++i) job.removed[i] = &removed[order[i]];
    for (std::size_t v = 0; v < c.live_begin; ++v) {
        job.terminal_x[2 * v] = c.x[v];
        job.terminal_x[2 * v + 1] = c.x_value[v];
    }
    return job;
}

// The halves of a batch that solve_batch gave up, one removal at a time:
// `solved` has bit k set for each half k solved; `halves` is how many the
// request asked for.
JOURNEYLOOP_IMPL_INLINE void solve_rest_one_at_a_time(const removal_job& job,
                                                      const batch_request& request,
                                                      std::size_t halves, unsigned solved) {
    const auto& c = job.c;
    std::vector<char> mask(c.n, 0);
    for (std::size_t g = 0; g < request.count; ++g) {
        const auto& states = *job.removed[request.first + g];
        for (auto s : states) mask[s] = 1;
        const auto both = solve_without(c, mask);
        for (std::size_t k = 0; k < halves; ++k)
            if (!((solved >> k) & 1u))
                request.out[k][g] = request.first_half + k == 0 ? both.first : both.second;
        for (auto s : states) mask[s] = 0;
    }
}

// The tasks of the removals: on one thread a task is a batch, both halves;
// on more, a task is one half, task 2b + h half h of batch b (see width_of
// in sweep.hpp). Tasks are taken in order by up to `threads` threads.
class task_runner {
public:
    task_runner(const removal_job& job, std::size_t threads,
                const std::function<void(std::size_t, std::size_t)>* progress)
        : job_(job), halves_(threads > 1), progress_(progress) {
        const std::size_t batches = (job.removed.size() + many_batch - 1) / many_batch;
        tasks_ = halves_ ? 2 * batches : batches;
        threads_ = std::max<std::size_t>(1, std::min(threads, tasks_));
        for (auto& one : out_) one.assign(job.removed.size(), 0.0);
    }

    // Runs every task; the solutions by removal (in the job's order) of the
    // conversions (0) and of the value (1).
    const std::vector<double>* run() {
        std::vector<std::exception_ptr> errors(threads_);
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads_; ++t)
            workers.emplace_back([this, &errors, t] { work(errors[t]); });
        work(errors[0]);
        for (auto& w : workers) w.join();
        for (const auto& e : errors)
            if (e) std::rethrow_exception(e);
        return out_;
    }

private:
    void work(std::exception_ptr& error) {
        try {
            batch_workspace ws(job_.c); // allocated by the thread that uses it
            for (std::size_t task; (task = next_.fetch_add(1)) < tasks_;) {
                solve_task(task, ws);
                report();
            }
        } catch (...) {
            error = std::current_exception();
            next_ = tasks_;
        }
    }

    void solve_task(std::size_t task, batch_workspace& ws) {
        batch_request request;
        const auto b = halves_ ? task / 2 : task;
        request.first_half = halves_ ? task % 2 : 0;
        request.first = b * many_batch;
        request.count = std::min(many_batch, job_.removed.size() - request.first);
        request.out[0] = out_[request.first_half].data() + request.first;
        request.out[1] = out_[1].data() + request.first;
        const unsigned solved =
            halves_ ? solve_batch<1>(job_, request, ws) : solve_batch<2>(job_, request, ws);
        const unsigned wanted = halves_ ? 1u : 3u;
        if (solved != wanted) solve_rest_one_at_a_time(job_, request, halves_ ? 1 : 2, solved);
    }

    void report() {
        if (progress_ == nullptr || !*progress_) return;
        const std::lock_guard<std::mutex> lock(progress_mutex_);
        (*progress_)(++done_, tasks_);
    }

    const removal_job& job_;
    const bool halves_;
    const std::function<void(std::size_t, std::size_t)>* progress_;
    std::size_t tasks_ = 0, threads_ = 1, done_ = 0;
    std::atomic<std::size_t> next_{0};
    std::mutex progress_mutex_;
    std::vector<double> out_[2];
};

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_batched_1)

JOURNEYLOOP_IMPL_INLINE std::vector<std::pair<double, double>> solve_without_many(
    const chain& c, const std::vector<std::vector<std::uint32_t>>& removed, std::size_t threads,
    const std::function<void(std::size_t, std::size_t)>* progress) {
    std::vector<std::pair<double, double>> out(removed.size());
    if (removed.empty()) return out;
    check_memory(removal_memory(c.n, threads), "removal effects");
    const auto order = by_weight(c, removed);
    const auto job = make_job(c, removed, order);
    task_runner runner(job, threads, progress);
    const auto* solutions = runner.run();
    for (std::size_t i = 0; i < removed.size(); ++i)
        out[order[i]] = {solutions[0][i], solutions[1][i]};
    return out;
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_BATCHED_IPP
