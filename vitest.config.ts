import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // In CI, also where the time went (test/support/file-times-reporter.ts).
    reporters: process.env.CI ? ['verbose', './test/support/file-times-reporter.ts'] : ['default'],
    // One test file at a time unless PAUDE_TEST_WORKERS says more: on the 2-core CI machine, two
    // rootful files beside the rootless run overloaded it (load 18; an image build, a stop and
    // a screen wait timed out), while one beside the rootless run passes.
    ...(process.env.PAUDE_TEST_WORKERS ? { maxWorkers: Number(process.env.PAUDE_TEST_WORKERS) } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/cli/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'],
          globalSetup: ['test/support/engines-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
