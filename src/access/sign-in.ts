import type { Knex } from 'knex'
import type { Db } from '../db/knex.js'

/**
 * The accounts (users aliased `alias`) whose password does not sign them in (issue 17): their company signs in
 * by single sign-on only, and they are not its break-glass administrator. The one rule, read by sign-in (with
 * the account, as `password_off`) and by password resets (no link for such an account).
 */
export function passwordOffSql(db: Db | Knex.Transaction, alias = 'u'): Knex.Raw {
  return db.raw(
    `EXISTS (SELECT 1 FROM company_sso sso WHERE sso.company_id = ${alias}.company_id AND sso.sso_only
             AND sso.break_glass_user_id IS DISTINCT FROM ${alias}.id)`,
  )
}
