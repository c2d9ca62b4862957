/* cmd_options.c — `tickq options`: Black–Scholes–Merton prices, Greeks and
 * implied volatility of European options (src/option_pricing.h). Pure
 * arithmetic: it never connects to Redis or a database. */
#include "cmd/commands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "cmd/cli.h"
#include "core/decimal.h"
#include "core/json_writer.h"
#include "options/option_pricing.h"

static const char usage[] =
    "usage: tickq options greeks --type call|put --spot S --strike K (--years T | --days D)\n"
    "                            --rate R [--div Q] --vol V [--json]\n"
    "       tickq options iv --type call|put --price P --spot S --strike K\n"
    "                        (--years T | --days D) --rate R [--div Q] [--json]\n"
    "\n"
    "European options under Black-Scholes-Merton with a continuous dividend yield.\n"
    "greeks  prints the price and the Greeks at volatility V.\n"
    "iv      prints the implied volatility of price P, or why it has none (a price\n"
    "        at or outside the no-arbitrage bounds) with exit status 1.\n"
    "\n"
    "  --type call|put      the option's type (also c or p, any case)\n"
    "  --spot S             the underlying's price now\n"
    "  --strike K           the strike\n"
    "  --years T            time to expiry in years, above 0 and at most 100\n"
    "  --days D             or: time to expiry in calendar days (T = D / 365),\n"
    "                       above 0 and at most 36500\n"
    "  --rate R             risk-free rate, continuously compounded: a fraction (0.05)\n"
    "                       or a percent (5%), from -100% to 100%\n"
    "  --div Q              continuous dividend yield, as --rate (default 0)\n"
    "  --vol V              greeks: annual volatility, a fraction (0.2) or a percent\n"
    "                       (20%), from 1e-9 to 5 (500%)\n"
    "  --price P            iv: the option's price\n"
    "  --json               one JSON object instead of a table\n"
    CLI_CONFIG_HELP
    "  -h, --help           this help\n"
    "\n"
    "Theta is per year and per calendar day (/365), vega per 1.00 of volatility\n"
    "and per point (/100), rho per 1.00 of rate and per point (/100).\n"
    "See docs/options.md.\n"
    "\n"
    "Exit status: 0 ok, 1 no implied volatility (iv), 64 bad usage, 78 a bad --config\n"
    "file.\n";

enum {
    OPT_TYPE = OPT_FIRST_COMMAND_OPTION, OPT_SPOT, OPT_STRIKE, OPT_YEARS, OPT_DAYS, OPT_RATE, OPT_DIV, OPT_VOL,
    OPT_PRICE
};

static const struct option options[] = {
    { "type", required_argument, 0, OPT_TYPE },
    { "spot", required_argument, 0, OPT_SPOT },
    { "strike", required_argument, 0, OPT_STRIKE },
    { "years", required_argument, 0, OPT_YEARS },
    { "days", required_argument, 0, OPT_DAYS },
    { "rate", required_argument, 0, OPT_RATE },
    { "div", required_argument, 0, OPT_DIV },
    { "vol", required_argument, 0, OPT_VOL },
    { "price", required_argument, 0, OPT_PRICE },
    { "json", no_argument, 0, OPT_JSON },
    CLI_CONFIG_OPTION,
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 }
};

/* Each numeric flag: its value and whether it was given. */
enum { F_SPOT, F_STRIKE, F_YEARS, F_DAYS, F_RATE, F_DIV, F_VOL, F_PRICE, F_COUNT };

static const char *const flag_names[F_COUNT] = { "spot", "strike", "years", "days", "rate", "div", "vol", "price" };

/* The rates and the volatility are fractions a year (0.05, 0.20). They may
 * be written as percents ("5%", "20%"), and a value too large to be a
 * sensible fraction is refused: "--vol 20" is a user meaning 20 %, who
 * would otherwise get prices at 2,000 %. */
#define VOL_MAX_FRACTION 5.0  /* 500 % */
#define RATE_MAX_FRACTION 1.0 /* +-100 %, for --rate and --div */

static int takes_percent(int which) { return which == F_RATE || which == F_DIV || which == F_VOL; }

typedef struct {
    int have_type, as_json;
    option_kind_t kind;
    double value[F_COUNT];
    int given[F_COUNT];
} options_flags_t;

/* The values a fraction flag takes, as every message about it states them:
 * "from 1e-09 to 5 (500%)". */
static void fraction_range(int which, char *out, size_t outlen)
{
    if (which == F_VOL)
        snprintf(out, outlen, "from %g to %g (%g%%)", OPTION_VOL_MIN, VOL_MAX_FRACTION, 100 * VOL_MAX_FRACTION);
    else
        snprintf(out, outlen, "from %g to %g (%g%% to %g%%)", -RATE_MAX_FRACTION, RATE_MAX_FRACTION,
                 -100 * RATE_MAX_FRACTION, 100 * RATE_MAX_FRACTION);
}

