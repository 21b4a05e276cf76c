// How many threads the calling thread may still spread its work over. Swift has no cheap
// thread-local storage, so the one integer lives here. Parallel.map sets it on each worker for the
// duration of an item (the workers split the caller's budget); parallel kernels read it.
#ifndef TIANALYZE_THREADBUDGET_H
#define TIANALYZE_THREADBUDGET_H

/// The calling thread's budget; 0 when it was never set on this thread (the process default applies).
int tia_thread_budget(void);

/// Sets the calling thread's budget and returns the previous value (to restore it afterwards).
int tia_set_thread_budget(int threads);

/// Nesting depth of parallel regions on the calling thread: +1 on entry (returns the depth before),
/// −1 on exit. Only the outermost region of a thread is timed by the profile below.
int tia_enter_parallel_region(void);
void tia_leave_parallel_region(void);

/// Nanoseconds spent in outermost parallel regions, summed over all threads since the last reset
/// (a parallelizable-work meter for Amdahl's law; atomic).
void tia_parallel_profile_add(long nanoseconds);
long tia_parallel_profile_total(void);
void tia_parallel_profile_reset(void);

#endif
