/* test_queue_names.c — queue names and worker queue lists. */
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
    CHECK(queue_list_parse("", "p", &l, err, sizeof err) == 0);
    CHECK_INT(l.n, 3);
    CHECK_STR(l.key[2], "p:queue:backtest_low");
    CHECK(queue_list_parse(" , ,", "p", &l, err, sizeof err) == 0);
    CHECK_INT(l.n, 3);
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
}

TEST(queue_name_rules)
{
    char err[256];
    CHECK(queue_name_check("backtest", err, sizeof err) == 0);
    CHECK(queue_name_check("md.refresh-1", err, sizeof err) == 0);
    CHECK(queue_name_check("", err, sizeof err) == -1);
    CHECK(queue_name_check("a b", err, sizeof err) == -1);
    CHECK(queue_name_check("jobs_high", err, sizeof err) == -1);
    CHECK(strstr(err, "--priority") != NULL);
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
