/* slot.c — the shared-memory board between a supervisor and its children. */
#include "core/slot.h"

#include <string.h>
#include <sys/mman.h>

slot_t *slot_board_new(int n)
{
    void *p = mmap(NULL, sizeof(slot_t) * (size_t)n, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memset(p, 0, sizeof(slot_t) * (size_t)n); /* already zero; states the intent */
    return p;
}

void slot_board_free(slot_t *board, int n)
{
    if (board != NULL)
        munmap(board, sizeof(slot_t) * (size_t)n);
}

static void write_job(slot_t *s, const slot_job_t *job)
{
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel); /* odd: writing */
    atomic_thread_fence(memory_order_release);
    if (job != NULL)
        s->job = *job;
    else
        s->job.busy = 0;
    atomic_thread_fence(memory_order_release);
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel); /* even: stable */
}

void slot_begin(slot_t *s, const slot_job_t *job) { write_job(s, job); }
void slot_end(slot_t *s) { write_job(s, NULL); }

unsigned long slot_next_generation(slot_t *s)
{
    /* The child is the only writer while it lives, so load + store is enough. */
    unsigned long gen = atomic_load_explicit(&s->consumer_gen, memory_order_acquire) + 1;
    atomic_store_explicit(&s->consumer_gen, gen, memory_order_release);
    return gen;
}

unsigned long slot_generation(slot_t *s)
{
    return atomic_load_explicit(&s->consumer_gen, memory_order_acquire);
}

void slot_read(slot_t *s, slot_job_t *out)
{
    for (int tries = 0; tries < 1000; tries++) {
        unsigned a = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (a & 1u)
            continue;
        atomic_thread_fence(memory_order_acquire);
        memcpy(out, (const void *)&s->job, sizeof *out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_acquire) == a)
            return;
    }
    /* A writer died mid-write (or never finishes): report no job. */
    memset(out, 0, sizeof *out);
}

void slot_reset_job(slot_t *s)
{
    memset((void *)&s->job, 0, sizeof s->job);
    atomic_store(&s->seq, 0);
    atomic_store(&s->burst_idle, 0);
}
