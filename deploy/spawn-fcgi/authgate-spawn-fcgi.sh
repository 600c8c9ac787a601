#!/bin/sh
# authgate under spawn-fcgi: spawn-fcgi creates the unix socket with the
# owner and mode nginx needs, drops privileges, and (with -n) replaces
# itself with authgate, which finds the listening socket on fd 0 (its mode
# without --listen). For a supervisor that runs one foreground command
# (runit, daemontools, s6, a container); with systemd, use the socket unit
# in deploy/systemd/ instead.
#
#   SPAWN_SOCKET=/run/authgate/authgate.sock \
#   AUTHGATE_DB='host=/var/run/postgresql dbname=mydb user=authgate' \
#       deploy/spawn-fcgi/authgate-spawn-fcgi.sh [AUTHGATE OPTIONS...]
#
# Settings (environment; the defaults suit Debian's nginx):
#   SPAWN_SOCKET        socket path            /run/authgate/authgate.sock
#   SPAWN_SOCKET_MODE   its mode               0660
#   SPAWN_SOCKET_USER   its owner    (root)    www-data (empty: root, unchanged)
#   SPAWN_SOCKET_GROUP  its group    (root)    www-data (empty: unchanged)
#   SPAWN_USER          daemon user  (root)    authgate
#   SPAWN_GROUP         daemon group (root)    authgate
#   AUTHGATE_BIN        the binary             authgate from PATH
# The (root) settings apply only when started as root: spawn-fcgi then
# chowns the socket and switches to SPAWN_USER before running authgate
# (create that account first: adduser --system --group authgate). Started
# as another user, everything runs as that user.
#
# Every other daemon setting comes from AUTHGATE_* / PG* variables or the
# arguments, as usual; AUTHGATE_LISTEN is removed, since it would make the
# daemon ignore the socket on fd 0.
#
# SIGTERM to the process (authgate itself, after the exec) stops the daemon
# cleanly: it finishes the requests in progress and exits 0. spawn-fcgi does
# not remove the socket file; the next start replaces it.
set -eu

socket=${SPAWN_SOCKET:-/run/authgate/authgate.sock}
mode=${SPAWN_SOCKET_MODE:-0660}
bin=${AUTHGATE_BIN:-$(command -v authgate || echo /usr/local/bin/authgate)}

unset AUTHGATE_LISTEN

mkdir -p "$(dirname "$socket")"
set -- -- "$bin" "$@"
if [ "$(id -u)" -eq 0 ]; then
    # spawn-fcgi refuses uid 0 for the daemon and for the socket owner; an
    # empty SPAWN_SOCKET_USER/GROUP leaves the socket's owner/group alone.
    set -- -u "${SPAWN_USER:-authgate}" -g "${SPAWN_GROUP:-authgate}" "$@"
    sock_user=${SPAWN_SOCKET_USER-www-data}
    sock_group=${SPAWN_SOCKET_GROUP-www-data}
    if [ -n "$sock_group" ]; then set -- -G "$sock_group" "$@"; fi
    if [ -n "$sock_user" ]; then set -- -U "$sock_user" "$@"; fi
fi
exec spawn-fcgi -n -s "$socket" -M "$mode" "$@"
