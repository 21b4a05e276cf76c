#include "ThreadBudget.h"

static _Thread_local int budget = 0;

int tia_thread_budget(void) { return budget; }

int tia_set_thread_budget(int threads) {
    int previous = budget;
    budget = threads;
    return previous;
}
