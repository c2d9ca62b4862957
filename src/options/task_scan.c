/* task_scan.c — the scan_opportunities task (task_options.h,
 * docs/options.md): ranks premium-selling and premium-buying candidates
 * from each symbol's latest iv_history row (the rules are
 * iv_scan_classify's, iv_analysis.h) and stores the list.
 *
 * The scan reads, ranks, then writes the list in one transaction: a job
 * that fails leaves the database as it was. Rows older than max_age_days
 * before the newest are stale and left out. */
#include "options/task_options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "data/db.h"
#include "options/iv_analysis.h"
#include "options/task_options_internal.h"


typedef struct {
    const iv_history_row_t *h;
    double score;
} candidate_t;

static int cmp_candidate(const void *x, const void *y)
{
    const candidate_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->h->symbol, b->h->symbol);
}

static json_t *candidate_json(const candidate_t *c, int rank)
{
    const iv_history_row_t *h = c->h;
    json_t *j = json_pack("{s:i, s:s, s:f, s:o}", "rank", rank, "symbol", h->symbol, "score", c->score, "date",
                          task_options_date_json(h->date));
    json_object_set_new(j, "atm_iv_30d", json_number_or_null(h->atm_iv_30d));
    json_object_set_new(j, "iv_rank", json_number_or_null(h->iv_rank));
    json_object_set_new(j, "iv_percentile", json_number_or_null(h->iv_percentile));
    json_object_set_new(j, "hv_20", json_number_or_null(h->hv_20));
    json_object_set_new(j, "hv_60", json_number_or_null(h->hv_60));
    json_object_set_new(j, "iv_hv_ratio", json_number_or_null(h->atm_iv_30d / h->hv_20));
    json_object_set_new(j, "atm_open_interest", json_integer((json_int_t)h->atm_open_interest));
    json_object_set_new(j, "atm_volume", json_integer((json_int_t)h->atm_volume));
    return j;
}

static json_t *rules_json(const iv_scan_rules_t *r, int64_t max_age, int64_t limit)
{
    char sell[160], buy[160], liquid[160];
    snprintf(sell, sizeof sell, "iv_rank >= %g and atm_iv_30d > hv_20 and liquid", r->sell_min_rank);
    snprintf(buy, sizeof buy, "iv_rank <= %g and atm_iv_30d < hv_20 and liquid", r->buy_max_rank);
    snprintf(liquid, sizeof liquid, "atm_open_interest >= %lld and atm_volume >= %lld",
             (long long)r->min_open_interest, (long long)r->min_volume);
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:f, s:f, s:I, s:I, s:I, s:I, s:s}", "sell_premium", sell,
                     "buy_premium", buy, "liquid", liquid, "score", "sell_premium",
                     "iv_rank + 100 * (atm_iv_30d / hv_20 - 1)", "buy_premium",
                     "(100 - iv_rank) + 100 * (1 - atm_iv_30d / hv_20)", "min_iv_rank_sell", r->sell_min_rank,
                     "max_iv_rank_buy", r->buy_max_rank, "min_open_interest", (json_int_t)r->min_open_interest,
                     "min_volume", (json_int_t)r->min_volume, "max_age_days", (json_int_t)max_age, "limit",
                     (json_int_t)limit, "source", "each symbol's latest iv_history row");
}

static int in_list(const bar_symbol_t *s, size_t n, const char *symbol)
{
    for (size_t lo = 0, hi = n; lo < hi;) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s[mid], symbol);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

