/* test_queue_names.c — queue names, worker queue lists and the Redis key
 * names (docs/protocol.md, the key table). */
#include "core/comma_list.h"
#include "core/queue.h"
#include "core/queue_names.h"
#include "unit.h"

TEST(queue_list_default_expands_three_levels)
{
    queue_list_t l;
    char err[256];
    CHECK(queue_list_parse(NULL, "tickq", &l, err, sizeof err) == 0);
    CHECK_INT(l.n, 3);
    CHECK_STR(l.name[0], "backtest_high");
    CHECK_STR(l.name[1], "backtest_normal");
    CHECK_STR(l.name[2], "backtest_low");
    CHECK_STR(l.key[0], "tickq:queue:backtest_high");
    CHECK(queue_list_parse(NULL, "p", &l, err, sizeof err) == 0);
    CHECK_STR(l.key[2], "p:queue:backtest_low");
}

TEST(queue_list_order_physical_and_dedupe)
{
    queue_list_t l;
    char err[256];
    CHECK(queue_list_parse("alerts_high, backtest ,alerts_low,backtest_normal", "tickq", &l, err, sizeof err) == 0);
    CHECK_INT(l.n, 5);
    CHECK_STR(l.name[0], "alerts_high");
    CHECK_STR(l.name[1], "backtest_high");
    CHECK_STR(l.name[2], "backtest_normal");
    CHECK_STR(l.name[3], "backtest_low");
    CHECK_STR(l.name[4], "alerts_low");
}

TEST(queue_list_refusals)
{
    queue_list_t l;
    char err[256];
    CHECK(queue_list_parse("good,bad name", "tickq", &l, err, sizeof err) == -1);
    CHECK(strstr(err, "bad name") != NULL);
    CHECK(queue_list_parse("x:y", "tickq", &l, err, sizeof err) == -1);
    /* An empty list is not the default queue: an unset variable in a
     * deploy (--queues "$Q") would serve someone else's queue. */
    const char *empty[] = { "", " ", ",", " , ," };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        CHECK(queue_list_parse(empty[i], "tickq", &l, err, sizeof err) == -1);
        CHECK(strstr(err, "names no queue") != NULL);
    }
    CHECK(queue_list_parse("a,,b", "tickq", &l, err, sizeof err) == -1);
    CHECK_STR(err, "'a,,b' has an empty name (two commas in a row, or one at its start or end)");
    CHECK(queue_list_parse("a,", "tickq", &l, err, sizeof err) == -1);
}

TEST(comma_list_entries_trimmed_and_empty_ones_placed)
{
    comma_list_t it;
    const char *e;
    size_t len;
    comma_list_start(&it, " a ,\tbc, ,d");
    CHECK_INT(comma_list_next(&it, &e, &len), 1);
    CHECK(len == 1 && strncmp(e, "a", 1) == 0);
    CHECK_INT(comma_list_next(&it, &e, &len), 1);
    CHECK(len == 2 && strncmp(e, "bc", 2) == 0);
    CHECK_INT(comma_list_next(&it, &e, &len), -1);
    CHECK_INT((int)it.index, 3);
    CHECK_INT(comma_list_next(&it, &e, &len), 1);
    CHECK(len == 1 && e[0] == 'd');
    CHECK_INT(comma_list_next(&it, &e, &len), 0);
    comma_list_start(&it, "x,");
    CHECK_INT(comma_list_next(&it, &e, &len), 1);
    CHECK_INT(comma_list_next(&it, &e, &len), -1);
    CHECK_INT(comma_list_next(&it, &e, &len), 0);
    CHECK(comma_list_blank(" ,\t,") && comma_list_blank("") && !comma_list_blank(", a"));
}

TEST(worker_id_and_its_instance)
{
    char id[192], inst[160];
    queue_worker_id("host:12.ab0f", 3, id, sizeof id);
    CHECK_STR(id, "host:12.ab0f:3");
    CHECK_INT(queue_worker_instance(id, inst, sizeof inst), 0);
    CHECK_STR(inst, "host:12.ab0f");
    const char *others[] = { "noslot", ":3", "host:", "host:3x", "host:-1" };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK_INT(queue_worker_instance(others[i], inst, sizeof inst), -1);
    CHECK_INT(queue_worker_instance("abcdef:1", inst, 6), -1); /* no room for the instance */
}

