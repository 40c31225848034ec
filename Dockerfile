# syntax=docker/dockerfile:1
# pullgate GitHub App image: builds the TypeScript once, ships only the compiled app and its
# production dependencies, and runs `pullgate serve` as an unprivileged user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The emulator (`pullgate demo`, `pullgate sandbox`) is the workspace package sandbox/: npm links it
# into node_modules/@pullgate/sandbox, and the build compiles it to sandbox/dist before the app.
COPY package.json package-lock.json ./
COPY sandbox/package.json ./sandbox/
# --ignore-scripts: the prepare script (tsc) needs the sources, which are copied next.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sandbox/tsconfig.json sandbox/tsconfig.build.json ./sandbox/
COPY sandbox/src ./sandbox/src
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# git: the agent's fetch and record checks; gnupg for operators who verify records in the container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git gnupg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/sandbox/package.json ./sandbox/package.json
COPY --from=build /app/sandbox/dist ./sandbox/dist
COPY package.json app.yml ./
COPY bin ./bin
COPY policies ./policies
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/pullgate.js"]
CMD ["serve"]
