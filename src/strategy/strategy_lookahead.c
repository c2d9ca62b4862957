/* strategy_lookahead.c — the look-ahead check (strategy_lookahead.h).
 *
 * (1) A cut only lowers each series' hi (never lo): the cut frame is a
 *     prefix of every window. t->hi is restored before returning.
 * (2) Cut runs are cold (job.cold): the warm Lua state built for the full
 *     frame stays for the next job over it.
 * (3) Signals are compared as the task's finish step wrote them, so the cut
 *     runs go through exactly the checks the full run did. A backtest
 *     instance is compared without its "return", which the backtest adds
 *     from the bars after the signal by design (the trade exits later).
 * (4) Half the cut dates come from the full run's signals (or position
 *     changes), where a signal that needed later bars disappears, and half
 *     from the frame's other dates, where a signal that later bars
 *     suppressed appears; each group sorted and sampled with integer
 *     arithmetic: the same run gives the same cuts on every run and every
 *     machine. */
#include "strategy/strategy_lookahead.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "strategy/strategy_result.h"

/* A signal: where it is (series, window bar), its order in its run, and
 * what it says (a backtest instance's fields). */
typedef struct {
    size_t series, bar, seq;
    json_t *value;               /* borrowed from signals_t.root */
} signal_t;

typedef struct {
    json_t *root;                /* the parsed instances */
    signal_t *v;                 /* sorted by series, bar, seq */
    size_t n;
} signals_t;

typedef struct {
    const strategy_task_t *t;
    int daily;
    json_t *listed;
    size_t total;
} violations_t;

/* --- the signals ---------------------------------------------------------- */

static int cmp_place(const signal_t *a, const signal_t *b)
{
    if (a->series != b->series)
        return a->series < b->series ? -1 : 1;
    if (a->bar != b->bar)
        return a->bar < b->bar ? -1 : 1;
    return 0;
}