/* A fraction flag's value against its range: 0, or 64 naming the flag and
 * the range, with, for a value that reads as a percent written without its
 * sign, what the value would mean and how to write what was probably meant. */
static int check_fraction(int which, const char *arg, double v, int percent)
{
    const char *what = which == F_VOL ? "volatility" : which == F_RATE ? "the rate" : "the dividend yield";
    double limit = which == F_VOL ? VOL_MAX_FRACTION : RATE_MAX_FRACTION;
    int inside = which == F_VOL ? v >= OPTION_VOL_MIN && v <= limit : fabs(v) <= limit;
    if (inside)
        return 0;
    char range[96];
    fraction_range(which, range, sizeof range);
    int slip = !percent && (which == F_VOL ? v > limit : fabs(v) > limit); /* 20 meant as 20 % */
    if (!slip)
        return cli_usage_error(usage, "--%s '%s' is outside the range tickq accepts for %s: %s", flag_names[which],
                               arg, what, range);
    return cli_usage_error(usage, "--%s '%s' would be %g%% a year: %s is a fraction, so %s%% is --%s %g or --%s %s%%; "
                           "its range is %s", flag_names[which], arg, 100 * v, what, arg, flag_names[which], v / 100,
                           flag_names[which], arg, range);
}

static int parse_number(options_flags_t *f, int which, const char *arg)
{
    char num[256];
    size_t len = strlen(arg);
    int percent = len > 0 && arg[len - 1] == '%';
    if (percent && !takes_percent(which))
        return cli_usage_error(usage, "--%s '%s': only --vol, --rate and --div take a percent", flag_names[which],
                               arg);
    if (percent)
        len--;
    if (len == 0 || len + 3 >= sizeof num || (percent && strpbrk(arg, "eE") != NULL))
        return cli_usage_error(usage, "--%s '%s' is not a number", flag_names[which], arg);
    memcpy(num, arg, len);
    num[len] = '\0';
    /* 1.1% is read as 1.1e-2, rounded once: the same double as 0.011
     * (dividing 1.1 by 100 would round twice, an ulp off). */
    if (percent)
        memcpy(num + len, "e-2", 4);
    double v;
    if (decimal_parse(num, &v) != 0)
        return cli_usage_error(usage, "--%s '%s' is not a number", flag_names[which], arg);
    if (takes_percent(which)) {
        int st = check_fraction(which, arg, v, percent);
        if (st != 0)
            return st;
    }
    f->value[which] = v;
    f->given[which] = 1;
    return 0;
}

/* call, put, c or p, in any case (as option chain files write them). */
static int parse_type(const char *arg, option_kind_t *kind)
{
    if (strcasecmp(arg, "call") == 0 || strcasecmp(arg, "c") == 0)
        *kind = OPTION_CALL;
    else if (strcasecmp(arg, "put") == 0 || strcasecmp(arg, "p") == 0)
        *kind = OPTION_PUT;
    else
        return -1;
    return 0;
}

static int on_flag(int opt, const char *arg, void *ctx)
{
    options_flags_t *f = ctx;
    switch (opt) {
    case OPT_TYPE:
        if (parse_type(arg, &f->kind) != 0)
            return cli_usage_error(usage, "--type '%s' is not an option type: use call or put (or c, p)", arg);
        f->have_type = 1;
        return 0;
    case OPT_SPOT: return parse_number(f, F_SPOT, arg);
    case OPT_STRIKE: return parse_number(f, F_STRIKE, arg);
    case OPT_YEARS: return parse_number(f, F_YEARS, arg);
    case OPT_DAYS: return parse_number(f, F_DAYS, arg);
    case OPT_RATE: return parse_number(f, F_RATE, arg);
    case OPT_DIV: return parse_number(f, F_DIV, arg);
    case OPT_VOL: return parse_number(f, F_VOL, arg);
    case OPT_PRICE: return parse_number(f, F_PRICE, arg);
    case OPT_JSON: f->as_json = 1; return 0;
    default: return cli_unhandled_option(opt);
    }
}

/* The contract from the flags: 0, or 64 after naming the flag at fault.
 * `need` is the action's own flag (vol or price), `other` the one it
 * refuses. */
