// The browser tests follow the web app's lint rules (frontend/eslint.config.js, whose packages are
// in frontend/node_modules); `npm run lint` in frontend/ lints this folder too.
import app from '../../frontend/eslint.config.js'

export default [{ ignores: ['artifacts/**'] }, ...app]
