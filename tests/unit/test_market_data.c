/* test_market_data.c — csv_parse on one-symbol files (both headers, a
 * foreign symbol, a truncated last line, the end call) and the provider's
 * sources (file names, URL templates with escaped symbols), configuration
 * from JSON. */
#include <jansson.h>
#include <stdlib.h>

#include "data/csv_import.h"
#include "data/http_fetch.h"
#include "data/market_data_provider.h"
#include "options/option_provider.h"
#include "unit.h"

typedef struct {
    size_t rows, ends;
    double last_close;
    char last_symbol[BAR_SYMBOL_MAX + 1];
} sink_t;

static int sink(void *ctx, const bar_row_t *row, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sink_t *s = ctx;
    if (row == NULL) {
        s->ends++;
        return 0;
    }
    s->rows++;
    s->last_close = row->close;
    snprintf(s->last_symbol, sizeof s->last_symbol, "%s", row->symbol);
    return 0;
}

static int parse(const char *text, const char *symbol, sink_t *s, csv_import_report_t *rep)
{
    memset(s, 0, sizeof *s);
    csv_parse_opts_t opts = { "1d", symbol };
    char err[256];
    return csv_parse(text, strlen(text), &opts, sink, s, rep, err, sizeof err);
}

TEST(csv_parse_one_symbol_file_both_headers)
{
    static csv_import_report_t rep;
    sink_t s;
    CHECK(parse("date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\r\n2024-01-03,10,11,9,10.7,100",
                "AAA", &s, &rep) == 0);
    CHECK_INT(rep.bad, 0);
    CHECK_INT(s.rows, 2);
    CHECK_INT(s.ends, 1);
    CHECK(s.last_close == 10.7);
    CHECK_STR(s.last_symbol, "AAA");
    CHECK(parse("Symbol,Date,Open,High,Low,Close,Volume\nAAA,2024-01-02,10,11,9,10.5,100\n", "AAA", &s, &rep) == 0);
    CHECK_INT(rep.bad, 0);
    CHECK_INT(s.rows, 1);
    /* The short header is only for one-symbol files. */
    CHECK(parse("date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n", NULL, &s, &rep) == 0);
    CHECK_INT(rep.bad, 1);
    CHECK_INT(rep.problems[0].line, 1);
    CHECK(strstr(rep.problems[0].msg, "expected the header line symbol,date") != NULL);
    CHECK_INT(s.ends, 1);
}

TEST(csv_parse_one_symbol_file_problems)
{
    static csv_import_report_t rep;
    sink_t s;
    /* Another symbol, then a last line cut short (a truncated body). */
    CHECK(parse("symbol,date,open,high,low,close,volume\nAAA,2024-01-02,10,11,9,10.5,100\n"
                "BBB,2024-01-03,10,11,9,10.5,100\nAAA,2024-01-04,10,11",
                "AAA", &s, &rep) == 0);
    CHECK_INT(rep.rows, 3);
    CHECK_INT(rep.bad, 2);
    CHECK_INT(s.rows, 1);
    CHECK_INT(rep.problems[0].line, 3);
    CHECK_STR(rep.problems[0].msg, "symbol 'BBB' in a file of AAA's bars");
    CHECK_INT(rep.problems[1].line, 4);
    CHECK_STR(rep.problems[1].msg, "expected 7 columns (symbol,date,open,high,low,close,volume), found 4");
    CHECK(parse("date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5\n2024-01-02,10,11,9,10.5,1\n"
                "2024-01-02,10,11,9,10.5,1\n", "AAA", &s, &rep) == 0);
    CHECK_INT(rep.bad, 2);
    CHECK_STR(rep.problems[0].msg, "expected 6 columns (date,open,high,low,close,volume), found 5");
    CHECK(strstr(rep.problems[1].msg, "the same date as the row on line 3") != NULL);
    CHECK(parse("", "AAA", &s, &rep) == 0);
    CHECK_INT(rep.bad, 1);
    CHECK(strstr(rep.problems[0].msg, "the file is empty; expected the header line date,open") != NULL);
}

static int stop_at_two(void *ctx, const bar_row_t *row, char *err, size_t errlen)
{
    size_t *n = ctx;
    if (row != NULL && ++*n == 2) {
        snprintf(err, errlen, "enough");
        return -1;
    }
    return 0;
}

TEST(csv_parse_stops_when_the_callback_fails)
{
    static csv_import_report_t rep;
    const char *text = "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n"
                       "2024-01-03,10,11,9,10.5,100\n2024-01-04,10,11,9,10.5,100\n";
    size_t n = 0;
    char err[64] = "";
    csv_parse_opts_t opts = { "1d", "AAA" };
    CHECK(csv_parse(text, strlen(text), &opts, stop_at_two, &n, &rep, err, sizeof err) == -1);
    CHECK_STR(err, "enough");
    CHECK_INT(n, 2);
}

