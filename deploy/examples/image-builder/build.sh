#!/bin/sh
# pullgate agent --exec for the image builder (deploy/examples/image-builder/README.md).
# Runs in the agent container, once per new verified record, in the checked-out tree
# ($PULLGATE_WORKDIR). It holds no registry credential: it hands the verified tree to the builder
# container through the shared spool folder and waits for the builder's answer.
set -eu

spool="${BUILD_SPOOL:-/spool}"
timeout="${BUILD_TIMEOUT_SECONDS:-1800}"
: "${PULLGATE_WORKDIR:?run me as pullgate agent --exec}"
: "${PULLGATE_SOURCE_COMMIT:?}"
: "${PULLGATE_SEQUENCE:?}"

# One request per record: the sequence names it, the source commit tags the image.
request="$spool/$PULLGATE_SEQUENCE-$PULLGATE_SOURCE_COMMIT"
rm -rf "$request.tmp" "$request"
mkdir -p "$request.tmp/context"
# The context is a copy: the agent may swap its checkout while the builder still reads.
cp -R "$PULLGATE_WORKDIR/." "$request.tmp/context/"
rm -rf "$request.tmp/context/.git"
{
  echo "PULLGATE_REPOSITORY=$PULLGATE_REPOSITORY"
  echo "PULLGATE_ENVIRONMENT=$PULLGATE_ENVIRONMENT"
  echo "PULLGATE_SEQUENCE=$PULLGATE_SEQUENCE"
  echo "PULLGATE_SOURCE_COMMIT=$PULLGATE_SOURCE_COMMIT"
  echo "PULLGATE_RECORD_COMMIT=$PULLGATE_RECORD_COMMIT"
} >"$request.tmp/request.env"
# The rename publishes the request whole: the builder never sees half a context.
mv "$request.tmp" "$request"

waited=0
while [ ! -e "$request/done" ] && [ ! -e "$request/failed" ]; do
  if [ "$waited" -ge "$timeout" ]; then
    echo "build of #$PULLGATE_SEQUENCE: no answer from the builder in ${timeout}s" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
cat "$request/log" 2>/dev/null || true
if [ -e "$request/failed" ]; then
  echo "build of #$PULLGATE_SEQUENCE failed" >&2
  rm -rf "$request"
  exit 1
fi
echo "built #$PULLGATE_SEQUENCE: $(cat "$request/done")"
rm -rf "$request"
