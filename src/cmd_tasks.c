/* cmd_tasks.c — `tickq tasks`: list the task types this build can run. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "task.h"

int cmd_tasks(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        puts("usage: tickq tasks\n\nLists the task types this tickq can run.");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "tickq: tasks takes no arguments\n\nusage: tickq tasks\n");
        return 64;
    }
    size_t n;
    const task_def_t *all = task_all(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-12s %s\n", all[i].name, all[i].summary);
    return 0;
}
