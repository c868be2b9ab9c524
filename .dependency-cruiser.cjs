/** The hexagon's rule, checked in CI: the core depends on nothing outside itself but pure libraries. */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'src/core holds the domain and its ports; it must not import adapters, workers, emulators, the CLI, SDKs or I/O.',
      severity: 'error',
      from: { path: '^src/core' },
      to: {
        path: [
          '^src/(adapters|workers|emulators|cli|main)',
          'node_modules/(@aws-sdk|@smithy|@grpc|@kubernetes|piscina|pino|prom-client|lru-cache)',
          '^(node:)?(fs|fs/promises|net|child_process|worker_threads|http|https|http2|dgram|os)$',
        ],
      },
    },
    {
      name: 'nothing-imports-emulators',
      comment: 'Emulators are a product feature for users and tests; the agent itself never depends on them.',
      severity: 'error',
      from: { path: '^src/(core|adapters|workers)' },
      to: { path: '^src/emulators' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
