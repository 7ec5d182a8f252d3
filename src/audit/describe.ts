import { isPermissionKey, permissionLabel } from '../access/permissions.js'
import { countryName, deliveryChannelLabel, ENTITY_KINDS, statusLabel, volumeBandLabel } from '../entities/reference.js'
import { PILLAR_LABELS, PILLARS, type Pillar } from '../risk/evaluate.js'

/**
 * The audit trail in words (issue 12, defect 4): each entry as a sentence a compliance officer can put in
 * front of a regulator, with names, labels and country names instead of ids and codes. The stored values
 * stay as they are (append-only); this only reads them. One describer for the audit trail page, its CSV
 * export and a client's History.
 */

interface ActionWords {
  /** The action in the Action filter and the CSV ("Permissions changed"). */
  label: string
  /** What the actor did, given the thing concerned in words ("changed the permissions of Ada Admin"). */
  did: (target: string) => string
}

const ACTIONS: Record<string, ActionWords> = {
  'auth.login': { label: 'Signed in', did: () => 'signed in' },
  'auth.login_failed': { label: 'Sign-in refused', did: () => 'was refused at sign-in (wrong password)' },
  'auth.logout': { label: 'Signed out', did: () => 'signed out' },
  'auth.password_reset_requested': {
    label: 'Password reset link sent',
    did: () => 'was sent a link to choose a new password',
  },
  'auth.password_reset': {
    label: 'Password reset',
    did: () => 'set a new password with a reset link, ending every session',
  },
  'auth.password_changed': {
    label: 'Password changed',
    did: () => 'changed their password, ending their other sessions',
  },
  'settings.sso_changed': { label: 'Single sign-on changed', did: () => 'changed the single sign-on settings' },
  'auth.sso_refused': { label: 'Single sign-on refused', did: () => 'was refused a single sign-on' },
  'settings.two_factor_changed': {
    label: 'Two-factor requirement changed',
    did: () => 'changed who must use two-factor sign-in',
  },
  'auth.two_factor_enabled': { label: 'Two-factor sign-in on', did: () => 'turned on two-factor sign-in' },
  'auth.second_factor_failed': {
    label: 'Two-factor code refused',
    did: () => 'was refused at sign-in (wrong or used code)',
  },
  'auth.recovery_code_used': { label: 'Recovery code used', did: () => 'signed in with a recovery code' },
  'user.two_factor_reset': { label: 'Two-factor sign-in reset', did: (t) => `reset the two-factor sign-in of ${t}` },
  'auth.password_change_refused': {
    label: 'Password change refused',
    did: () => 'was refused a change of password (current password not right)',
  },
  'user.created': { label: 'User added', did: (t) => `added the user ${t}` },
  'user.invitation_sent': { label: 'Invitation sent', did: (t) => `sent an invitation to ${t}` },
  'user.invitation_accepted': {
    label: 'Invitation accepted',
    did: () => 'accepted their invitation and set a password',
  },
  'user.details_changed': { label: 'User details changed', did: (t) => `changed the details of ${t}` },
  'user.permissions_changed': { label: 'Permissions changed', did: (t) => `changed the permissions of ${t}` },
  'user.share_all_clients_changed': {
    label: '“Share all clients” changed',
    did: (t) => `changed whether all clients are shared with ${t}`,
  },
  'user.deactivated': { label: 'User deactivated', did: (t) => `deactivated ${t}` },
  'user.reactivated': { label: 'User reactivated', did: (t) => `reactivated ${t}` },
  'user.signed_out': { label: 'User signed out everywhere', did: (t) => `signed ${t} out of every session` },
  'user.session_ended': { label: 'Session ended', did: () => 'ended one of their sessions' },
  'entity.created': { label: 'Client created', did: (t) => `created the client relationship ${t}` },
  'entity.updated': { label: 'Client changed', did: (t) => `changed ${t}` },
  'entity.deleted': { label: 'Client moved to the recycle bin', did: (t) => `moved ${t} to the recycle bin` },
  'entity.restored': { label: 'Client restored', did: (t) => `restored ${t} from the recycle bin` },
  'entity.purged': { label: 'Client deleted for good', did: (t) => `deleted ${t} for good` },
  'entity.owner_changed': { label: 'Owner changed', did: (t) => `changed the owner of ${t}` },
  'entity.document_uploaded': { label: 'Document uploaded', did: (t) => `uploaded a document to ${t}` },
  'entity.document_deleted': {
    label: 'Document moved to the recycle bin',
    did: (t) => `moved a document of ${t} to the recycle bin`,
  },
  'entity.document_restored': { label: 'Document restored', did: (t) => `restored a document of ${t}` },
  'entity.document_purged': { label: 'Document deleted for good', did: (t) => `deleted a document of ${t} for good` },
  'entity.service_added': { label: 'Service allocated', did: (t) => `allocated a service to ${t}` },
  'entity.service_removed': { label: 'Service removed', did: (t) => `removed a service from ${t}` },
  'sharing.added': { label: 'Client shared', did: (t) => `shared ${t}` },
  'sharing.removed': { label: 'Share removed', did: (t) => `removed a share of ${t}` },
  'access.requested': { label: 'Access requested', did: (t) => `asked for access to ${t}` },
  'access.granted': { label: 'Access granted', did: (t) => `granted a request for access to ${t}` },
  'access.declined': { label: 'Access declined', did: (t) => `declined a request for access to ${t}` },
  'group.created': { label: 'Group created', did: (t) => `created the group ${t}` },
  'group.changed': { label: 'Group changed', did: (t) => `changed the group ${t}` },
  'group.deleted': { label: 'Group deleted', did: (t) => `deleted the group ${t}` },
  'service.created': { label: 'Service added to the catalogue', did: (t) => `added the service ${t}` },
  'service.risk_changed': { label: 'Service risk changed', did: (t) => `changed the risk level of ${t}` },
  'risk.assessed': { label: 'Risk assessment saved', did: (t) => `saved the recommended risk assessment of ${t}` },
  'risk.overridden': { label: 'Risk assessment overridden', did: (t) => `overrode the risk assessment of ${t}` },
  'risk.draft_saved': { label: 'Risk rule set draft saved', did: () => 'saved the draft risk rule set' },
  'risk.published': { label: 'Risk rule set published', did: () => 'published the risk rule set' },
  'risk.country_list_saved': { label: 'Country list saved', did: () => 'saved a new version of a country list' },
  'screening.list_imported': {
    label: 'Screening list imported',
    did: () => 'imported a new version of a screening list',
  },
  'screening.profile_created': { label: 'Search profile created', did: () => 'created a search profile' },
  'screening.profile_changed': { label: 'Search profile changed', did: () => 'changed a search profile' },
  'screening.four_eyes_changed': {
    label: 'Four-eyes review changed',
    did: () => 'changed four-eyes review of searches',
  },
  'screening.credits_topped_up': { label: 'Screening credits topped up', did: () => 'topped up the screening credits' },
  'screening.budget_changed': {
    label: 'Manual search budget changed',
    did: (t) => `changed the monthly budget of ${t}`,
  },
  'screening.manual_search': { label: 'Manual search run', did: (t) => `ran a manual screening search of ${t}` },
  'screening.search_resolved': { label: 'Search resolved', did: (t) => `resolved a screening search of ${t}` },
  'screening.search_checked': { label: 'Search checked', did: (t) => `checked a screening search of ${t}` },
  'screening.search_approved': {
    label: 'Search approved',
    did: (t) => `approved the review of a screening search of ${t}`,
  },
  'screening.search_sent_back': {
    label: 'Search sent back',
    did: (t) => `sent back the review of a screening search of ${t}`,
  },
  'screening.one_time_search': { label: 'One-time search run', did: () => 'ran a one-time search' },
  'screening.one_time_search_deleted': {
    label: 'One-time search deleted',
    did: () => 'deleted a one-time search for good',
  },
  'portal.settings_changed': {
    label: 'Self-service portal settings changed',
    did: () => 'changed the self-service portal settings',
  },
  'portal.question_added': { label: 'Portal question added', did: () => 'added a question to a portal questionnaire' },
  'portal.question_changed': {
    label: 'Portal question changed',
    did: () => 'changed a question of a portal questionnaire',
  },
  'portal.question_moved': { label: 'Portal question moved', did: () => 'moved a question of a portal questionnaire' },
  'portal.question_removed': {
    label: 'Portal question removed',
    did: () => 'removed a question from a portal questionnaire',
  },
  'portal.request_sent': { label: 'Self-service request sent', did: (t) => `sent a self-service request for ${t}` },
  'portal.link_resent': { label: 'Self-service link sent again', did: (t) => `sent a new self-service link for ${t}` },
  'portal.reminder_sent': {
    label: 'Self-service reminder sent',
    did: (t) => `sent a reminder, with a new link, of the self-service request for ${t}`,
  },
  'portal.request_revoked': {
    label: 'Self-service request revoked',
    did: (t) => `revoked a self-service request for ${t}`,
  },
  'portal.opened': {
    label: 'Self-service link opened',
    did: (t) => `recorded that the client opened the self-service link for ${t}`,
  },
  'portal.file_uploaded': {
    label: 'File uploaded through the portal',
    did: (t) => `recorded a file the client uploaded through the portal for ${t}`,
  },
  'portal.file_removed': {
    label: 'File removed through the portal',
    did: (t) => `recorded that the client removed a file from the portal for ${t}`,
  },
  'portal.submitted': {
    label: 'Self-service answers submitted',
    did: (t) => `recorded that the client submitted the self-service questionnaire for ${t}`,
  },
  'portal.submission_approved': {
    label: 'Self-service submission approved',
    did: (t) => `approved the self-service submission for ${t}`,
  },
  'portal.answers_kept': {
    label: 'Self-service answers kept',
    did: (t) => `kept the approved self-service answers with ${t}`,
  },
  'portal.session_started': {
    label: 'Self-service link used again',
    did: (t) => `recorded that the self-service link for ${t} was used to start another portal session`,
  },
  'portal.updates_requested': {
    label: 'Self-service updates requested',
    did: (t) => `asked the client to update the self-service submission for ${t}`,
  },
  'report.exported': { label: 'Report exported', did: () => 'exported a report as CSV' },
  'settings.client_access_changed': {
    label: 'Client access settings changed',
    did: () => 'changed the client access settings',
  },
}

