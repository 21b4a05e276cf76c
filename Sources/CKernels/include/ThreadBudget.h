// How many threads the calling thread may still spread its work over. Swift has no cheap
// thread-local storage, so the one integer lives here. Parallel.map sets it on each worker for the
// duration of an item (the workers split the caller's budget); parallel kernels read it.
#ifndef TIANALYZE_THREADBUDGET_H
#define TIANALYZE_THREADBUDGET_H

/// The calling thread's budget; 0 when it was never set on this thread (the process default applies).
int tia_thread_budget(void);

/// Sets the calling thread's budget and returns the previous value (to restore it afterwards).
int tia_set_thread_budget(int threads);

#endif
