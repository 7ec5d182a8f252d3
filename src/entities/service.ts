import type { Knex } from 'knex'
import { mayChooseOwner, whyNotSetStatus } from '../access/entities.js'
import { auditTarget } from '../audit/audit.js'
import type { Db } from '../db/knex.js'
import { FormErrors } from '../forms/form-errors.js'
import { checkName, isolate } from '../forms/names.js'
import { RuleError } from '../forms/rule-error.js'
import { exactlyOne, isCalendarDate, NotFoundError } from '../http/params.js'
import type { CurrentUser } from '../types.js'
import { type Entity, type EntityValues, lockEntity } from './queries.js'
import {
  type DeliveryChannel,
  type EntityKind,
  type EntityStatus,
  isCountryCode,
  isDeliveryChannel,
  isKind,
  isStatus,
  isVolumeBand,
  type VolumeBand,
} from './reference.js'

/** What the entity form sends, as text. */
export interface EntityInput {
  kind: string
  name: string
  date_of_birth: string
  nationality: string
  country_of_residence: string
  registration_number: string
  country_of_incorporation: string
  legal_form: string
  owner_user_id: string
  status: string
  notes: string
  delivery_channel: string
  volume_band: string
  /** Checkboxes: "yes" when ticked. */
  cash_intensive: string
  pep: string
}

export const ENTITY_FIELDS: readonly (keyof EntityInput)[] = [
  'kind',
  'name',
  'date_of_birth',
  'nationality',
  'country_of_residence',
  'registration_number',
  'country_of_incorporation',
  'legal_form',
  'owner_user_id',
  'status',
  'notes',
  'delivery_channel',
  'volume_band',
  'cash_intensive',
  'pep',
]

/**
 * Checks an entity form against SPEC section 4 and the acting user's permissions. Returns the values to
 * store, or the errors to show (each linked to its field).
 */
export function validateEntity(
  input: EntityInput,
  actor: CurrentUser,
  owners: ReadonlySet<string>,
  current?: Entity,
): EntityValues {
  const errors = new FormErrors()
  if (!isKind(input.kind)) errors.add('kind', 'Choose whether the client is an individual or not')
  checkName(errors, 'name', input.name, 300)
  const individual = input.kind === 'individual'
  if (individual) {
    if (input.date_of_birth) {
      const date = new Date(`${input.date_of_birth}T00:00:00Z`)
      if (!isCalendarDate(input.date_of_birth)) {
        errors.add('date_of_birth', 'Enter the date of birth as a real date, like 1984-03-27')
      } else if (date.getTime() > Date.now() || date.getUTCFullYear() < 1900) {
        errors.add('date_of_birth', 'Enter a date of birth between 1900 and today')
      }
    }
    for (const field of ['nationality', 'country_of_residence'] as const) {
      if (input[field] && !isCountryCode(input[field])) errors.add(field, 'Choose a country from the list')
    }
  } else {
    if (input.country_of_incorporation && !isCountryCode(input.country_of_incorporation)) {
      errors.add('country_of_incorporation', 'Choose a country from the list')
    }
    if (input.registration_number.length > 100) errors.add('registration_number', 'Enter at most 100 characters')
    if (input.legal_form.length > 100) errors.add('legal_form', 'Enter at most 100 characters')
  }
  const statusRefused = isStatus(input.status) ? whyNotSetStatus(actor, input.status, current?.status) : undefined
  if (!isStatus(input.status)) errors.add('status', 'Choose a relationship status')
  else if (statusRefused) errors.add('status', statusRefused)
  const ownerChanges = current ? input.owner_user_id !== current.owner_user_id : input.owner_user_id !== actor.id
  if (!owners.has(input.owner_user_id)) errors.add('owner_user_id', 'Choose an active user of your company as owner')
  else if (ownerChanges && !mayChooseOwner(actor)) {
    errors.add('owner_user_id', 'Only an administrator can choose another owner')
  }
  if (input.notes.length > 10_000) errors.add('notes', 'Enter notes of at most 10,000 characters')
  if (input.delivery_channel && !isDeliveryChannel(input.delivery_channel))
    errors.add('delivery_channel', 'Choose how the relationship is conducted from the list')
  if (input.volume_band && !isVolumeBand(input.volume_band))
    errors.add('volume_band', 'Choose the expected yearly volume from the list')
  RuleError.throwIf(errors)
  const orNull = (v: string) => (v === '' ? null : v)
  return {
    kind: input.kind as EntityKind,
    name: input.name,
    date_of_birth: individual ? orNull(input.date_of_birth) : null,
    nationality: individual ? orNull(input.nationality) : null,
    country_of_residence: individual ? orNull(input.country_of_residence) : null,
    registration_number: individual ? null : orNull(input.registration_number),
    country_of_incorporation: individual ? null : orNull(input.country_of_incorporation),
    legal_form: individual ? null : orNull(input.legal_form),
    owner_user_id: input.owner_user_id,
    status: input.status as EntityStatus,
    notes: input.notes,
    delivery_channel: (orNull(input.delivery_channel) as DeliveryChannel | null) ?? null,
    volume_band: (orNull(input.volume_band) as VolumeBand | null) ?? null,
    cash_intensive: input.cash_intensive === 'yes',
    pep: input.pep === 'yes',
  }
}