task_status_t task_scan_opportunities(const task_ctx_t *ctx, task_out_t *out)
{
    bar_symbol_t *symbols = NULL;
    size_t nsymbols = 0, nrows = 0;
    iv_history_row_t *rows = NULL;
    candidate_t *side[2] = { NULL, NULL };
    opportunity_row_t *store = NULL;
    size_t nside[2] = { 0, 0 };
    db_t *db = NULL;
    int all = 0;
    iv_scan_rules_t rules = {
        .sell_min_rank = task_arg_number(ctx, "min_iv_rank_sell"),
        .buy_max_rank = task_arg_number(ctx, "max_iv_rank_buy"),
        .min_open_interest = task_arg_int(ctx, "min_open_interest"),
        .min_volume = task_arg_int(ctx, "min_volume"),
    };
    int64_t max_age = task_arg_int(ctx, "max_age_days"), limit = task_arg_int(ctx, "limit");
    int64_t as_of = task_options_day_arg(ctx, "as_of");
    char err[1024];
    task_status_t st = task_symbols_arg(ctx, "symbols", &symbols, &nsymbols, &all, out);
    if (st == TASK_OK)
        st = task_options_open_db(ctx, &db, out);
    if (st != TASK_OK)
        goto done;
    int64_t to = as_of >= 0 ? as_of : clock_days_from_civil(9999, 12, 31);
    if (db_iv_history_latest(db, to, &rows, &nrows, err, sizeof err) != 0) {
        st = task_error(out, TASK_TRANSIENT, "cannot read the IV history: %s", err);
        goto done;
    }
    int64_t ref = as_of;
    for (size_t i = 0; ref < 0 && i < nrows; i++)
        ref = rows[i].date;
    for (size_t i = 0; i < nrows; i++)
        ref = as_of < 0 && rows[i].date > ref ? rows[i].date : ref;
    side[0] = malloc((nrows ? nrows : 1) * sizeof *side[0]);
    side[1] = malloc((nrows ? nrows : 1) * sizeof *side[1]);
    store = malloc((nrows ? nrows : 1) * sizeof *store);
    if (side[0] == NULL || side[1] == NULL || store == NULL) {
        st = task_error(out, TASK_TRANSIENT, "out of memory");
        goto done;
    }
    size_t scanned = 0, no_data = 0, illiquid = 0, stale = 0, neither = 0;
    for (size_t i = 0; i < nrows; i++) {
        const iv_history_row_t *h = &rows[i];
        if (!all && !in_list(symbols, nsymbols, h->symbol))
            continue;
        scanned++;
        if (h->date < ref - (int64_t)max_age) {
            stale++;
            continue;
        }
        double score;
        iv_scan_verdict_t v = iv_scan_classify(h, &rules, &score);
        if (v == IV_SCAN_SELL || v == IV_SCAN_BUY)
            side[v][nside[v]++] = (candidate_t){ h, score };
        else if (v == IV_SCAN_NO_DATA)
            no_data++;
        else if (v == IV_SCAN_ILLIQUID)
            illiquid++;
        else
            neither++;
    }
    static const char *const names[2] = { "sell_premium", "buy_premium" };
    json_t *lists[2];
    size_t nstore = 0;
    for (int s = 0; s < 2; s++) {
        qsort(side[s], nside[s], sizeof *side[s], cmp_candidate);
        nside[s] = nside[s] < (size_t)limit ? nside[s] : (size_t)limit;
        lists[s] = json_array();
        for (size_t k = 0; k < nside[s]; k++) {
            json_array_append_new(lists[s], candidate_json(&side[s][k], (int)k + 1));
            store[nstore++] = (opportunity_row_t){ names[s], (int)k + 1, side[s][k].score, side[s][k].h };
        }
    }
    int64_t now = clock_now_us();
    if (db_begin(db, err, sizeof err) != 0) {
        json_decref(lists[0]);
        json_decref(lists[1]);
        st = task_error(out, TASK_TRANSIENT, "cannot write the scan: %s; nothing written", err);
        goto done;
    }
    if (db_opportunities_put(db, now, store, nstore, err, sizeof err) != 0 || db_commit(db, err, sizeof err) != 0) {
        json_decref(lists[0]);
        json_decref(lists[1]);
        st = task_options_write_failed(db, out, "the scan", err);
        goto done;
    }
    char iso[CLOCK_DATE_LEN];
    clock_format_datetime_us(now, iso); /* as stored */
    out->data = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:{s:I, s:I, s:I, s:I}}", "generated_at", iso, "as_of",
                          task_options_date_json(ref), "sell_premium", lists[0], "buy_premium", lists[1], "rules",
                          rules_json(&rules, max_age, limit), "symbols_scanned", (json_int_t)scanned, "excluded",
                          "no_data", (json_int_t)no_data, "illiquid", (json_int_t)illiquid, "stale",
                          (json_int_t)stale, "neither", (json_int_t)neither);
done:
    free(store);
    free(side[0]);
    free(side[1]);
    free(rows);
    free(symbols);
    return st;
}

static const task_arg_t scan_args[] = {
    TASK_SYMBOLS_OR_ALL_ARG(0, OPTIONS_MAX_SYMBOLS, "all", "limits the scan to these symbols"),
    { .name = "as_of", .type = TASK_ARG_DATE, OPTIONS_DATE_RANGE,
      .default_doc = "the newest IV history row's date (of any symbol, scanned or not)",
      .doc = "scan each symbol's latest iv_history row on or before this day" },
    { .name = "min_iv_rank_sell", .type = TASK_ARG_NUMBER, .min = 0, .max = 100, .num = IV_SCAN_SELL_MIN_RANK,
      .doc = "sell_premium needs iv_rank >= this" },
    { .name = "max_iv_rank_buy", .type = TASK_ARG_NUMBER, .min = 0, .max = 100, .num = IV_SCAN_BUY_MAX_RANK,
      .doc = "buy_premium needs iv_rank <= this" },
    { .name = "min_open_interest", .type = TASK_ARG_INT, .min = 0, .max = 1e15, .num = IV_SCAN_MIN_OPEN_INTEREST,
      .doc = "liquid: the ATM open interest is at least this" },
    { .name = "min_volume", .type = TASK_ARG_INT, .min = 0, .max = 1e15, .num = IV_SCAN_MIN_VOLUME,
      .doc = "liquid: the ATM volume is at least this" },
    { .name = "max_age_days", .type = TASK_ARG_INT, .min = 0, .max = 100000, .num = 7,
      .doc = "rows older than this many days before the scan's date are stale and left out" },
    { .name = "limit", .type = TASK_ARG_INT, .min = 1, .max = 100000, .num = 50,
      .doc = "how many symbols each list keeps" },
    { .name = NULL }
};

const task_def_t task_def_scan_opportunities = {
    .name = "scan_opportunities",
    .run = task_scan_opportunities,
    .summary = "ranks premium-selling and premium-buying candidates from the IV history and stores the list",
    .args = scan_args,
};
