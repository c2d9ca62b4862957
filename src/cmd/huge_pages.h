/* huge_pages.h — a worker's malloc memory in transparent huge pages. */
#ifndef TICKQ_HUGE_PAGES_H
#define TICKQ_HUGE_PAGES_H

/* At the start of `tickq worker`, before anything else: executes the
 * program again (same argv, same pid) with glibc.malloc.hugetlb=1 added
 * to GLIBC_TUNABLES, unless the user's GLIBC_TUNABLES names hugetlb
 * already, the process runs with secure execution (setuid, file
 * capabilities), it was started through the dynamic loader, or the exec
 * fails: then it returns and the worker runs with small pages. In the
 * executed program it puts the user's GLIBC_TUNABLES back (glibc has read
 * it by then), so that processes the worker starts (handlers) inherit
 * the environment as the user gave it, and returns. */
void huge_pages_exec(char **argv);

#endif
