# camara-nv-emulator container: the same production start path as `npm start` (node dist/server.js,
# the bundled CLI that scripts/build.mjs writes).
# Build:  docker build -t camara-nv-emulator .
# Run:    docker run --rm -p 9091:9091 camara-nv-emulator
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build.mjs ./scripts/
# The build's esbuild metafile is for the tests, not the image
RUN npm run build && rm dist/server.meta.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=9091
WORKDIR /app
# Owned by root: the node user runs the app and can read it, not change it
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY fixtures ./fixtures
USER node
EXPOSE 9091
# Fixtures can be mounted over /app/fixtures or passed with FIXTURES=/path/a.json,/path/b.json
HEALTHCHECK --interval=5s --timeout=2s --start-period=5s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9091) + '/_emulator/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/server.js"]
