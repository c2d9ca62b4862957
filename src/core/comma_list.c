/* comma_list.c — walking a comma-separated list (comma_list.h). */
#include "core/comma_list.h"

#include <string.h>

void comma_list_start(comma_list_t *it, const char *text)
{
    it->next = text;
    it->index = 0;
}

int comma_list_next(comma_list_t *it, const char **entry, size_t *len)
{
    if (it->next == NULL)
        return 0;
    const char *s = it->next, *comma = strchr(s, ','), *end = comma ? comma : s + strlen(s);
    it->next = comma ? comma + 1 : NULL;
    it->index++;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *entry = s;
    *len = (size_t)(end - s);
    return end == s ? -1 : 1;
}

int comma_list_blank(const char *text)
{
    return strspn(text, ", \t") == strlen(text);
}
