#!/bin/sh
# As the official image: no config file, so listen on every interface without protected mode.
if [ "$1" = "redis-server" ]; then
  shift
  exec redis-server --bind 0.0.0.0 --protected-mode no "$@"
fi
exec "$@"
