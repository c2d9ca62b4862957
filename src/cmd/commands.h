/* commands.h — the entry point of each `tickq` sub-command. Each returns the
 * process exit status. */
#ifndef TICKQ_COMMANDS_H
#define TICKQ_COMMANDS_H

int cmd_worker(int argc, char **argv);
int cmd_enqueue(int argc, char **argv);
int cmd_result(int argc, char **argv);
int cmd_job(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_dlq(int argc, char **argv);
int cmd_rejected(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_tasks(int argc, char **argv);
int cmd_types(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_scheduler(int argc, char **argv);
int cmd_options(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_limit(int argc, char **argv);
int cmd_flow(int argc, char **argv);
int cmd_load_test(int argc, char **argv);

#endif
