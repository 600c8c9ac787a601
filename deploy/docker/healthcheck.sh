#!/bin/sh
# Health check of the authgate container: one FastCGI request straight to
# the daemon's socket, as nginx's /auth/healthz location sends it. Exit 0
# when the daemon answers "Status: 200" (it reached the database), 1
# otherwise. It checks the daemon alone, not nginx.
#
# The address follows AUTHGATE_LISTEN: HOST:PORT (0.0.0.0 and [::] are
# asked on 127.0.0.1) or unix:/path. AUTHGATE_HEALTHCHECK_ADDR overrides it.
# Nothing but libfcgi's cgi-fcgi (libfcgi-bin) is needed: no HTTP server.
set -u

listen=${AUTHGATE_LISTEN:-0.0.0.0:9000}
case $listen in
unix:*) addr=${listen#unix:} ;;
0.0.0.0:* | "[::]":* | :*) addr=127.0.0.1:${listen##*:} ;;
*) addr=$listen ;;
esac
addr=${AUTHGATE_HEALTHCHECK_ADDR:-$addr}

# cgi-fcgi sends its whole environment as FastCGI parameters: env -i keeps
# only the request's own. timeout bounds a daemon that accepts but never
# answers (Docker's --timeout would too, without saying why).
answer=$(env -i AUTHGATE_ENDPOINT=healthz REQUEST_METHOD=GET \
    REQUEST_URI=/auth/healthz QUERY_STRING= REMOTE_ADDR=127.0.0.1 \
    /usr/bin/timeout 4 /usr/bin/cgi-fcgi -bind -connect "$addr" \
    </dev/null 2>&1)
status=$?

case $answer in
"Status: 200"*) exit 0 ;;
esac
if [ "$status" -eq 124 ]; then
    echo "authgate healthcheck: no answer from $addr within 4 s"
else
    printf 'authgate healthcheck: %s\n' "$(printf '%s' "$answer" | head -n 1)"
fi
exit 1
