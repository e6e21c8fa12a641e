#!/bin/sh
# An AWS_LAMBDA_EXEC_WRAPPER script: records what it was given, then runs the runtime.
export WRAPPED="wrapper saw: $*"
exec "$@"
