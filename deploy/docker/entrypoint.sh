#!/bin/sh
# The image's command names the app: api, worker or logs (anything else runs as given).
set -e
case "$1" in
  api | worker | logs)
    app="$1"
    shift
    exec node --enable-source-maps "apps/$app/dist/main.js" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
