import { mergeConfig, defineConfig } from 'vitest/config'
import viteConfig from './vite.config.ts'

// Unit tests live next to the code in src/; the browser tests in ../tests/e2e/ are Playwright's.
export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'happy-dom',
      environmentOptions: { happyDOM: { url: 'http://127.0.0.1:8080/' } },
      setupFiles: ['src/test/setup.ts'],
      restoreMocks: true,
      testTimeout: 20000,
    },
  }),
)
