/* config_list.h — a comma-separated value of the configuration file
 * ([handler] types, [pool] handlers and types) split into its entries.
 *
 * The rule of core/comma_list.h: entries trimmed of spaces and tabs, an
 * empty entry refused in the words `queues` refuses one with. A value with
 * no entry at all is refused too. */
#ifndef TICKQ_CONFIG_LIST_H
#define TICKQ_CONFIG_LIST_H

#include <stddef.h>

typedef struct {
    char **items;                /* malloc'd entries, n of them */
    size_t n;
} config_list_t;

/* Splits the value of `key` (as a message names it: "[pool p]: types")
 * into *out (config_list_free it). 0; or -1 with err saying what is wrong
 * ("KEY: 'a,,b' has an empty name (...) as entry 2", "KEY is empty"),
 * *out then empty. */
int config_list_split(const char *key, const char *value, config_list_t *out, char *err, size_t errlen);
/* Frees the entries; accepts an empty list. */
void config_list_free(config_list_t *l);

#endif
