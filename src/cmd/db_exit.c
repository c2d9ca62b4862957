/* db_exit.c — db_open's failure as an exit status (db_exit.h). */
#include "cmd/db_exit.h"

#include <sysexits.h>

int db_exit_status(db_failure_t failure)
{
    switch (failure) {
    case DB_FAILURE_CONFIG: return EX_CONFIG;
    case DB_FAILURE_CANNOT_CREATE: return EX_CANTCREAT;
    case DB_FAILURE_UNAVAILABLE: return EX_UNAVAILABLE;
    case DB_FAILURE_MIGRATION: return EX_SOFTWARE;
    case DB_FAILURE_OUT_OF_MEMORY: return EX_OSERR;
    }
    return EX_SOFTWARE;
}
