/* uuid.h — random (version 4) UUIDs for job ids. */
#ifndef TICKQ_UUID_H
#define TICKQ_UUID_H

#define UUID_STR_LEN 37 /* 36 characters and the terminating NUL */

/* Writes a fresh lowercase UUID v4 such as "1b4e28ba-2fa1-41d2-883f-0016d3cca427". */
void uuid_v4(char out[UUID_STR_LEN]);

#endif
