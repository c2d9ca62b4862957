/* http_options.c — options analytics over HTTP (http_options.h). */
#include "http/http_options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errmsg.h"
#include "data/bars.h"
#include "data/db.h"
#include "http/http_app.h"

#define IV_DAYS_DEFAULT 365
#define IV_DAYS_MAX 36600  /* a hundred years: the range asked for, not rows returned */

static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* A stored day (epoch days, as iv_history_row_t.date holds it). */
static json_t *day_json(int64_t epoch_day)
{
    char d[CLOCK_DATE_LEN];
    clock_format_date(epoch_day * 86400, d);
    return json_string(d);
}

static json_t *iv_row_json(const iv_history_row_t *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "symbol", json_string(h->symbol));
    json_object_set_new(o, "date", day_json(h->date));
    json_object_set_new(o, "atm_iv_30d", number_or_null(h->atm_iv_30d));
    json_object_set_new(o, "atm_method", json_string(h->atm_method));
    json_object_set_new(o, "iv_rank", number_or_null(h->iv_rank));
    json_object_set_new(o, "iv_percentile", number_or_null(h->iv_percentile));
    json_object_set_new(o, "hv_20", number_or_null(h->hv_20));
    json_object_set_new(o, "hv_60", number_or_null(h->hv_60));
    json_object_set_new(o, "underlying_price", number_or_null(h->underlying));
    json_object_set_new(o, "contracts", json_integer(h->contracts));
    json_object_set_new(o, "solved", json_integer(h->solved));
    return o;
}

void http_options_symbols(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    db_t *db = http_app_database(app, rep);
    if (db == NULL)
        return;
    iv_history_row_t *rows = NULL;
    size_t n = 0;
    char err[1024];
    if (db_iv_history_latest(db, clock_days_from_civil(9999, 12, 31), &rows, &n, err, sizeof err) != 0) {
        http_reply_error(rep, 503, "cannot read the IV history: %s", err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, iv_row_json(&rows[i]));
    free(rows);
    http_reply_json(rep, 200, json_pack("{s:o}", "symbols", list));
}

/* Query parameter `key` as a date (epoch days) into *out: 1, 0 when
 * absent, -1 (400 in rep) when not a date. */
static int date_param(const http_request_t *req, const char *key, int64_t *out, http_reply_t *rep)
{
    const char *text = http_query(req, key);
    int64_t epoch_s;
    if (text == NULL)
        return 0;
    if (clock_parse_date(text, strlen(text), &epoch_s) != 0) {
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "%s %s is not a date: write it as YYYY-MM-DD", key,
                         errmsg_quote(text, quoted, sizeof quoted));
        return -1;
    }
    *out = clock_floor_div(epoch_s, 86400);
    return 1;
}

void http_options_iv(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { "from", "to", NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    const char *symbol = req->params[0];
    if (bar_symbol_check(symbol, strlen(symbol)) != 0) {
        char quoted[ERRMSG_QUOTE_MAX];
        http_reply_error(rep, 400, "%s is not a symbol (" BAR_SYMBOL_RULE ")",
                         errmsg_quote(symbol, quoted, sizeof quoted));
        return;
    }
    int64_t to = clock_days_from_civil(9999, 12, 31), from = 0; /* epoch days */
    int has_from, has_to;
    if ((has_to = date_param(req, "to", &to, rep)) < 0 || (has_from = date_param(req, "from", &from, rep)) < 0)
        return;
    if (has_from && has_to && (from > to || to - from > IV_DAYS_MAX)) {
        http_reply_error(rep, 400, "from must be on or before to, at most %d days apart", IV_DAYS_MAX);
        return;
    }
    db_t *db = http_app_database(app, rep);
    if (db == NULL)
        return;
    iv_history_row_t *rows = NULL;
    size_t n = 0;
    char err[1024];
    if (db_iv_history_get(db, symbol, from, to, &rows, &n, err, sizeof err) != 0) {
        http_reply_error(rep, 503, "cannot read the IV history of %s: %s", symbol, err);
        return;
    }
    /* No from: the year up to `to`, or up to the symbol's latest row. */
    size_t first = 0;
    if (!has_from && n > 0) {
        if (!has_to)
            to = rows[n - 1].date;
        from = to - IV_DAYS_DEFAULT;
        while (first < n && rows[first].date < from)
            first++;
    } else if (!has_to && n > 0) {
        to = rows[n - 1].date;
    }
    json_t *list = json_array();
    for (size_t i = first; i < n; i++) {
        json_t *o = iv_row_json(&rows[i]);
        json_object_del(o, "symbol");
        json_array_append_new(list, o);
    }
    free(rows);
    http_reply_json(rep, 200, json_pack("{s:s, s:o, s:o, s:o}", "symbol", symbol, "from",
                                        n > 0 || has_from ? day_json(from) : json_null(), "to",
                                        n > 0 || has_to ? day_json(to) : json_null(), "rows", list));
}

void http_options_opportunities(void *app, const http_request_t *req, http_reply_t *rep)
{
    static const char *const known[] = { NULL };
    if (http_query_only(req, known, rep) != 0)
        return;
    db_t *db = http_app_database(app, rep);
    if (db == NULL)
        return;
    opportunity_entry_t *rows = NULL;
    size_t n = 0;
    int64_t generated_us = 0;
    char err[1024];
    if (db_opportunities_latest(db, &generated_us, &rows, &n, err, sizeof err) != 0) {
        http_reply_error(rep, 503, "cannot read the opportunity scans: %s", err);
        return;
    }
    json_t *sell = json_array(), *buy = json_array();
    for (size_t i = 0; i < n; i++) {
        const opportunity_entry_t *e = &rows[i];
        json_t *o = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "rank", e->rank, "symbol",
                              e->symbol, "score", number_or_null(e->score), "date", day_json(e->date),
                              "atm_iv_30d", number_or_null(e->atm_iv_30d), "iv_rank", number_or_null(e->iv_rank),
                              "iv_percentile", number_or_null(e->iv_percentile), "hv_20", number_or_null(e->hv_20),
                              "hv_60", number_or_null(e->hv_60), "atm_open_interest", (json_int_t)e->atm_open_interest,
                              "atm_volume", (json_int_t)e->atm_volume);
        if (o == NULL) { /* a stored symbol that is not UTF-8: said, not dropped */
            http_reply_error(rep, 500, "cannot show the stored scan: its %s entry of rank %d does not convert to "
                             "JSON", e->side, e->rank);
            free(rows);
            json_decref(sell);
            json_decref(buy);
            return;
        }
        json_array_append_new(strcmp(e->side, "sell_premium") == 0 ? sell : buy, o);
    }
    free(rows);
    json_t *when = json_null();
    if (generated_us != 0) { /* as the scan's result gives it: to the microsecond */
        char at[CLOCK_DATE_LEN];
        clock_format_datetime_us(generated_us, at);
        when = json_string(at);
    }
    http_reply_json(rep, 200, json_pack("{s:o, s:o, s:o}", "generated_at", when, "sell_premium", sell,
                                        "buy_premium", buy));
}