TEST(queue_name_rules)
{
    char err[256];
    CHECK(queue_name_check("backtest", err, sizeof err) == 0);
    CHECK(queue_name_check("md.refresh-1", err, sizeof err) == 0);
    CHECK(queue_name_check("", err, sizeof err) == -1);
    CHECK(queue_name_check("a b", err, sizeof err) == -1);
    CHECK(queue_name_check("jobs_high", err, sizeof err) == -1);
    CHECK(strstr(err, "queue 'jobs' with priority high") != NULL);
    CHECK(queue_name_check("jobs_low_high", err, sizeof err) == -1);
    CHECK(strstr(err, "(those are priority levels)") != NULL);
    char phys[QUEUE_PHYS_MAX];
    queue_physical("backtest", "low", phys);
    CHECK_STR(phys, "backtest_low");
    CHECK(queue_priority_check("normal") == 0);
    CHECK(queue_priority_check("urgent") == -1);
}

TEST(consumer_names_carry_a_generation_records_the_worker_id)
{
    char name[QUEUE_CONSUMER_MAX], worker[QUEUE_CONSUMER_MAX];
    queue_consumer_name("host-1:42.9f3a:0", 7, name, sizeof name);
    CHECK_STR(name, "host-1:42.9f3a:0#7");
    queue_consumer_worker(name, worker, sizeof worker);
    CHECK_STR(worker, "host-1:42.9f3a:0");
    /* Names without a generation (another tickq version's) are their own
     * worker id; so is anything whose tail is not all digits. */
    queue_consumer_worker("host:42.9f3a:0", worker, sizeof worker);
    CHECK_STR(worker, "host:42.9f3a:0");
    queue_consumer_worker("odd#host:1.0000:2#x", worker, sizeof worker);
    CHECK_STR(worker, "odd#host:1.0000:2#x");
    queue_consumer_worker("odd#host:1.0000:2#12", worker, sizeof worker);
    CHECK_STR(worker, "odd#host:1.0000:2");
    queue_consumer_worker("#5", worker, sizeof worker);
    CHECK_STR(worker, "#5");
    queue_consumer_worker("trailing#", worker, sizeof worker);
    CHECK_STR(worker, "trailing#");
}

TEST(stream_physical_inverts_stream_key)
{
    char key[QUEUE_KEY_MAX], phys[QUEUE_PHYS_MAX];
    queue_stream_key("tickq", "backtest_high", key);
    queue_stream_physical("tickq", key, phys);
    CHECK_STR(phys, "backtest_high");
    /* a prefix that itself holds ":queue:" is cut whole, not at its first one */
    queue_stream_key("a:queue:b", "x_low", key);
    queue_stream_physical("a:queue:b", key, phys);
    CHECK_STR(phys, "x_low");
    queue_stream_physical("tickq", "other:queue:x_low", phys);
    CHECK_STR(phys, "other:queue:x_low");
}

TEST(key_builders_write_the_documented_names)
{
    queue_t q;
    queue_init(&q, NULL);
    snprintf(q.prefix, sizeof q.prefix, "p");
    char k[256];
    queue_job_key(&q, "j1", k, sizeof k);
    CHECK_STR(k, "p:job:j1");
    queue_result_key("j1", k, sizeof k);
    CHECK_STR(k, "task_result:j1");
    queue_dead_key(&q, k, sizeof k);
    CHECK_STR(k, "p:dead");
    queue_running_key(&q, "noop", k, sizeof k);
    CHECK_STR(k, "p:running:noop");
    queue_index_key(&q, "backtest", "failed", k, sizeof k);
    CHECK_STR(k, "p:index:backtest:failed");
    queue_scheduler_lease_key(&q, k, sizeof k);
    CHECK_STR(k, "p:scheduler:lease");
    queue_scheduler_fires_key(&q, k, sizeof k);
    CHECK_STR(k, "p:scheduler:fires");
    queue_scheduler_misfires_key(&q, k, sizeof k);
    CHECK_STR(k, "p:scheduler:misfires");
    queue_dash_samples_key(&q, k, sizeof k);
    CHECK_STR(k, "p:dash:samples");
    queue_dash_slot_key(&q, 1234567, k, sizeof k);
    CHECK_STR(k, "p:dash:slot:1234567");
    queue_paused_key(&q, k, sizeof k);
    CHECK_STR(k, "p:paused");
    queue_held_key(&q, "noop", k, sizeof k);
    CHECK_STR(k, "p:held:noop");
}