static int provider(const char *json, market_data_provider_t *p, char *err, size_t errlen)
{
    json_t *o = json_loads(json, 0, NULL);
    int rc = market_data_provider_from_json(p, o, err, errlen);
    json_decref(o);
    return rc;
}

TEST(market_data_provider_sources)
{
    market_data_provider_t p;
    char err[256], out[256];
    CHECK(provider("{\"type\": \"http_csv\", \"url\": \"https://h/d/{symbol}.csv?i={interval}&s={symbol}\","
                   " \"timeout_seconds\": 1.5, \"retries\": 0}", &p, err, sizeof err) == 0);
    CHECK_INT(p.http.timeout_ms, 1500);
    CHECK_INT(p.http.retries, 0);
    CHECK_STR(market_data_provider_name(&p), "http_csv");
    CHECK(market_data_provider_source(&p, "^GSPC", "1d", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "https://h/d/%5EGSPC.csv?i=1d&s=%5EGSPC");
    CHECK(market_data_provider_source(&p, "BRK/B", "1d", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "https://h/d/BRK%2FB.csv?i=1d&s=BRK%2FB");
    CHECK(market_data_provider_source(&p, "EURUSD=X", "1d", out, 20, err, sizeof err) == -1);
    CHECK_STR(err, "cannot make the URL of EURUSD=X: the URL is longer than 19 characters");
    /* the symbol rule of imports, for URLs too */
    CHECK(market_data_provider_source(&p, "../secret/x", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK_STR(err, "'../secret/x' is not a valid symbol (" BAR_SYMBOL_RULE "): no path or URL is made of it");
    CHECK(market_data_provider_source(&p, "%2e%2E", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK_STR(err, "cannot make the URL of %2e%2E: {symbol} '%2e%2E' would make a dot segment in the URL once a "
                   "server decodes it");
    CHECK(market_data_provider_source(&p, "A%252F%252e.", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK(market_data_provider_source(&p, "A%2e", "1d", out, sizeof out, err, sizeof err) == 0);

    CHECK(provider("{\"type\": \"csv_dir\", \"path\": \"/data/bars/\"}", &p, err, sizeof err) == 0);
    CHECK(market_data_provider_source(&p, "BRK.B", "1d", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "/data/bars/BRK.B.csv");
    CHECK(market_data_provider_source(&p, "A/B", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK(market_data_provider_source(&p, "..", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK(market_data_provider_source(&p, "A\\B", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK_STR(err, "'A\\B' is not a valid symbol (" BAR_SYMBOL_RULE "): no path or URL is made of it");

    CHECK(provider("{\"type\": \"csv_dir\", \"path\": \"/x\", \"url\": \"http://h/{symbol}\"}", &p, err,
                   sizeof err) == -1);
    CHECK_STR(err, "unknown key 'url' in a csv_dir provider (it takes type and path)");
    CHECK(provider("{\"type\": \"http_csv\", \"url\": \"http://h/{symbol}\", \"timeout_seconds\": \"5\"}", &p, err,
                   sizeof err) == -1);
    CHECK(strstr(err, "provider.timeout_seconds must be a number") != NULL);
    CHECK(provider("[]", &p, err, sizeof err) == -1);
}

TEST(provider_urls_that_climb)
{
    /* dot segments, however they are spelt, in the path and query */
    CHECK(!provider_source_url_climbs("http://host/ok/{symbol}.csv"));
    CHECK(!provider_source_url_climbs("http://host/ok/a..b/...csv?x=1.2"));
    CHECK(!provider_source_url_climbs("http://host/ok/%41%2e%2ex"));
    CHECK(provider_source_url_climbs("http://host/ok/../x"));
    CHECK(provider_source_url_climbs("http://host/ok/%2e%2e/secret/{symbol}.csv"));
    CHECK(provider_source_url_climbs("http://host/ok/%2E%2E/secret/{symbol}.csv"));
    CHECK(provider_source_url_climbs("http://host/ok/.%2e/secret"));
    CHECK(provider_source_url_climbs("http://host/ok/%2e./secret"));
    CHECK(provider_source_url_climbs("http://host/ok%2f..%2fsecret"));
    CHECK(provider_source_url_climbs("http://host/ok%2F%2E%2E%2Fsecret"));
    CHECK(provider_source_url_climbs("http://host/ok%5c..%5csecret"));
    CHECK(provider_source_url_climbs("http://host/ok\\..\\secret"));
    CHECK(provider_source_url_climbs("http://host/ok/%252e%252e/secret"));
    CHECK(provider_source_url_climbs("http://host/ok/%25252e%25252e/secret"));
    CHECK(provider_source_url_climbs("http://host/ok/%2525252525252e/x")); /* too deep to tell: refused */
    CHECK(provider_source_url_climbs("http://host/ok/./x"));
    CHECK(provider_source_url_climbs("http://host/ok/x?file=../y"));
    CHECK(provider_source_url_climbs("http://host/ok/.."));
    CHECK(!provider_source_url_climbs("http://..host/ok/x")); /* the host is not a path */
    /* escapes of the escape's own digits, NUL and path-parameter ends,
     * overlong UTF-8 and %u forms (a reviewer's list) */
    CHECK(provider_source_url_climbs("http://host/ok/%2%65%2%65/secret"));
    CHECK(provider_source_url_climbs("http://host/ok/%%32%65%%32%65/secret"));
    CHECK(provider_source_url_climbs("http://host/ok/..%00/x"));
    CHECK(provider_source_url_climbs("http://host/ok/%2e%2e%00/x"));
    CHECK(provider_source_url_climbs("http://host/ok/%2e%2e%3b/x"));
    CHECK(provider_source_url_climbs("http://host/ok/..;/x"));
    CHECK(provider_source_url_climbs("http://host/ok/%c0%ae%c0%ae/x"));
    CHECK(provider_source_url_climbs("http://host/ok/%u002e%u002e/x"));
    CHECK(!provider_source_url_climbs("http://host/ok/%E2%82%AC/{symbol}.csv")); /* UTF-8 stays fine */
    {
        char url[256], err[256];
        provider_source_var_t bad = { "{symbol}", "..;" }, good = { "{symbol}", "ES=F" };
        CHECK(provider_source_url("http://h/ok/{symbol}.csv", &bad, 1, url, sizeof url, err, sizeof err) != 0);
        CHECK(strstr(err, "..;") != NULL);
        CHECK(provider_source_url("http://h/ok/{symbol}.csv", &good, 1, url, sizeof url, err, sizeof err) == 0);
        CHECK(strcmp(url, "http://h/ok/ES%3DF.csv") == 0);
    }

    CHECK(http_same_origin("http://h:80/a", "http://H/b?x"));
    CHECK(http_same_origin("https://h/a", "https://h:443/z"));
    CHECK(!http_same_origin("http://h/a", "https://h/a"));
    CHECK(!http_same_origin("http://h:8080/a", "http://h:8081/a"));
    CHECK(!http_same_origin("http://h/a", "http://h.evil/a"));
    CHECK(!http_same_origin("http://h/a", "not a url"));
}

TEST(option_provider_symbols_follow_the_symbol_rule)
{
    static option_provider_t p;
    option_chain_t chain;
    memset(&chain, 0, sizeof chain);
    static option_csv_report_t rep;
    char err[256];
    json_t *o = json_loads("{\"type\": \"http_csv\", \"url\": \"http://127.0.0.1:9/o/{symbol}.csv\"}", 0, NULL);
    CHECK(option_provider_from_json(&p, o, err, sizeof err) == 0);
    json_decref(o);
    CHECK(option_provider_fetch(&p, "../secret/x", -1, &chain, &rep, err, sizeof err) == OPTION_FETCH_BAD);
    CHECK_STR(err, "'../secret/x' is not a valid symbol (" BAR_SYMBOL_RULE "): no path or URL is made of it");
    CHECK(option_provider_fetch(&p, "%2e%2e", -1, &chain, &rep, err, sizeof err) == OPTION_FETCH_BAD);
    CHECK(strstr(err, "would make a dot segment") != NULL);
    CHECK_INT(chain.n, 0);
    option_chain_free(&chain);
}

/* Found by fuzz/provider_url (fuzz/corpus/provider_url/dot_dot_symbol): a
 * template under a TICKQ_PROVIDER_ALLOW prefix took the valid symbol ".."
 * as a path segment, and curl (as any server) resolves it: the worker
 * fetched https://data.example/daily.csv, outside the admitted
 * https://data.example/bars/. */
TEST(market_data_provider_symbol_is_never_a_dot_segment)
{
    market_data_provider_t p;
    char err[256] = "", out[256];
    CHECK(provider("{\"type\": \"http_csv\", \"url\": \"https://data.example/bars/{symbol}/daily.csv\"}", &p,
                   err, sizeof err) == 0);
    CHECK(market_data_provider_source(&p, "..", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK(strstr(err, "'..' is not a valid symbol") != NULL);
    CHECK(market_data_provider_source(&p, ".", "1d", out, sizeof out, err, sizeof err) == -1);
    CHECK(market_data_provider_source(&p, "...", "1d", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "https://data.example/bars/.../daily.csv");
    CHECK(market_data_provider_source(&p, "BRK.B", "1d", out, sizeof out, err, sizeof err) == 0);
    CHECK_STR(out, "https://data.example/bars/BRK.B/daily.csv");
}
