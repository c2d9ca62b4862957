/* decimal.h — reading a number as people and files write it: an optional
 * sign, digits with an optional decimal point, an optional exponent
 * ("-1.5", ".25", "2e-3").
 *
 * strtod alone also reads hex ("0x10" is 16, "0x1p3" is 8), "inf", "nan"
 * and leading blanks. Wherever a user or a file gives tickq a number it is
 * read here, so that such a slip is refused rather than read as a value
 * (data/csv_import.c has its own fast path for bars, to the same rule). */
#ifndef TICKQ_DECIMAL_H
#define TICKQ_DECIMAL_H

/* The end of the unsigned decimal number that s starts with (digits, a
 * point and digits, one of the two at least, then an optional exponent:
 * an exponent marker without digits is not part of it), or NULL when s does
 * not start with one. For a number followed by a unit ("1.5s") or an
 * operator ("2*x"). */
const char *decimal_end(const char *s);

/* 0 with *out; -1 when s is not such a number, or is one too large for a
 * double (1e999). One too small to hold reads as 0 or a subnormal, as
 * strtod reads it. */
int decimal_parse(const char *s, double *out);

#endif