static int contract_from_flags(const options_flags_t *f, const char *action, int need, int other, option_t *o)
{
    if (!f->have_type)
        return cli_usage_error(usage, "%s needs --type call|put", action);
    static const int required[] = { F_SPOT, F_STRIKE, F_YEARS, F_RATE };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (required[i] == F_YEARS && (f->given[F_YEARS] || f->given[F_DAYS]))
            continue;
        if (!f->given[required[i]])
            return cli_usage_error(usage, "%s needs --%s%s", action, flag_names[required[i]],
                                   required[i] == F_YEARS ? " T or --days D" : "");
    }
    if (f->given[F_YEARS] && f->given[F_DAYS])
        return cli_usage_error(usage, "give --years or --days, not both (--days D is --years D/365)");
    /* --years is checked with the contract (option_check names it years);
     * --days here, in its own unit. */
    if (f->given[F_DAYS] && !(f->value[F_DAYS] > 0 && f->value[F_DAYS] / 365.0 <= OPTION_YEARS_MAX))
        return cli_usage_error(usage, "--days must be a positive number of calendar days, at most %g (%g years), "
                               "got %g", 365.0 * OPTION_YEARS_MAX, OPTION_YEARS_MAX, f->value[F_DAYS]);
    if (!f->given[need])
        return cli_usage_error(usage, "%s needs --%s", action, flag_names[need]);
    if (f->given[other])
        return cli_usage_error(usage, "--%s is not a flag of %s", flag_names[other], action);
    o->kind = f->kind;
    o->spot = f->value[F_SPOT];
    o->strike = f->value[F_STRIKE];
    o->years = f->given[F_DAYS] ? f->value[F_DAYS] / 365.0 : f->value[F_YEARS];
    o->rate = f->value[F_RATE];
    o->div = f->value[F_DIV]; /* 0 unless given */
    char err[256];
    /* option_check's messages start with the field's name, which is the flag's. */
    if (option_check(o, need == F_VOL ? f->value[F_VOL] : NAN, err, sizeof err) != 0)
        return cli_usage_error(usage, "--%s", err);
    if (need == F_PRICE && !(f->value[F_PRICE] > 0))
        return cli_usage_error(usage, "--price must be a positive number, got %g", f->value[F_PRICE]);
    return 0;
}

static int print_json(json_writer_t *w)
{
    size_t len;
    char *text = jw_take(w, &len);
    if (text == NULL)
        return cli_fail(EX_SOFTWARE, "out of memory");
    puts(text);
    free(text);
    return 0;
}

static int do_greeks(const options_flags_t *f)
{
    option_t o;
    int st = contract_from_flags(f, "greeks", F_VOL, F_PRICE, &o);
    if (st != 0)
        return st;
    option_greeks_t g;
    option_greeks(&o, f->value[F_VOL], &g);
    const char *names[] = { "price", "delta", "gamma", "theta_per_year", "theta_per_day", "vega",
                            "vega_per_point", "rho", "rho_per_point" };
    const double values[] = { g.price, g.delta, g.gamma, g.theta, g.theta / 365.0, g.vega,
                              g.vega / 100.0, g.rho, g.rho / 100.0 };
    const char *units[] = { "", "per 1 of spot", "change of delta per 1 of spot", "per year", "per calendar day",
                            "per 1.00 of vol", "per vol point", "per 1.00 of rate", "per rate point" };
    size_t n = sizeof values / sizeof values[0];
    if (f->as_json) {
        json_writer_t w;
        jw_init(&w);
        jw_char(&w, '{');
        for (size_t i = 0; i < n; i++) {
            jw_key(&w, names[i], i == 0);
            jw_number(&w, values[i]);
        }
        jw_char(&w, '}');
        return print_json(&w);
    }
    printf("%s S=%.10g K=%.10g T=%.10g r=%.10g q=%.10g vol=%.10g\n", option_kind_name(o.kind), o.spot, o.strike,
           o.years, o.rate, o.div, f->value[F_VOL]);
    for (size_t i = 0; i < n; i++)
        printf("%-16s %16.10g%s%s\n", names[i], values[i], *units[i] ? "  " : "", units[i]);
    return 0;
}

static int do_iv(const options_flags_t *f)
{
    option_t o;
    int st = contract_from_flags(f, "iv", F_PRICE, F_VOL, &o);
    if (st != 0)
        return st;
    double vol;
    char err[512];
    option_iv_status_t r = option_implied_vol(&o, f->value[F_PRICE], &vol, err, sizeof err);
    if (r == OPTION_IV_BAD_INPUT) /* not expected after contract_from_flags */
        return cli_usage_error(usage, "--%s", err);
    if (r != OPTION_IV_OK)
        return cli_fail(1, "%s", err);
    if (f->as_json) {
        json_writer_t w;
        jw_init(&w);
        jw_char(&w, '{');
        jw_key(&w, "iv", 1);
        jw_number(&w, vol);
        jw_char(&w, '}');
        return print_json(&w);
    }
    printf("implied volatility %.12g (%.8g%%)\n", vol, 100.0 * vol);
    return 0;
}

int cmd_options(int argc, char **argv)
{
    config_t cfg;
    options_flags_t f;
    memset(&f, 0, sizeof f);
    int st = cli_parse(argc, argv, options, usage, &cfg, on_flag, &f);
    if (st != 0)
        return st == CLI_HELP ? 0 : st;
    if (optind >= argc)
        return cli_usage_error(usage, "missing action: greeks or iv");
    if (optind + 1 < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind + 1]);
    const char *action = argv[optind];
    if (strcmp(action, "greeks") == 0)
        return do_greeks(&f);
    if (strcmp(action, "iv") == 0)
        return do_iv(&f);
    return cli_usage_error(usage, "unknown action '%s': use greeks or iv", action);
}
