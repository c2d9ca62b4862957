/* numfmt.h — numbers as text: the shortest decimal a double rounds back
 * to, for output that must not hide digits (tickq data show), and printf's
 * "%lld" and "%.<p>f" without printf's cost (log lines, Redis commands, a
 * strategy's string.format). */
#ifndef TICKQ_NUMFMT_H
#define TICKQ_NUMFMT_H

/* Room for any result: "-1.2345678901234567e-308" and its NUL. */
#define NUMFMT_MAX 32

/* Writes into out the fewest significant digits (1 to 17) that strtod
 * reads back as exactly v, and returns the text's length. 17 digits always
 * do, so every finite double round-trips; NaN and infinities give "nan",
 * "inf", "-inf". Plain notation for exponents from -4 to 16, else
 * d.ddde±XX, like %g: 0.1 -> "0.1", 10 -> "10", 100.0000000005 ->
 * "100.0000000005", 0.00001 -> "1e-05", 1e21 -> "1e+21". */
int numfmt_shortest(double v, char out[NUMFMT_MAX]);

/* Room for any numfmt_integer result: a sign, 19 digits and the NUL. */
#define NUMFMT_INTEGER_MAX 24

/* Writes v in decimal as printf's "%lld" does, without printf (a line of
 * log, a command's lengths: per job, where printf showed in the worker's
 * time), and returns the length. */
int numfmt_integer(long long v, char out[NUMFMT_INTEGER_MAX]);

/* Room for any numfmt_fixed result: a sign, 19 integer digits, the point,
 * NUMFMT_FIXED_PREC_MAX decimals and the NUL. */
#define NUMFMT_FIXED_PREC_MAX 17
#define NUMFMT_FIXED_MAX 48

/* Writes v with `prec` decimals exactly as printf's "%.<prec>f" does
 * (correctly rounded, ties to even, a '-' for any negative value and -0),
 * and returns the length; -1, writing nothing, for what it leaves to
 * printf: NaN, infinities, |v| >= 2^63 and prec outside 0 ..
 * NUMFMT_FIXED_PREC_MAX. */
int numfmt_fixed(double v, int prec, char out[NUMFMT_FIXED_MAX]);

#endif
