/**
 * The permission model of SPEC section 2: the 25 keys in order (highest control first), their labels
 * and one-line descriptions, which permissions include which, and the function from a user's granted
 * set to their effective set. This module is the only place that knows these rules.
 */

export const PERMISSIONS = [
  {
    key: 'system_administrator',
    label: 'System Administrator',
    description: 'Everything below; administrator for client access and company settings.',
  },
  {
    key: 'manage_user_accounts',
    label: 'Manage User Accounts',
    description: 'Add, edit and deactivate users; grant and revoke permissions they hold themselves.',
  },
  { key: 'manage_self_service', label: 'Manage Self-Service', description: 'Edit the self-service portal settings.' },
  {
    key: 'manage_external_searches',
    label: 'Manage External Searches',
    description: "Resolve open screening searches with a rationale; approve other users' reviews.",
  },
  {
    key: 'manual_external_searches',
    label: 'Manual External Searches / Override Profile',
    description: 'Run a manual screening search and pick the search profile (one provider credit each).',
  },
  {
    key: 'override_risk_assessments',
    label: 'Override Risk Assessments',
    description: 'Change recommended risk scores or the overall classification, with a written rationale.',
  },
  {
    key: 'carry_out_risk_assessments',
    label: 'Carry Out Risk Assessments',
    description: 'Run and save the automatic risk assessment without changing any score.',
  },
  {
    key: 'permanently_delete_restore_entities',
    label: 'Permanently Delete / Restore Entities',
    description: 'Move an entity to the recycle bin; restore it or delete it for good from there.',
  },
  {
    key: 'permanently_delete_documents',
    label: 'Permanently Delete Documents',
    description: 'Move a document to the recycle bin and delete it for good from there.',
  },
  {
    key: 'delete_entities',
    label: 'Delete Entities',
    description: 'Move an entity to the recycle bin (not permanent deletion, not restore).',
  },
  {
    key: 'delete_entity_service_relationships',
    label: 'Delete Entity Service Relationships',
    description: 'Remove a service allocated to an entity.',
  },
  {
    key: 'approve_self_service_submissions',
    label: 'Approve Self-Service Submissions',
    description: 'Approve what a client submitted through the portal, applying it to the entity.',
  },
  {
    key: 'manage_self_service_requests',
    label: 'Manage Self-Service Requests',
    description: 'Send portal requests to clients and ask them for updates.',
  },
  {
    key: 'set_serviced_clients',
    label: 'Set Serviced Clients',
    description: 'Set an entity\'s status to "Serviced client (business relationship)".',
  },
  {
    key: 'approve_entity_external_searches',
    label: 'Approve Entity External Searches',
    description: 'With four-eyes review on: the second review that closes a search.',
  },
  {
    key: 'check_entity_external_searches',
    label: 'Check Entity External Searches',
    description: "With four-eyes review on: the first review of a search's results.",
  },
  {
    key: 'create_one_time_searches',
    label: 'Create One-Time Searches',
    description: 'Screen a name that is not an entity.',
  },
  {
    key: 'view_one_time_searches',
    label: 'View One-Time Searches',
    description: 'See one-time searches and their results.',
  },
  {
    key: 'delete_one_time_searches',
    label: 'Delete One-Time Searches',
    description: 'Delete one-time searches for good.',
  },
  { key: 'upload_entity_documents', label: 'Upload Entity Documents', description: 'Upload documents to an entity.' },
  { key: 'edit_entities', label: 'Edit Entities', description: 'Create entities and edit their details.' },
  { key: 'view_reports', label: 'View Reports', description: 'The Reports tab, plus everything Read Data gives.' },
  {
    key: 'download_entity_documents',
    label: 'Download Entity Documents',
    description: "Open and download an entity's documents.",
  },
  { key: 'read_data', label: 'Read Data', description: 'View information only.' },
  { key: 'signout_users', label: 'Signout Users', description: 'End every session of another user at once.' },
] as const

export type PermissionKey = (typeof PERMISSIONS)[number]['key']
export type Permission = (typeof PERMISSIONS)[number]

export const PERMISSION_KEYS: readonly PermissionKey[] = PERMISSIONS.map((p) => p.key)

const byKey = new Map<string, Permission>(PERMISSIONS.map((p) => [p.key, p]))

export function isPermissionKey(value: unknown): value is PermissionKey {
  return typeof value === 'string' && byKey.has(value)
}

export function permissionLabel(key: PermissionKey): string {
  return (byKey.get(key) as Permission).label
}

/** Permissions that act on an entity (SPEC rows 4–16, 20, 21, 23): each includes read_data. */
const ENTITY_PERMISSIONS: readonly PermissionKey[] = [
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
  'upload_entity_documents',
  'edit_entities',
  'download_entity_documents',
]

/** Direct inclusions: a permission that is On switches these on too. */
export const INCLUDES: ReadonlyMap<PermissionKey, readonly PermissionKey[]> = new Map<
  PermissionKey,
  readonly PermissionKey[]
>([
  ['system_administrator', PERMISSION_KEYS.filter((k) => k !== 'system_administrator')],
  ['permanently_delete_restore_entities', ['delete_entities', 'read_data']],
  ['override_risk_assessments', ['carry_out_risk_assessments', 'read_data']],
  ['create_one_time_searches', ['view_one_time_searches']],
  ['delete_one_time_searches', ['view_one_time_searches']],
  ['view_reports', ['read_data']],
  ...ENTITY_PERMISSIONS.filter(
    (k) => k !== 'permanently_delete_restore_entities' && k !== 'override_risk_assessments',
  ).map((k): [PermissionKey, readonly PermissionKey[]] => [k, ['read_data']]),
])

/** The effective set: the granted permissions and everything they include, transitively. */
export function effectivePermissions(granted: Iterable<PermissionKey>): Set<PermissionKey> {
  const result = new Set<PermissionKey>()
  const pending = [...granted]
  while (pending.length > 0) {
    const key = pending.pop() as PermissionKey
    if (result.has(key)) continue
    result.add(key)
    pending.push(...(INCLUDES.get(key) ?? []))
  }
  return result
}

/**
 * For a permission that is On only because another granted permission includes it, the label of the
 * highest granted permission that includes it ("On — included in <label>"); undefined otherwise.
 */
export function includedBy(key: PermissionKey, granted: ReadonlySet<PermissionKey>): PermissionKey | undefined {
  for (const candidate of PERMISSION_KEYS) {
    if (candidate === key || !granted.has(candidate)) continue
    if (effectivePermissions([candidate]).has(key)) return candidate
  }
  return undefined
}
