import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { htmlLang } from './locales'
import './styles/index.css'

document.documentElement.lang = htmlLang
const app = createApp(App)
app.use(createPinia())
app.use(router)
app.mount('#app')