export interface EntityActor {
  user: CurrentUser
  ip: string
}

export function entityAudit(
  trx: Knex.Transaction | Db,
  actor: EntityActor,
  entityId: string,
  action: string,
  before?: unknown,
  after?: unknown,
) {
  return auditTarget(trx, actor, 'entity', entityId, action, before, after)
}

/** Creates an entity with the company's default access: shared with the whole company, or owner and administrators only. */
export async function createEntity(db: Db, actor: EntityActor, values: EntityValues): Promise<string> {
  return db.transaction(async (trx) => {
    const [row] = await trx('entities')
      .insert({ ...values, company_id: actor.user.companyId, sharing_initialised: true })
      .returning('id')
    const company = await trx('companies').where({ id: actor.user.companyId }).first('default_access')
    if (company?.default_access === 'company') {
      await trx('client_shares').insert({
        company_id: actor.user.companyId,
        entity_id: row.id,
        whole_company: true,
        created_by: actor.user.id,
      })
    }
    await entityAudit(trx, actor, row.id, 'entity.created', undefined, {
      ...values,
      default_access: company?.default_access,
    })
    return row.id as string
  })
}

/** The client was saved by someone else after this form was opened: nothing was changed (409, see RuleError). */
function changedMeanwhile(current: Entity): RuleError {
  return new RuleError(
    'name',
    `${isolate(current.name)} was changed by someone else after you opened this form, and nothing was saved. The form shows what you entered: check it against the client's page, then save again.`,
    { status: 409, current },
  )
}

/**
 * Saves an edit form. The row is locked and compared with the version the form was rendered from: a save
 * built on an older read would silently undo the other person's change (and audit it wrongly), so it is
 * refused instead. Saves only the changed fields; the audit row's before is the locked row, its after what changed.
 */
export async function updateEntity(
  db: Db,
  actor: EntityActor,
  entityId: string,
  values: EntityValues,
  version: string,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const current = await lockEntity(trx, actor.user.companyId, entityId)
    if (!current) throw new NotFoundError('client')
    if (version !== current.version) throw changedMeanwhile(current)
    const changed = (Object.keys(values) as (keyof EntityValues)[]).filter((k) => current[k] !== values[k])
    if (changed.length === 0) return false
    const pick = (o: EntityValues) => Object.fromEntries(changed.map((k) => [k, o[k]]))
    await trx('entities')
      .where({ id: current.id })
      .update({ ...pick(values), updated_at: trx.fn.now() })
    await entityAudit(trx, actor, current.id, 'entity.updated', pick(current), pick(values))
    return true
  })
}

/** Moves an entity to the recycle bin. */
export async function softDeleteEntity(db: Db, actor: EntityActor, entity: Entity): Promise<void> {
  await db.transaction(async (trx) => {
    const moved = await trx('entities')
      .where({ id: entity.id, company_id: actor.user.companyId })
      .whereNull('deleted_at')
      .update({ deleted_at: trx.fn.now(), deleted_by: actor.user.id })
    exactlyOne(moved, 'client')
    await entityAudit(trx, actor, entity.id, 'entity.deleted', { name: entity.name }, { in_recycle_bin: true })
  })
}
