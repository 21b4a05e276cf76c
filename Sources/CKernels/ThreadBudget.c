#include "ThreadBudget.h"
#include <stdatomic.h>

static _Thread_local int budget = 0;
static _Thread_local int depth = 0;
static _Atomic long profile_total = 0;

int tia_thread_budget(void) { return budget; }

int tia_set_thread_budget(int threads) {
    int previous = budget;
    budget = threads;
    return previous;
}

int tia_enter_parallel_region(void) { return depth++; }
void tia_leave_parallel_region(void) { depth--; }

void tia_parallel_profile_add(long nanoseconds) { atomic_fetch_add(&profile_total, nanoseconds); }
long tia_parallel_profile_total(void) { return atomic_load(&profile_total); }
void tia_parallel_profile_reset(void) { atomic_store(&profile_total, 0); }
