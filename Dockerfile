# syntax=docker/dockerfile:1
#
# secretlet node agent image. Two stages:
#   build      - `npm ci` (for the target platform: koffi and piscina's optional @napi-rs/nice ship
#                prebuilt binaries), type-checks src/, bundles the agent into dist/ with esbuild
#                (scripts/bundle.ts: why a bundle, ~30 MiB less RSS per node), and copies the only
#                packages the bundle loads at run time (koffi, piscina, pino and their dependencies,
#                ~8 MB) into runtime/node_modules (scripts/runtime-packages.ts). The image carries no
#                other node_modules: the ~110 MB of a production install are inside the bundle or unused.
#   runtime    - Node on Debian bookworm-slim, stripped of shells, interpreters other than node, and
#                package managers (npm, yarn, corepack, apt, dpkg, perl)
#
# Why a slim base and not distroless: in kubelet mode the agent's mount helper calls mount(2) through
# koffi (prebuilt for glibc, installed by npm ci) and falls back to mount(8)/umount(8) from
# util-linux to put a tmpfs into each pod volume directory. Copying mount and its shared libraries
# (libmount, libblkid, libselinux, libpcre2, ...) into a distroless image works only as long as the
# copied set matches the Debian point release, breaks silently when it does not, and distroless
# images can be pinned only by digest. bookworm-slim already ships util-linux's `mount` (an
# Essential package, kept patched by the Node image), so we verify it is there and then remove what
# an attacker would use instead: every shell, npm, npx, corepack and yarn. The result is close to
# distroless (no shell to exec into; debug with `kubectl debug` ephemeral containers) while mount
# stays the distribution's own, scanner-visible package.
#
# Base images are pinned by exact Node LTS version (a tag: pin a digest, @sha256:..., where builds
# must be reproducible); bump both FROM lines together.

FROM node:22.20.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npx tsx scripts/runtime-packages.ts /app/runtime

FROM node:22.20.0-bookworm-slim AS runtime
# mount(8) must exist: fail the build here rather than the first pod mount on a node.
RUN ["/bin/mount", "--version"]
RUN ["/bin/umount", "--version"]
# Last use of a shell: remove the package managers and then the shells themselves. The running
# shell keeps its open file, so removing it is the final step of this same command.
RUN set -eu; \
    rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
           /usr/local/bin/docker-entrypoint.sh /root/.npm /tmp/*; \
    rm -f /usr/bin/apt /usr/bin/apt-* /usr/bin/dpkg /usr/bin/dpkg-* /usr/bin/perl /usr/bin/perl5*; \
    rm -f /usr/bin/bash /usr/bin/rbash /usr/bin/dash /usr/bin/sh /bin/sh /bin/bash /bin/dash
WORKDIR /app
COPY --from=build /app/runtime/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# `secretlet manifests` renders the install from these files (one source of truth with kubectl -k).
COPY deploy ./deploy
ENV NODE_ENV=production
# Root only because mount(2)/umount(2) of pod tmpfs volumes need CAP_SYS_ADMIN (kubelet mode) and
# pod volume directories are root-owned (provider mode). The DaemonSets drop privilege where the
# mode allows it.
USER 0:0
# The root filesystem is expected to be read-only (readOnlyRootFilesystem: true). Writable paths
# are volumes: the state dir (/var/lib/secretlet, hostPath), /tmp (memory emptyDir), and the
# socket directories.
VOLUME ["/var/lib/secretlet"]
EXPOSE 8095
# Exec form: there is no shell in this image to interpret a string entrypoint.
# The V8 flags are src/config/node-flags.ts (why: memory under bursts; a test keeps them equal).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--heap-growing-percent=35", "/app/bin/secretlet.js", "serve"]
