#!/bin/sh
# An external extension (shell + curl): registers for INVOKE and SHUTDOWN and logs each event.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
NAME=$(basename "$0")
ID=$(curl -sS -D - -o /dev/null -X POST -H "Lambda-Extension-Name: $NAME" \
     -d '{"events":["INVOKE","SHUTDOWN"]}' "$API/register" | grep -i '^Lambda-Extension-Identifier:' | cut -d' ' -f2 | tr -d '\r')
echo "EXT registered $NAME"
while true; do
  EVENT=$(curl -sS -H "Lambda-Extension-Identifier: $ID" "$API/event/next")
  TYPE=$(printf '%s' "$EVENT" | sed -n 's/.*"eventType":"\([A-Z]*\)".*/\1/p')
  case "$TYPE" in
    INVOKE)
      REQ=$(printf '%s' "$EVENT" | sed -n 's/.*"requestId":"\([^"]*\)".*/\1/p')
      echo "EXT INVOKE $REQ"
      ;;
    SHUTDOWN)
      REASON=$(printf '%s' "$EVENT" | sed -n 's/.*"shutdownReason":"\([a-z]*\)".*/\1/p')
      echo "EXT SHUTDOWN $REASON"
      exit 0
      ;;
    *) echo "EXT unexpected: $EVENT"; exit 1 ;;
  esac
done
