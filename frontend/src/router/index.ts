import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'
import { t } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import { operations } from '@/api/operations.gen'
import { syncClock } from '@/api/clock'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Breadcrumb above the title (menu groups). */
    crumbs?: string[]
    /** Role kinds that may open the page (the acting role); none = every logged-in role. */
    roles?: Role[]
    public?: boolean
    /** Stays in the tab bar. */
    affix?: boolean
    /** Component name kept alive while its tab is open. */
    keepAlive?: string
    /** Shows personal data: the watermark goes over it. */
    watermark?: boolean
  }
}

const MANAGERS: Role[] = ['branch', 'committee', 'political_dept']

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true, title: t.login.title } },
  {
    path: '/',
    component: () => import('@/layout/AppLayout.vue'),
    children: [
      { path: '', redirect: '/workbench' },
      { path: 'workbench', name: 'workbench', component: () => import('@/views/WorkbenchView.vue'), meta: { title: t.menu.workbench, affix: true } },
      {
        path: 'orgs',
        name: 'orgs',
        component: () => import('@/views/orgs/OrgsView.vue'),
        meta: { title: t.menu.orgs, crumbs: [t.menu.orgAdmin], roles: MANAGERS, keepAlive: 'OrgsView' },
      },
      {
        path: 'members',
        name: 'members',
        component: () => import('@/views/members/MembersView.vue'),
        meta: { title: t.menu.memberList, crumbs: [t.menu.members], roles: MANAGERS, keepAlive: 'MembersView', watermark: true },
      },
      {
        path: 'members/new',
        name: 'member-create',
        component: () => import('@/views/members/MemberEditView.vue'),
        meta: { title: t.menu.memberCreate, crumbs: [t.menu.members], roles: MANAGERS, watermark: true },
      },
      {
        path: 'members/:id(\\d+)',
        name: 'member-detail',
        component: () => import('@/views/members/MemberDetailView.vue'),
        meta: { title: t.menu.memberDetail, crumbs: [t.menu.members], roles: [...MANAGERS, 'member'], watermark: true },
      },
      {
        path: 'members/:id(\\d+)/edit',
        name: 'member-edit',
        component: () => import('@/views/members/MemberEditView.vue'),
        meta: { title: t.menu.memberEdit, crumbs: [t.menu.members], roles: [...MANAGERS, 'member'], watermark: true },
      },
      {
        path: 'imports',
        name: 'imports',
        component: () => import('@/views/imports/ImportsView.vue'),
        meta: { title: t.menu.imports, crumbs: [t.menu.dataAdmin], roles: [...operations.list_imports.roles], keepAlive: 'ImportsView' },
      },
      {
        path: 'dashboard',
        name: 'dashboard',
        component: () => import('@/views/stats/DashboardView.vue'),
        meta: { title: t.menu.dashboard, crumbs: [t.menu.statsGroup], roles: [...operations.stats_structure.roles], keepAlive: 'DashboardView' },
      },
      {
        path: 'reports/party-statistics',
        name: 'party-report',
        component: () => import('@/views/stats/ReportView.vue'),
        meta: { title: t.menu.partyReport, crumbs: [t.menu.statsGroup], roles: [...operations.party_statistics.roles], keepAlive: 'ReportView' },
      },
      {
        path: 'meetings',
        name: 'meetings',
        component: () => import('@/views/meetings/MeetingsView.vue'),
        meta: { title: t.meetings.menuList, crumbs: [t.meetings.menuGroup], roles: MANAGERS, keepAlive: 'MeetingsView' },
      },
      {
        path: 'meetings/compliance',
        name: 'meeting-compliance',
        component: () => import('@/views/meetings/compliance/ComplianceView.vue'),
        meta: { title: t.compliance.menu, crumbs: [t.meetings.menuGroup], roles: [...operations.meetings_compliance.roles], keepAlive: 'ComplianceView' },
      },
      {
        path: 'meetings/settings',
        name: 'meeting-settings',
        component: () => import('@/views/meetings/settings/SettingsView.vue'),
        meta: { title: t.meetingSettings.menu, crumbs: [t.meetings.menuGroup], roles: [...operations.get_meeting_rules.roles], keepAlive: 'MeetingSettingsView' },
      },
      {
        path: 'meetings/:id(\\d+)',
        name: 'meeting-detail',
        component: () => import('@/views/meetings/MeetingDetailView.vue'),
        meta: { title: t.meetings.menuDetail, crumbs: [t.meetings.menuGroup], roles: [...MANAGERS, 'member'], watermark: true },
      },
      {
        // Any account with a member grant: the page asks as that grant (a secretary is a member too).
        path: 'my/meetings',
        name: 'my-meetings',
        component: () => import('@/views/meetings/MyMeetingsView.vue'),
        meta: { title: t.meetings.menuMine, crumbs: [t.meetings.menuGroup], keepAlive: 'MyMeetingsView' },
      },
      {
        // Opened from the host's QR code on a phone; a logged-out visitor comes back after the login.
        path: 'checkin',
        name: 'checkin',
        component: () => import('@/views/checkin/CheckinView.vue'),
        meta: { title: t.meetings.menuCheckin },
      },
      {
        path: 'profile',
        name: 'profile',
        redirect: () => {
          const id = useAuthStore().me?.person?.id
          return id ? { name: 'member-detail', params: { id } } : { name: 'workbench' }
        },
        meta: { title: t.menu.myProfile },
      },
      { path: '403', name: 'forbidden', component: () => import('@/views/ErrorView.vue'), props: { kind: 403 }, meta: { title: t.menu.forbidden } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/ErrorView.vue'), props: { kind: 404 }, meta: { title: t.menu.notFound } },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

let restored = false

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  // The institution's clock (public: before or after login), read once, so that no page takes
  // "today" from the browser (src/api/clock.ts); alongside restoring the login.
  const clock = syncClock()
  if (!auth.isLoggedIn && !restored) {
    restored = true
    await auth.restore()
  }
  await clock
  if (to.meta.public) {
    if (to.name === 'login' && auth.isLoggedIn) return { path: (to.query.redirect as string) || '/workbench' }
    return true
  }
  if (!auth.isLoggedIn) return { name: 'login', query: to.fullPath !== '/' && to.fullPath !== '/workbench' ? { redirect: to.fullPath } : {} }
  if (to.meta.roles && !to.meta.roles.includes(auth.role!)) return { name: 'forbidden' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} - ${t.app.name}` : t.app.name
})

/** After logout the next visit restores nothing. */
export function resetRestore() {
  restored = true
}