/** The action in words, for the Action filter and the CSV: a known label, or the stored key as it is. */
export function actionLabel(action: string): string {
  return ACTIONS[action]?.label ?? action
}

/** Field names in words. */
const FIELDS: Record<string, string> = {
  name: 'Name',
  kind: 'Type',
  date_of_birth: 'Date of birth',
  nationality: 'Nationality',
  country_of_residence: 'Country of residence',
  registration_number: 'Registration number',
  country_of_incorporation: 'Country of incorporation',
  legal_form: 'Legal form',
  owner_user_id: 'Owner',
  owner: 'Owner',
  status: 'Relationship status',
  notes: 'Notes',
  delivery_channel: 'How the relationship is conducted',
  volume_band: 'Expected yearly volume',
  cash_intensive: 'Cash-intensive business',
  pep: 'Politically exposed person',
  classification: 'Classification',
  recommended: 'Recommended',
  overall: 'Overall score',
  scores: 'Scores changed',
  rationale: 'Rationale',
  override_expires_on: 'Override ends',
  rule_set_version: 'Rule set version',
  review_due_on: 'Next review',
  aggregation: 'Overall score',
  thresholds: 'Thresholds',
  weights: 'Weights',
  base: 'Base scores',
  rules: 'Rules',
  email: 'Email address',
  granted: 'Permissions',
  share_all_clients: 'Share all clients',
  client_access_enabled: 'Client access managed',
  allow_sharing: 'Users may share clients',
  allow_access_requests: 'Users may request access',
  default_access: 'Access to new clients',
  digest_hour: 'Daily digest hour',
  digest_time_zone: 'Daily digest time zone',
  members: 'Members',
  service: 'Service',
  risk_level: 'Risk level',
  media_type: 'File type',
  size_bytes: 'Size',
  user: 'User',
  group: 'Group',
  company: 'Whole company',
  message: 'Message',
  reason: 'Reason',
  sessions_ended: 'Sessions ended',
  whole_company_shares_added: 'Clients shared with the whole company',
}
/** Bookkeeping that says nothing a reader needs in the sentence (it stays in the stored values). */
const FIELD_ORDER = Object.keys(FIELDS)

