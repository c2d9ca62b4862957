/* tasks_all.c — every domain's task family, registered (tasks_all.h). */
#include "cmd/tasks_all.h"

#include "core/task.h"
#include "core/task_builtin.h"
#include "data/task_market_data.h"
#include "options/task_options.h"
#include "strategy/task_strategy.h"

void tasks_register_all(void)
{
    task_register(&task_family_strategy);
    task_register(&task_family_market_data);
    task_register(&task_family_options);
    task_register(&task_family_builtin);
}
