#!/bin/sh
# Creates the secrets docker-compose.yml mounts, with random passwords, in
# deploy/docker/secrets/ (git-ignored, kept out of the build context by
# .dockerignore), or in DIR when given:
#
#   deploy/docker/make-secrets.sh [DIR]
#
# Existing files are left alone, so running it again changes nothing;
# delete a file (and the db volume, or ALTER ROLE) to rotate it.
#
#   postgres_password     the PostgreSQL superuser's password (db, tests)
#   authgate_db_password  the password of the daemon's login role
#                         authgate_app, alone on one line (authgate reads
#                         it with --db-password-file; db's init script
#                         creates the role from it)
#
# Permissions: the directory is 0700, so other users of this machine cannot
# reach the files; the files are 0644 because docker-compose (without swarm)
# mounts them with their host mode and three container users read them
# (postgres uid 999, authgate uid 10001, the tests as root).
set -eu

dir=${1:-$(cd "$(dirname "$0")" && pwd)/secrets}
mkdir -p "$dir"
chmod 700 "$dir"

random_password() {
    # 24 random bytes, hex: no character that .pgpass, a conninfo or SQL
    # would need to escape.
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

if [ ! -s "$dir/postgres_password" ]; then
    random_password >"$dir/postgres_password"
    echo "created $dir/postgres_password"
fi
if [ ! -s "$dir/authgate_db_password" ]; then
    printf '%s\n' "$(random_password)" >"$dir/authgate_db_password"
    echo "created $dir/authgate_db_password"
fi
chmod 644 "$dir/postgres_password" "$dir/authgate_db_password"
