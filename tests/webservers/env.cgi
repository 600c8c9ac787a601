#!/bin/sh
# The protected application of the web server tests: prints what the
# server passed on from authgate's authorizer (its Variable-* answer
# headers) and the request headers it received, to prove a client's own
# headers stay apart from the identity.
printf 'Content-Type: text/plain\r\n\r\n'
for name in AUTH_USER AUTH_USER_ID AUTH_EMAIL AUTH_ROLES REMOTE_USER \
	HTTP_AUTH_USER HTTP_X_AUTH_USER HTTP_X_AUTH_ROLES; do
	value=$(printenv "$name") || value='(unset)'
	printf '%s=%s\n' "$name" "$value"
done
