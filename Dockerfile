# Production image for Userz. Multi-stage: build the TypeScript in one stage, ship only
# lib/, rules/ and production dependencies in the next, as a non-root user.
# BASE defaults to the official Node 20 slim image; pass --build-arg BASE=… to use a
# locally made base where no registry is reachable (scripts/build-prod-base.sh).
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM ${BASE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 USERZ_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY --from=build /app/lib ./lib
COPY bin ./bin
COPY rules ./rules
COPY app.yml ./
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/userz.js", "start"]
