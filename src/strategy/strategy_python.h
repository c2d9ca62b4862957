/* strategy_python.h — a worker's side of Python strategies: its Python host
 * (python_host.h), started on the first Python strategy and kept warm for
 * the next, and one evaluation through it. */
#ifndef TICKQ_STRATEGY_PYTHON_H
#define TICKQ_STRATEGY_PYTHON_H

#include <stddef.h>

#include "strategy/sandbox.h"
#include "strategy/strategy.h"

/* 0 when this machine can run Python strategies (Landlock in the kernel);
 * else -1 with why, in words for a job's error and for `worker --check`. */
int strategy_python_available(char *why, size_t whylen);

/* Evaluates job (a Python strategy) in the host: sends the frame when it
 * changed, then the code, and fills *out as sandbox_run would (the
 * evaluation child's envelope in out->result, what it printed in
 * out->output). 0; -1 with err and *failure (STRATEGY_NOT_STARTED: the
 * host could not start or take the job, STRATEGY_INTERRUPTED: it ended or
 * stopped answering while the job ran, each worth a retry;
 * STRATEGY_FAILED: Python strategies cannot run on this machine). */
int strategy_python_eval(const strategy_job_t *job, sandbox_outcome_t *out, strategy_failure_t *failure, char *err,
                         size_t errlen);

/* Starts the host (when it is not running) and describes what it runs, for
 * `worker --check`: 0 with info ("Python 3.11.2, numpy 1.24.2, pandas
 * 1.5.3; sandbox: ..."), or -1 with why not. */
int strategy_python_probe(char *info, size_t infolen);

/* Stops the host and reaps it (worker --check; a worker child's host ends
 * with it, by its parent-death signal). A new one starts on demand. */
void strategy_python_stop(void);

#endif
