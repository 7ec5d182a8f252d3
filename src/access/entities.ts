/**
 * Who may do what with a client's details beyond Edit Entities itself (SPEC sections 2 and 4). One place,
 * used by the entity service to refuse and by the client form to decide what it offers.
 */
import { SERVICED_STATUS } from '../entities/reference.js'
import type { CurrentUser } from '../types.js'

type Subject = Pick<CurrentUser, 'permissions'>

/** Only administrators choose an owner other than the creator (or change a client's owner in the form). */
export function mayChooseOwner(user: Subject): boolean {
  return user.permissions.has('system_administrator')
}

/**
 * Why the user may not give a client this relationship status, or undefined when they may: "Serviced
 * client (business relationship)" needs Set Serviced Clients, unless the client already has it.
 */
export function whyNotSetStatus(user: Subject, status: string, currentStatus?: string): string | undefined {
  if (status !== SERVICED_STATUS || currentStatus === SERVICED_STATUS) return undefined
  if (user.permissions.has('set_serviced_clients')) return undefined
  return 'Setting “Serviced client (business relationship)” needs the permission Set Serviced Clients'
}

/** Whether the user may set the serviced status at all (the form explains it when not). */
export function maySetServiced(user: Subject): boolean {
  return whyNotSetStatus(user, SERVICED_STATUS) === undefined
}
