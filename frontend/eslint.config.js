import pluginVue from 'eslint-plugin-vue'
import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'

export default defineConfigWithVueTs(
  { ignores: ['dist/**', 'node_modules/**', 'src/api/schema.d.ts', 'src/auto-imports.d.ts', 'src/components.d.ts', 'playwright-report/**', 'test-results/**'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,
  {
    rules: {
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/attributes-order': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/multi-word-component-names': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Element Plus on demand: its CSS comes with the auto-import, never by hand: the message would render without its CSS.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'element-plus', importNames: ['ElMessage', 'ElMessageBox', 'ElNotification', 'ElLoading'], message: 'Use the auto-imported global (unplugin-auto-import) so its CSS is loaded.' },
          ],
        },
      ],
    },
  },
)
