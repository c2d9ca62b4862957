/* tasks_all.h — the composition of the task registry: every domain's task
 * family, registered in the order `tickq tasks` lists them. */
#ifndef TICKQ_TASKS_ALL_H
#define TICKQ_TASKS_ALL_H

/* Registers every task family (core/task.h, task_register). Call once, at
 * start, before any task is looked up: main, and the unit tests, benches
 * and fuzz targets that use the registry. */
void tasks_register_all(void);

#endif
