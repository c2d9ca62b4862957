/* test_db.c — where the database is (db_locate): the masked DATABASE_URL. */
#include "data/db.h"
#include "unit.h"

static void masked(const char *url, const char *want)
{
    db_location_t loc;
    char err[512] = "";
    if (db_locate(url, NULL, &loc, NULL, err, sizeof err) != 0) {
        unit_fail(__FILE__, __LINE__, "'%s' should be accepted, got: %s", url, err);
        return;
    }
    if (strcmp(loc.where, want) != 0)
        unit_fail(__FILE__, __LINE__, "'%s' is shown as '%s', want '%s'", url, loc.where, want);
}

TEST(db_url_password_masked)
{
    masked("postgresql://tickq:s3cret@db.internal:5432/tickq", "postgresql://tickq:***@db.internal:5432/tickq");
    masked("postgres://u:pa:ss@host/db", "postgres://u:***@host/db");
    masked("postgresql://tickq@localhost/tickq", "postgresql://tickq@localhost/tickq");
    masked("postgresql://localhost:5433/tickq?sslmode=require", "postgresql://localhost:5433/tickq?sslmode=require");
}

/* Found by fuzz/database_url (fuzz/corpus/database_url/pg_query_password):
 * libpq also takes the password from the query string, which was shown
 * as it is. */
TEST(db_url_query_password_masked)
{
    masked("postgresql://tickq@db.internal/tickq?sslmode=prefer&password=s3cret",
           "postgresql://tickq@db.internal/tickq?sslmode=prefer&password=***");
    masked("postgresql://u:pw@h/db?pass%77ord=s3cret&sslpassword=k3y&application_name=x",
           "postgresql://u:***@h/db?pass%77ord=***&sslpassword=***&application_name=x");
    masked("postgresql://h/db?password=a&password=b", "postgresql://h/db?password=***&password=***");
}
