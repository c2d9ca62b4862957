#!/bin/sh
# sh_handler.sh — a tickq handler in POSIX shell with jq (docs/handlers.md:
# requests on fd 3, messages on fd 4, JSON lines), serving the type sh_sum:
# {"a": A, "b": B} -> {"sum": A+B, "lang": "sh", "queue": the job's queue}.
# Arguments that are not two numbers are refused permanently; cancels are
# ignored (its jobs end at once).

printf '%s\n' '{"msg":"hello","protocol":1,"types":["sh_sum"]}' >&4

# Reads requests until tickq closes fd 3.
while IFS= read -r line <&3; do
    echo "sh_handler: got $line" >&2
    printf '%s\n' "$line" | jq -c '
        if .msg != "job" then empty
        elif (.args.a | type) == "number" and (.args.b | type) == "number" then
            {msg: "result", id, data: {sum: (.args.a + .args.b), lang: "sh", queue}}
        else
            {msg: "error", id, error: "a and b must be numbers", retry: false}
        end' >&4
done
exit 0
