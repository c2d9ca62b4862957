/* config_list.c — splitting a comma-separated configuration value
 * (config_list.h). */
#include "handlers/config_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/comma_list.h"
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
    if (comma_list_blank(value)) {
        errmsg_set(err, errlen, "%s %s", key, value[0] ? "names nothing (only commas and spaces)" : "is empty");
        return -1;
    }
    comma_list_t it;
    comma_list_start(&it, value);
    const char *entry;
    size_t len;
    int got;
    while ((got = comma_list_next(&it, &entry, &len)) != 0) {
        if (got < 0) {
            errmsg_set(err, errlen, "%s: %s " COMMA_LIST_EMPTY_ENTRY " as entry %zu", key,
                       errmsg_quote(value, quoted, sizeof quoted), it.index);
            config_list_free(out);
            return -1;
        }
        if (add_entry(out, entry, len) != 0) {
            errmsg_set(err, errlen, "out of memory");
            config_list_free(out);
            return -1;
        }
    }
    return 0;
}