static int cmp_signal(const void *x, const void *y)
{
    const signal_t *a = x, *b = y;
    int c = cmp_place(a, b);
    return c != 0 ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void signals_free(signals_t *s)
{
    json_decref(s->root);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Parses the instances a backtest's finish step wrote; it kept only those
 * at a bar of the frame, so each has its place. */
static int parse_instances(const strategy_task_t *t, const char *text, size_t len, signals_t *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    out->root = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_array(out->root)) {
        snprintf(err, errlen, "cannot read the instances: %s", out->root ? "not an array" : jerr.text);
        return -1;
    }
    size_t n = json_array_size(out->root);
    out->v = malloc((n ? n : 1) * sizeof *out->v);
    if (out->v == NULL) {
        snprintf(err, errlen, "out of memory for %zu instances", n);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        json_t *inst = json_array_get(out->root, k);
        const char *ticker = json_string_value(json_object_get(inst, "ticker"));
        const char *date = json_string_value(json_object_get(inst, "date"));
        bar_series_t *s = ticker != NULL ? bar_set_find(t->set, ticker) : NULL;
        int64_t ts;
        int date_only;
        size_t bar = 0;
        if (s != NULL && date != NULL && clock_parse_iso8601(date, &ts, &date_only) == 0)
            bar = strategy_lower_bound(s->ts, s->n, ts);
        if (s == NULL || date == NULL || bar >= s->n || s->ts[bar] != ts) {
            snprintf(err, errlen, "instance %zu of a run is not at a bar of the frame", k + 1);
            return -1;
        }
        json_object_del(inst, "return");
        out->v[out->n++] = (signal_t){ (size_t)(s - t->set->series), bar, k, inst };
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_signal);
    return 0;
}

/* Parses the positions array (one number per row of the frame). */
static double *parse_positions(const char *text, size_t rows, char *err, size_t errlen)
{
    double *p = malloc((rows ? rows : 1) * sizeof *p);
    const char *c = text;
    size_t n = 0;
    if (p == NULL || *c++ != '[')
        goto bad;
    while (*c != ']') {
        char *end;
        double x = strtod(c, &end);
        if (end == c || n >= rows)
            goto bad;
        p[n++] = x;
        c = end;
        if (*c == ',')
            c++;
        else if (*c != ']')
            goto bad;
    }
    if (n == rows)
        return p;
bad:
    free(p);
    snprintf(err, errlen, "cannot read the positions of a run (%zu expected)", rows);
    return NULL;
}

/* --- the cuts ------------------------------------------------------------- */

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* The frame's last bar time: a cut at or after it removes nothing. */
static int64_t frame_end(const strategy_task_t *t)
{
    int64_t end = INT64_MIN;
    for (size_t i = 0; i < t->set->n; i++)
        if (t->hi[i] > t->lo[i] && t->set->series[i].ts[t->hi[i] - 1] > end)
            end = t->set->series[i].ts[t->hi[i] - 1];
    return end;
}

/* Sorts ts[0..n) and keeps its distinct values; returns how many. */
static size_t sort_unique(int64_t *ts, size_t n)
{
    qsort(ts, n, sizeof *ts, cmp_i64);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (m == 0 || ts[m - 1] != ts[k])
            ts[m++] = ts[k];
    return m;
}

/* Writes up to k of the n sorted distinct ts, evenly spaced, the first and
 * the last included (of n > k, those at index (j(n-1) + (k-1) div 2) div
 * (k-1), j = 0..k-1), into out. Returns how many. */
static size_t sample_even(const int64_t *ts, size_t n, size_t k, int64_t *out)
{
    if (n <= k) {
        memcpy(out, ts, n * sizeof *ts);
        return n;
    }
    if (k == 1) {
        out[0] = ts[(n - 1) / 2];
        return 1;
    }
    for (size_t j = 0; j < k; j++)
        out[j] = ts[(j * (n - 1) + (k - 1) / 2) / (k - 1)]; /* n > k: distinct, increasing */
    return k;
}

/* The cut dates, sorted, at most LOOKAHEAD_MAX_CUTS: half among the marked
 * dates (the full run's signals, or its position changes) and half among
 * the frame's other dates, where a signal that later bars suppressed would
 * appear; a group with fewer dates leaves its share to the other. Both
 * arrays are sorted and made distinct in place. */
static size_t sample_cuts(int64_t *marked, size_t nmarked, int64_t *other, size_t nother, int64_t *cuts)
{
    size_t m = sort_unique(marked, nmarked), o = sort_unique(other, nother);
    size_t take_m = m < LOOKAHEAD_MAX_CUTS / 2 ? m : LOOKAHEAD_MAX_CUTS / 2;
    size_t take_o = o < LOOKAHEAD_MAX_CUTS - take_m ? o : LOOKAHEAD_MAX_CUTS - take_m;
    take_m = m < LOOKAHEAD_MAX_CUTS - take_o ? m : LOOKAHEAD_MAX_CUTS - take_o;
    size_t n = sample_even(marked, m, take_m, cuts);
    n += sample_even(other, o, take_o, cuts + n);
    qsort(cuts, n, sizeof *cuts, cmp_i64);
    return n;
}

/* --- comparing -------------------------------------------------------------- */

/* `value` is borrowed (may be NULL: absent). */
static void add_violation(violations_t *vs, const char *cut_date, size_t series, size_t bar, const char *what,
                          const char *field, json_t *full, json_t *cut)
{
    vs->total++;
    if (json_array_size(vs->listed) >= LOOKAHEAD_MAX_LISTED)
        return;
    const bar_series_t *s = &vs->t->set->series[series];
    char date[CLOCK_DATE_LEN];
    clock_format_bar(vs->daily, s->ts[bar], date);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "cut_date", cut_date, "ticker", s->symbol, "date", date,
                          "what", what);
    if (v != NULL && field != NULL) {
        json_object_set_new(v, "field", json_string(field));
        json_object_set(v, "full", full ? full : json_null());
        json_object_set(v, "cut", cut ? cut : json_null());
    }
    json_array_append_new(vs->listed, v);
}

