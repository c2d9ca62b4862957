/* config_list.c — splitting a comma-separated configuration value
 * (config_list.h). */
#include "handlers/config_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errmsg.h"

void config_list_free(config_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Appends the n bytes at s as an entry: 0, or -1 out of memory. */
static int add_entry(config_list_t *l, const char *s, size_t n)
{
    char **grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    l->items = grown;
    if ((l->items[l->n] = strndup(s, n)) == NULL)
        return -1;
    l->n++;
    return 0;
}

int config_list_split(const char *key, const char *value, config_list_t *out, char *err, size_t errlen)
{
    char quoted[ERRMSG_QUOTE_MAX];
    memset(out, 0, sizeof *out);
    if (strspn(value, ", \t") == strlen(value)) {
        errmsg_set(err, errlen, "%s %s", key, value[0] ? "names nothing (only commas and spaces)" : "is empty");
        return -1;
    }
    for (const char *next = value;;) {
        const char *s = next, *comma = strchr(s, ','), *end = comma ? comma : s + strlen(s);
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end == s) {
            errmsg_set(err, errlen, "%s: %s has an empty name (two commas in a row, or one at its start or end) "
                       "as entry %zu", key, errmsg_quote(value, quoted, sizeof quoted), out->n + 1);
            config_list_free(out);
            return -1;
        }
        if (add_entry(out, s, (size_t)(end - s)) != 0) {
            errmsg_set(err, errlen, "out of memory");
            config_list_free(out);
            return -1;
        }
        if (comma == NULL)
            return 0;
        next = comma + 1;
    }
}
