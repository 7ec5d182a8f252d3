import t from 'tap'
import {
  effectivePermissions,
  includedBy,
  isPermissionKey,
  PERMISSION_KEYS,
  PERMISSIONS,
  type PermissionKey,
  permissionLabel,
} from '../../src/access/permissions.js'

const SPEC_ORDER = [
  'system_administrator',
  'manage_user_accounts',
  'manage_self_service',
  'manage_external_searches',
  'manual_external_searches',
  'override_risk_assessments',
  'carry_out_risk_assessments',
  'permanently_delete_restore_entities',
  'permanently_delete_documents',
  'delete_entities',
  'delete_entity_service_relationships',
  'approve_self_service_submissions',
  'manage_self_service_requests',
  'set_serviced_clients',
  'approve_entity_external_searches',
  'check_entity_external_searches',
  'create_one_time_searches',
  'view_one_time_searches',
  'delete_one_time_searches',
  'upload_entity_documents',
  'edit_entities',
  'view_reports',
  'download_entity_documents',
  'read_data',
  'signout_users',
]

// SPEC section 2, written out by hand: what each single permission switches on besides itself.
const ENTITY_ACTING = SPEC_ORDER.slice(3, 16).concat([
  'upload_entity_documents',
  'edit_entities',
  'download_entity_documents',
])
function expectedImplied(key: string): string[] {
  if (key === 'system_administrator') return SPEC_ORDER.filter((k) => k !== key)
  const implied = new Set<string>()
  if (key === 'permanently_delete_restore_entities') implied.add('delete_entities')
  if (key === 'override_risk_assessments') implied.add('carry_out_risk_assessments')
  if (key === 'create_one_time_searches' || key === 'delete_one_time_searches') implied.add('view_one_time_searches')
  if (key === 'view_reports' || ENTITY_ACTING.includes(key)) implied.add('read_data')
  return [...implied]
}

t.test('the 25 permissions are in the order of SPEC section 2, with labels', async (t) => {
  t.same(PERMISSION_KEYS, SPEC_ORDER)
  t.equal(PERMISSIONS.length, 25)
  t.equal(permissionLabel('system_administrator'), 'System Administrator')
  t.equal(permissionLabel('manual_external_searches'), 'Manual External Searches / Override Profile')
  t.equal(permissionLabel('signout_users'), 'Signout Users')
  for (const p of PERMISSIONS) t.ok(p.description.length > 10, `${p.key} has a description`)
})

t.test('each permission alone gives exactly itself and what SPEC says it includes', async (t) => {
  for (const key of PERMISSION_KEYS) {
    const effective = [...effectivePermissions([key])].sort()
    t.same(effective, [key, ...expectedImplied(key)].sort(), key)
  }
})

t.test(
  'nothing implies system_administrator, manage_user_accounts, manage_self_service or signout_users',
  async (t) => {
    for (const key of PERMISSION_KEYS) {
      if (key === 'system_administrator') continue
      const effective = effectivePermissions([key])
      for (const protectedKey of [
        'system_administrator',
        'manage_user_accounts',
        'manage_self_service',
        'signout_users',
      ] as const) {
        if (key !== protectedKey) t.notOk(effective.has(protectedKey), `${key} does not include ${protectedKey}`)
      }
    }
  },
)

t.test('permissions that do not act on entities do not include read_data', async (t) => {
  for (const key of [
    'manage_user_accounts',
    'manage_self_service',
    'create_one_time_searches',
    'view_one_time_searches',
    'delete_one_time_searches',
    'signout_users',
  ] as const) {
    t.notOk(effectivePermissions([key]).has('read_data'), key)
  }
})

t.test('the effective set of several grants is the union, and is idempotent', async (t) => {
  const granted: PermissionKey[] = ['permanently_delete_restore_entities', 'create_one_time_searches', 'signout_users']
  const effective = effectivePermissions(granted)
  t.same([...effective].sort(), [
    'create_one_time_searches',
    'delete_entities',
    'permanently_delete_restore_entities',
    'read_data',
    'signout_users',
    'view_one_time_searches',
  ])
  t.same([...effectivePermissions(effective)].sort(), [...effective].sort())
  t.same([...effectivePermissions([])], [])
})

t.test('includedBy names the highest granted permission that switches a permission on', async (t) => {
  t.equal(includedBy('read_data', new Set(['view_reports', 'edit_entities'])), 'edit_entities')
  t.equal(
    includedBy('delete_entities', new Set(['system_administrator', 'permanently_delete_restore_entities'])),
    'system_administrator',
  )
  t.equal(includedBy('read_data', new Set(['read_data'])), undefined, 'granted on its own')
  t.equal(includedBy('signout_users', new Set(['manage_user_accounts'])), undefined)
})

t.test('isPermissionKey accepts only the 25 keys', async (t) => {
  for (const key of PERMISSION_KEYS) t.ok(isPermissionKey(key))
  for (const bad of [
    '',
    'admin',
    'SYSTEM_ADMINISTRATOR',
    'read_data ',
    42,
    null,
    undefined,
    'constructor',
    '__proto__',
  ]) {
    t.notOk(isPermissionKey(bad), String(bad))
  }
})
