// Ctrl-C during long work that runs without the GIL.
//
// Python's SIGINT handler only sets a flag that the interpreter reads between
// bytecodes, which a thread busy in C++ never does. While a sigint_scope
// lives (on the main thread, where Python handles signals), SIGINT also asks
// the library to stop (journeyloop::request_stop), so that the work throws
// journeyloop::interrupted at its next check point; Python's own handler
// still runs, and the exception translator (register_errors.cpp) turns the
// stop into the KeyboardInterrupt that handler raises.
#pragma once

#include <journeyloop/interrupt.hpp>

#include <pybind11/pybind11.h>

#include <csignal>
#include <cstddef>

class sigint_scope {
public:
    // Constructed and destroyed with the GIL held (a binding's local, or the
    // first type of a call_guard), which also guards depth_.
    sigint_scope() {
        if (!on_main_thread()) return;
        counted_ = true;
        if (depth_++ != 0) return;
        struct sigaction now {};
        if (sigaction(SIGINT, nullptr, &now) != 0) return;
        // Left alone: SIGINT ignored, or the default action (the process
        // ends, as the embedding application asked).
        if (!(now.sa_flags & SA_SIGINFO) &&
            (now.sa_handler == SIG_IGN || now.sa_handler == SIG_DFL))
            return;
        journeyloop::clear_stop();
        previous() = now;
        struct sigaction ours = now;
        ours.sa_flags = (now.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
        ours.sa_sigaction = &on_sigint;
        installed_ = sigaction(SIGINT, &ours, nullptr) == 0;
    }

    ~sigint_scope() {
        if (counted_) --depth_;
        if (!installed_) return;
        sigaction(SIGINT, &previous(), nullptr);
        journeyloop::clear_stop();
    }

    sigint_scope(const sigint_scope&) = delete;
    sigint_scope& operator=(const sigint_scope&) = delete;

private:
    static bool on_main_thread() {
        const auto threading = pybind11::module_::import("threading");
        return threading.attr("current_thread")().is(threading.attr("main_thread")());
    }

    static struct sigaction& previous() {
        static struct sigaction saved {};
        return saved;
    }

    // Async-signal-safe: a lock-free store, then the handler it replaced.
    static void on_sigint(int signal, siginfo_t* info, void* context) {
        journeyloop::request_stop();
        const struct sigaction& p = previous();
        if (p.sa_flags & SA_SIGINFO) {
            if (p.sa_sigaction != nullptr) p.sa_sigaction(signal, info, context);
        } else if (p.sa_handler != SIG_IGN && p.sa_handler != SIG_DFL) {
            p.sa_handler(signal);
        }
    }

    static inline std::size_t depth_ = 0;
    bool counted_ = false, installed_ = false;
};