static int cmp_key(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The first field (in name order) whose value differs between two
 * instances, or NULL when they are equal; owned by a or b. */
static const char *differing_field(json_t *a, json_t *b)
{
    size_t n = json_object_size(a) + json_object_size(b), k = 0;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    const char *key, *found = NULL;
    json_t *v;
    if (keys == NULL)
        return "?";
    json_object_foreach(a, key, v) keys[k++] = key;
    json_object_foreach(b, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_key);
    for (size_t i = 0; i < k && found == NULL; i++) {
        json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
        if (va == NULL || vb == NULL || !json_equal(va, vb))
            found = keys[i];
    }
    free(keys);
    return found;
}

/* Signals at one place: those equal in both runs pair up first (a strategy
 * may emit them in another order: Lua's table order changes from run to
 * run), the rest pair in order as changed; what is left is missing from
 * the cut run, or extra in it. */
static void compare_place(violations_t *vs, const char *cut_date, const signal_t *a, size_t na, const signal_t *b,
                          size_t nb)
{
    unsigned char *used_a = calloc(na + nb + 1, 1), *used_b;
    if (used_a == NULL) {
        vs->total++;
        return;
    }
    used_b = used_a + na;
    int search = na * nb <= 4096; /* past that, only in the same position */
    for (size_t i = 0; i < na; i++)
        for (size_t j = search ? 0 : i; j < nb && (search || j == i); j++)
            if (!used_b[j] && json_equal(a[i].value, b[j].value)) {
                used_a[i] = used_b[j] = 1;
                break;
            }
    size_t i = 0, j = 0;
    for (;;) {
        while (i < na && used_a[i])
            i++;
        while (j < nb && used_b[j])
            j++;
        if (i < na && j < nb) {
            const char *field = differing_field(a[i].value, b[j].value);
            if (field != NULL) /* NULL: equal after all (a large place, paired by position) */
                add_violation(vs, cut_date, a[i].series, a[i].bar, "changed", field,
                              json_object_get(a[i].value, field), json_object_get(b[j].value, field));
            i++, j++;
        } else if (i < na) {
            add_violation(vs, cut_date, a[i].series, a[i].bar, "missing", NULL, NULL, NULL);
            i++;
        } else if (j < nb) {
            add_violation(vs, cut_date, b[j].series, b[j].bar, "extra", NULL, NULL, NULL);
            j++;
        } else {
            break;
        }
    }
    free(used_a);
}

/* Every full-run signal inside the cut windows against the cut run's. */
static void compare_instances(violations_t *vs, const char *cut_date, const signals_t *full, const signals_t *cut,
                              const size_t *cut_hi)
{
    size_t a = 0, b = 0;
    for (;;) {
        while (a < full->n && full->v[a].bar >= cut_hi[full->v[a].series])
            a++;
        if (a >= full->n && b >= cut->n)
            break;
        const signal_t *place = b >= cut->n || (a < full->n && cmp_place(&full->v[a], &cut->v[b]) <= 0)
                                    ? &full->v[a] : &cut->v[b];
        size_t a2 = a, b2 = b;
        while (a2 < full->n && cmp_place(&full->v[a2], place) == 0)
            a2++;
        while (b2 < cut->n && cmp_place(&cut->v[b2], place) == 0)
            b2++;
        compare_place(vs, cut_date, full->v + a, a2 - a, cut->v + b, b2 - b);
        a = a2;
        b = b2;
    }
}

/* The positions of every row of the cut frame against the full run's. */
static void compare_positions(violations_t *vs, const char *cut_date, const strategy_task_t *t,
                              const size_t *full_hi, const double *full, const double *cut)
{
    size_t frow = 0, crow = 0;
    for (size_t i = 0; i < t->set->n; i++) {
        size_t lo = t->lo[i], ncut = t->hi[i] - lo;
        for (size_t k = 0; k < ncut; k++) {
            double x = full[frow + k], y = cut[crow + k];
            if (x != y) {
                json_t *jx = json_real(x), *jy = json_real(y);
                add_violation(vs, cut_date, i, lo + k, "changed", "position", jx, jy);
                json_decref(jx);
                json_decref(jy);
            }
        }
        frow += full_hi[i] - lo;
        crow += ncut;
    }
}

/* --- the check ------------------------------------------------------------ */

/* The candidate cut dates before the frame's end, in two groups: *marked,
 * the full run's signal dates (instances) or the dates where a position
 * changes (positions); *other, the frame's other bar dates. Each may hold
 * repeats. 0, or -1 when out of memory. */
static int candidates(const strategy_task_t *t, lookahead_kind_t kind, const signals_t *fs, const double *fpos,
                      int64_t **marked, size_t *nmarked, int64_t **other, size_t *nother)
{
    int64_t end = frame_end(t);
    size_t rows = t->frame.rows ? t->frame.rows : 1, m = 0, o = 0, row = 0;
    int64_t *mk = malloc((kind == LOOKAHEAD_INSTANCES ? fs->n + 1 : rows) * sizeof *mk);
    int64_t *ot = malloc(rows * sizeof *ot);
    if (mk == NULL || ot == NULL) {
        free(mk);
        free(ot);
        return -1;
    }
    for (size_t k = 0; kind == LOOKAHEAD_INSTANCES && k < fs->n; k++) {
        int64_t ts = t->set->series[fs->v[k].series].ts[fs->v[k].bar];
        if (ts < end)
            mk[m++] = ts;
    }
    for (size_t i = 0; i < t->set->n; i++) {
        double previous = 0;
        for (size_t b = t->lo[i]; b < t->hi[i]; b++, row++) {
            int64_t ts = t->set->series[i].ts[b];
            if (ts >= end)
                continue;
            if (kind == LOOKAHEAD_POSITIONS && fpos[row] != previous)
                mk[m++] = ts;
            else
                ot[o++] = ts;
            if (kind == LOOKAHEAD_POSITIONS)
                previous = fpos[row];
        }
    }
    /* A date marked anywhere is not an "other" date: drop those. */
    size_t um = sort_unique(mk, m), uo = sort_unique(ot, o), keep = 0;
    for (size_t k = 0, j = 0; k < uo; k++) {
        while (j < um && mk[j] < ot[k])
            j++;
        if (j == um || mk[j] != ot[k])
            ot[keep++] = ot[k];
    }
    *marked = mk;
    *nmarked = um;
    *other = ot;
    *nother = keep;
    return 0;
}

/* Runs the strategy on the frame cut at `cut` (t->hi lowered); compares
 * or records; TASK_OK, or the task's error in out. */
static task_status_t check_cut(const task_ctx_t *ctx, strategy_task_t *t, lookahead_kind_t kind,
                               strategy_finish_fn finish, void *finish_ctx, const size_t *full_hi,
                               const signals_t *fs, const double *fpos, int64_t cut, size_t index, size_t ncuts,
                               violations_t *vs, json_t *cut_dates, task_out_t *out)
{
    for (size_t i = 0; i < t->set->n; i++) {
        const bar_series_t *s = &t->set->series[i];
        size_t k = strategy_upper_bound(s->ts, s->n, cut);
        t->hi[i] = k < t->lo[i] ? t->lo[i] : k > full_hi[i] ? full_hi[i] : k;
    }
    char cut_date[CLOCK_DATE_LEN], msg[sizeof out->error - 300], err[300];
    clock_format_bar(vs->daily, cut, cut_date);
    json_array_append_new(cut_dates, json_string(cut_date));
    json_t *env;
    char *raw;
    size_t raw_len;
    strategy_failure_t failure;
    t->job.cold = 1;
    int rc = strategy_task_eval(ctx, t, finish, finish_ctx, &env, &raw, &raw_len, &failure, msg, sizeof msg);
    t->job.cold = 0;
    json_decref(env); /* its summary and what it printed: only the signals count here */
    task_status_t st = TASK_OK;
    if (rc != 0 && failure == STRATEGY_FAILED) {
        /* It ran on the whole window and fails on a part of it. */
        vs->total++;
        if (json_array_size(vs->listed) < LOOKAHEAD_MAX_LISTED)
            json_array_append_new(vs->listed, json_pack("{s:s, s:s, s:o}", "cut_date", cut_date, "what", "error",
                                                        "error", strategy_json_text(msg, strlen(msg))));
    } else if (rc != 0 && failure == STRATEGY_MEMORY_LIMIT) {
        /* A cut run starts from a fresh Lua state: the columns it builds
         * count against memory_mb, where the full run may have found them
         * built. */
        st = task_error(out, TASK_PERMANENT, "look-ahead check: the re-run on the data cut at %s (%zu of %zu) "
                        "failed: %s; each re-run builds its columns afresh within memory_mb: raise memory_mb, "
                        "or drop check_lookahead", cut_date, index + 1, ncuts, msg);
    } else if (rc != 0 && failure == STRATEGY_TIME_LIMIT && t->job.time_limit_ms >= t->time_limit_asked_ms) {
        /* Its own limit ran out, not the job's time: raising the job's
         * timeout would not help. */
        st = task_error(out, TASK_PERMANENT, "look-ahead check: the re-run on the data cut at %s (%zu of %zu) "
                        "failed: %s, its strategy_timeout_seconds (the run on the whole window ended within "
                        "it): raise strategy_timeout_seconds, or drop check_lookahead", cut_date, index + 1, ncuts,
                        msg);
    } else if (rc != 0) {
        st = task_error(out, strategy_failure_transient(failure) ? TASK_TRANSIENT : TASK_PERMANENT,
                        "look-ahead check: the re-run on the data cut at %s (%zu of %zu) failed: %s; the check "
                        "re-runs the strategy up to %d times within the job's timeout (%g s): raise the "
                        "timeout, or drop check_lookahead", cut_date, index + 1, ncuts, msg, LOOKAHEAD_MAX_CUTS,
                        (double)ctx->timeout_ms / 1000.0);
    } else if (kind == LOOKAHEAD_INSTANCES) {
        signals_t cs;
        if (parse_instances(t, raw ? raw : "[]", raw ? raw_len : 2, &cs, err, sizeof err) != 0)
            st = task_error(out, TASK_PERMANENT, "look-ahead check: %s", err);
        else
            compare_instances(vs, cut_date, fs, &cs, t->hi);
        signals_free(&cs);
    } else {
        double *cpos = parse_positions(raw ? raw : "[]", t->frame.rows, err, sizeof err);
        if (cpos == NULL)
            st = task_error(out, TASK_PERMANENT, "look-ahead check: %s", err);
        else
            compare_positions(vs, cut_date, t, full_hi, fpos, cpos);
        free(cpos);
    }
    free(raw);
    return st;
}

task_status_t strategy_lookahead(const task_ctx_t *ctx, strategy_task_t *t, lookahead_kind_t kind,
                                 strategy_finish_fn finish, void *finish_ctx, const char *full, size_t full_len,
                                 json_t **report, task_out_t *out)
{
    int64_t t0 = clock_mono_us();
    size_t nseries = t->set->n, rows = t->frame.rows, ncand = 0, nother = 0, checked = 0;
    size_t *full_hi = malloc((nseries ? nseries : 1) * sizeof *full_hi);
    signals_t fs = { NULL, NULL, 0 };
    double *fpos = NULL;
    int64_t *cand = NULL, *other = NULL, cuts[LOOKAHEAD_MAX_CUTS];
    violations_t vs = { t, bar_interval_is_daily(t->interval), json_array(), 0 };
    json_t *cut_dates = json_array();
    char err[300];
    task_status_t st = TASK_OK;
    *report = NULL;
    if (full_hi == NULL || vs.listed == NULL || cut_dates == NULL) {
        st = task_error(out, TASK_TRANSIENT, "out of memory for the look-ahead check");
        goto cleanup;
    }
    memcpy(full_hi, t->hi, nseries * sizeof *full_hi);
    if (kind == LOOKAHEAD_INSTANCES ? parse_instances(t, full, full_len, &fs, err, sizeof err) != 0
                                    : (fpos = parse_positions(full, rows, err, sizeof err)) == NULL) {
        st = task_error(out, TASK_PERMANENT, "look-ahead check: %s", err);
        goto cleanup;
    }
    if (candidates(t, kind, &fs, fpos, &cand, &ncand, &other, &nother) != 0) {
        st = task_error(out, TASK_TRANSIENT, "out of memory for the look-ahead check");
        goto cleanup;
    }
    size_t ncuts = sample_cuts(cand, ncand, other, nother, cuts);
    for (size_t c = 0; c < ncuts && st == TASK_OK; c++) {
        if (ctx->stopping != NULL && *ctx->stopping) {
            st = task_error(out, TASK_TRANSIENT, "the worker is stopping: look-ahead check interrupted");
            break;
        }
        st = check_cut(ctx, t, kind, finish, finish_ctx, full_hi, &fs, fpos, cuts[c], c, ncuts, &vs, cut_dates,
                       out);
        checked++;
    }
    if (st == TASK_OK)
        *report = json_pack("{s:I, s:O, s:O, s:I, s:f}", "checked", (json_int_t)checked, "cut_dates", cut_dates,
                            "violations", vs.listed, "violations_total", (json_int_t)vs.total,
                            "execution_time_ms", (double)(clock_mono_us() - t0) / 1000.0);
    if (st == TASK_OK && *report == NULL)
        st = task_error(out, TASK_TRANSIENT, "out of memory for the look-ahead report");
cleanup:
    if (full_hi != NULL) {
        memcpy(t->hi, full_hi, nseries * sizeof *full_hi);
        t->frame.rows = rows;
    }
    free(full_hi);
    signals_free(&fs);
    free(fpos);
    free(cand);
    free(other);
    json_decref(vs.listed);
    json_decref(cut_dates);
    return st;
}
