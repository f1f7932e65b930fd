import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: process.env.CI ? ['verbose'] : ['default'],
    // Two test files at a time, also on two cores (vitest's default there is one): the
    // integration suites wait on engines more than they compute. PAUDE_TEST_WORKERS overrides.
    maxWorkers: Number(process.env.PAUDE_TEST_WORKERS ?? 2),
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
