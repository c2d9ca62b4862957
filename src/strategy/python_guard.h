/* python_guard.h — an audit hook that names what a Python strategy tried.
 *
 * The kernel (seccomp, Landlock, rlimits: sandbox.h) is the boundary of a
 * Python strategy; this hook only turns the common attempts into clear
 * errors before they reach it ("Security validation failed: open('/etc/
 * passwd')", "... network access (socket)"). Installed in the host before
 * Python starts (a C hook: nothing in Python can remove it), it does
 * nothing until armed in an evaluation child. Then a forbidden event ends
 * the child at once with that error as its result: no strategy can catch
 * it. */
#ifndef TICKQ_PYTHON_GUARD_H
#define TICKQ_PYTHON_GUARD_H

/* Before Py_Initialize. 0, or -1 when the hook could not be added. */
int python_guard_install(void);

/* In the evaluation child, right before the strategy's code runs: from
 * here on files may be read below `read_dirs` (NULL-terminated) only. */
void python_guard_arm(const char *const *read_dirs);

/* Armed: ends the evaluation with "Security validation failed: <what>"
 * (never returns). Not armed: returns -1 and does nothing. */
int python_guard_violation(const char *what);

#endif