const SKIPPED = new Set([
  'id',
  'assessment',
  'document',
  'sha256',
  'storage_key',
  'version',
  'added',
  'removed',
  'request',
])

export type UserNames = ReadonlyMap<string, string>

/** A rule set's parts (src/risk/) in words: weights and base scores by pillar, thresholds, how many rules. */
function ruleSetWords(key: string, value: unknown): string | undefined {
  if (key === 'rules' && Array.isArray(value)) return `${value.length} ${value.length === 1 ? 'rule' : 'rules'}`
  if ((key === 'weights' || key === 'base') && value && typeof value === 'object')
    return PILLARS.filter((p) => p in value)
      .map((p) => `${PILLAR_LABELS[p]} ${(value as Record<Pillar, unknown>)[p]}`)
      .join(', ')
  if (key === 'thresholds' && value && typeof value === 'object') {
    const t = value as { medium?: unknown; high?: unknown }
    return `Medium from ${t.medium}, High from ${t.high}`
  }
  if (key === 'aggregation') return value === 'maximum' ? 'the highest pillar' : 'the weighted average'
  return undefined
}

function words(key: string, value: unknown, names: UserNames): string {
  if (value === null || value === undefined || value === '') return 'empty'
  const ruleSet = ruleSetWords(key, value)
  if (ruleSet !== undefined) return ruleSet
  if (typeof value === 'boolean') {
    if (key === 'cash_intensive' || key === 'pep') return value ? 'yes' : 'no'
    return value ? 'on' : 'off'
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none'
    return value.map((v) => words(key, v, names)).join(', ')
  }
  if (typeof value === 'object') return JSON.stringify(value)
  if (typeof value === 'number') return value.toLocaleString('en-GB')
  const text = String(value)
  if (['nationality', 'country_of_residence', 'country_of_incorporation'].includes(key)) return countryName(text)
  if (key === 'status') return statusLabel(text)
  if (key === 'delivery_channel') return deliveryChannelLabel(text)
  if (key === 'volume_band') return volumeBandLabel(text)
  if (key === 'kind') return ENTITY_KINDS.find((k) => k.value === text)?.label.replace(/ \(.*\)$/, '') ?? text
  if (['owner_user_id', 'owner', 'user', 'members'].includes(key)) return names.get(text) ?? 'a former user'
  if (key === 'granted' && isPermissionKey(text)) return permissionLabel(text)
  if (['risk_level', 'classification', 'recommended'].includes(key)) return text.charAt(0).toUpperCase() + text.slice(1)
  if (['scores', 'review_due_on', 'override_expires_on'].includes(key)) return text
  if (key === 'default_access') return text === 'company' ? 'the whole company' : 'the owner only'
  // Line breaks typed in a text (notes) are shown as spaces here; the stored value keeps them.
  return `“${text.replace(/\s*\r?\n\s*/g, ' ')}”`
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

/** What changed between the stored before and after, field by field, in words. */
export function changesInWords(before: unknown, after: unknown, names: UserNames): string[] {
  const b = asRecord(before)
  const a = asRecord(after)
  const changes: string[] = []
  if (Array.isArray(b.granted) || Array.isArray(a.granted)) {
    const was = new Set((b.granted as string[] | undefined) ?? [])
    const now = new Set((a.granted as string[] | undefined) ?? [])
    const on = [...now].filter((k) => !was.has(k))
    const off = [...was].filter((k) => !now.has(k))
    if (on.length) changes.push(`Switched on: ${words('granted', on, names)}`)
    if (off.length) changes.push(`Switched off: ${words('granted', off, names)}`)
  }
  if (Array.isArray(a.added) && a.added.length) changes.push(`Members added: ${words('members', a.added, names)}`)
  if (Array.isArray(a.removed) && a.removed.length)
    changes.push(`Members removed: ${words('members', a.removed, names)}`)
  // In the order of FIELDS (the forms' order), whatever order the stored JSON keeps; other keys after.
  const rank = (key: string) => (key in FIELDS ? FIELD_ORDER.indexOf(key) : FIELD_ORDER.length)
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort((x, y) => rank(x) - rank(y))
  for (const key of keys) {
    if (SKIPPED.has(key) || key === 'granted' || (key === 'members' && ('added' in a || 'removed' in a))) continue
    // A name beside an id (the owner's, a share's) is for the stored record: the id is named already.
    if (key === 'name' && ('owner' in a || 'user' in a || 'group' in a || 'service' in a)) continue
    const label = FIELDS[key] ?? key.replaceAll('_', ' ')
    const inB = key in b
    const inA = key in a
    if (inB && inA) {
      if (JSON.stringify(b[key]) === JSON.stringify(a[key])) continue
      const [was, now] = [words(key, b[key], names), words(key, a[key], names)]
      changes.push(was === now ? `${label}: spacing or line breaks changed` : `${label} from ${was} to ${now}`)
    } else if (inA) {
      if (a[key] === null || a[key] === '' || (Array.isArray(a[key]) && (a[key] as unknown[]).length === 0)) continue
      changes.push(`${label}: ${words(key, a[key], names)}`)
    } else {
      changes.push(`${label} was ${words(key, b[key], names)}`)
    }
  }
  return changes
}

export interface AuditSentenceInput {
  action: string
  actor_name: string | null
  /** The thing concerned in words (a client's, user's, group's or service's name), if any. */
  target?: string | null
  before: unknown
  after: unknown
}

/**
 * One entry as a sentence: "Chloe Compliance changed Juniper Holdings: Relationship status from Prospect to
 * Serviced client (business relationship)."
 */
export function auditSentence(entry: AuditSentenceInput, names: UserNames): string {
  const actor = entry.actor_name ?? 'The system'
  const target = entry.target || 'it'
  const did = ACTIONS[entry.action]?.did(target) ?? `did “${entry.action}” concerning ${target}`
  const changes = changesInWords(entry.before, entry.after, names)
  return `${actor} ${did}${changes.length ? `: ${changes.join('; ')}` : ''}.`
}

/** The user ids an entry's stored values name (owners, members, shares), to look their names up at once. */
export function userIdsIn(entries: readonly { before: unknown; after: unknown }[]): string[] {
  const ids = new Set<string>()
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  for (const entry of entries) {
    for (const side of [asRecord(entry.before), asRecord(entry.after)]) {
      for (const key of ['owner_user_id', 'owner', 'user', 'members', 'added', 'removed']) {
        for (const value of [side[key]].flat()) if (typeof value === 'string' && uuid.test(value)) ids.add(value)
      }
    }
  }
  return [...ids]
}
