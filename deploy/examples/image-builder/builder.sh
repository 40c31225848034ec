#!/bin/sh
# The builder container's loop (deploy/examples/image-builder/README.md): takes each request the
# agent's build.sh puts in the spool folder and builds it with kaniko. Only this container mounts
# the registry credential; it never sees the GitOps repository or the record keys.
set -eu

spool="${BUILD_SPOOL:-/spool}"
kaniko="${KANIKO:-/kaniko/executor}"
: "${IMAGE:?the image to push, e.g. registry.example.com/acme/app}"
dockerfile="${DOCKERFILE:-Dockerfile}"

while :; do
  for request in "$spool"/*; do
    # Only published requests (build.sh renames them into place), each once.
    case "$request" in *.tmp) continue ;; esac
    [ -f "$request/request.env" ] || continue
    [ -e "$request/done" ] || [ -e "$request/failed" ] || [ -e "$request/taken" ] && continue
    : >"$request/taken"
    commit=$(sed -n 's/^PULLGATE_SOURCE_COMMIT=\([0-9a-f]\{40\}\)$/\1/p' "$request/request.env")
    if [ -z "$commit" ]; then
      echo "malformed request $request" >"$request/log"
      : >"$request/failed"
      continue
    fi
    if "$kaniko" \
      --context "dir://$request/context" \
      --dockerfile "$request/context/$dockerfile" \
      --destination "$IMAGE:$commit" \
      --digest-file "$request/digest" \
      --label "org.opencontainers.image.revision=$commit" \
      >"$request/log" 2>&1; then
      echo "$IMAGE:$commit $(cat "$request/digest" 2>/dev/null || true)" >"$request/done"
    else
      : >"$request/failed"
    fi
  done
  sleep "${BUILD_POLL_SECONDS:-2}"
done
